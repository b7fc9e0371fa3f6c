// The fuzzer's input as a file, for loaders that only take a path: an anonymous in-memory file
// (memfd_create) opened through /proc/self/fd/N. No disk I/O, nothing left behind, and the
// loader runs its real file-reading code. Shared by the fuzz targets; not part of typenet.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>

namespace typenet_fuzz {

class MemoryFile {
 public:
  MemoryFile() : fd_(memfd_create("typenet-fuzz-input", MFD_CLOEXEC)) {
    if (fd_ < 0) die("memfd_create");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemoryFile() { close(fd_); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  // Makes `bytes` the whole content of the file and returns its path.
  const std::filesystem::path& hold(std::span<const std::uint8_t> bytes) {
    if (ftruncate(fd_, 0) != 0) die("ftruncate");
    for (std::size_t done = 0; done < bytes.size();) {
      const ssize_t wrote = pwrite(fd_, bytes.data() + done, bytes.size() - done, off_t(done));
      if (wrote <= 0) die("pwrite");
      done += std::size_t(wrote);
    }
    return path_;
  }

 private:
  // A harness failure, not a finding: stop loudly rather than fuzz a wrong file.
  [[noreturn]] static void die(const char* what) {
    std::perror(what);
    std::abort();
  }

  int fd_;
  std::filesystem::path path_;
};

}  // namespace typenet_fuzz
