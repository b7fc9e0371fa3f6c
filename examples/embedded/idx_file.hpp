// MNIST's IDX files, uncompressed, read with plain C++ (the example links no zlib): a big-endian
// header (two zero bytes, 0x08 for unsigned bytes, the number of dimensions, then each dimension
// as 4 bytes) followed by the values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

struct IdxFile {
  std::vector<std::size_t> dimensions;
  std::vector<std::uint8_t> values;
};

// Reads the IDX file of unsigned bytes with `rank` dimensions at `path`; throws
// std::runtime_error naming the file and what is wrong with it.
inline IdxFile read_idx(const std::string& path, std::size_t rank) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
  const auto fail = [&](const std::string& why) { throw std::runtime_error(path + ": " + why); };
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
    fail("gzip-compressed: decompress it first (gzip -dk)");
  const std::size_t header_size = 4 + 4 * rank;
  if (bytes.size() < header_size || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 ||
      bytes[3] != rank)
    fail("not an IDX file of unsigned bytes with " + std::to_string(rank) + " dimension(s)");
  IdxFile file;
  std::size_t count = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    const std::uint8_t* field = &bytes[4 + 4 * d];
    const std::size_t extent = std::size_t{field[0]} << 24 | std::size_t{field[1]} << 16 |
                               std::size_t{field[2]} << 8 | std::size_t{field[3]};
    file.dimensions.push_back(extent);
    count *= extent;  // at most 2^32 per dimension and rank 3: no overflow in 64 bits
  }
  if (bytes.size() - header_size != count)
    fail("its header announces " + std::to_string(count) + " values, the file holds " +
         std::to_string(bytes.size() - header_size) + " (truncated or not an IDX file)");
  file.values.assign(bytes.begin() + std::ptrdiff_t(header_size), bytes.end());
  return file;
}
