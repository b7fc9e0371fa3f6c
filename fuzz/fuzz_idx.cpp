// libFuzzer target: arbitrary bytes as an IDX file (plain or gzip) through read_idx,
// read_idx_images and read_idx_labels. Besides crashes and sanitizer reports it checks the
// loaders against an independent reading of the format (whole-buffer zlib, then the header by
// hand): each must accept exactly the valid files, return exactly their values, and name the
// file in every DataError.
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "memory_file.hpp"
#include "typenet/data/data_error.hpp"
#include "typenet/data/idx.hpp"
#include "typenet/data/md5.hpp"

namespace {

// The content after gzip decompression (all members), or nullopt for a corrupt or truncated
// stream or anything after the last member. Plain files are returned as they are.
std::optional<std::vector<std::uint8_t>> content(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b) {
    return std::vector<std::uint8_t>(bytes.begin(), bytes.end());
  }
  z_stream stream{};
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) std::abort();
  stream.next_in = const_cast<Bytef*>(bytes.data());
  stream.avail_in = static_cast<uInt>(bytes.size());
  std::vector<std::uint8_t> out;
  bool complete = false;
  while (true) {
    out.resize(out.size() + 4096);
    stream.next_out = out.data() + out.size() - 4096;
    stream.avail_out = 4096;
    const int status = inflate(&stream, Z_NO_FLUSH);
    out.resize(out.size() - stream.avail_out);
    if (status == Z_STREAM_END) {
      complete = stream.avail_in == 0;
      if (complete) break;
      inflateReset(&stream);  // another member follows
    } else if (status != Z_OK || (stream.avail_in == 0 && stream.avail_out > 0)) {
      break;  // corrupt, or the input ran out inside a member
    }
  }
  inflateEnd(&stream);
  if (!complete) return std::nullopt;
  return out;
}

// What a correct reader returns for an IDX file of unsigned bytes, or nullopt when it must refuse.
std::optional<typenet::IdxArray> parse(std::span<const std::uint8_t> file) {
  if (file.size() < 4 || file[0] != 0 || file[1] != 0 || file[2] != 0x08) return std::nullopt;
  const std::size_t rank = file[3];
  const std::size_t header = 4 + 4 * rank;
  if (rank < 1 || rank > typenet::kMaxIdxRank || file.size() < header) return std::nullopt;
  typenet::IdxArray array;
  std::uint64_t count = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    const std::uint8_t* size = &file[4 + 4 * d];
    array.shape.push_back(std::size_t{size[0]} << 24 | std::size_t{size[1]} << 16 |
                          std::size_t{size[2]} << 8 | size[3]);
    count *= array.shape.back();  // below 2^63: we stop as soon as it passes the limit
    if (count == 0 || count > typenet::kMaxIdxValues) return std::nullopt;
  }
  if (file.size() - header != count) return std::nullopt;
  array.values.assign(file.begin() + std::ptrdiff_t(header), file.end());
  return array;
}

using Reader = typenet::IdxArray (*)(const std::filesystem::path&);

void check(Reader read, const std::filesystem::path& path,
           const std::optional<typenet::IdxArray>& expected,
           std::span<const std::uint8_t> decompressed) {
  try {
    const typenet::IdxArray array = read(path);
    if (!expected || array.shape != expected->shape || array.values != expected->values)
      std::abort();
    if (typenet::idx_md5(array) != typenet::md5_hex(decompressed)) std::abort();
  } catch (const typenet::DataError& error) {
    if (expected) std::abort();
    if (std::string(error.what()).find(path.string()) == std::string::npos) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static typenet_fuzz::MemoryFile file;
  const std::span bytes(data, size);
  const std::filesystem::path& path = file.hold(bytes);

  const auto decompressed = content(bytes);
  const auto expected = decompressed ? parse(*decompressed) : std::nullopt;
  const auto of_rank = [&](std::size_t rank) {
    return expected && expected->shape.size() == rank ? expected : std::nullopt;
  };
  const std::span<const std::uint8_t> valid = decompressed ? *decompressed
                                                           : std::span<const std::uint8_t>{};
  check(typenet::read_idx, path, expected, valid);
  check(typenet::read_idx_images, path, of_rank(3), valid);
  check(typenet::read_idx_labels, path, of_rank(1), valid);
  return 0;
}
