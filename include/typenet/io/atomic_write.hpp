// Replacing a file so that a crash, a full disk or a failed write never leaves a half-written one:
// readers see either the old content or the new, never a mix.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
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

// The whole content of a regular file. Throws std::system_error when it cannot be opened or read,
// or is not a regular file (a FIFO or /dev/zero would never end).
std::vector<std::byte> read_whole_file(const std::filesystem::path& path);

}  // namespace typenet::io
