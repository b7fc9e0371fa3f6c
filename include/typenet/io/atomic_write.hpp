// Replacing a file so that a crash, a full disk or a failed write never leaves a half-written one:
// readers see either the old content or the new, never a mix. And reading a whole file, the one
// reader of typenet's file formats (model files, Keras files, images).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <system_error>
#include <vector>

namespace typenet::io {

// Writes `bytes` to "<path>.tmp.<pid>" in the same directory, flushes it to disk (fsync), renames
// it over `path` (atomic on POSIX) and fsyncs the directory so that the rename itself survives a
// power cut. On any failure before the rename it throws std::system_error naming the file and the
// OS error, removes the temporary file and leaves a previous file at `path` untouched. A failure of
// the final directory sync is reported the same way, though the new file is then already in place.
// After a successful write it removes the temporary files of `path` that killed writers left
// ("<path>.tmp.<pid>" whose pid is no live process), ignoring any failure to do so; other names and
// live writers' files are never touched.
void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes);

// What read_whole_file throws for a file larger than the caller allows, before reading any of it
// (code() is std::errc::file_too_large); the sizes let the caller word its own message.
class FileTooLarge : public std::system_error {
 public:
  FileTooLarge(const std::filesystem::path& path, std::uint64_t size, std::uint64_t limit);
  std::uint64_t size() const noexcept { return size_; }
  std::uint64_t limit() const noexcept { return limit_; }

 private:
  std::uint64_t size_, limit_;
};

// The whole content of a regular file of at most `max_bytes` bytes. Throws FileTooLarge, or
// std::system_error naming the file when it cannot be opened or read, or is not a regular file
// (a FIFO or /dev/zero would never end): std::errc::is_a_directory for a directory,
// std::errc::invalid_argument for the others.
std::vector<std::byte> read_whole_file(
    const std::filesystem::path& path,
    std::uint64_t max_bytes = std::numeric_limits<std::uint64_t>::max());

}  // namespace typenet::io
