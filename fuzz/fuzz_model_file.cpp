// libFuzzer target: arbitrary bytes into the model-file decoder. The decoder must either reject
// them with a ModelFileError or accept them, and what it accepts must encode back to the same
// bytes (the format has a single encoding). Any crash, sanitizer report or abort is a bug.
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "typenet/io/model_file.hpp"

namespace {

void decode_or_reject(std::span<const std::byte> bytes) {
  try {
    const typenet::io::ModelFile file = typenet::io::decode(bytes, "fuzz input");
    const std::vector<std::byte> again = typenet::io::encode(file);
    if (!std::equal(again.begin(), again.end(), bytes.begin(), bytes.end())) std::abort();
  } catch (const typenet::ModelFileError&) {
  }
}

// The same bytes with the header's body size and the trailing CRC-32 made consistent, so that
// mutations reach the structure parser instead of stopping at the checksum almost every time.
std::vector<std::byte> sealed(std::span<const std::byte> bytes) {
  std::vector<std::byte> copy(bytes.begin(), bytes.end());
  constexpr std::size_t header_size = 24, trailer_size = 4;
  const std::uint64_t body_size = copy.size() - header_size - trailer_size;
  for (int i = 0; i < 8; ++i) copy[16 + i] = std::byte(body_size >> (8 * i));
  const std::size_t checked = copy.size() - trailer_size;
  const auto crc =
      static_cast<std::uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(copy.data()), checked));
  for (int i = 0; i < 4; ++i) copy[checked + i] = std::byte(crc >> (8 * i));
  return copy;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  decode_or_reject(bytes);
  if (size >= 28) decode_or_reject(sealed(bytes));
  return 0;
}
