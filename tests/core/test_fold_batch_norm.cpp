// FoldBatchNorm: which BatchNorms fold (the type), and that the folded net predicts what the
// original does.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string_view>
#include <type_traits>
#include <vector>

#include <typenet/typenet.hpp>

using namespace typenet;

namespace {

// Every placement: after a linear Conv (folds), after an activation (stays), two in a row after a
// linear Conv (both fold: the second follows the Conv once the first is folded), inside a
// Residual's branch (stays), after a linear Dense (folds), after a Dense with an activation
// (stays).
using Branch = Residual<Main<Conv<5, 3, Same>, BatchNorm<>, Relu>>;
using Mixed = Net<Input<8, 8, 2>, Conv<4, 3, Same>, BatchNorm<>, Relu, BatchNorm<>,
                  Conv<5, 3, Same>, BatchNorm<>, BatchNorm<Epsilon<1, 100000>>, Relu, Branch,
                  Flatten, Dense<6>, BatchNorm<>, Relu, Dense<5, Tanh>, BatchNorm<>, Dense<3>>;
using MixedFolded = Net<Input<8, 8, 2>, Conv<4, 3, Same>, Relu, BatchNorm<>, Conv<5, 3, Same>, Relu,
                        Branch, Flatten, Dense<6>, Relu, Dense<5, Tanh>, BatchNorm<>, Dense<3>>;
static_assert(std::is_same_v<FoldBatchNorm<Mixed>, MixedFolded>);
// Four folded BatchNorms of 4, 5, 5 and 6 channels: gamma, beta, mean and variance each.
static_assert(Mixed::param_count - MixedFolded::param_count == 4 * (4 + 5 + 5 + 6));

// Nothing to fold: the type itself.
using Unfoldable = Net<Input<6>, BatchNorm<>, Dense<4, Relu>, BatchNorm<>, Dense<2>>;
static_assert(std::is_same_v<FoldBatchNorm<Unfoldable>, Unfoldable>);
// An explicit Linear is Linear.
static_assert(std::is_same_v<FoldBatchNorm<Net<Input<6>, Dense<4, Linear>, BatchNorm<>>>,
                             Net<Input<6>, Dense<4, Linear>>>);

// Random kernels (the Net's seed) and random, far from trivial statistics in every top-level
// BatchNorm.
template <class NetT>
std::unique_ptr<NetT> net_with_statistics(std::uint64_t seed) {
  auto net = std::make_unique<NetT>(seed);
  Rng rng(seed + 1);
  for (const LayerInfo& layer : NetT::layer_infos) {
    if (layer.type != "BatchNorm") continue;
    const std::size_t channels = layer.param_count / 4;
    float* params = net->parameters().data() + layer.param_offset;
    for (std::size_t c = 0; c < channels; ++c) {
      params[c] = rng.uniform(0.5f, 2.0f);                  // gamma
      params[channels + c] = rng.uniform(-1.0f, 1.0f);      // beta
      params[2 * channels + c] = rng.uniform(-1.0f, 1.0f);  // moving mean
      params[3 * channels + c] = rng.uniform(0.1f, 3.0f);   // moving variance
    }
  }
  return net;
}

// The largest difference between the two nets' outputs over `images` random inputs, relative to
// the largest output of the original.
template <class NetT, class FoldedT>
double relative_difference(NetT& net, FoldedT& folded, std::size_t images) {
  Rng rng(5);
  std::vector<float> inputs(images * NetT::input_size);
  for (float& v : inputs) v = rng.uniform(-1.0f, 1.0f);
  std::vector<float> expected(images * NetT::output_size), actual(expected.size());
  net.predict(inputs, expected);
  folded.predict(inputs, actual);
  double difference = 0, largest = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    difference = std::max(difference, double(std::abs(actual[i] - expected[i])));
    largest = std::max(largest, double(std::abs(expected[i])));
  }
  REQUIRE(largest > 0);
  return difference / largest;
}

}  // namespace

TEST_CASE("fold_batch_norm: the folded net predicts what the original does") {
  const auto net = net_with_statistics<Mixed>(11);
  const auto folded = fold_batch_norm(*net);
  static_assert(std::is_same_v<decltype(folded), const std::unique_ptr<MixedFolded>>);
  auto original = std::make_unique<Mixed>(*net);
  // Float rounding of the folded kernels against that of the BatchNorm's separate pass.
  CHECK(relative_difference(*original, *folded, 16) < 1e-5);
}

TEST_CASE("fold_batch_norm: folded parameters, and the other layers' unchanged") {
  using Small = Net<Input<3>, Dense<2>, BatchNorm<>, Relu, Dense<2>>;
  auto net = std::make_unique<Small>(3);
  // Kernel (3, 2), bias 2; gamma, beta, mean, variance of 2 channels.
  const std::vector<float> params{1,    2,  3,     4,      5, 6,  // kernel
                                  0.5f, -1,                       // bias
                                  2,    3,  0.25f, -0.5f,         // gamma, beta
                                  1,    -2, 3,     15.999f};      // mean, variance
  std::copy(params.begin(), params.end(), net->parameters().begin());
  const auto folded = fold_batch_norm(*net);
  using Folded = Net<Input<3>, Dense<2>, Relu, Dense<2>>;
  static_assert(std::is_same_v<FoldBatchNorm<Small>, Folded>);
  const double epsilon = double(Epsilon<1, 1000>::value);
  const double a0 = 2 / std::sqrt(3 + epsilon), a1 = 3 / std::sqrt(double(15.999f) + epsilon);
  const auto p = folded->parameters();
  CHECK(p[0] == float(1 * a0));
  CHECK(p[1] == float(2 * a1));
  CHECK(p[4] == float(5 * a0));
  CHECK(p[5] == float(6 * a1));
  CHECK(p[6] == float((0.5 - 1) * a0 + 0.25));
  CHECK(p[7] == float((-1 - -2) * a1 - 0.5));
  // The last Dense, copied.
  CHECK(std::equal(p.begin() + 8, p.end(), net->parameters().begin() + 16));
}
