#include "file_bytes.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

namespace typenet::vis::detail {

void fail(const std::filesystem::path& path, std::string_view what) {
  throw std::runtime_error(path.string() + ": " + std::string(what));
}

std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path,
                                          std::size_t max_bytes) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) fail(path, "expected a file, found a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open for reading: ") + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) fail(path, "cannot determine the file size");
  if (size == 0) fail(path, "expected an image, found an empty file (0 bytes)");
  if (static_cast<std::uint64_t>(size) > max_bytes) {
    fail(path,
         "expected at most " + std::to_string(max_bytes) + " bytes, found " + std::to_string(size));
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  if (in.gcount() != size) fail(path, "read error (the file changed while being read?)");
  return bytes;
}

void write_file_bytes(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail(path, std::string("cannot open for writing: ") + std::strerror(errno));
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) fail(path, "write error (disk full?)");
}

}  // namespace typenet::vis::detail
