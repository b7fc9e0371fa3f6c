#include "byte_stream.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "typenet/data/data_error.hpp"

namespace typenet::detail {
namespace {

constexpr std::size_t kCompressedChunk = std::size_t{1} << 16;

std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

}  // namespace

ByteStream::ByteStream(const std::filesystem::path& path)
    : path_(path), file_(path, std::ios::binary) {
  if (std::error_code ignored; std::filesystem::is_directory(path, ignored)) {
    throw DataError(quoted(path) + ": cannot read: expected a file, found a folder");
  }
  if (!file_) {
    throw DataError(quoted(path) + ": cannot open file: expected a readable file, found " +
                    (std::filesystem::exists(path) ? "an unreadable one" : "no such file"));
  }
  std::array<char, 2> magic{};
  file_.read(magic.data(), magic.size());
  gzip_ = file_.gcount() == 2 && static_cast<unsigned char>(magic[0]) == 0x1f &&
          static_cast<unsigned char>(magic[1]) == 0x8b;
  file_.clear();
  file_.seekg(0);
  if (gzip_) {
    compressed_.resize(kCompressedChunk);
    // 16 + MAX_WBITS: a gzip wrapper (header and CRC-32 trailer), not a raw zlib stream.
    if (inflateInit2(&zstream_, 16 + MAX_WBITS) != Z_OK) {
      throw DataError(quoted(path) + ": cannot start gzip decompression (zlib: out of memory)");
    }
  }
}

ByteStream::~ByteStream() {
  if (gzip_) inflateEnd(&zstream_);
}

std::size_t ByteStream::read(std::uint8_t* out, std::size_t size) {
  std::size_t got = 0;
  if (gzip_) {
    got = read_gzip(out, size);
  } else {
    file_.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(size));
    if (file_.bad()) throw_read_error();
    got = static_cast<std::size_t>(file_.gcount());
  }
  position_ += got;
  return got;
}

std::size_t ByteStream::skip_to_end() {
  std::vector<std::uint8_t> sink(kCompressedChunk);
  std::size_t skipped = 0;
  for (std::size_t got; (got = read(sink.data(), sink.size())) > 0;) skipped += got;
  return skipped;
}

void ByteStream::throw_read_error() const {
  throw DataError(quoted(path_) + ": read error after " + std::to_string(position_) +
                  " bytes: " + std::strerror(errno));
}

void ByteStream::refill() {
  file_.read(reinterpret_cast<char*>(compressed_.data()),
             static_cast<std::streamsize>(compressed_.size()));
  if (file_.bad()) throw_read_error();
  zstream_.next_in = compressed_.data();
  zstream_.avail_in = static_cast<uInt>(file_.gcount());
}

std::size_t ByteStream::read_gzip(std::uint8_t* out, std::size_t size) {
  std::size_t produced = 0;
  while (produced < size) {
    if (zstream_.avail_in == 0) refill();  // leaves avail_in at 0 at the end of the file
    if (zstream_.avail_in == 0 && member_ended_) break;  // a clean end after a whole stream
    if (member_ended_) {
      // Concatenated gzip members (`cat a.gz b.gz`) are one valid gzip file.
      inflateReset(&zstream_);
      member_ended_ = false;
    }
    zstream_.next_out = out + produced;
    // uInt may be narrower than size_t: inflate in pieces of at most 1 GiB.
    const std::size_t room = std::min(size - produced, std::size_t{1} << 30);
    zstream_.avail_out = static_cast<uInt>(room);
    // At the end of the file inflate still runs once: it may hold decoded bytes to deliver.
    const int status = inflate(&zstream_, Z_NO_FLUSH);
    produced += room - zstream_.avail_out;
    if (status == Z_STREAM_END) {
      member_ended_ = true;
    } else if (status == Z_BUF_ERROR && zstream_.avail_in == 0) {
      throw DataError(quoted(path_) +
                      ": truncated gzip file: expected the rest of the gzip "
                      "stream, found the end of the file after " +
                      std::to_string(position_ + produced) + " decompressed bytes");
    } else if (status != Z_OK) {
      const std::string reason = zstream_.msg != nullptr ? zstream_.msg
                                                         : "zlib error " + std::to_string(status);
      throw DataError(quoted(path_) + ": corrupt gzip data: expected a valid gzip stream, found " +
                      reason + " after " + std::to_string(position_ + produced) +
                      " decompressed bytes");
    }
  }
  return produced;
}

}  // namespace typenet::detail
