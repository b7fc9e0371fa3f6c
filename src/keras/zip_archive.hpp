// Reading whole entries of a zip archive (a Keras 3 .keras file) with libzip. Private to
// src/keras.
//
// libzip rather than minizip: its archive open checks the central directory against the local
// headers (ZIP_CHECKCONS), it verifies each entry's CRC-32 as the entry is read, handles Zip64,
// and reports every failure as a code with a message, which is what a clear error needs. Debian's
// minizip is the old zlib contrib code with a thinner error model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

struct zip;

namespace typenet::keras_detail {

class ZipArchive {
 public:
  // The archive whose bytes are `image`, which must outlive it. Throws KerasError (Corrupted)
  // when they are not a readable zip archive.
  ZipArchive(std::span<const std::byte> image, std::string source);

  bool contains(const std::string& entry) const;
  // The entry's uncompressed bytes, after checking its declared size against `max_bytes`.
  // Throws KerasError: NotKerasFile when absent, TooLarge, Corrupted (bad CRC, short data).
  std::vector<std::byte> read(const std::string& entry, std::uint64_t max_bytes) const;

 private:
  struct Close {
    void operator()(zip* archive) const;
  };
  std::unique_ptr<zip, Close> archive_;
  std::string source_;
};

}  // namespace typenet::keras_detail
