// The whole networks that bench_nets and perf_nets time, and the data they time them on, so
// that both programs (and bench/compare_pytorch's PyTorch twins) measure the same things.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include <typenet/data/mnist.hpp>
#include <typenet/typenet.hpp>

#include "../src/cli/models.hpp"

namespace typenet::bench {

// The typenet tool's built-in architectures (src/cli/models.hpp), under the names the benchmarks
// report.
using SeedCnn = cli::Cnn;           // Keras' MNIST convnet (examples/mnist_cnn.cpp)
using Mlp = cli::Mlp;               // Keras' MNIST multilayer perceptron (examples/mnist_mlp.cpp)
using Conv64Cnn = cli::CnnGap;      // Conv64/128 with the flatten head, logits out (mnist_cnn_gap)
using Keras5x5Cnn = cli::KerasCnn;  // the 5x5 Same CNN of ../shared/keras/keras224_mnist_cnn.h5

// Calls visit.template operator()<NetT>(name, trained) for every benchmarked network; `trained`
// says whether its training speed is measured too (the two tutorial nets PyTorch is compared on).
// They train with loss_for<NetT>(): integer labels, as PyTorch's CrossEntropyLoss takes them.
template <class Visitor>
void for_each_net(Visitor&& visit) {
  visit.template operator()<SeedCnn>("cnn", true);
  visit.template operator()<Mlp>("mlp", true);
  visit.template operator()<Conv64Cnn>("conv64", false);
  visit.template operator()<Keras5x5Cnn>("keras5x5", false);
}

struct BenchData {
  Dataset train;
  Dataset test;
  std::string source;  // "mnist" or why random images stand in for it, on one line
};

// MNIST from $TYPENET_DATA (or the per-user cache) when it loads; otherwise random images and
// labels of the same shapes, so that the timings still mean something without the files.
inline BenchData load_bench_data() {
  try {
    LoadOptions options;
    options.verify_md5 = false;  // the timings do not depend on it; loading gets faster
    MnistData mnist = load_mnist(options);
    return {std::move(mnist.train), std::move(mnist.test), "mnist"};
  } catch (const std::exception& error) {
    auto random_set = [](std::size_t count, std::uint64_t seed) {
      Dataset set;
      set.count = count;
      set.rows = set.cols = 28;
      Rng rng(seed);
      set.images.resize(count * set.image_size());
      for (float& pixel : set.images) pixel = rng.uniform();
      set.labels.resize(count);
      for (std::uint8_t& label : set.labels) label = std::uint8_t(rng.below(10));
      return set;
    };
    std::string why = error.what();
    std::replace(why.begin(), why.end(), '\n', ' ');
    return {random_set(60000, 1), random_set(10000, 2), "random (MNIST not loaded: " + why + ")"};
  }
}

}  // namespace typenet::bench
