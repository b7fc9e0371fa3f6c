// IDX files (http://yann.lecun.com/exdb/mnist/): the format of MNIST and Fashion-MNIST. A file is
// a big-endian header (magic 0x0000TTNN: element type TT, NN dimensions, then NN 32-bit sizes)
// followed by the values. typenet reads files of unsigned bytes (TT = 0x08), plain or gzip'd
// (recognised by the gzip magic bytes, whatever the file name).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace typenet {

// Largest value count read_idx accepts: far above the biggest MNIST-like file (EMNIST's
// 550 MB), low enough that a corrupt header can not make us try to allocate absurd sizes.
inline constexpr std::size_t kMaxIdxValues = std::size_t{1} << 31;
inline constexpr std::size_t kMaxIdxRank = 8;

struct IdxArray {
  std::vector<std::size_t> shape;    // e.g. {60000, 28, 28} for images, {60000} for labels
  std::vector<std::uint8_t> values;  // row-major, shape's product of them
};

// Reads an IDX file of unsigned bytes of any rank. Throws DataError, naming the file, what was
// expected and what was found, on: a wrong magic number or element type, a zero or too-large
// dimension, a truncated file, bytes after the declared data, a corrupt gzip stream.
IdxArray read_idx(const std::filesystem::path& path);
// The same, also requiring the magic number of images (0x00000803: count x rows x cols).
IdxArray read_idx_images(const std::filesystem::path& path);
// The same, also requiring the magic number of labels (0x00000801: count).
IdxArray read_idx_labels(const std::filesystem::path& path);

// MD5 of the (decompressed) IDX file the array was read from: header and values, as the published
// MNIST checksums are computed. Rebuilt from the array, so no file is read again.
std::string idx_md5(const IdxArray& array);

}  // namespace typenet
