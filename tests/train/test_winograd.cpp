// Winograd's products for Float32 3x3 convolutions (ConvAlgorithm, typenet/precision.hpp) in
// Nets and Models: which layers take them, passes close to the direct ones (and not the same
// bits: the path is taken), reproducible training that learns, and the switch.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include <typenet/typenet.hpp>

#include "blob_images.hpp"

using namespace typenet;

namespace {

// The second Conv (8 channels, 16 filters, 3x3, stride 1: 16 tiles) takes Winograd's products
// forward and backward; the Same one on 8x8 (4 tiles) forward only; the first (2 channels) none.
constexpr std::size_t kSide = 20;
using WinogradCnn = Net<Input<kSide, kSide, 2>, Conv<8, 3, Relu>, Conv<16, 3, Relu>, MaxPool<2>,
                        Conv<12, 3, Same, Tanh>, Flatten, Dense<4, Softmax>>;
static_assert(!WinogradCnn::layer<0>::winograd);
static_assert(WinogradCnn::layer<1>::winograd_backward);
static_assert(WinogradCnn::layer<3>::winograd && !WinogradCnn::layer<3>::winograd_backward);
static_assert(!Net<Input<12, 12, 8>, Conv<8, 3, Stride<2>>>::layer<0>::winograd);
static_assert(!Net<Input<12, 12, 8>, Conv<8, 5>>::layer<0>::winograd);

using testing::Images;

Images make_images(std::size_t count, std::uint64_t seed) {
  static_assert(WinogradCnn::input_size == kSide * kSide * 2);
  return testing::blob_images<kSide>(count, seed);
}

// Outputs, then parameter gradients, then input gradients of n images in `precision`, the 3x3
// convolutions by Winograd's float products or (packed null) the direct ones.
std::vector<float> passes(const WinogradCnn& net, const Images& data, std::size_t n, bool winograd,
                          Precision precision = Precision::Float32) {
  const float* params = net.parameters().data();
  std::vector<std::uint32_t> packed(WinogradCnn::packed_weight_words);
  WinogradCnn::pack_weights(params, packed.data(),
                            {.precision = precision, .backward = true, .winograd = true});
  auto buffers = std::make_unique<Buffers<WinogradCnn, 8, true>>();
  const Context ctx{.training = true,
                    .assign_grads = true,
                    .precision = precision,
                    .winograd = winograd,
                    .packed_weights = winograd ? packed.data() : nullptr};
  const float* out = WinogradCnn::forward(params, data.x.data(), n, *buffers, ctx);
  std::vector<float> result(out, out + n * WinogradCnn::output_size);
  for (std::size_t i = 0; i < result.size(); ++i) buffers->grad_a[i] = 0.1f * float(i % 7) - 0.3f;
  std::vector<float> gradients(WinogradCnn::param_count), input_gradients(data.x.size());
  WinogradCnn::backward({.params = params,
                         .input = data.x.data(),
                         .n = n,
                         .dparams = gradients.data(),
                         .input_grad = input_gradients.data()},
                        *buffers, ctx);
  result.insert(result.end(), gradients.begin(), gradients.end());
  result.insert(result.end(), input_gradients.begin(), input_gradients.end());
  return result;
}

std::vector<float> trained_weights(const Images& data, ConvAlgorithm convolution,
                                   std::size_t threads) {
  auto net = std::make_unique<WinogradCnn>(7);
  auto model = compile(
      *net, Adam{}, SparseCategoricalCrossentropy{},
      {.threads = threads, .seed = 3, .precision = Precision::Float32, .convolution = convolution});
  model.fit({data.x, data.y}, {.batch_size = 32, .epochs = 2, .verbose = 0});
  return {net->parameters().begin(), net->parameters().end()};
}

// The largest difference between two passes' results, and the largest magnitude of the
// reference's.
std::pair<double, double> largest_difference(const std::vector<float>& got,
                                             const std::vector<float>& reference) {
  REQUIRE(got.size() == reference.size());
  double worst = 0.0, largest = 0.0;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    worst = std::max(worst, double(std::fabs(got[i] - reference[i])));
    largest = std::max(largest, double(std::fabs(reference[i])));
  }
  return {worst, largest};
}

}  // namespace

TEST_CASE("passes by Winograd's products are the direct passes within rounding") {
  constexpr std::size_t n = 5;
  const Images data = make_images(n, 31);
  const WinogradCnn net(9);
  const std::vector<float> winograd = passes(net, data, n, true);
  const std::vector<float> direct = passes(net, data, n, false);
  const auto [worst, largest] = largest_difference(winograd, direct);
  INFO("largest difference " << worst << " of values up to " << largest);
  CHECK(worst <= 1e-5 * largest);
  CHECK(std::memcmp(winograd.data(), direct.data(), direct.size() * sizeof(float)) != 0);
}

TEST_CASE("mixed bfloat16 passes take Winograd's float products where asked (CPUs without AMX)") {
  constexpr std::size_t n = 5;
  const Images data = make_images(n, 34);
  const WinogradCnn net(9);
  const std::vector<float> hybrid = passes(net, data, n, true, Precision::MixedBfloat16);
  const std::vector<float> bf16 = passes(net, data, n, false, Precision::MixedBfloat16);
  const std::vector<float> float32 = passes(net, data, n, true);
  const auto [worst, largest] = largest_difference(hybrid, float32);
  INFO("largest difference from float32 " << worst << " of values up to " << largest);
  CHECK(worst <= 0.02 * largest);  // the Dense layer's and the rest's bfloat16 rounding
  CHECK(std::memcmp(hybrid.data(), bf16.data(), bf16.size() * sizeof(float)) != 0);
  CHECK(std::memcmp(hybrid.data(), float32.data(), float32.size() * sizeof(float)) != 0);
}

TEST_CASE("a Model trains by Winograd's products: it learns, reproducibly, near Direct") {
  const Images train = make_images(512, 32), test = make_images(256, 33);
  const std::vector<float> first = trained_weights(train, ConvAlgorithm::Auto, 2);
  CHECK(trained_weights(train, ConvAlgorithm::Auto, 2) == first);
  const std::vector<float> direct = trained_weights(train, ConvAlgorithm::Direct, 2);
  CHECK(direct != first);
  auto net = std::make_unique<WinogradCnn>(7);
  std::copy(first.begin(), first.end(), net->parameters().begin());
  auto model = compile(*net, Adam{}, SparseCategoricalCrossentropy{},
                       {.threads = 2, .precision = Precision::Float32});
  const auto evaluation = model.evaluate({test.x, test.y});
  MESSAGE("two epochs by Winograd's products: test accuracy " << evaluation.accuracy);
  CHECK(evaluation.accuracy > 0.9);
  // The Model's predictions (Winograd, batched) against Net::predict (direct), image by image.
  std::vector<float> predicted(test.y.size() * WinogradCnn::output_size);
  model.predict(test.x, predicted);
  for (std::size_t i = 0; i < test.y.size(); ++i) {
    const auto one = net->predict(
        std::span(test.x).subspan(i * WinogradCnn::input_size, WinogradCnn::input_size));
    for (std::size_t k = 0; k < WinogradCnn::output_size; ++k)
      REQUIRE(std::fabs(one[k] - predicted[i * WinogradCnn::output_size + k]) < 1e-5f);
  }
}

TEST_CASE("convolution algorithms by name") {
  CHECK(parse_conv_algorithm("auto") == ConvAlgorithm::Auto);
  CHECK(parse_conv_algorithm("direct") == ConvAlgorithm::Direct);
  CHECK(to_string(ConvAlgorithm::Direct) == "direct");
  CHECK_THROWS_WITH_AS(parse_conv_algorithm("fft"),
                       "typenet: unknown convolution algorithm 'fft': auto or direct",
                       std::invalid_argument);
}
