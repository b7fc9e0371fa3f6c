// Google Benchmark cases for whole networks (bench/nets.hpp): single-image predict, and one
// train_on_batch step of 128 images on 1 and 2 threads. items_per_second counts images;
// GFLOP/s counts Net::flops per image forward, and about three times that per trained image
// (forward, input gradient, weight gradient).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "nets.hpp"

namespace {

using namespace typenet;

constexpr std::size_t kTrainBatch = 128;

const bench::BenchData& bench_data() {
  static const bench::BenchData data = bench::load_bench_data();
  return data;
}

void set_rates(benchmark::State& state, std::size_t images_per_iteration, double flops_per_image) {
  const auto images = double(state.iterations()) * double(images_per_iteration);
  state.SetItemsProcessed(std::int64_t(images));
  state.counters["GFLOP/s"] =
      benchmark::Counter(images * flops_per_image * 1e-9, benchmark::Counter::kIsRate);
}

template <class NetT>
void predict_batch1(benchmark::State& state) {
  const Dataset& test = bench_data().test;
  auto net = std::make_unique<NetT>(1);
  std::size_t image = 0;
  for (auto _ : state) {
    auto output = net->predict(std::span(test.images).subspan(image * NetT::input_size,
                                                              NetT::input_size));
    benchmark::DoNotOptimize(output);
    image = (image + 1) % test.count;
  }
  set_rates(state, 1, double(NetT::flops));
}

template <class NetT>
void train_on_batch128(benchmark::State& state) {
  const Dataset& train = bench_data().train;
  auto net = std::make_unique<NetT>(1);
  auto model = compile(*net, Adam{}, bench::loss_for<NetT>(),
                       {.threads = std::size_t(state.range(0))});
  const std::vector<std::size_t> shuffled = permutation(train.count, 7);
  const std::vector<std::uint32_t> order(shuffled.begin(), shuffled.end());
  const Samples<std::uint8_t> samples{train.images, train.labels};
  std::size_t first = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        model.train_on_batch(samples, std::span(order).subspan(first, kTrainBatch)));
    first = first + 2 * kTrainBatch <= order.size() ? first + kTrainBatch : 0;
  }
  set_rates(state, kTrainBatch, 3.0 * double(NetT::flops));
}

// Registered from bench/nets.hpp's list, so that every benchmarked network gets the same cases.
// Wall-clock rates: CPU time is misaccounted on a shared virtual machine, and training's CPU
// time would count only the calling thread.
const bool registered = [] {
  bench::for_each_net([]<class NetT>(const char* name, bool trained) {
    benchmark::RegisterBenchmark((std::string("predict_batch1/") + name).c_str(),
                                 predict_batch1<NetT>)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
    if (trained)
      benchmark::RegisterBenchmark((std::string("train_on_batch128/") + name).c_str(),
                                   train_on_batch128<NetT>)
          ->ArgName("threads")
          ->Arg(1)
          ->Arg(2)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
  });
  return true;
}();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("simd_target", kernels::simd_target_name());
  benchmark::AddCustomContext("data", bench_data().source);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
