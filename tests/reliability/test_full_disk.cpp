// Writes that fail: a checkpoint saved onto a full file system, or past the process's file-size
// limit, must fail with an error naming the file and the cause, and leave the last good
// checkpoint (and no temporary file) behind.
#include <doctest/doctest.h>

#include <sys/mount.h>
#include <sys/resource.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "fixtures.hpp"
#include "temp_folder.hpp"

using namespace typenet;
using namespace typenet::reliability;

namespace {

// A tmpfs of `size` mounted on a folder, unmounted when done. Mounting needs root (CAP_SYS_ADMIN).
class SmallTmpfs {
 public:
  SmallTmpfs(const std::filesystem::path& folder, const std::string& size) : folder_(folder) {
    const std::string options = "size=" + size;
    if (::mount("tmpfs", folder.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0)
      error_ = std::strerror(errno);
  }
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;
  ~SmallTmpfs() {
    if (error_.empty()) ::umount2(folder_.c_str(), MNT_DETACH);
  }
  // Empty when mounted, else why not.
  const std::string& error() const { return error_; }

 private:
  std::filesystem::path folder_;
  std::string error_;
};

// Writes zeros until the file system is full; returns the bytes written.
std::size_t fill_up(const std::filesystem::path& file) {
  std::ofstream out(file, std::ios::binary);
  const std::vector<char> block(4096, 0);
  std::size_t written = 0;
  while (out.write(block.data(), std::streamsize(block.size())) && out.flush())
    written += block.size();
  return written;
}

// While alive, writing a file past `bytes` fails with EFBIG instead of raising SIGXFSZ: a write
// error injected without root.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limited{bytes, saved_.rlim_max};
    ::setrlimit(RLIMIT_FSIZE, &limited);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, previous_handler_);
  }

 private:
  rlimit saved_{};
  void (*previous_handler_)(int) = SIG_DFL;
};

// Saves epoch 1, trains a step, tries to save epoch 2 through `failing_save`, which must throw a
// std::system_error whose message names the checkpoint and `cause`; then epoch 1 must load, whole.
template <class FailingSave>
void check_failed_save_keeps_last_good(const std::filesystem::path& checkpoint,
                                       const FailingSave& failing_save, const std::string& cause) {
  auto net = std::make_unique<LoopNet>(1);
  auto model = compile_loop_model(*net);
  train_loop_step(model, 0);
  model.save_checkpoint(checkpoint, 1);
  const std::vector<float> good(net->parameters().begin(), net->parameters().end());
  train_loop_step(model, 1);

  std::optional<std::system_error> error;
  try {
    failing_save(model);
  } catch (const std::system_error& caught) {
    error = caught;
  }
  REQUIRE_MESSAGE(error, "saving did not fail");
  const std::string message = error->what();
  MESSAGE("the error: " << message);
  CHECK(message.find(checkpoint.string()) != std::string::npos);
  CHECK(message.find(cause) != std::string::npos);
  CHECK(temporary_files_in(checkpoint.parent_path()).empty());

  auto reloaded_net = std::make_unique<LoopNet>(2);
  auto reloaded = compile_loop_model(*reloaded_net);
  CHECK(reloaded.load_checkpoint(checkpoint).first == 1);
  CHECK(std::vector<float>(reloaded_net->parameters().begin(), reloaded_net->parameters().end()) ==
        good);
}

}  // namespace

TEST_CASE("a full disk: a clear error, and the last good checkpoint stays") {
  const TempFolder folder("full_disk");
  const SmallTmpfs disk(folder.path(), "1m");
  if (!disk.error().empty()) {
    MESSAGE("skipped: cannot mount a small tmpfs to fill (" << disk.error()
                                                            << "); this case needs root");
    return;
  }
  const auto checkpoint = folder / "run.ckpt";
  check_failed_save_keeps_last_good(
      checkpoint,
      [&](LoopModel& model) {
        fill_up(folder / "filler");
        model.save_checkpoint(checkpoint, 2);
      },
      std::strerror(ENOSPC));
  // Once there is room again, saving works.
  std::filesystem::remove(folder / "filler");
  auto net = std::make_unique<LoopNet>(1);
  auto model = compile_loop_model(*net);
  CHECK_NOTHROW(model.save_checkpoint(checkpoint, 3));
  CHECK(model.load_checkpoint(checkpoint).first == 3);
}

TEST_CASE("a write failing past the file-size limit keeps the last good checkpoint") {
  const TempFolder folder("file_size_limit");
  const auto checkpoint = folder / "run.ckpt";
  check_failed_save_keeps_last_good(
      checkpoint,
      [&](LoopModel& model) {
        const FileSizeLimit limit(4096);
        model.save_checkpoint(checkpoint, 2);
      },
      std::strerror(EFBIG));
}
