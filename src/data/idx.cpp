#include "typenet/data/idx.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <string>

#include "byte_stream.hpp"
#include "typenet/data/data_error.hpp"
#include "typenet/data/md5.hpp"

namespace typenet {
namespace {

constexpr std::uint8_t kUnsignedByteType = 0x08;
// The values are read in pieces that start at this size and double as data turns out to exist,
// so that a header that lies about its size (10 bytes declaring 2^31 values) costs at most this
// much, or twice the data really there, before the lie is found.
constexpr std::size_t kFirstPiece = std::size_t{64} << 10;

std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

// 0x-prefixed, upper-case, `digits` wide, as the IDX documentation writes magic numbers.
std::string hex(std::uint32_t value, int digits) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%0*X", digits, value);
  return text;
}

std::uint32_t big_endian32(const std::uint8_t* bytes) {
  return std::uint32_t{bytes[0]} << 24 | std::uint32_t{bytes[1]} << 16 |
         std::uint32_t{bytes[2]} << 8 | std::uint32_t{bytes[3]};
}

std::string type_name(std::uint8_t type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "not an IDX type";
  }
}

// What the magic number should be, for messages: one exact value or any rank of unsigned bytes.
std::string expected_magic(std::optional<std::size_t> rank) {
  if (rank == 1) return "magic number 0x00000801 (IDX labels: unsigned bytes, 1 dimension)";
  if (rank == 3) return "magic number 0x00000803 (IDX images: unsigned bytes, 3 dimensions)";
  return "magic number 0x000008NN (IDX of unsigned bytes, NN dimensions)";
}

// Reads exactly `size` header bytes, or explains that the file is too short for its header.
void read_header_bytes(detail::ByteStream& in, const std::filesystem::path& path, std::uint8_t* out,
                       std::size_t size, const std::string& what) {
  const std::size_t before = in.position();
  const std::size_t got = in.read(out, size);
  if (got != size) {
    throw DataError(quoted(path) + ": truncated IDX header: expected " + std::to_string(size) +
                    " bytes of " + what + " at offset " + std::to_string(before) + ", found " +
                    std::to_string(got));
  }
}

std::vector<std::size_t> read_shape(detail::ByteStream& in, const std::filesystem::path& path,
                                    std::optional<std::size_t> expected_rank) {
  std::array<std::uint8_t, 4> magic{};
  read_header_bytes(in, path, magic.data(), magic.size(), "magic number");
  const std::uint32_t magic_value = big_endian32(magic.data());
  if (magic[0] != 0 || magic[1] != 0) {
    throw DataError(quoted(path) + ": not an IDX file: expected " + expected_magic(expected_rank) +
                    ", found " + hex(magic_value, 8) +
                    (in.is_gzip() ? " (after gzip decompression)" : ""));
  }
  if (magic[2] != kUnsignedByteType) {
    throw DataError(quoted(path) + ": unsupported IDX element type: expected " +
                    expected_magic(expected_rank) + ", found " + hex(magic_value, 8) +
                    " (element type " + hex(magic[2], 2) + ", " + type_name(magic[2]) + ")");
  }
  const std::size_t rank = magic[3];
  if (rank == 0 || rank > kMaxIdxRank || (expected_rank && rank != *expected_rank)) {
    throw DataError(quoted(path) + ": wrong IDX rank: expected " +
                    (expected_rank ? expected_magic(expected_rank)
                                   : "1 to " + std::to_string(kMaxIdxRank) + " dimensions") +
                    ", found " + hex(magic_value, 8) + " (" + std::to_string(rank) +
                    " dimensions)");
  }

  std::vector<std::uint8_t> sizes(4 * rank);
  read_header_bytes(in, path, sizes.data(), sizes.size(),
                    "dimension sizes for " + std::to_string(rank) + " dimensions");
  std::vector<std::size_t> shape(rank);
  std::size_t values = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    shape[d] = big_endian32(&sizes[4 * d]);
    if (shape[d] == 0) {
      throw DataError(quoted(path) +
                      ": empty IDX dimension: expected every dimension size >= 1, "
                      "found 0 for dimension " +
                      std::to_string(d));
    }
    // values <= kMaxIdxValues < 2^32 and shape[d] < 2^32, so the product can not overflow.
    values *= shape[d];
    if (values > kMaxIdxValues) {
      std::string dims;
      for (std::size_t i = 0; i < rank; ++i) {
        dims += (i ? " x " : "") + std::to_string(big_endian32(&sizes[4 * i]));
      }
      throw DataError(quoted(path) + ": IDX dimensions too large: expected at most " +
                      std::to_string(kMaxIdxValues) + " values, found dimensions " + dims);
    }
  }
  return shape;
}

IdxArray read_idx_of_rank(const std::filesystem::path& path,
                          std::optional<std::size_t> expected_rank) {
  detail::ByteStream in(path);
  IdxArray array;
  array.shape = read_shape(in, path, expected_rank);
  std::size_t declared = 1;
  for (std::size_t size : array.shape) declared *= size;
  const std::size_t header_size = in.position();

  // Grows as data arrives rather than trusting the declared size with one allocation.
  while (array.values.size() < declared) {
    const std::size_t filled = array.values.size();
    const std::size_t next = std::min(declared, std::max(filled * 2, kFirstPiece));
    array.values.reserve(next);  // exactly next: the last piece leaves no spare capacity
    array.values.resize(next);
    const std::size_t wanted = array.values.size() - filled;
    const std::size_t got = in.read(array.values.data() + filled, wanted);
    if (got < wanted) {
      throw DataError(quoted(path) + ": truncated IDX file: expected " + std::to_string(declared) +
                      " bytes of data after the " + std::to_string(header_size) +
                      "-byte header, found " + std::to_string(filled + got));
    }
  }
  if (const std::size_t extra = in.skip_to_end(); extra > 0) {
    throw DataError(quoted(path) + ": trailing data in IDX file: expected the file to end after " +
                    std::to_string(header_size + declared) + " bytes" +
                    (in.is_gzip() ? " (decompressed)" : "") + ", found " + std::to_string(extra) +
                    " more");
  }
  return array;
}

}  // namespace

IdxArray read_idx(const std::filesystem::path& path) { return read_idx_of_rank(path, {}); }
IdxArray read_idx_images(const std::filesystem::path& path) { return read_idx_of_rank(path, 3); }
IdxArray read_idx_labels(const std::filesystem::path& path) { return read_idx_of_rank(path, 1); }

std::string idx_md5(const IdxArray& array) {
  std::vector<std::uint8_t> header = {0, 0, kUnsignedByteType,
                                      static_cast<std::uint8_t>(array.shape.size())};
  for (std::size_t size : array.shape) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      header.push_back(static_cast<std::uint8_t>(size >> shift));
    }
  }
  return Md5().update(header).update(array.values).hex_digest();
}

}  // namespace typenet
