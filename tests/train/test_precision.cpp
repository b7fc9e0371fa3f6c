// Mixed bfloat16 (typenet/precision.hpp) in Models: what Auto resolves to, how close a step is to
// float32's, reproducibility, teams, and a CNN that learns MNIST.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include <typenet/data/mnist.hpp>
#include <typenet/typenet.hpp>

#include "blob_images.hpp"

using namespace typenet;

namespace {

using SmallCnn = Net<Input<12, 12, 2>, Conv<8, 3, Relu>, Conv<16, 3, Relu, Stride<2>>, MaxPool<2>,
                     Flatten, Dense<32, Relu>, Dropout<20>, Dense<4, Softmax>>;

using testing::Images;

Images make_images(std::size_t count, std::uint64_t seed) {
  static_assert(SmallCnn::input_size == 12 * 12 * 2);
  return testing::blob_images<12>(count, seed);
}

std::vector<float> trained_weights(const Images& data, Precision precision, std::size_t threads,
                                   std::size_t epochs, std::size_t batch_size = 32) {
  auto net = std::make_unique<SmallCnn>(7);
  auto model = compile(*net, Adam{}, SparseCategoricalCrossentropy{},
                       {.threads = threads, .seed = 3, .precision = precision});
  model.fit({data.x, data.y}, {.batch_size = batch_size, .epochs = epochs, .verbose = 0});
  return {net->parameters().begin(), net->parameters().end()};
}

}  // namespace

TEST_CASE("Auto is mixed bfloat16 exactly where that is faster than float") {
  const Precision expected = kernels::bf16_faster_than_float() ? Precision::MixedBfloat16
                                                               : Precision::Float32;
  CHECK(resolve(Precision::Auto) == expected);
  CHECK(resolve(Precision::Float32) == Precision::Float32);
  CHECK(resolve(Precision::MixedBfloat16) == Precision::MixedBfloat16);
  auto model = compile<SmallCnn>(Adam{}, SparseCategoricalCrossentropy{}, {.threads = 1});
  CHECK(model.precision() == expected);
  for (const Precision precision : {Precision::Auto, Precision::Float32, Precision::MixedBfloat16})
    CHECK(parse_precision(to_string(precision)) == precision);
  CHECK_THROWS_WITH_AS(parse_precision("float16"),
                       doctest::Contains("auto, float32 or mixed_bfloat16"), std::invalid_argument);
}

TEST_CASE("a mixed bfloat16 step moves the weights as float32's does, within bfloat16's error") {
  const Images data = make_images(64, 1);
  std::vector<std::uint32_t> all(64);
  for (std::uint32_t i = 0; i < 64; ++i) all[i] = i;
  auto step = [&](Precision precision) {
    auto net = std::make_unique<SmallCnn>(5);
    const std::vector<float> before(net->parameters().begin(), net->parameters().end());
    auto model = compile(*net, SGD{.learning_rate = 1.0f}, SparseCategoricalCrossentropy{},
                         {.threads = 1, .precision = precision});
    model.train_on_batch({data.x, data.y}, all);
    std::vector<float> change(before.size());
    for (std::size_t i = 0; i < change.size(); ++i) change[i] = net->parameters()[i] - before[i];
    return change;
  };
  const std::vector<float> exact = step(Precision::Float32), mixed = step(Precision::MixedBfloat16);
  // bfloat16 rounds each factor by at most 2^-9 relative, but a gradient is a sum of terms of
  // both signs, often much smaller than the sum of their magnitudes, and the errors compound
  // through the layers: the changes agree to a few percent (a wrong product would be off by
  // about 100 %).
  float largest = 0, worst = 0;
  double squared_error = 0, squared = 0;
  for (std::size_t i = 0; i < exact.size(); ++i) {
    largest = std::max(largest, std::abs(exact[i]));
    worst = std::max(worst, std::abs(mixed[i] - exact[i]));
    squared_error += double(mixed[i] - exact[i]) * (mixed[i] - exact[i]);
    squared += double(exact[i]) * exact[i];
  }
  REQUIRE(largest > 0);
  CHECK(worst <= 0.1f * largest);
  CHECK(std::sqrt(squared_error / squared) < 0.05);
  CHECK(mixed != exact);  // the mixed path really ran (bfloat16 rounding changes some bits)
}

TEST_CASE("mixed bfloat16 training: the same seed and threads give the same bits; it learns") {
  const Images data = make_images(600, 2), test = make_images(200, 3);
  const std::vector<float> once = trained_weights(data, Precision::MixedBfloat16, 2, 2);
  CHECK(trained_weights(data, Precision::MixedBfloat16, 2, 2) == once);
  CHECK(trained_weights(data, Precision::MixedBfloat16, 1, 1) ==
        trained_weights(data, Precision::MixedBfloat16, 1, 1));
  auto net = std::make_unique<SmallCnn>(7);
  std::copy(once.begin(), once.end(), net->parameters().begin());
  auto model = compile(*net, Adam{}, SparseCategoricalCrossentropy{},
                       {.threads = 2, .precision = Precision::MixedBfloat16});
  const Evaluation mixed = model.evaluate({test.x, test.y});
  CHECK(mixed.accuracy > 0.9);
  // evaluate and predict run the same products.
  const std::vector<std::uint8_t> classes = model.predict_classes(test.x);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < test.y.size(); ++i) correct += classes[i] == test.y[i];
  CHECK(correct == mixed.correct);
  auto exact_model = compile(*net, Adam{}, SparseCategoricalCrossentropy{},
                             {.threads = 2, .precision = Precision::Float32});
  const Evaluation exact = exact_model.evaluate({test.x, test.y});
  CHECK(std::abs(exact.loss - mixed.loss) < 0.02 * exact.loss + 1e-3);
}

// Wide Dense layers train in a team (each member its band of outputs): in bfloat16 too, the team's
// bits are one thread's.
TEST_CASE("mixed bfloat16: a team trains wide Dense layers as one thread does") {
  using Wide = Net<Input<256>, Dense<256, Tanh>, Dense<272>, Relu, Dense<3, Softmax>>;
  static_assert(Wide::trains_in_team);
  Rng rng(9);
  std::vector<float> x(300 * 256);
  std::vector<std::uint8_t> y(300);
  for (std::size_t i = 0; i < 300; ++i) {
    y[i] = std::uint8_t(i % 3);
    for (std::size_t j = 0; j < 256; ++j) x[i * 256 + j] = rng.uniform() + float(j % 3 == y[i]);
  }
  auto run = [&](std::size_t threads) {
    auto net = std::make_unique<Wide>(5);
    auto model = compile(*net, Adam{}, SparseCategoricalCrossentropy{},
                         {.threads = threads, .precision = Precision::MixedBfloat16});
    model.fit({x, y}, {.batch_size = 50, .epochs = 2, .verbose = 0});
    return std::vector<float>(net->parameters().begin(), net->parameters().end());
  };
  CHECK(run(2) == run(1));
}

TEST_CASE("the seed CNN learns MNIST in mixed bfloat16") {
  const char* folder = std::getenv("TYPENET_DATA");
  if (!folder || !std::filesystem::is_directory(folder)) {
    MESSAGE("skipped: TYPENET_DATA is not a folder holding MNIST");
    return;
  }
  const MnistData data = load_mnist();
  using SeedCnn = Net<Input<28, 28, 1>, Conv<32, 3, Relu>, Conv<64, 3, Relu>, MaxPool<2>,
                      Dropout<25>, Flatten, Dense<128, Relu>, Dropout<50>, Dense<10, Softmax>>;
  const std::size_t count = 12000;
  auto accuracy = [&](Precision precision) {
    auto model = compile<SeedCnn>(Adam{}, SparseCategoricalCrossentropy{},
                                  {.seed = 1, .precision = precision});
    model.fit({std::span(data.train.images).first(count * 784),
               std::span(data.train.labels).first(count)},
              {.batch_size = 128, .epochs = 1, .verbose = 0});
    return model.evaluate({data.test.images, data.test.labels}).accuracy;
  };
  const double mixed = accuracy(Precision::MixedBfloat16), exact = accuracy(Precision::Float32);
  MESSAGE("seed CNN, 12,000 images, one epoch: mixed bfloat16 " << mixed << ", float32 " << exact);
  CHECK(mixed > 0.93);
  CHECK(std::abs(mixed - exact) < 0.01);
}

TEST_CASE("weights packed once per pass give the bits of products that pack at every call") {
  // The trainer packs a bf16 Net's weights once per step and per prediction (Net::pack_weights,
  // its workers sharing the blocks); the passes that read them match passes whose products
  // pack per call, in outputs and in gradients.
  static_assert(SmallCnn::packed_weight_words > 0);
  constexpr std::size_t n = 5;
  const Images data = make_images(n, 21);
  const SmallCnn net(7);
  const float* params = net.parameters().data();
  std::vector<std::uint32_t> packed(SmallCnn::packed_weight_words, 0xFFFFFFFFu);
  for (std::size_t part = 0; part < 3; ++part)
    SmallCnn::pack_weights(
        params, packed.data(),
        {.precision = Precision::MixedBfloat16, .backward = true, .part = part, .parts = 3});
  const auto pass = [&](const std::uint32_t* packed_weights) {
    auto buffers = std::make_unique<Buffers<SmallCnn, 8, true>>();
    const Context ctx{.training = true,
                      .seed = 5,
                      .assign_grads = true,
                      .precision = Precision::MixedBfloat16,
                      .packed_weights = packed_weights};
    const float* out = SmallCnn::forward(params, data.x.data(), n, *buffers, ctx);
    std::vector<float> result(out, out + n * SmallCnn::output_size);
    for (std::size_t i = 0; i < result.size(); ++i)
      buffers->grad_a[i] = 0.01f * float(i % 7) - 0.03f;
    std::vector<float> gradients(SmallCnn::param_count);
    SmallCnn::backward(
        {.params = params, .input = data.x.data(), .n = n, .dparams = gradients.data()}, *buffers,
        ctx);
    result.insert(result.end(), gradients.begin(), gradients.end());
    return result;
  };
  const std::vector<float> from_packed = pass(packed.data()), per_call = pass(nullptr);
  REQUIRE(from_packed.size() == per_call.size());
  CHECK(std::memcmp(from_packed.data(), per_call.data(), per_call.size() * sizeof(float)) == 0);
  CHECK(std::any_of(per_call.begin() + n * SmallCnn::output_size, per_call.end(),
                    [](float g) { return g != 0.0f; }));
}
