// Central finite differences against a Net's backward pass, for the scalar f = sum(out * R)
// with a random R: checks the input gradient and the parameter gradients.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include <typenet/typenet.hpp>

namespace typenet::testing {

struct GradientCheckResult {
  std::size_t checked = 0, failed = 0;
  double worst = 0;
};

// `kinks` allows that many failures, for nets with ReLU or max pooling, whose derivative jumps
// where a perturbation crosses a kink. `winograd`: the passes read the weights packed for
// Winograd's products (ConvAlgorithm::Auto, Float32), packed again at every evaluation.
template <class N>
void check_gradients(std::uint64_t seed, std::size_t kinks = 0, std::size_t images = 3,
                     bool winograd = false) {
  constexpr std::size_t chunk = 4;
  REQUIRE(images <= chunk);
  auto net = std::make_unique<N>(seed);
  auto buffers = std::make_unique<Buffers<N, chunk, true>>();
  Rng rng(seed + 1000);
  std::vector<float> x(images * N::input_size), weights(images * N::output_size);
  for (float& v : x) v = rng.uniform(-1.0f, 1.0f);
  for (float& v : weights) v = rng.uniform(-1.0f, 1.0f);
  // Random non-zero values where initialisation put zeros (biases), so that they are exercised.
  for (float& parameter : net->parameters())
    if (parameter == 0.0f) parameter = rng.uniform(-0.2f, 0.2f);

  Context ctx;
  ctx.training = true;  // dropout active, with a mask fixed by the seed
  ctx.seed = seed;
  std::vector<std::uint32_t> packed(N::packed_weight_words);
  ctx.winograd = winograd;
  if (winograd) ctx.packed_weights = packed.data();
  auto objective = [&] {
    if (winograd)
      N::pack_weights(net->parameters().data(), packed.data(),
                      {.precision = Precision::Float32, .backward = true, .winograd = true});
    const float* out = N::forward(net->parameters().data(), x.data(), images, *buffers, ctx);
    double sum = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) sum += double(out[i]) * weights[i];
    return sum;
  };
  objective();
  std::copy(weights.begin(), weights.end(), buffers->grad_a.begin());
  std::vector<float> dparams(N::param_count, 0.0f), dx(x.size(), 0.0f);
  N::backward({.params = net->parameters().data(),
               .input = x.data(),
               .n = images,
               .dparams = dparams.data(),
               .input_grad = dx.data()},
              *buffers, ctx);
  // The first chunk of a training step assigns the parameter gradients instead of adding to
  // them: the same numbers, whatever was in the buffer (NaN here) before.
  {
    objective();
    std::copy(weights.begin(), weights.end(), buffers->grad_a.begin());
    std::vector<float> assigned(N::param_count, std::numeric_limits<float>::quiet_NaN());
    Context first = ctx;
    first.assign_grads = true;
    N::backward({.params = net->parameters().data(),
                 .input = x.data(),
                 .n = images,
                 .dparams = assigned.data()},
                *buffers, first);
    CHECK(assigned == dparams);
  }

  GradientCheckResult result;
  auto check = [&](float& value, float analytic) {
    const float h = 1e-2f;
    const float saved = value;
    value = saved + h;
    const double plus = objective();
    value = saved - h;
    const double minus = objective();
    value = saved;
    const double numeric = (plus - minus) / (2.0 * h);
    const double error = std::abs(numeric - analytic) / std::max(1.0, std::abs(numeric));
    result.worst = std::max(result.worst, error);
    ++result.checked;
    if (error > 2e-2) {
      ++result.failed;
      MESSAGE("gradient mismatch: numeric " << numeric << " analytic " << analytic);
    }
  };
  Rng pick(seed + 7);
  const std::size_t samples = 60;
  for (std::size_t s = 0; s < std::min(samples, x.size()); ++s) {
    const std::size_t i = x.size() <= samples ? s : pick.below(x.size());
    check(x[i], dx[i]);
  }
  for (std::size_t s = 0; s < std::min(samples * 2, std::size_t(N::param_count)); ++s) {
    const std::size_t i = N::param_count <= samples * 2 ? s : pick.below(N::param_count);
    check(net->parameters()[i], dparams[i]);
  }
  INFO("worst relative error " << result.worst);
  CHECK(result.checked > 0);
  CHECK(result.failed <= kinks);
}

}  // namespace typenet::testing
