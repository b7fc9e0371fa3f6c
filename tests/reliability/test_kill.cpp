// Crashes mid-write: checkpoint_writer (a process of its own) is killed with SIGKILL at random
// moments, and what it left on disk must always load, never go back, and resume to exactly the
// weights of a run that never stopped.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <typenet/io/atomic_write.hpp>

#include "fixtures.hpp"
#include "temp_folder.hpp"

using namespace typenet;
using namespace typenet::reliability;

namespace {

// checkpoint_writer, started from the folder this test binary is in (meson builds both there),
// its stdout coming back through a pipe and its stderr going to a log file that failures quote.
class WriterProcess {
 public:
  WriterProcess(const std::vector<std::string>& arguments, std::filesystem::path log)
      : log_(std::move(log)) {
    const auto program = std::filesystem::read_symlink("/proc/self/exe").parent_path() /
                         "checkpoint_writer";
    std::vector<std::string> words{program.string()};
    words.insert(words.end(), arguments.begin(), arguments.end());
    std::vector<char*> argv;
    for (std::string& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    int pipe_ends[2];
    if (::pipe2(pipe_ends, O_CLOEXEC) != 0)
      throw std::system_error(errno, std::generic_category(), "creating a pipe");
    stdout_ = pipe_ends[0];
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int error =
        ::posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_ends[1]);
    if (error != 0) {
      ::close(stdout_);
      throw std::system_error(error, std::generic_category(), "starting " + program.string());
    }
  }
  WriterProcess(const WriterProcess&) = delete;
  WriterProcess& operator=(const WriterProcess&) = delete;
  ~WriterProcess() {
    if (pid_ > 0) kill_and_wait();
    ::close(stdout_);
  }
  pid_t pid() const { return pid_; }

  // Waits for the line "ready"; false when the process ended without printing it.
  bool wait_until_ready() {
    std::string line;
    char c;
    while (line.size() < 16) {
      const ssize_t got = ::read(stdout_, &c, 1);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0 || c == '\n') break;
      line += c;
    }
    return line == "ready";
  }

  // Both return the waitpid status. Killing a process that already ended (a zombie until waited
  // for) is harmless, so kill_and_wait also reports one that ended on its own.
  int kill_and_wait() {
    ::kill(pid_, SIGKILL);
    return wait();
  }
  int wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }
  // The status if the process has ended, without waiting.
  std::optional<int> poll() {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
    pid_ = -1;
    return status;
  }

  // "killed by signal 9", or "exited with status 1: <what it printed>".
  std::string describe(int status) const {
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    std::ostringstream printed;
    printed << std::ifstream(log_).rdbuf();
    return "exited with status " + std::to_string(WEXITSTATUS(status)) + ": " + printed.str();
  }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
  int stdout_ = -1;  // the read end of the pipe the process's stdout goes to
};

bool killed_by_sigkill(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL; }
bool exited_cleanly(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

// Parameters and optimizer slots: everything a resumed run continues from.
template <class ModelT>
std::vector<float> training_state(ModelT& model) {
  std::vector<float> state(model.net().parameters().begin(), model.net().parameters().end());
  const std::vector<float> slots = optimizer_slots(model);
  state.insert(state.end(), slots.begin(), slots.end());
  return state;
}

// Checks that the temporary files of killed writers of `checkpoint` do not pile up, right after
// the writer `killed` was killed, the checkpoint (written once per epoch) having gone from
// `epochs_before` to `epochs_after`; true if it left a temporary file of it itself. A completed
// write removes the files that writers of the same target killed before it left, just after its
// rename, so that is certainly done once a second write has completed: then only the killed
// writer's own file may remain. (Other targets' files wait for a write of their own: a writer
// killed while saving its final weights leaves one, which the checkpoint's writes leave alone.)
bool check_no_pile_up(const std::filesystem::path& checkpoint, pid_t killed,
                      std::uint64_t epochs_before, std::uint64_t epochs_after,
                      const std::string& which) {
  // write_file_atomically names its temporary file "<target>.tmp.<pid>".
  const std::string prefix = checkpoint.filename().string() + ".tmp.";
  const std::string own = prefix + std::to_string(killed);
  std::size_t own_files = 0;
  std::string others;
  for (const std::filesystem::path& file : temporary_files_in(checkpoint.parent_path())) {
    const std::string name = file.filename().string();
    if (name == own) ++own_files;
    else if (name.starts_with(prefix)) others += " " + name;
  }
  if (epochs_after >= epochs_before + 2)
    CHECK_MESSAGE(others.empty(), which << ": temporary files of earlier killed writers are still "
                                        << "there after epochs " << epochs_before << " to "
                                        << epochs_after << " were written:" << others);
  return own_files > 0;
}

// The epochs a checkpoint holds, loading it into `model`; nullopt when there is no file.
template <class ModelT>
std::optional<std::uint64_t> epochs_in(ModelT& model, const std::filesystem::path& checkpoint) {
  try {
    return model.load_checkpoint(checkpoint).first;
  } catch (const std::system_error& error) {
    if (error.code() == std::errc::no_such_file_or_directory) return std::nullopt;
    throw;
  }
}

}  // namespace

TEST_CASE("a checkpoint rewritten in a loop survives SIGKILL at 120 random moments") {
  constexpr int kills = 120;
  const TempFolder folder("kill_loop");
  const auto checkpoint = folder / "loop.ckpt";
  auto reader_net = std::make_unique<LoopNet>(99);
  auto reader = compile_loop_model(*reader_net);
  // The run that never stops, computed here step by step as the killed runs get further.
  auto unbroken_net = std::make_unique<LoopNet>(1);
  auto unbroken = compile_loop_model(*unbroken_net);
  std::uint64_t unbroken_steps = 0;

  std::vector<std::byte> previous_good;  // the checkpoint's bytes after the previous kill
  std::uint64_t previous_epoch = 0;
  std::size_t mid_write = 0, before_any_write = 0;
  Rng rng(2024);
  const auto start = std::chrono::steady_clock::now();
  for (int kill = 1; kill <= kills; ++kill) {
    WriterProcess writer({"loop", checkpoint.string()}, folder / "writer.log");
    const pid_t pid = writer.pid();
    // A write takes a few milliseconds (two fsyncs): up to 25 ms is a handful of writes.
    if (writer.wait_until_ready())
      std::this_thread::sleep_for(std::chrono::microseconds(rng.below(25'000)));
    const int status = writer.kill_and_wait();
    REQUIRE_MESSAGE(killed_by_sigkill(status),
                    "kill " << kill << ": checkpoint_writer " << writer.describe(status));
    const std::optional<std::uint64_t> epoch = epochs_in(reader, checkpoint);
    mid_write += check_no_pile_up(checkpoint, pid, previous_epoch, epoch.value_or(0),
                                  "kill " + std::to_string(kill));
    if (!epoch) {
      REQUIRE_MESSAGE(previous_good.empty(), "kill " << kill << ": the checkpoint of epoch "
                                                     << previous_epoch << " vanished");
      ++before_any_write;
      continue;
    }
    // Loading checked the whole file (size, CRC, architecture, sections); its parts must belong
    // together: one optimizer step per epoch in this loop.
    CHECK(reader.optimizer_steps() == *epoch);
    REQUIRE_MESSAGE(*epoch >= previous_epoch, "kill " << kill
                                                      << ": the checkpoint went back from epoch "
                                                      << previous_epoch << " to " << *epoch);
    const std::vector<std::byte> bytes = io::read_whole_file(checkpoint);
    if (*epoch == previous_epoch)
      REQUIRE_MESSAGE(bytes == previous_good,
                      "kill " << kill << ": the previous good checkpoint (epoch " << previous_epoch
                              << ") changed although no newer one replaced it");
    while (unbroken_steps < *epoch) train_loop_step(unbroken, unbroken_steps++);
    REQUIRE_MESSAGE(
        training_state(reader) == training_state(unbroken),
        "kill " << kill << ": epoch " << *epoch << " differs from the run that never stopped");
    previous_good = bytes;
    previous_epoch = *epoch;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE(kills << " kills in " << seconds << " s: " << previous_epoch << " checkpoints written, "
                << mid_write << " kills landed mid-write (temporary file left), "
                << before_any_write << " before the first write; every checkpoint loaded");
  CHECK(previous_epoch > 0);
}

// Polls a fit writer until it ends, calling on_backup() each time its backup holds more epochs
// than before (`epochs` at first). on_backup returns the waitpid status if it ended the writer.
template <class OnBackup>
int watch_backups(WriterProcess& writer, FitModel& reader, const std::filesystem::path& backup,
                  std::uint64_t epochs, OnBackup on_backup) {
  for (;;) {
    if (const std::optional<int> status = writer.poll()) return *status;
    const std::uint64_t now = epochs_in(reader, backup).value_or(0);
    if (now > epochs) {
      epochs = now;
      if (const std::optional<int> status = on_backup()) return *status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST_CASE("fit resumed from its backup after SIGKILLs gives the weights of an unbroken run") {
  const char* data = std::getenv("TYPENET_DATA");
  if (!data || !std::filesystem::is_directory(data)) {
    // (std::string: doctest prints a const char* as a pointer.)
    MESSAGE("skipped: TYPENET_DATA (" << std::string(data ? data : "unset")
                                      << ") is not a folder holding MNIST");
    return;
  }
  const TempFolder folder("kill_fit");
  auto reader_net = std::make_unique<FitNet>(99);
  auto reader = compile_fit_model(*reader_net);

  // The unbroken run. Its backups also time an epoch on this machine, so that the kills below
  // land within an epoch of the last backup however fast the machine is.
  std::vector<std::chrono::steady_clock::time_point> backup_times;
  WriterProcess unbroken(
      {"fit", (folder / "unbroken.ckpt").string(), (folder / "unbroken.tnet").string()},
      folder / "unbroken.log");
  const int unbroken_status =
      watch_backups(unbroken, reader, folder / "unbroken.ckpt", 0, [&]() -> std::optional<int> {
        backup_times.push_back(std::chrono::steady_clock::now());
        return std::nullopt;
      });
  REQUIRE_MESSAGE(exited_cleanly(unbroken_status),
                  "the unbroken run " << unbroken.describe(unbroken_status));
  const auto epoch_time =
      backup_times.size() < 2
          ? std::chrono::microseconds(20'000)
          : std::chrono::duration_cast<std::chrono::microseconds>(
                (backup_times.back() - backup_times.front()) / (backup_times.size() - 1));

  // Each life is killed at a random moment within an epoch of its first new backup (mid epoch,
  // mid write or as fit ends), so the run gets further with each life and ends on its own.
  const auto backup = folder / "resumed.ckpt", weights = folder / "resumed.tnet";
  Rng rng(7);
  int kills = 0;
  for (int life = 1;; ++life) {
    REQUIRE_MESSAGE(life <= 2 * int(fit_epochs),
                    "the run has not finished after " << kills << " kills");
    const std::uint64_t epochs_at_start = epochs_in(reader, backup).value_or(0);
    WriterProcess writer({"fit", backup.string(), weights.string()}, folder / "resumed.log");
    const pid_t pid = writer.pid();
    const auto kill_within_an_epoch = [&]() -> std::optional<int> {
      std::this_thread::sleep_for(std::chrono::microseconds(rng.below(epoch_time.count() + 1)));
      // fit deletes its backup as it returns, before the helper saves the weights: a kill then
      // would restart the run from scratch. Let that life end instead.
      if (!epochs_in(reader, backup)) return std::nullopt;
      return writer.kill_and_wait();
    };
    const int status = watch_backups(writer, reader, backup, epochs_at_start, kill_within_an_epoch);
    if (exited_cleanly(status)) break;
    REQUIRE_MESSAGE(killed_by_sigkill(status),
                    "life " << life << ": checkpoint_writer " << writer.describe(status));
    ++kills;
    check_no_pile_up(backup, pid, epochs_at_start, epochs_in(reader, backup).value_or(0),
                     "life " + std::to_string(life));
  }
  auto unbroken_net = std::make_unique<FitNet>(1), resumed_net = std::make_unique<FitNet>(2);
  load(*unbroken_net, folder / "unbroken.tnet");
  load(*resumed_net, weights);
  CHECK(kills >= 2);
  // The life that ended on its own wrote both files last: it removed what killed lives left.
  CHECK(temporary_files_in(folder.path()).empty());
  const bool identical = std::memcmp(unbroken_net->parameters().data(),
                                     resumed_net->parameters().data(), FitNet::param_bytes) == 0;
  CHECK_MESSAGE(identical, "the run killed " << kills << " times ends with other weights");
  MESSAGE("fit on " << fit_images << " MNIST images, " << fit_epochs << " epochs of ~"
                    << epoch_time.count() / 1000 << " ms: killed " << kills
                    << " times, resumed each time; final weights bit-identical: " << identical);
}
