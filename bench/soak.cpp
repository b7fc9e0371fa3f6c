// soak: batch-1 inference (net.predict of one image) for a long time, watching for leaks and
// creeping memory. For each net, one line:
//
//   soak cnn images=1000000 rss_start_kb=281296 rss_end_kb=281424 rss_peak_kb=281424
//            allocations=0 seconds=1691.6 class_sum=5453400
//
// rss_*: resident memory (/proc/self/statm) after warm-up, at the end, and the highest seen every
// 10,000 images; allocations: global operator new calls during the loop. Images cycle through the
// MNIST test set (random images when MNIST does not load). Exits with status 1 when the loop
// allocated or the resident memory grew by more than 1 MiB.
//
//   soak [--images N] [--net cnn|mlp|all]
#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "allocation_counter.hpp"
#include "nets.hpp"

namespace {

using namespace typenet;

constexpr long allowed_growth_kb = 1024;
constexpr std::size_t rss_sample_every = 10'000;

// Resident set size in KiB, from the second field of /proc/self/statm (pages). Plain system calls
// and a stack buffer: reading it must not allocate inside the measured loop.
long resident_kb() {
  const int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char text[128];
  const ssize_t got = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (got <= 0) return -1;
  text[got] = '\0';
  char* rest = nullptr;
  std::strtol(text, &rest, 10);  // total program size, not what we want
  const long pages = std::strtol(rest, nullptr, 10);
  return pages * (::sysconf(_SC_PAGESIZE) / 1024);
}

struct SoakResult {
  long rss_start_kb = 0, rss_end_kb = 0, rss_peak_kb = 0;
  std::size_t allocations = 0;
  double seconds = 0;
  std::size_t class_sum = 0;  // of the predicted classes: keeps the work from being optimised away
};

template <class NetT>
SoakResult soak(const Dataset& images, std::size_t count) {
  auto net = std::make_unique<NetT>(1);
  net->predict(images.image(0));  // warm-up: thread-local buffers, dispatch
  SoakResult result;
  result.rss_start_kb = result.rss_peak_kb = resident_kb();
  const std::size_t allocations_before = allocation_count.load();
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < count; ++i) {
    const auto probabilities = net->predict(images.image(i % images.count));
    result.class_sum += std::size_t(std::max_element(probabilities.begin(), probabilities.end()) -
                                    probabilities.begin());
    if ((i + 1) % rss_sample_every == 0)
      result.rss_peak_kb = std::max(result.rss_peak_kb, resident_kb());
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.allocations = allocation_count.load() - allocations_before;
  result.rss_end_kb = resident_kb();
  result.rss_peak_kb = std::max(result.rss_peak_kb, result.rss_end_kb);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Batch-1 inference for a long time: resident memory and allocations"};
  std::size_t images = 1'000'000;
  std::string which = "all";
  app.add_option("--images", images, "images to predict per net")->check(CLI::PositiveNumber);
  app.add_option("--net", which, "cnn, mlp or all")->check(CLI::IsMember({"cnn", "mlp", "all"}));
  CLI11_PARSE(app, argc, argv);

  const bench::BenchData data = bench::load_bench_data();
  std::printf("soak data=%s\n", data.source.c_str());
  std::fflush(stdout);
  bool healthy = true;
  auto run = [&]<class NetT>(const char* name) {
    if (which != "all" && which != name) return;
    const SoakResult r = soak<NetT>(data.test, images);
    std::printf("soak %s images=%zu rss_start_kb=%ld rss_end_kb=%ld rss_peak_kb=%ld "
                "allocations=%zu seconds=%.1f class_sum=%zu\n",
                name, images, r.rss_start_kb, r.rss_end_kb, r.rss_peak_kb, r.allocations, r.seconds,
                r.class_sum);
    std::fflush(stdout);
    healthy = healthy && r.allocations == 0 && r.rss_peak_kb - r.rss_start_kb <= allowed_growth_kb;
  };
  run.operator()<bench::SeedCnn>("cnn");
  run.operator()<bench::Mlp>("mlp");
  if (!healthy)
    std::printf("soak FAILED: the loop allocated, or resident memory grew by more than %ld KiB\n",
                allowed_growth_kb);
  return healthy ? 0 : 1;
}
