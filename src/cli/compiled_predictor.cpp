#include "compiled_predictor.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <vector>

#include <typenet/io/atomic_write.hpp>

extern char** environ;

namespace typenet::cli {

namespace {

namespace fs = std::filesystem;

std::uint64_t fnv1a(std::string_view text, std::uint64_t hash = 14695981039346656037ull) {
  for (const char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return hash;
}

fs::path cache_root() {
  if (const char* dir = std::getenv("TYPENET_CACHE"); dir && *dir) return dir;
  if (const char* dir = std::getenv("XDG_CACHE_HOME"); dir && *dir)
    return fs::path(dir) / "typenet";
  if (const char* home = std::getenv("HOME"); home && *home)
    return fs::path(home) / ".cache" / "typenet";
  throw std::runtime_error("no cache folder for compiled predictors: set TYPENET_CACHE or HOME");
}

// An executable found on PATH (or a path given as is); empty when there is none.
fs::path find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && access((fs::path(dir) / name).c_str(), X_OK) == 0)
      return fs::path(dir) / name;
  return {};
}

// The folders of typenet's pkg-config files for the libraries this tool was built with: the
// Meson build tree it runs from (meson-uninstalled/ in this folder or one above: a subproject's
// tool is below the top build folder), or the installation it belongs to (PREFIX/bin/typenet).
std::vector<fs::path> pkg_config_dirs(const fs::path& tool) {
  for (fs::path dir = tool.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    if (fs::exists(dir / "meson-uninstalled" / "typenet-uninstalled.pc"))
      return {dir / "meson-uninstalled"};
    if (dir == dir.root_path()) break;
  }
  std::vector<fs::path> dirs;
  const fs::path lib = tool.parent_path().parent_path() / "lib";
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(lib, error))
    if (fs::exists(entry.path() / "pkgconfig" / "typenet.pc"))
      dirs.push_back(entry.path() / "pkgconfig");
  if (fs::exists(lib / "pkgconfig" / "typenet.pc")) dirs.push_back(lib / "pkgconfig");
  return dirs;
}

// Runs `args` (no shell), its output appended to `log`; returns its exit status (-1 when it could
// not start or was killed).
int run_program(const std::vector<std::string>& args, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int started = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (started != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::stringstream stream(text);
  for (std::string word; stream >> word;) words.push_back(word);
  return words;
}

// The compiler and linker flags of typenet-vis and typenet-keras (and what they build on).
std::vector<std::string> typenet_flags(const fs::path& tool, const fs::path& work) {
  const fs::path pkg_config = find_program("pkg-config");
  if (pkg_config.empty())
    throw std::runtime_error("compiling a predictor needs pkg-config, which is not installed "
                             "(Debian: apt-get install pkg-config)");
  std::string path;
  for (const fs::path& dir : pkg_config_dirs(tool))
    path += (path.empty() ? "" : ":") + dir.string();
  if (const char* old = std::getenv("PKG_CONFIG_PATH"); old && *old) path += ":" + std::string(old);
  setenv("PKG_CONFIG_PATH", path.c_str(), 1);
  const fs::path out = work / "pkg-config.txt";
  fs::remove(out);
  if (run_program({pkg_config.string(), "--cflags", "--libs", "typenet-vis", "typenet-keras"},
                  out) != 0)
    throw std::runtime_error("pkg-config cannot find typenet's libraries (looked beside " +
                             tool.string() + " and in PKG_CONFIG_PATH): " + read_text(out));
  return split_words(read_text(out));
}

// The identity of this tool's build: its path and modification time. A rebuilt or reinstalled
// typenet compiles its predictors afresh.
std::string tool_identity(const fs::path& tool) {
  std::error_code error;
  const auto time = fs::last_write_time(tool, error);
  return tool.string() + "@" + std::to_string(time.time_since_epoch().count());
}

std::string hex(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

void write_text(const fs::path& path, const std::string& text) {
  io::write_file_atomically(path, std::as_bytes(std::span(text)));
}

constexpr std::string_view predictor_main =
    "// The typenet tool's commands on one model file's architecture (model.hpp).\n"
    "#include \"model.hpp\"\n"
    "#include <typenet/cli/commands.hpp>\n\n"
    "int main(int argc, char** argv) {\n"
    "  return typenet::cli::run(argc, argv, {}, [](typenet::cli::Command command,\n"
    "                                              const typenet::cli::Options& options) {\n"
    "    typenet::cli::run_on_model<Model>(command, options);\n"
    "  });\n"
    "}\n";

// Compiles the predictor into `executable`.
void compile_predictor(const std::string& type_header, const fs::path& tool,
                       const fs::path& executable) {
  const fs::path work = executable.parent_path();
  const char* cxx_env = std::getenv("CXX");
  const std::string cxx_name = cxx_env && *cxx_env ? cxx_env : "c++";
  const fs::path cxx = find_program(cxx_name);
  if (cxx.empty())
    throw std::runtime_error("this model's architecture is not one of the tool's built-in ones, "
                             "and running it needs a C++20 compiler: '" +
                             cxx_name + "' was not found (install g++, or set CXX)");
  write_text(work / "model.hpp", type_header);
  write_text(work / "main.cpp", std::string(predictor_main));
  std::vector<std::string> args = {cxx.string(),
                                   "-std=c++20",
                                   "-O2",
                                   "-DNDEBUG",
                                   "-o",
                                   executable.string() + ".tmp." + std::to_string(getpid()),
                                   (work / "main.cpp").string()};
  for (std::string& flag : split_words(TYPENET_PREDICTOR_FLAGS)) args.push_back(std::move(flag));
  for (std::string& flag : typenet_flags(tool, work)) args.push_back(std::move(flag));
  const fs::path log = work / "compile.log";
  fs::remove(log);
  std::fprintf(stderr,
               "typenet: compiling a predictor for this model's architecture (first use; cached "
               "in %s)...\n",
               work.c_str());
  const auto start = std::chrono::steady_clock::now();
  if (run_program(args, log) != 0)
    throw std::runtime_error("compiling the predictor failed; see " + log.string());
  fs::rename(args[5], executable);
  std::fprintf(stderr, "typenet: compiled in %.1f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace

void run_compiled_predictor(const std::string& type_header, char** argv) {
  const fs::path tool = fs::read_symlink("/proc/self/exe");
  const std::size_t using_line = type_header.find("\nusing ");
  const std::string type = type_header.substr(using_line == std::string::npos ? 0 : using_line);
  const fs::path work = cache_root() / "predictors" / hex(fnv1a(tool_identity(tool), fnv1a(type)));
  fs::create_directories(work);
  const fs::path executable = work / "predictor";
  if (access(executable.c_str(), X_OK) != 0) compile_predictor(type_header, tool, executable);
  std::fflush(nullptr);
  execv(executable.c_str(), argv);
  throw std::system_error(errno, std::generic_category(), "cannot run " + executable.string());
}

}  // namespace typenet::cli
