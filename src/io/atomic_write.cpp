#include "typenet/io/atomic_write.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>
#include <string_view>
#include <system_error>

namespace typenet::io {
namespace {

[[noreturn]] void throw_os_error(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

// Built by appending: "'" + path.string() makes GCC 12 issue a false -Wrestrict warning.
std::string quoted(const std::filesystem::path& path) {
  std::string text = "'";
  text += path.native();
  text += '\'';
  return text;
}

// Closes the descriptor on every path out; close() errors that matter are checked explicitly.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // close() can report a delayed write error (NFS, some FUSE file systems), so writers check it.
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

// Removes the temporary file unless the rename made it the real one.
class TemporaryFile {
 public:
  explicit TemporaryFile(std::filesystem::path path) : path_(std::move(path)) {}
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const std::filesystem::path& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  std::filesystem::path path_;
};

void write_all(int fd, std::span<const std::byte> bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw_os_error(errno, "writing " + quoted(path));
    }
    if (written == 0) throw_os_error(ENOSPC, "writing " + quoted(path) + " (no progress)");
    bytes = bytes.subspan(static_cast<std::size_t>(written));
  }
}

// Makes a completed rename durable. File systems that cannot sync a directory say EINVAL; there
// is nothing more to do on those.
void sync_directory(const std::filesystem::path& directory, const std::filesystem::path& target) {
  FileDescriptor fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0)
    throw_os_error(errno, "opening directory " + quoted(directory) + " to sync " + quoted(target));
  if (::fsync(fd.get()) != 0 && errno != EINVAL) {
    throw_os_error(errno,
                   "syncing directory " + quoted(directory) + " after writing " + quoted(target));
  }
}

// A writer killed mid-write leaves "<target>.tmp.<pid>" behind; without this, loops that are killed
// and resumed pile them up. Only files of dead pids go: a live one may be another process's write
// in progress. Failures are ignored, since the write they follow has already succeeded.
void remove_stale_temporaries(const std::filesystem::path& directory,
                              const std::filesystem::path& target) {
  const std::string prefix = target.filename().string() + ".tmp.";
  std::error_code error;
  for (std::filesystem::directory_iterator entry(directory, error), end; !error && entry != end;
       entry.increment(error)) {
    const std::string name = entry->path().filename().string();
    if (!name.starts_with(prefix)) continue;
    const std::string_view digits = std::string_view(name).substr(prefix.size());
    pid_t pid = 0;
    const auto [rest, parse_error] =
        std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    // All digits and positive: kill() reads 0 and negative pids as process groups.
    if (parse_error != std::errc{} || rest != digits.data() + digits.size() || pid <= 0) continue;
    if (::kill(pid, 0) != 0 && errno == ESRCH) ::unlink(entry->path().c_str());
  }
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  TemporaryFile temporary(path.string() + ".tmp." + std::to_string(::getpid()));
  FileDescriptor fd(
      ::open(temporary.path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
  if (fd.get() < 0)
    throw_os_error(errno, "creating " + quoted(temporary.path()) + " to write " + quoted(path));
  write_all(fd.get(), bytes, temporary.path());
  if (::fsync(fd.get()) != 0) throw_os_error(errno, "syncing " + quoted(temporary.path()));
  if (fd.close() != 0) throw_os_error(errno, "closing " + quoted(temporary.path()));
  if (::rename(temporary.path().c_str(), path.c_str()) != 0) {
    throw_os_error(errno, "renaming " + quoted(temporary.path()) + " to " + quoted(path));
  }
  temporary.release();
  const std::filesystem::path directory = path.has_parent_path() ? path.parent_path() : ".";
  sync_directory(directory, path);
  remove_stale_temporaries(directory, path);
}

FileTooLarge::FileTooLarge(const std::filesystem::path& path, std::uint64_t size,
                           std::uint64_t limit)
    : std::system_error(std::make_error_code(std::errc::file_too_large),
                        quoted(path) + " is " + std::to_string(size) +
                            " bytes, over the limit of " + std::to_string(limit)),
      size_(size), limit_(limit) {}

std::vector<std::byte> read_whole_file(const std::filesystem::path& path, std::uint64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer; reads of regular files ignore it.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) throw_os_error(errno, "opening " + quoted(path));
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) throw_os_error(errno, "inspecting " + quoted(path));
  if (!S_ISREG(status.st_mode)) {
    throw_os_error(S_ISDIR(status.st_mode) ? EISDIR : EINVAL,
                   quoted(path) + " is not a regular file");
  }
  const auto size = static_cast<std::uint64_t>(status.st_size);
  if (size > max_bytes) throw FileTooLarge(path, size, max_bytes);
  std::vector<std::byte> bytes(static_cast<std::size_t>(size));
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    const ssize_t got = ::read(fd.get(), bytes.data() + filled, bytes.size() - filled);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw_os_error(errno, "reading " + quoted(path));
    }
    if (got == 0) break;  // shrank while we read: decode will report the file as truncated
    filled += static_cast<std::size_t>(got);
  }
  bytes.resize(filled);
  return bytes;
}

}  // namespace typenet::io
