// perf_nets: how fast whole networks train and predict, as machine-readable lines that
// bench/compare_pytorch puts side by side with PyTorch doing the same work:
//
//   setup target=AVX2 threads=2 precision=mixed_bfloat16 bf16_path=avx512_bf16 data=mnist
//   net=cnn figure=train images_per_s=1234.5 images=60000 seconds=48.6 gflops=88.1 allocations=0
//   net=cnn figure=latency threads=1 median_us=412.0 p99_us=530.1 calls=7000 params=1199882
//       gflops=58.2 allocations=0 checksum=31.4
//   net=cnn figure=throughput images_per_s=3800.2 batch=1000 repeats=11 gflops=90.4 allocations=0
//   allocations=0
//
// (one line per figure; the setup line's data= field ends its line and may hold spaces)
// train: one epoch of train_on_batch steps (batch 128, Adam, shuffled) on --threads threads,
// after one warm-up step, as PyTorch's training loop; latency: single-image net.predict calls,
// alone on one thread and (a line each) shared by a team of --threads threads (predict with a
// pool); throughput: Model::predict of 1000 images on --threads threads. The Conv64/128 and
// Keras 5x5 nets are timed for inference only. Every measured loop counts the global operator
// new calls made meanwhile (typenet promises none); the program fails when there were any.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <typenet/kernels/kernel_paths.hpp>

#include "allocation_counter.hpp"
#include "nets.hpp"

namespace {

using namespace typenet;
using Clock = std::chrono::steady_clock;

struct Settings {
  std::size_t threads = 0;  // 0: every core
  double epochs_fraction = 1.0;
  double seconds = 3.0;            // per latency or throughput figure
  std::vector<std::string> only;   // empty: every network
  std::string precision = "auto";  // of the Model's training and throughput (typenet/precision.hpp)
  // The bf16 kernels' path (typenet/kernels/kernel_paths.hpp): "best", or one forced, to time
  // e.g. the AVX512_BF16 path that CPUs without AMX take on a CPU that has AMX.
  std::string bf16_path = "best";
  std::string convolution = "auto";  // of the float32 3x3 convolutions (typenet/precision.hpp)

  ModelOptions model_options() const {
    return {.threads = threads,
            .precision = parse_precision(precision),
            .convolution = parse_conv_algorithm(convolution)};
  }
};

constexpr std::size_t kTrainBatch = 128;
constexpr std::size_t kPredictBatch = 1000;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Allocations made while `measured` runs, added to the program's total.
template <class Measured>
std::size_t count_allocations(std::size_t& total, Measured&& measured) {
  const std::size_t before = allocation_count.load();
  measured();
  const std::size_t made = allocation_count.load() - before;
  total += made;
  return made;
}

double percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  const auto index = std::size_t(std::ceil(fraction * double(values.size()))) - 1;
  return values[std::min(index, values.size() - 1)];
}

template <class NetT>
void measure_training(const char* name, const Settings& settings, const bench::BenchData& data,
                      std::size_t& total_allocations) {
  auto net = std::make_unique<NetT>(1);
  auto model = compile(*net, Adam{}, loss_for<NetT>(), settings.model_options());
  const std::vector<std::size_t> shuffled = permutation(data.train.count, 7);
  const std::vector<std::uint32_t> order(shuffled.begin(), shuffled.end());
  const auto wanted = std::size_t(std::ceil(settings.epochs_fraction * double(order.size())));
  const std::size_t steps = std::max<std::size_t>(1, (wanted + kTrainBatch - 1) / kTrainBatch);
  const Samples<std::uint8_t> samples{data.train.images, data.train.labels};
  auto batch = [&](std::size_t step) {
    const std::size_t first = step * kTrainBatch;
    return std::span(order).subspan(first, std::min(kTrainBatch, order.size() - first));
  };
  model.train_on_batch(samples, batch(0));  // warm-up: caches, page faults, thread start

  std::size_t images = 0;
  Clock::time_point start;
  const std::size_t allocations = count_allocations(total_allocations, [&] {
    start = Clock::now();
    for (std::size_t step = 0; step < steps; ++step) {
      const auto indices = batch(step);
      model.train_on_batch(samples, indices);
      images += indices.size();
    }
  });
  const double seconds = seconds_since(start);
  const double rate = double(images) / seconds;
  std::printf("net=%s figure=train images_per_s=%.1f images=%zu seconds=%.3f gflops=%.2f "
              "allocations=%zu\n",
              name, rate, images, seconds, 3.0 * double(NetT::flops) * rate * 1e-9, allocations);
}

// Single-image predictions, alone (team == 1: Net::predict(image)) or by a team of threads
// (Net::predict(image, pool)).
template <class NetT>
void measure_latency(const char* name, const Settings& settings, const bench::BenchData& data,
                     std::size_t team, std::size_t& total_allocations) {
  auto net = std::make_unique<NetT>(1);
  ThreadPool pool(team);
  const std::size_t images = data.test.count;
  auto image = [&](std::size_t call) {
    return std::span(data.test.images).subspan(call % images * NetT::input_size, NetT::input_size);
  };
  auto predict = [&](std::size_t call) {
    return team == 1 ? net->predict(image(call)) : net->predict(image(call), pool);
  };
  float checksum = 0;  // keeps the calls from being optimised away
  for (std::size_t call = 0; call < 50; ++call) checksum += predict(call)[0];

  std::vector<double> micros(1'000'000);
  std::size_t calls = 0;
  const std::size_t allocations = count_allocations(total_allocations, [&] {
    const Clock::time_point start = Clock::now();
    while (calls < micros.size() && (calls < 200 || seconds_since(start) < settings.seconds)) {
      const Clock::time_point before = Clock::now();
      checksum += predict(calls)[0];
      micros[calls++] = std::chrono::duration<double, std::micro>(Clock::now() - before).count();
    }
  });
  micros.resize(calls);
  const double median_us = percentile(micros, 0.5);
  std::printf("net=%s figure=latency threads=%zu median_us=%.2f p99_us=%.2f calls=%zu params=%zu "
              "gflops=%.2f allocations=%zu checksum=%g\n",
              name, team, median_us, percentile(micros, 0.99), calls, NetT::param_count,
              double(NetT::flops) / median_us * 1e-3, allocations, double(checksum));
}

template <class NetT>
void measure_throughput(const char* name, const Settings& settings, const bench::BenchData& data,
                        std::size_t& total_allocations) {
  auto net = std::make_unique<NetT>(1);
  auto model = compile(*net, Adam{}, loss_for<NetT>(), settings.model_options());
  const std::span<const float> images =
      std::span(data.test.images).first(kPredictBatch * NetT::input_size);
  std::vector<float> outputs(kPredictBatch * NetT::output_size);
  model.predict(images, outputs);  // warm-up

  std::vector<double> rates(100'000);
  std::size_t repeats = 0;
  const std::size_t allocations = count_allocations(total_allocations, [&] {
    const Clock::time_point start = Clock::now();
    while (repeats < rates.size() && (repeats < 3 || seconds_since(start) < settings.seconds)) {
      const Clock::time_point before = Clock::now();
      model.predict(images, outputs);
      rates[repeats++] = double(kPredictBatch) / seconds_since(before);
    }
  });
  rates.resize(repeats);
  const double rate = percentile(rates, 0.5);
  std::printf("net=%s figure=throughput images_per_s=%.1f batch=%zu repeats=%zu gflops=%.2f "
              "allocations=%zu\n",
              name, rate, kPredictBatch, repeats, double(NetT::flops) * rate * 1e-9, allocations);
}

kernels::detail::Bf16Path bf16_path_named(const std::string& name) {
  using kernels::detail::Bf16Path;
  if (name == "highway") return Bf16Path::highway;
  if (name == "avx512_bf16") return Bf16Path::avx512_bf16;
  if (name == "amx") return Bf16Path::amx;
  return Bf16Path::best;
}

int run(const Settings& settings) {
  const bench::BenchData data = bench::load_bench_data();
  if (data.test.count < kPredictBatch)
    throw std::runtime_error("perf_nets: the test set has " + std::to_string(data.test.count) +
                             " images, the throughput figure needs " +
                             std::to_string(kPredictBatch));
  const std::size_t threads = ThreadPool(settings.threads).size();
  std::printf("setup target=%s threads=%zu precision=%s convolution=%s bf16_path=%s data=%s\n",
              kernels::simd_target_name(), threads,
              std::string(to_string(resolve(parse_precision(settings.precision)))).c_str(),
              settings.convolution.c_str(), kernels::bf16_kernel_path(), data.source.c_str());
  std::fflush(stdout);
  std::size_t total_allocations = 0;
  bench::for_each_net([&]<class NetT>(const char* name, bool trained) {
    if (!settings.only.empty() && std::ranges::find(settings.only, name) == settings.only.end())
      return;
    if (trained) measure_training<NetT>(name, settings, data, total_allocations);
    measure_latency<NetT>(name, settings, data, 1, total_allocations);
    if (threads > 1) measure_latency<NetT>(name, settings, data, threads, total_allocations);
    measure_throughput<NetT>(name, settings, data, total_allocations);
    std::fflush(stdout);
  });
  std::printf("allocations=%zu\n", total_allocations);
  if (total_allocations != 0) {
    std::fprintf(stderr, "perf_nets: the measured loops allocated %zu times; expected none\n",
                 total_allocations);
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  CLI::App app("Training speed, batch-1 latency and batch-1000 throughput of whole networks");
  app.add_option("--threads", settings.threads,
                 "Threads for training and throughput (0: every core)")
      ->capture_default_str();
  app.add_option("--epochs-fraction", settings.epochs_fraction,
                 "Part of an epoch of MNIST to train on (1: all 60000 images)")
      ->capture_default_str()
      ->check(CLI::Range(1e-6, 1.0));
  app.add_option("--seconds", settings.seconds, "Time spent on each latency or throughput figure")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--precision", settings.precision,
                 "Arithmetic of training and batch throughput (latency is Net::predict: float32)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "float32", "mixed_bfloat16"}));
  app.add_option("--bf16-path", settings.bf16_path,
                 "Force the bf16 kernels' instructions (best: AMX, else AVX512_BF16, else Highway)")
      ->capture_default_str()
      ->check(CLI::IsMember({"best", "highway", "avx512_bf16", "amx"}));
  app.add_option("--convolution", settings.convolution,
                 "Float32 3x3 convolutions: auto (Winograd where it suits) or direct")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "direct"}));
  app.add_option("--only", settings.only, "Measure only this network (repeatable)")
      ->check(CLI::IsMember({"cnn", "mlp", "conv64", "keras5x5"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  if (const auto path = bf16_path_named(settings.bf16_path); !kernels::detail::force_path(path)) {
    std::fprintf(stderr, "perf_nets: --bf16-path %s: this CPU or build does not have it\n",
                 settings.bf16_path.c_str());
    return 1;
  }
  try {
    return run(settings);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "perf_nets: error: %s\n", error.what());
    return 1;
  }
}
