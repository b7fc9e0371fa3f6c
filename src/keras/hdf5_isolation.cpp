#include "hdf5_isolation.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "hdf5_snapshot.hpp"
#include "hdf5_tree_codec.hpp"
#include "keras_error.hpp"

extern char** environ;

namespace typenet::keras_detail {

namespace {

using Clock = std::chrono::steady_clock;

class FileDescriptor {
 public:
  FileDescriptor() = default;
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&&) = delete;
  ~FileDescriptor() { reset(); }

  void adopt(int fd) {
    reset();
    fd_ = fd;
  }
  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// A running helper; killed and reaped if it is still there when this goes, so that no error
// path leaves a process or a zombie behind.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }

  // Its wait status once it has exited: nullopt when the deadline passes first, and an unknown
  // status (Exit::Unknown) when the caller's process reaps children itself (SIGCHLD ignored).
  enum class Exit { Known, Unknown, Late };
  Exit wait_until(Clock::time_point deadline, int& status) {
    // Its stderr has closed: it is exiting, normally within microseconds.
    using namespace std::chrono_literals;
    for (auto pause = 20us;; pause = std::min<std::chrono::microseconds>(pause * 2, 10ms)) {
      const pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_ || (done < 0 && errno != EINTR)) {
        const bool known = done == pid_;
        pid_ = -1;
        return known ? Exit::Known : Exit::Unknown;
      }
      if (Clock::now() >= deadline) return Exit::Late;
      std::this_thread::sleep_for(pause);
    }
  }

 private:
  pid_t pid_;
};

std::string signal_text(int signal) {
  const char* abbreviation = sigabbrev_np(signal);
  return "signal " + std::to_string(signal) +
         (abbreviation ? std::string(", SIG") + abbreviation : std::string());
}

// The last line of what the helper wrote on stderr (a dynamic loader's or a sanitizer's message),
// printable characters only.
std::string last_line(const std::string& errors) {
  std::string line;
  for (char c : errors) {
    if (c == '\n') {
      if (!line.empty()) line += '\n';
    } else {
      if (!line.empty() && line.back() == '\n') line.clear();
      line += c >= ' ' && c <= '~' ? c : '?';
    }
  }
  if (!line.empty() && line.back() == '\n') line.pop_back();
  return line.size() > 300 ? line.substr(line.size() - 300) : line;
}

// The helper program (see hdf5_isolation.hpp for the order).
std::string find_reader(const std::string& source) {
  if (const char* chosen = std::getenv("TYPENET_HDF5_READER"); chosen && *chosen) return chosen;
  for (const char* candidate : {TYPENET_HDF5_READER_BUILD_PATH, TYPENET_HDF5_READER_INSTALL_PATH})
    if (access(candidate, X_OK) == 0) return candidate;
  fail(
      KerasProblem::CannotOpen, source,
      "cannot parse it: typenet's HDF5 reader program is neither at " TYPENET_HDF5_READER_BUILD_PATH
      " nor at " TYPENET_HDF5_READER_INSTALL_PATH
      "; set TYPENET_HDF5_READER to its path (or, for trusted files only, "
      "KerasOptions::parse_in_process)");
}

// What the helper gets as stdin, stdout and stderr: the request and the reply are in-memory files
// (memfd), so that neither side waits on the other while they are written (one copy each way, no
// pipe to fill, no SIGPIPE), and stderr is a pipe whose end of file says that the helper is gone.
// Every descriptor is close-on-exec, so that helpers that other threads start meanwhile do not
// inherit them; the three the helper gets are dup2'ed.
struct Channels {
  FileDescriptor request, reply, errors, child_errors;
};

Channels open_channels(std::span<const std::span<const std::byte>> request_parts,
                       const std::string& source) {
  const auto cannot = [&](const char* what) {
    fail(KerasProblem::CannotOpen, source,
         std::string("cannot start the HDF5 reader: ") + what + ": " + std::strerror(errno));
  };
  Channels channels;
  channels.request.adopt(memfd_create("typenet-hdf5-request", MFD_CLOEXEC));
  channels.reply.adopt(memfd_create("typenet-hdf5-reply", MFD_CLOEXEC));
  if (!channels.request.open() || !channels.reply.open()) cannot("memfd_create");
  // pwrite: the helper shares the file offset, which must stay at the start.
  off_t offset = 0;
  for (std::span<const std::byte> part : request_parts) {
    while (!part.empty()) {
      const ssize_t wrote = pwrite(channels.request.get(), part.data(), part.size(), offset);
      if (wrote < 0 && errno == EINTR) continue;
      if (wrote <= 0) cannot("writing the request");
      part = part.subspan(std::size_t(wrote));
      offset += wrote;
    }
  }
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) cannot("pipe");
  channels.errors.adopt(ends[0]);
  channels.child_errors.adopt(ends[1]);
  fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK);
  return channels;
}

pid_t spawn_reader(const std::string& reader, Channels& channels, const std::string& source) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  posix_spawn_file_actions_adddup2(&actions, channels.request.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, channels.reply.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, channels.child_errors.get(), STDERR_FILENO);
  // Default dispositions and no blocked signals, whatever the caller set: a crash must kill it.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::string program = reader;
  char* arguments[] = {program.data(), nullptr};
  pid_t pid = -1;
  const int error = posix_spawn(&pid, reader.c_str(), &actions, &attributes, arguments, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0)
    fail(KerasProblem::CannotOpen, source,
         "cannot start the HDF5 reader " + reader + ": " + std::strerror(error) +
             " (set TYPENET_HDF5_READER to its path)");
  channels.child_errors.reset();
  return pid;
}

// Reads what the helper wrote on stderr so far, keeping the last 4 KiB; closes it at end of file.
void drain_errors(FileDescriptor& errors, std::string& text) {
  char buffer[4096];
  for (;;) {
    const ssize_t got = read(errors.get(), buffer, sizeof buffer);
    if (got > 0) {
      text.append(buffer, std::size_t(got));
      if (text.size() > sizeof buffer) text.erase(0, text.size() - sizeof buffer);
    } else if (got < 0 && errno == EINTR) {
      continue;
    } else {
      if (got == 0 || errno != EAGAIN) errors.reset();
      return;
    }
  }
}

struct Unmap {
  std::size_t size;
  void operator()(void* mapped) const { munmap(mapped, size); }
};

std::uint64_t file_size(const FileDescriptor& fd) {
  struct stat status {};
  return fstat(fd.get(), &status) == 0 ? std::uint64_t(status.st_size) : 0;
}

Hdf5Node read_in_helper(std::span<const std::byte> image, const std::string& source,
                        const KerasOptions& options) {
  const std::string reader = find_reader(source);
  if (image.size() > options.max_bytes)
    fail(KerasProblem::TooLarge, source,
         "the HDF5 image is " + std::to_string(image.size()) + " bytes, over the limit of " +
             std::to_string(options.max_bytes) + " (KerasOptions::max_bytes)");
  const std::string request_source = source.substr(0, max_hdf5_source_bytes);
  const std::vector<std::byte> header =
      encode_hdf5_request_header({.max_bytes = options.max_bytes,
                                  .timeout_seconds = options.parse_timeout_seconds,
                                  .source_size = std::uint32_t(request_source.size()),
                                  .image_size = image.size()});
  const std::span<const std::byte> request_parts[] = {
      header, std::as_bytes(std::span(request_source)), image};

  Channels channels = open_channels(request_parts, source);
  Child child(spawn_reader(reader, channels, source));
  const auto deadline = Clock::now() + std::chrono::seconds(options.parse_timeout_seconds);
  const auto late = [&] {
    fail(KerasProblem::Corrupted, source,
         "the HDF5 library did not finish reading it within " +
             std::to_string(options.parse_timeout_seconds) +
             " s (KerasOptions::parse_timeout_seconds): the file is damaged or hostile");
  };
  const std::uint64_t reply_limit = max_hdf5_reply_bytes(options.max_bytes);
  const auto too_long = [&] {
    fail(KerasProblem::Corrupted, source,
         "the HDF5 reader sent a malformed reply (over " + std::to_string(reply_limit) + " bytes)");
  };

  // Until the helper is gone (its stderr closes), checking now and then that its reply stays
  // within bounds: the helper limits its own output too, but only once it has read the request.
  std::string errors;
  while (channels.errors.open()) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) late();
    pollfd polled{channels.errors.get(), POLLIN, 0};
    if (poll(&polled, 1, int(std::min<std::int64_t>(left.count(), 50))) < 0 && errno != EINTR)
      fail(KerasProblem::CannotOpen, source,
           std::string("cannot wait for the HDF5 reader: ") + std::strerror(errno));
    drain_errors(channels.errors, errors);
    if (file_size(channels.reply) > reply_limit) too_long();
  }

  int status = 0;
  const Child::Exit exit = child.wait_until(deadline, status);
  if (exit == Child::Exit::Late) late();
  const std::string said = last_line(errors);
  if (exit == Child::Exit::Known && WIFSIGNALED(status)) {
    const int signal = WTERMSIG(status);
    if (signal == SIGXCPU)
      fail(KerasProblem::Corrupted, source,
           "the HDF5 library used more than " + std::to_string(options.parse_timeout_seconds) +
               " s of CPU time reading it (KerasOptions::parse_timeout_seconds): the file is "
               "damaged or hostile");
    if (signal == SIGXFSZ) too_long();
    fail(KerasProblem::Corrupted, source,
         "the HDF5 library crashed while reading it (" + signal_text(signal) +
             "): the file is damaged or hostile" + (said.empty() ? "" : " (" + said + ")"));
  }
  if (exit == Child::Exit::Known && WEXITSTATUS(status) != 0) {
    const int code = WEXITSTATUS(status);
    if (code == int(Hdf5ReaderExit::BadRequest))
      fail(KerasProblem::CannotOpen, source,
           "the HDF5 reader " + reader +
               " did not understand the request: it belongs to another typenet build (set "
               "TYPENET_HDF5_READER to this build's)");
    if (code == int(Hdf5ReaderExit::CannotConfine))
      fail(KerasProblem::CannotOpen, source,
           "the HDF5 reader " + reader +
               " could not confine itself (resource limits or seccomp filter refused); trusted "
               "files can be parsed with KerasOptions::parse_in_process");
    fail(KerasProblem::Corrupted, source,
         "the HDF5 reader " + reader + " stopped with status " + std::to_string(code) +
             " without a reply while reading it" + (said.empty() ? "" : " (" + said + ")"));
  }
  // Exited normally, or unknown because the caller's process reaped it: a reply cut short by a
  // crash does not decode.
  const std::uint64_t reply_size = file_size(channels.reply);
  if (reply_size > reply_limit) too_long();
  if (reply_size == 0)
    fail(KerasProblem::Corrupted, source,
         "the HDF5 reader ended without a reply while reading it" +
             (said.empty() ? std::string() : " (" + said + ")"));
  // Decoded where it lies: a reply holds all the weights.
  void* mapped =
      mmap(nullptr, reply_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, channels.reply.get(), 0);
  if (mapped == MAP_FAILED)
    fail(KerasProblem::CannotOpen, source,
         std::string("cannot read the HDF5 reader's reply: ") + std::strerror(errno));
  const std::unique_ptr<void, Unmap> unmap(mapped, Unmap{reply_size});
  return decode_hdf5_tree({static_cast<const std::byte*>(mapped), reply_size}, source,
                          options.max_bytes);
}

}  // namespace

Hdf5Node read_hdf5_tree(std::span<const std::byte> image, const std::string& source,
                        const KerasOptions& options) {
  if (options.parse_in_process) return snapshot_hdf5_image(image, source, options.max_bytes);
  return read_in_helper(image, source, options);
}

}  // namespace typenet::keras_detail
