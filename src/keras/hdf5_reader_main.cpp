// typenet-hdf5-reader: parses one HDF5 image with libhdf5, which is not hardened against damaged
// or hostile files, in a process of its own that typenet starts for each load
// (hdf5_isolation.hpp). Reads a request (hdf5_tree_codec.hpp) on stdin, a file, confines itself (memory,
// CPU time, output size, a seccomp filter that leaves little more than reading stdin, writing
// stdout and managing memory), then writes the parsed tree, or the KerasError the parse ended
// in, on stdout. A crash or a hang here is reported by the parent as a KerasError about the file.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <hdf5.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hdf5_snapshot.hpp"
#include "hdf5_tree_codec.hpp"

using namespace typenet;
using namespace typenet::keras_detail;

// In a sanitizer build, a report in the reader (libhdf5 reading a hostile file) becomes the
// parent's KerasError about the file: unsymbolized, it costs milliseconds instead of seconds; and
// with no RLIMIT_AS there (below), allocations over 1 GiB fail as they would under the limit.
// The environment's ASAN_OPTIONS/UBSAN_OPTIONS still override these.
extern "C" const char* __asan_default_options() {
  return "symbolize=0:max_allocation_size_mb=1024:allocator_may_return_null=1";
}
extern "C" const char* __ubsan_default_options() { return "symbolize=0"; }

namespace {

// Sanitizers reserve terabytes of address space for their shadow memory: no RLIMIT_AS under them.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool limit_address_space = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
constexpr bool limit_address_space = false;
#else
constexpr bool limit_address_space = true;
#endif
#else
constexpr bool limit_address_space = true;
#endif

#if defined(__x86_64__)
constexpr std::uint32_t audit_arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr std::uint32_t audit_arch = AUDIT_ARCH_AARCH64;
#else
#error "typenet-hdf5-reader: add this architecture's AUDIT_ARCH_ to the seccomp filter"
#endif

bool read_exactly(void* buffer, std::size_t size) {
  auto* at = static_cast<char*>(buffer);
  while (size > 0) {
    const ssize_t got = read(STDIN_FILENO, at, size);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    at += got;
    size -= std::size_t(got);
  }
  return true;
}

bool write_all(std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    const ssize_t wrote = write(STDOUT_FILENO, bytes.data(), bytes.size());
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return false;
    bytes = bytes.subspan(std::size_t(wrote));
  }
  return true;
}

bool set_limit(int resource, rlim_t value) {
  const rlimit limit{value, value};
  return setrlimit(resource, &limit) == 0;
}

// The address space the parse may use: libraries and HDF5's own needs, then a few copies of the
// image (the request buffer, HDF5's in-memory file, the tree's values, the encoded reply).
rlim_t address_space_limit(std::uint64_t image_size) {
  constexpr std::uint64_t base = std::uint64_t{1} << 30, copies = 6;
  const std::uint64_t most = (std::uint64_t(RLIM_INFINITY) - base) / copies;
  return image_size >= most ? RLIM_INFINITY : rlim_t(base + copies * image_size);
}

bool set_limits(const Hdf5RequestHeader& request) {
  // The CPU limit backs the parent's own deadline (it kills this process when it passes), for
  // the case where the parent is gone: SIGXCPU at the limit, SIGKILL a second later.
  const rlim_t cpu_seconds = request.timeout_seconds + rlim_t{1};
  const rlimit cpu{cpu_seconds, cpu_seconds + 1};
  // stdout is an in-memory file: files may only grow to the longest reply.
  return setrlimit(RLIMIT_CPU, &cpu) == 0 &&
         set_limit(RLIMIT_FSIZE, max_hdf5_reply_bytes(request.max_bytes)) &&
         set_limit(RLIMIT_CORE, 0) && set_limit(RLIMIT_NOFILE, 8) &&
         (!limit_address_space || set_limit(RLIMIT_AS, address_space_limit(request.image_size)));
}

// Every system call but these fails with EPERM, so that libhdf5's optional probes (plugin
// folders, environment files) fail as they would on a bare system instead of killing the parse.
// sigaltstack: the sanitizers' runtime (fuzzing, CI) sets and clears its signal stack.
bool install_seccomp_filter() {
  static constexpr long allowed[] = {
      SYS_read,       SYS_write,  SYS_writev,       SYS_exit,           SYS_exit_group,
      SYS_brk,        SYS_mmap,   SYS_munmap,       SYS_mremap,         SYS_mprotect,
      SYS_madvise,    SYS_futex,  SYS_rt_sigreturn, SYS_rt_sigprocmask, SYS_fstat,
      SYS_newfstatat, SYS_lseek,  SYS_close,        SYS_clock_gettime,  SYS_getrandom,
      SYS_getpid,     SYS_gettid, SYS_sched_yield,  SYS_nanosleep,      SYS_clock_nanosleep,
      SYS_sigaltstack};
  const sock_filter deny = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
  const sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  std::vector<sock_filter> filter = {
      // Syscall numbers are only this architecture's: any other is killed.
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, audit_arch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
  };
  for (long call : allowed) {
    filter.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, std::uint32_t(call), 0, 1));
    filter.push_back(allow);
  }
  // abort() raises SIGABRT with tgkill: allowed at this process only, so that a failed assertion
  // in libhdf5 ends as a signal the parent reports.
  filter.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, std::uint32_t(SYS_tgkill), 0, 3));
  filter.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])));
  filter.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, std::uint32_t(getpid()), 0, 1));
  filter.push_back(allow);
  filter.push_back(deny);
  const sock_fprog program{static_cast<unsigned short>(filter.size()), filter.data()};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

std::vector<std::byte> parse(std::span<const std::byte> image, const std::string& source,
                             std::uint64_t max_bytes) {
  try {
    return encode_hdf5_tree(snapshot_hdf5_image(image, source, max_bytes));
  } catch (const KerasError& error) {
    return encode_hdf5_error(error.problem(), source, error.what());
  } catch (const std::bad_alloc&) {
    return encode_hdf5_error(KerasProblem::TooLarge, source,
                             "reading it took the HDF5 library more memory than the " +
                                 std::to_string(address_space_limit(image.size()) >> 20) +
                                 " MiB allowed: the file is damaged or hostile");
  } catch (const std::exception& error) {
    return encode_hdf5_error(KerasProblem::Corrupted, source,
                             std::string("the HDF5 reader failed: ") + error.what());
  }
}

[[noreturn]] void quit(Hdf5ReaderExit status) { _exit(static_cast<int>(status)); }

}  // namespace

int main() {
  // Only stdin, stdout and stderr: nothing else the parent had open is within reach.
  closefrom(STDERR_FILENO + 1);
  std::byte header_bytes[hdf5_request_header_bytes];
  if (!read_exactly(header_bytes, sizeof header_bytes)) quit(Hdf5ReaderExit::BadRequest);
  const std::optional<Hdf5RequestHeader> request = decode_hdf5_request_header(header_bytes);
  if (!request) quit(Hdf5ReaderExit::BadRequest);
  if (!set_limits(*request)) quit(Hdf5ReaderExit::CannotConfine);

  std::string source(request->source_size, '\0');
  if (!read_exactly(source.data(), source.size())) quit(Hdf5ReaderExit::BadRequest);
  // The image is read where it lies: the parent's in-memory file, mapped (no copy to fault in).
  const std::size_t image_at = hdf5_request_header_bytes + source.size();
  struct stat input {};
  if (fstat(STDIN_FILENO, &input) != 0 || std::uint64_t(input.st_size) < image_at ||
      std::uint64_t(input.st_size) - image_at != request->image_size)
    quit(Hdf5ReaderExit::BadRequest);
  void* mapped = MAP_FAILED;
  if (request->image_size != 0) {
    mapped = mmap(nullptr, image_at + request->image_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
                  STDIN_FILENO, 0);
    if (mapped == MAP_FAILED) quit(Hdf5ReaderExit::BadRequest);
  }
  const std::span<const std::byte> image(
      mapped == MAP_FAILED ? nullptr : static_cast<const std::byte*>(mapped) + image_at,
      request->image_size);
  // HDF5 sets itself up (its allocations, its atexit handler) before the filter is on.
  if (H5open() < 0 || !install_seccomp_filter()) quit(Hdf5ReaderExit::CannotConfine);

  const std::vector<std::byte> reply = parse(image, source, request->max_bytes);
  // No exit handlers: HDF5's would tidy up memory that is about to vanish anyway.
  _exit(write_all(reply) ? 0 : 1);
}
