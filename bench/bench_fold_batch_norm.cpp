// Batch-1 predict of a CNN with BatchNormalization after each Conv2D and Dense, as Keras models
// put it, beside its FoldBatchNorm type (the BatchNorms folded into the kernels and biases).
// Both in one run: compare their times.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include <typenet/typenet.hpp>

namespace {

using namespace typenet;

using BnCnn = Net<Input<28, 28, 1>, Conv<32, 3>, BatchNorm<>, Relu, Conv<32, 3>, BatchNorm<>, Relu,
                  MaxPool<2>, Flatten, Dense<128>, BatchNorm<>, Relu, Dense<10, Softmax>>;

// 64 random images, visited in turn.
const std::vector<float>& images() {
  static const std::vector<float> pixels = [] {
    std::vector<float> values(64 * BnCnn::input_size);
    Rng rng(3);
    for (float& v : values) v = rng.uniform();
    return values;
  }();
  return pixels;
}

template <class NetT>
void predict(benchmark::State& state, NetT& net) {
  std::size_t image = 0;
  for (auto _ : state) {
    auto output =
        net.predict(std::span(images()).subspan(image * NetT::input_size, NetT::input_size));
    benchmark::DoNotOptimize(output);
    image = (image + 1) % 64;
  }
  state.SetItemsProcessed(state.iterations());
}

void bn_cnn(benchmark::State& state) {
  auto net = std::make_unique<BnCnn>(1);
  predict(state, *net);
}
void bn_cnn_folded(benchmark::State& state) {
  const auto net = fold_batch_norm(*std::make_unique<BnCnn>(1));
  predict(state, *net);
}

}  // namespace

BENCHMARK(bn_cnn);
BENCHMARK(bn_cnn_folded);
BENCHMARK_MAIN();
