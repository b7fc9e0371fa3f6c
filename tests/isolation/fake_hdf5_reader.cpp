// Stands in for typenet-hdf5-reader (through TYPENET_HDF5_READER) to show how the caller takes a
// helper that misbehaves; FAKE_HDF5_READER_MODE says how.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

// Reads the whole request, as the real reader does before it parses.
void read_request() {
  char buffer[1 << 16];
  while (read(STDIN_FILENO, buffer, sizeof buffer) > 0) {
  }
}

void write_bytes(const void* data, std::size_t size) {
  if (write(STDOUT_FILENO, data, size) != ssize_t(size)) std::exit(9);
}

// Dies of SIGSEGV as a crashing libhdf5 would, even in a sanitizer build (whose handler would
// report it and exit with status 1 instead).
[[noreturn]] void crash() {
  std::signal(SIGSEGV, SIG_DFL);
  raise(SIGSEGV);
  std::abort();
}

}  // namespace

int main() {
  const char* mode_text = std::getenv("FAKE_HDF5_READER_MODE");
  const std::string_view mode = mode_text ? mode_text : "";
  if (mode == "crash") {
    read_request();
    crash();
  } else if (mode == "crash-early") {  // before reading anything: the caller's writes fail
    crash();
  } else if (mode == "hang") {  // never reads, never answers
    for (;;) pause();
  } else if (mode == "garbage") {
    read_request();
    const char garbage[] = "TNH5 this is not a reply";
    write_bytes(garbage, sizeof garbage);
  } else if (mode == "endless") {  // answers without end
    static const char block[1 << 16] = {};
    for (;;) write_bytes(block, sizeof block);
  } else if (mode == "status") {
    read_request();
    std::fputs("fake reader: something went wrong\n", stderr);
    return 7;
  } else if (mode == "silent") {
    read_request();
  }
  return 0;
}
