// Google Benchmark cases for whole networks (bench/nets.hpp): single-image predict (alone and by a
// team of 2 threads), one train_on_batch step of 128 images on 1 and 2 threads, and every layer
// of the trained nets alone, forward and backward, on a training chunk of 64 images.
// items_per_second counts images; GFLOP/s counts the FLOPs the Net type states at compile time
// (Net::flops, each layer's flops per image forward; about three times that per trained image:
// forward, input gradient, weight gradient); layers also count the bytes they read and write.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <utility>
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

// state.range(0): 1 for Net::predict(image), more for a team of that many threads.
template <class NetT>
void predict_batch1(benchmark::State& state) {
  const Dataset& test = bench_data().test;
  auto net = std::make_unique<NetT>(1);
  const auto team = std::size_t(state.range(0));
  ThreadPool pool(team);
  std::size_t image = 0;
  for (auto _ : state) {
    const auto pixels = std::span(test.images).subspan(image * NetT::input_size, NetT::input_size);
    auto output = team == 1 ? net->predict(pixels) : net->predict(pixels, pool);
    benchmark::DoNotOptimize(output);
    image = (image + 1) % test.count;
  }
  set_rates(state, 1, double(NetT::flops));
}

// One layer of NetT, forward (or forward then backward) over a training chunk of 64 MNIST
// images, on the activations a real forward pass leaves in the buffers.
constexpr std::size_t kChunk = 64;

template <class NetT, std::size_t I, bool Backward>
void layer_pass(benchmark::State& state) {
  using L = typename NetT::template layer<I>;
  using plan = typename NetT::plan;
  auto net = std::make_unique<NetT>(1);
  auto buffers = std::make_unique<Buffers<NetT, kChunk, true>>();
  const float* images = bench_data().train.images.data();
  Context ctx;
  ctx.training = true;
  NetT::forward(net->parameters().data(), images, kChunk, *buffers, ctx);
  std::vector<float> dparams(NetT::param_count);
  std::fill(buffers->grad_a.begin(), buffers->grad_a.end(), 1e-3f);
  const float* params = net->parameters().data() + plan::param_offsets[I];
  if constexpr (I > 0 && plan::trains_reusing_output[I - 1]) {
    // Training left the last image's output alone in those floats: each image gets a copy.
    constexpr std::size_t size = plan::output_sizes[I - 1];
    float* first = buffers->output_of(I - 1);
    for (std::size_t image = 1; image < kChunk; ++image)
      std::copy_n(first, size, first + image * size);
  }
  const float* in = I == 0 ? images : buffers->output_of(I - 1);
  ctx.cache = buffers->cache.data() + kChunk * plan::cache_offsets[I];
  ctx.scratch = buffers->scratch.data();
  ctx.layer_index = I;
  for (auto _ : state) {
    if constexpr (Backward)
      L::backward(params, in, buffers->grad_a.data(), I == 0 ? nullptr : buffers->grad_b.data(),
                  dparams.data() + plan::param_offsets[I], kChunk, ctx);
    else L::forward(params, in, buffers->output_of(I), kChunk, ctx);
    benchmark::ClobberMemory();
  }
  // Backward: the weight gradient and, but for the first layer, the input gradient.
  const double passes = Backward ? (I == 0 ? 1.0 : 2.0) : 1.0;
  set_rates(state, kChunk, passes * double(L::flops));
  const double bytes = 4.0 *
                       (double(kChunk) * double(L::input_shape::size + L::output_shape::size) *
                            (Backward ? 2.0 : 1.0) +
                        double(L::param_count) * (Backward ? 2.0 : 1.0));
  state.counters["GB/s"] =
      benchmark::Counter(double(state.iterations()) * bytes * 1e-9, benchmark::Counter::kIsRate);
}

// The head of a training step over a batch of 128: softmax of the output layer, then the
// cross-entropy loss and its fused gradient (p - t) for each image.
void softmax_cross_entropy(benchmark::State& state) {
  constexpr std::size_t kBatch = 128, kClasses = 10;
  std::vector<float> logits(kBatch * kClasses), probabilities(logits.size()), grad(logits.size());
  Rng rng(3);
  for (float& value : logits) value = rng.uniform(-5.0f, 5.0f);
  std::vector<std::uint8_t> labels(kBatch);
  for (auto& label : labels) label = std::uint8_t(rng.below(kClasses));
  const SparseCategoricalCrossentropy loss{};
  double total = 0;
  for (auto _ : state) {
    probabilities = logits;
    kernels::softmax_forward(probabilities.data(), kBatch, kClasses);
    for (std::size_t i = 0; i < kBatch; ++i)
      total += cross_entropy(loss, probabilities.data() + i * kClasses, labels.data() + i, kClasses,
                             true, 1.0f / kBatch, grad.data() + i * kClasses)
                   .loss;
    benchmark::DoNotOptimize(total);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(kBatch));
  state.counters["GB/s"] =
      benchmark::Counter(double(state.iterations()) * 4.0 * 3.0 * double(logits.size()) * 1e-9,
                         benchmark::Counter::kIsRate);
}

template <class NetT, std::size_t... I>
void register_layers(const char* name, std::index_sequence<I...>) {
  const auto one = [&]<std::size_t Index>(std::integral_constant<std::size_t, Index>) {
    const std::string layer = std::string(name) + "/" + std::to_string(Index + 1) + "_" +
                              std::string(NetT::layer_infos[Index + 1].type);
    benchmark::RegisterBenchmark(("layer_forward/" + layer).c_str(), layer_pass<NetT, Index, false>)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("layer_backward/" + layer).c_str(), layer_pass<NetT, Index, true>)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  };
  (one(std::integral_constant<std::size_t, I>{}), ...);
}

template <class NetT>
void train_on_batch128(benchmark::State& state) {
  const Dataset& train = bench_data().train;
  auto net = std::make_unique<NetT>(1);
  auto model = compile(*net, Adam{}, loss_for<NetT>(), {.threads = std::size_t(state.range(0))});
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
        ->ArgName("threads")
        ->Arg(1)
        ->Arg(2)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
    if (trained) register_layers<NetT>(name, std::make_index_sequence<NetT::layer_count>());
    if (trained)
      benchmark::RegisterBenchmark((std::string("train_on_batch128/") + name).c_str(),
                                   train_on_batch128<NetT>)
          ->ArgName("threads")
          ->Arg(1)
          ->Arg(2)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
  });
  benchmark::RegisterBenchmark("softmax_cross_entropy/128x10", softmax_cross_entropy)
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
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
