// Internal: a file's bytes, inflated on the fly when the file starts with the gzip magic bytes
// (1f 8b). Read in pieces so that a file's declared size is checked against what is really there
// before anything large is allocated.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

namespace typenet::detail {

class ByteStream {
 public:
  // DataError when the file can not be opened.
  explicit ByteStream(const std::filesystem::path& path);
  ~ByteStream();
  ByteStream(const ByteStream&) = delete;
  ByteStream& operator=(const ByteStream&) = delete;

  // Fills `out` and returns its size, or fewer bytes only at the end of the (decompressed)
  // content. DataError on a read error, a corrupt or a truncated gzip stream.
  std::size_t read(std::uint8_t* out, std::size_t size);
  // Reads to the end and returns how many bytes were left.
  std::size_t skip_to_end();

  bool is_gzip() const { return gzip_; }
  // Decompressed bytes returned so far.
  std::size_t position() const { return position_; }

 private:
  std::size_t read_gzip(std::uint8_t* out, std::size_t size);
  // Refills the compressed input buffer; it stays empty at the end of the file.
  void refill();
  [[noreturn]] void throw_read_error() const;

  std::filesystem::path path_;
  std::ifstream file_;
  bool gzip_ = false;
  z_stream zstream_{};
  std::vector<std::uint8_t> compressed_;
  bool member_ended_ = false;  // the last gzip member ended; more input means another member
  std::size_t position_ = 0;
};

}  // namespace typenet::detail
