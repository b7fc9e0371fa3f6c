// perf_int8: typenet's 8-bit inference (quantized.hpp) beside its float path, on the seed CNN and
// the MLP, as the lines bench/compare_int8 reads:
//
//   typenet_int8 net=cnn figure=latency float_us=111.6 int8_us=50.2 float_threads=2
//       int8_threads=2 path=vnni
//   typenet_int8 net=cnn figure=throughput float=9013.0 int8=20000.0 unit=images/s threads=2
//   typenet_int8 allocations=0
//
// (one line each). The nets are randomly initialised (bench/nets.hpp, seed 1: the timings do
// not depend on the weights), quantized with the first 500 training images, and fed MNIST test
// images. latency: the median of single-image predict calls, for each side the better of one
// thread and a team of --threads threads (predict with a pool), and which it was; path: the
// 8-bit kernels' instructions (kernels::int8_kernel_path). throughput: batches of 1000 images on
// --threads threads, float by Model::predict (as perf_nets), int8 by Quantized::predict with a
// pool; the median of the batches' rates. Every measured loop counts the global operator new
// calls made meanwhile (none expected); the program fails when there were any.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <typenet/kernels/int8.hpp>
#include <typenet/quantized.hpp>

#include "allocation_counter.hpp"
#include "nets.hpp"

namespace {

using namespace typenet;
using Clock = std::chrono::steady_clock;

struct Settings {
  std::vector<std::string> nets{"cnn", "mlp"};
  double seconds = 2.0;     // per measured figure and side
  std::size_t threads = 0;  // 0: every core
  bool quick = false;
};

constexpr std::size_t kCalibrationImages = 500;
constexpr std::size_t kBatch = 1000;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[(values.size() - 1) / 2];
}

// Runs run(call) for call = 0, 1, ... for about `seconds` (at least `minimum` calls); returns
// the median seconds of a call. Allocations made meanwhile are added to `allocations`.
template <class Run>
double median_seconds(Run&& run, double seconds, std::size_t minimum, std::size_t& allocations) {
  for (std::size_t call = 0; call < 3; ++call) run(call);  // warm-up
  std::vector<double> times;
  times.reserve(1'000'000);
  const std::size_t before = allocation_count.load();
  const Clock::time_point start = Clock::now();
  for (std::size_t call = 0;
       times.size() < times.capacity() && (call < minimum || seconds_since(start) < seconds);
       ++call) {
    const Clock::time_point begin = Clock::now();
    run(call);
    times.push_back(seconds_since(begin));
  }
  allocations += allocation_count.load() - before;
  return median(times);
}

// The lower median latency of one thread and a team of `threads`: {microseconds, threads}.
struct Latency {
  double us = 0;
  std::size_t threads = 1;
};
template <class Predict>
Latency best_latency(Predict&& predict, std::size_t threads, const Settings& settings,
                     std::size_t& allocations) {
  auto latency = [&](std::size_t team) {
    ThreadPool pool(team);
    const double us =
        1e6 * median_seconds([&](std::size_t call) { predict(call, team == 1 ? nullptr : &pool); },
                             settings.seconds, 200, allocations);
    return Latency{us, team};
  };
  const Latency alone = latency(1);
  if (threads == 1) return alone;
  const Latency team = latency(threads);
  return team.us < alone.us ? team : alone;
}

template <class NetT>
void measure(const char* name, const Settings& settings, const bench::BenchData& data,
             std::size_t threads, std::size_t& allocations) {
  auto net = std::make_unique<NetT>(1);
  Quantized<NetT> q =
      quantize(*net, std::span(data.train.images).first(kCalibrationImages * NetT::input_size));
  const std::size_t images = data.test.count;
  auto image = [&](std::size_t call) {
    return std::span(data.test.images).subspan(call % images * NetT::input_size, NetT::input_size);
  };
  volatile float sink = 0;  // keeps the predictions from being optimised away

  const Latency float_latency = best_latency(
      [&](std::size_t call, ThreadPool* pool) {
        sink = pool ? net->predict(image(call), *pool)[0] : net->predict(image(call))[0];
      },
      threads, settings, allocations);
  const Latency int8_latency = best_latency(
      [&](std::size_t call, ThreadPool* pool) {
        sink = pool ? q.predict(image(call), *pool)[0] : q.predict(image(call))[0];
      },
      threads, settings, allocations);
  std::printf("typenet_int8 net=%s figure=latency float_us=%.1f int8_us=%.1f float_threads=%zu "
              "int8_threads=%zu path=%s\n",
              name, float_latency.us, int8_latency.us, float_latency.threads, int8_latency.threads,
              kernels::int8_kernel_path());
  std::fflush(stdout);

  const std::span<const float> batch = std::span(data.test.images).first(kBatch * NetT::input_size);
  std::vector<float> outputs(kBatch * NetT::output_size);
  auto model = compile(*net, Adam{}, loss_for<NetT>(),
                       {.threads = threads, .precision = Precision::Float32});
  const double float_seconds = median_seconds([&](std::size_t) { model.predict(batch, outputs); },
                                              settings.seconds, 3, allocations);
  ThreadPool pool(threads);
  const double int8_seconds = median_seconds([&](std::size_t) { q.predict(batch, outputs, pool); },
                                             settings.seconds, 3, allocations);
  sink = outputs[0];
  std::printf("typenet_int8 net=%s figure=throughput float=%.1f int8=%.1f unit=images/s "
              "threads=%zu\n",
              name, double(kBatch) / float_seconds, double(kBatch) / int8_seconds, threads);
  std::fflush(stdout);
}

int run(Settings settings) {
  if (settings.quick) settings.seconds = std::min(settings.seconds, 0.25);
  const bench::BenchData data = bench::load_bench_data();
  if (data.test.count < kBatch || data.train.count < kCalibrationImages)
    throw std::runtime_error("perf_int8: the data has too few images");
  const std::size_t threads = ThreadPool(settings.threads).size();
  std::size_t allocations = 0;
  for (const std::string& name : settings.nets) {
    if (name == "cnn") measure<bench::SeedCnn>("cnn", settings, data, threads, allocations);
    if (name == "mlp") measure<bench::Mlp>("mlp", settings, data, threads, allocations);
  }
  std::printf("typenet_int8 allocations=%zu\n", allocations);
  if (allocations != 0) {
    std::fprintf(stderr, "perf_int8: the measured loops allocated %zu times; expected none\n",
                 allocations);
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  CLI::App app("Latency and throughput of typenet's 8-bit inference beside its float path");
  app.add_option("--nets", settings.nets, "Networks, comma-separated")
      ->delimiter(',')
      ->check(CLI::IsMember({"cnn", "mlp"}))
      ->capture_default_str();
  app.add_option("--seconds", settings.seconds, "Time spent on each figure and side")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--threads", settings.threads, "Threads of the teams and batches (0: every core)")
      ->capture_default_str();
  app.add_flag("--quick", settings.quick, "At most 0.25 s a figure and side (a smoke run)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  try {
    return run(settings);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "perf_int8: error: %s\n", error.what());
    return 1;
  }
}
