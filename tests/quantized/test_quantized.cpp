// Quantized nets (quantized.hpp): quantization round trips, outputs against the float net's
// (derived bounds for one and two GEMM layers, stated tolerances for deeper nets), layers
// without an 8-bit kernel, teams and batches bit-exact with one thread, no allocation in
// predict, the summary, the accuracy of the two Keras CNNs of ../shared/keras on the whole MNIST
// test set, and quantized nets' model files.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <new>
#include <numeric>
#include <optional>
#include <random>
#include <vector>

#include "typenet/data/mnist.hpp"
#include "typenet/io/atomic_write.hpp"
#include "typenet/io/model_file.hpp"
#include "typenet/io/keras.hpp"
#include "typenet/kernels/int8.hpp"
#include "typenet/quantized.hpp"
#include "typenet/typenet.hpp"
#include "../golden/nets.hpp"

// Counts global operator new, for "predict allocates nothing".
namespace {
std::atomic<std::size_t> allocations{0};
}  // namespace
void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  ++allocations;
  const auto alignment = std::size_t(align);
  if (void* p = std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment))
    return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) { return operator new(size, align); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace typenet;
namespace fs = std::filesystem;

namespace {

// Images whose values are on the grid k / 255 in [0, 1], as MNIST's: their codes are exact.
std::vector<float> grid_images(std::size_t floats, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> images(floats);
  for (float& v : images) v = float(rng.below(256)) / 255.0f;
  return images;
}

// Random parameters in [-scale, scale], for nets whose default initialisation leaves biases or
// normalisations trivial.
template <class NetT>
void randomize(NetT& net, std::uint64_t seed, float scale) {
  Rng rng(seed);
  for (float& p : net.parameters()) p = rng.uniform(-scale, scale);
}

// The symmetric weight scale of column j of a k x n kernel: max |w| / 127.
float weight_scale(const float* kernel, std::size_t k, std::size_t n, std::size_t j) {
  float largest = 0;
  for (std::size_t p = 0; p < k; ++p) largest = std::max(largest, std::abs(kernel[p * n + j]));
  return largest > 0 ? largest / 127.0f : 1.0f;
}

template <class NetT>
std::vector<float> float_outputs(NetT& net, std::span<const float> images) {
  std::vector<float> outputs(images.size() / NetT::input_size * NetT::output_size);
  net.predict(images, outputs);
  return outputs;
}
template <class NetT>
std::vector<float> int8_outputs(Quantized<NetT>& q, std::span<const float> images) {
  std::vector<float> outputs(images.size() / NetT::input_size * NetT::output_size);
  q.predict(images, outputs);
  return outputs;
}

float max_difference(std::span<const float> a, std::span<const float> b) {
  REQUIRE(a.size() == b.size());
  float worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

std::optional<MnistData> mnist() {
  try {
    return load_mnist();
  } catch (const std::exception& error) {
    MESSAGE("skipped: MNIST not loaded (" << error.what() << ")");
    return std::nullopt;
  }
}

std::optional<fs::path> shared_keras() {
  const char* shared = std::getenv("TYPENET_SHARED");
  if (!shared || !fs::is_directory(fs::path(shared) / "keras")) {
    MESSAGE("skipped: TYPENET_SHARED/keras is absent");
    return std::nullopt;
  }
  return fs::path(shared) / "keras";
}

}  // namespace

TEST_CASE("quantization of a range: 0 exact, MNIST pixels exact, round trips within half a step") {
  SUBCASE("[0, 1]: the pixels k / 255 are the codes k, and back within a rounding") {
    const Quantization q = quantization_of_range(0.0f, 1.0f);
    CHECK(q.zero_point == 0.0f);
    CHECK(q.inverse_scale == 255.0f);
    CHECK(q.scale == doctest::Approx(1.0 / 255.0));
    std::vector<float> pixels(256), back(256);
    for (std::size_t k = 0; k < 256; ++k) pixels[k] = float(k) / 255.0f;
    std::vector<std::uint8_t> codes(256);
    kernels::quantize_u8(pixels.data(), 256, q.inverse_scale, q.zero_point, codes.data());
    kernels::dequantize_u8(codes.data(), 256, q.scale, q.zero_point, back.data());
    for (std::size_t k = 0; k < 256; ++k) {
      CHECK(codes[k] == k);
      CHECK(std::abs(back[k] - pixels[k]) <= 1e-7f);
    }
  }
  SUBCASE("ranges are widened to hold 0, which has an integer code") {
    const Quantization positive = quantization_of_range(2.0f, 5.1f);
    CHECK(positive.zero_point == 0.0f);
    CHECK(positive.scale == doctest::Approx(5.1 / 255));
    const Quantization negative = quantization_of_range(-3.0f, -1.0f);
    CHECK(negative.zero_point == 255.0f);
    const Quantization mixed = quantization_of_range(-1.0f, 3.0f);
    CHECK(mixed.zero_point == 64.0f);  // 255 / 4 = 63.75, rounded
    float zero = 0.0f, back = 1.0f;
    std::uint8_t code = 0;
    kernels::quantize_u8(&zero, 1, mixed.inverse_scale, mixed.zero_point, &code);
    kernels::dequantize_u8(&code, 1, mixed.scale, mixed.zero_point, &back);
    CHECK(code == 64);
    CHECK(back == 0.0f);
  }
  SUBCASE("an empty range gets scale 1 and zero point 0") {
    CHECK(quantization_of_range(0.0f, 0.0f) == Quantization{});
    CHECK(quantization_of_range(NAN, 1.0f) == Quantization{});
  }
  SUBCASE("values inside the range come back within half a step; outside, clamped") {
    const Quantization q = quantization_of_range(-0.7f, 2.3f);
    Rng rng(3);
    std::vector<float> values(1000), back(1000);
    for (float& v : values) v = rng.uniform(-0.7f, 2.3f);
    values[0] = -0.7f;
    values[1] = 2.3f;
    std::vector<std::uint8_t> codes(values.size());
    kernels::quantize_u8(values.data(), values.size(), q.inverse_scale, q.zero_point, codes.data());
    kernels::dequantize_u8(codes.data(), codes.size(), q.scale, q.zero_point, back.data());
    // The zero point's rounding shifts the grid by up to half a step at the ends.
    for (std::size_t i = 0; i < values.size(); ++i)
      CHECK(std::abs(back[i] - values[i]) <= q.scale * 0.5f * 1.0001f + 1e-6f);
    float outside[2] = {-5.0f, 9.0f};
    std::uint8_t clamped[2];
    kernels::quantize_u8(outside, 2, q.inverse_scale, q.zero_point, clamped);
    CHECK(clamped[0] == 0);
    CHECK(clamped[1] == 255);
  }
}

// One GEMM layer on exact input codes: its only error is the weights' rounding, at most half a
// step s_w[j] each, so |y_int8[j] - y[j]| <= s_w[j] / 2 * sum over the inputs it reads of |x|
// (plus float rounding, far below).
TEST_CASE("one Dense layer: within s_w / 2 * ||x||_1 of the float output") {
  using OneDense = Net<Input<40>, Dense<24>>;
  auto net = std::make_unique<OneDense>(5);
  randomize(*net, 6, 0.5f);
  const std::vector<float> images = grid_images(16 * 40, 7);
  auto q = quantize(*net, images);
  const std::vector<float> expected = float_outputs(*net, images), got = int8_outputs(q, images);
  const float* kernel = net->parameters().data();
  for (std::size_t i = 0; i < 16; ++i) {
    float l1 = 0;
    for (std::size_t p = 0; p < 40; ++p) l1 += std::abs(images[i * 40 + p]);
    for (std::size_t j = 0; j < 24; ++j) {
      const float bound = weight_scale(kernel, 40, 24, j) / 2 * l1 + 1e-5f;
      CHECK(std::abs(got[i * 24 + j] - expected[i * 24 + j]) <= bound);
    }
  }
}

TEST_CASE("one Conv layer with Same padding and stride 2: within s_w / 2 * ||patch||_1") {
  using OneConv = Net<Input<9, 8, 3>, Conv<5, 3, Same, Stride<2>>>;
  using L = OneConv::layer<0>;
  auto net = std::make_unique<OneConv>(5);
  randomize(*net, 8, 0.5f);
  const std::vector<float> images = grid_images(6 * OneConv::input_size, 9);
  auto q = quantize(*net, images);
  const std::vector<float> expected = float_outputs(*net, images), got = int8_outputs(q, images);
  const float* kernel = net->parameters().data();
  for (std::size_t i = 0; i < 6; ++i)
    for (std::size_t oy = 0; oy < L::out_height; ++oy)
      for (std::size_t ox = 0; ox < L::out_width; ++ox) {
        float l1 = 0;  // the patch's inputs (padding is 0)
        for (std::size_t ky = 0; ky < 3; ++ky)
          for (std::size_t kx = 0; kx < 3; ++kx) {
            const auto y = std::ptrdiff_t(oy * 2 + ky) - std::ptrdiff_t(L::pad_top);
            const auto x = std::ptrdiff_t(ox * 2 + kx) - std::ptrdiff_t(L::pad_left);
            if (y < 0 || x < 0 || y >= 9 || x >= 8) continue;
            for (std::size_t c = 0; c < 3; ++c)
              l1 += images[i * OneConv::input_size + (std::size_t(y) * 8 + std::size_t(x)) * 3 + c];
          }
        for (std::size_t j = 0; j < 5; ++j) {
          const std::size_t o = i * OneConv::output_size + (oy * L::out_width + ox) * 5 + j;
          const float bound = weight_scale(kernel, L::patch, 5, j) / 2 * l1 + 1e-5f;
          CHECK(std::abs(got[o] - expected[o]) <= bound);
        }
      }
}

// Two layers: the hidden layer's error e_j <= s_w1[j] / 2 * ||x||_1, plus half a step s_h of its
// requantization (ReLU and the clamp to the calibrated range only shrink errors: the float
// values lie in that range). The head then adds sum_j |w2[j, k]| * that, and its own weights'
// rounding s_w2[k] / 2 * sum_j |h_j| with |h_j| at most the float value plus its error.
TEST_CASE("two Dense layers: within the propagated bound") {
  using TwoDense = Net<Input<40>, Dense<24, Relu>, Dense<6>>;
  auto net = std::make_unique<TwoDense>(5);
  randomize(*net, 10, 0.4f);
  const std::vector<float> images = grid_images(16 * 40, 11);
  auto q = quantize(*net, images);
  const std::vector<float> expected = float_outputs(*net, images), got = int8_outputs(q, images);
  const float s_h = q.quantizations()[1].scale;
  const float* w1 = net->parameters().data();
  const float* b1 = w1 + 40 * 24;
  const float* w2 = b1 + 24;
  for (std::size_t i = 0; i < 16; ++i) {
    const float* x = images.data() + i * 40;
    float l1 = 0;
    for (std::size_t p = 0; p < 40; ++p) l1 += std::abs(x[p]);
    std::vector<float> hidden(24), hidden_error(24);
    for (std::size_t j = 0; j < 24; ++j) {
      float sum = b1[j];
      for (std::size_t p = 0; p < 40; ++p) sum += x[p] * w1[p * 24 + j];
      hidden[j] = std::max(sum, 0.0f);
      hidden_error[j] = weight_scale(w1, 40, 24, j) / 2 * l1 + s_h / 2;
    }
    for (std::size_t k = 0; k < 6; ++k) {
      float bound = 1e-5f, hidden_l1 = 0;
      for (std::size_t j = 0; j < 24; ++j) {
        bound += std::abs(w2[j * 6 + k]) * hidden_error[j];
        hidden_l1 += hidden[j] + hidden_error[j];
      }
      bound += weight_scale(w2, 24, 6, k) / 2 * hidden_l1;
      CHECK(std::abs(got[i * 6 + k] - expected[i * 6 + k]) <= bound);
    }
  }
}

namespace {

// The seed CNN and Keras' MLP (the typenet tool's "cnn" and "mlp").
using SeedCnn = Net<Input<28, 28, 1>, Conv<32, 3, Relu>, Conv<64, 3, Relu>, MaxPool<2>, Dropout<25>,
                    Flatten, Dense<128, Relu>, Dropout<50>, Dense<10, Softmax>>;
using Mlp = Net<Input<784>, Dense<512>, Relu, Dense<512>, Relu, Dense<10>, Softmax>;
// Layers without an 8-bit kernel (BatchNorm, a Tanh head run in float), Same padding, a ReLU
// layer after a linear Conv.
using FallbackCnn =
    Net<Input<12, 12, 2>, Conv<6, 3, Relu, Same>, BatchNorm<>, MaxPool<2>, Conv<8, 3, Same>, Relu,
        Flatten, Dense<16, Tanh>, Dropout<20>, Dense<5, Softmax>>;
using LstmNet = Net<Input<6, 5>, LSTM<8>, Dense<4, Softmax>>;
// MaxPool with Same padding on an odd size (a frame of code 0), GlobalAvgPool's float means
// requantized.
using PoolingCnn =
    Net<Input<9, 9, 2>, Conv<4, 3, Relu, Same>, MaxPool<2, Same>, GlobalAvgPool, Dense<3>>;

// The largest difference between the float net's and the quantized net's outputs over images.
template <class NetT>
float quantization_error(std::span<const float> images, std::uint64_t seed,
                         const QuantizeOptions& options = {}) {
  auto net = std::make_unique<NetT>(seed);
  auto q = quantize(*net, images, options);
  return max_difference(float_outputs(*net, images), int8_outputs(q, images));
}

}  // namespace

// Deeper nets have no simple bound: each requantization adds up to half a step, and the steps
// are a 255th of each tensor's range. For these nets' softmax outputs the differences stay
// below 0.01 (measured: 0.0004 to 0.0024).
TEST_CASE("seed CNN, MLP and nets with float layers: probabilities within 0.01") {
  const std::vector<float> digits = grid_images(6 * 784, 12);
  CHECK(quantization_error<SeedCnn>(digits, 13) < 0.01f);
  CHECK(quantization_error<Mlp>(digits, 14) < 0.01f);
  CHECK(quantization_error<Mlp>(
            digits, 14, {.method = CalibrationMethod::Percentile, .percentile = 99.9}) < 0.01f);
  CHECK(quantization_error<FallbackCnn>(grid_images(8 * FallbackCnn::input_size, 15), 16) < 0.01f);
  CHECK(quantization_error<LstmNet>(grid_images(8 * LstmNet::input_size, 17), 18) < 0.01f);
  // Logits, after three requantizations: within 2% of their range (measured: 0.6%).
  auto pooling = std::make_unique<PoolingCnn>(19);
  randomize(*pooling, 20, 0.5f);
  const std::vector<float> images = grid_images(8 * PoolingCnn::input_size, 21);
  const std::vector<float> expected = float_outputs(*pooling, images);
  auto q = quantize(*pooling, images);
  const auto [low, high] = std::ranges::minmax(expected);
  CHECK(max_difference(expected, int8_outputs(q, images)) < 0.02f * (high - low));
}

TEST_CASE("summary: each layer's 8-bit path") {
  const std::string cnn = Quantized<SeedCnn>::summary_string();
  CHECK(cnn.find("conv2d (Conv2D)             (None, 26, 26, 32)   int8\n") != std::string::npos);
  CHECK(cnn.find("flatten (Flatten)           (None, 9216)         int8 (passes codes on)\n") !=
        std::string::npos);
  CHECK(cnn.find("dense_1 (Dense)             (None, 10)           int8 in, float out, softmax "
                 "in float\n") != std::string::npos);
  CHECK(cnn.find("Int8 weights: ") != std::string::npos);
  using Q = Quantized<FallbackCnn>;
  CHECK(Q::path_of(0) == "int8 in, float out, relu in float");
  CHECK(Q::path_of(1) == "float (no 8-bit kernel: dequantized in, requantized out)");
  CHECK(Q::path_of(2) == "int8");
  CHECK(Q::path_of(3) == "int8");
  CHECK(Q::path_of(4) == "int8");
  CHECK(Q::path_of(5) == "int8 (passes codes on)");
  CHECK(Q::path_of(6) == "int8 in, float out, tanh in float, requantized");
  CHECK(Q::path_of(8) == "int8 in, float out, softmax in float");
  CHECK(Quantized<LstmNet>::path_of(0) == "float (no 8-bit kernel: requantized out)");
  CHECK(Quantized<PoolingCnn>::path_of(1) == "int8");
  CHECK(Quantized<PoolingCnn>::path_of(2) == "int8 in, float out, requantized");
  CHECK(Quantized<Mlp>::path_of(4) == "int8 in, float out");
  CHECK(Quantized<Mlp>::path_of(5) == "float (no 8-bit kernel: dequantized in)");
  CHECK_THROWS_AS(Q::path_of(9), std::out_of_range);
  // The Dense<512> before a Relu layer gets the ReLU's range: ReLU fused, zero point 0.
  auto mlp = std::make_unique<Mlp>(3);
  auto q = quantize(*mlp, grid_images(4 * 784, 4));
  CHECK(q.quantizations()[1] == q.quantizations()[2]);
  CHECK(q.quantizations()[1].zero_point == 0.0f);
}

TEST_CASE("a team's and a batch's predictions are one thread's, bit for bit") {
  auto net = std::make_unique<SeedCnn>(21);
  const std::vector<float> images = grid_images(5 * 784, 22);
  auto q = quantize(*net, images);
  static_assert(SeedCnn::layer<0>::int8::team_split && SeedCnn::layer<1>::int8::team_split &&
                SeedCnn::layer<5>::int8::team_split);
  std::vector<float> one_by_one;
  for (std::size_t i = 0; i < 5; ++i) {
    const auto output = q.predict(std::span(images).subspan(i * 784, 784));
    one_by_one.insert(one_by_one.end(), output.begin(), output.end());
  }
  CHECK(int8_outputs(q, images) == one_by_one);
  for (std::size_t threads : {2, 3}) {
    CAPTURE(threads);
    ThreadPool pool(threads);
    for (std::size_t i = 0; i < 5; ++i) {
      const auto output = q.predict(std::span(images).subspan(i * 784, 784), pool);
      CHECK(std::equal(output.begin(), output.end(), one_by_one.begin() + i * 10));
    }
    std::vector<float> batch(50);
    q.predict(images, batch, pool);
    CHECK(batch == one_by_one);
  }
}

TEST_CASE("a team runs the layers without an 8-bit kernel on one member: still bit-exact") {
  auto net = std::make_unique<FallbackCnn>(28);
  const std::vector<float> images = grid_images(3 * FallbackCnn::input_size, 29);
  auto q = quantize(*net, images);
  ThreadPool pool(2);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto image =
        std::span(images).subspan(i * FallbackCnn::input_size, FallbackCnn::input_size);
    CHECK(q.predict(image, pool) == q.predict(image));
  }
}

TEST_CASE("batches of several chunks, by one thread and by a pool") {
  static_assert(Quantized<Mlp>::chunk > 1);
  auto net = std::make_unique<Mlp>(23);
  constexpr std::size_t count = 2 * Quantized<Mlp>::chunk + 3;
  const std::vector<float> images = grid_images(count * 784, 24);
  auto q = quantize(*net, std::span(images).first(20 * 784));
  std::vector<float> one_by_one;
  for (std::size_t i = 0; i < count; ++i) {
    const auto output = q.predict(std::span(images).subspan(i * 784, 784));
    one_by_one.insert(one_by_one.end(), output.begin(), output.end());
  }
  CHECK(int8_outputs(q, images) == one_by_one);
  ThreadPool pool(3);
  std::vector<float> batch(count * 10);
  q.predict(images, batch, pool);
  CHECK(batch == one_by_one);
  Quantized<Mlp> copy = q, moved = std::move(q);
  copy = moved;
  CHECK(int8_outputs(copy, images) == one_by_one);
}

TEST_CASE("predict allocates nothing: one image, a team, a batch, a pool's batch") {
  auto net = std::make_unique<SeedCnn>(25);
  const std::vector<float> images = grid_images(4 * 784, 26);
  auto q = quantize(*net, images);
  auto mlp_net = std::make_unique<Mlp>(27);
  auto mlp = quantize(*mlp_net, images);
  std::vector<float> outputs(40);
  ThreadPool pool(2);
  const std::span<const float> image = std::span(images).first(784);
  // Warm-up: lazy dispatch, the pool's threads.
  q.predict(image, pool);
  q.predict(images, outputs, pool);
  const std::size_t before = allocations;
  CHECK(q.predict(image)[0] >= 0.0f);
  CHECK(q.predict(image, pool)[0] >= 0.0f);
  q.predict(images, outputs);
  q.predict(images, outputs, pool);
  mlp.predict(images, outputs, pool);
  CHECK(mlp.predict(image)[0] >= 0.0f);
  CHECK(allocations - before == 0);
}

TEST_CASE("bad input is refused with a clear error") {
  auto net = std::make_unique<Mlp>(1);
  const std::vector<float> images = grid_images(2 * 784, 2);
  CHECK_THROWS_WITH_AS(quantize(*net, std::span(images).first(700)),
                       doctest::Contains("quantize (calibration images) expects a multiple of 784"),
                       std::invalid_argument);
  CHECK_THROWS_AS(
      quantize(*net, images, {.method = CalibrationMethod::Percentile, .percentile = 20}),
      std::invalid_argument);
  auto q = quantize(*net, images);
  std::vector<float> outputs(15);
  CHECK_THROWS_AS(q.predict(std::span(images).first(783)), std::invalid_argument);
  CHECK_THROWS_AS(q.predict(images, outputs), std::invalid_argument);
}

namespace {

// Accuracy of float and int8 predictions of a Keras CNN on the whole MNIST test set, calibrated
// on the first 500 training images.
template <class NetT>
void check_keras_accuracy(const fs::path& file, std::size_t float_correct) {
  const auto data = mnist();
  if (!data) return;
  auto net = std::make_unique<NetT>();
  load_keras(*net, file);
  auto q = quantize(*net, std::span(data->train.images).first(500 * 784));
  const std::vector<float>& images = data->test.images;
  std::vector<float> expected(10000 * 10), got(10000 * 10);
  ThreadPool pool(2);
  net->predict(images, expected);
  q.predict(images, got, pool);
  auto correct = [&](const std::vector<float>& outputs) {
    std::size_t right = 0;
    for (std::size_t i = 0; i < 10000; ++i) {
      const float* row = outputs.data() + i * 10;
      right += std::size_t(std::max_element(row, row + 10) - row) == data->test.labels[i];
    }
    return right;
  };
  const std::size_t float_right = correct(expected), int8_right = correct(got);
  MESSAGE(file.filename().string()
          << ": float " << float_right << ", int8 " << int8_right << " of 10000 correct");
  CHECK(float_right == float_correct);
  // Within 0.1 points: 10 images of 10,000.
  CHECK(std::abs(double(int8_right) - double(float_right)) <= 10);
}

}  // namespace

TEST_CASE("the Keras CNNs of ../shared/keras: int8 within 0.1 points of float on 10,000 images") {
  const auto keras = shared_keras();
  if (!keras) return;
  check_keras_accuracy<golden::Keras224Cnn>(*keras / "keras224_mnist_cnn.h5", 9902);
  check_keras_accuracy<golden::Keras3Cnn>(*keras / "keras3_mnist_cnn.keras", 9918);
}

namespace {

// A scratch folder, removed at the end of the test.
struct TempDir {
  fs::path path = fs::temp_directory_path() /
                  ("typenet_quantized_test_" + std::to_string(std::random_device{}()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

ModelFileError load_error(const std::function<void()>& load) {
  try {
    load();
  } catch (const ModelFileError& error) {
    return error;
  }
  FAIL("the load should have failed");
  throw std::logic_error("unreachable");
}

bool contains(const ModelFileError& error, const std::string& words) {
  return std::string(error.what()).find(words) != std::string::npos;
}

}  // namespace

TEST_CASE("a quantized net's file: round trip bit for bit, 4x smaller, clear errors") {
  TempDir dir;
  auto net = std::make_unique<SeedCnn>(31);
  const std::vector<float> images = grid_images(3 * 784, 32);
  auto q = quantize(*net, images);
  save(*net, dir.path / "float.tnet");
  save(q, dir.path / "int8.tnet");
  const auto float_bytes = fs::file_size(dir.path / "float.tnet");
  const auto int8_bytes = fs::file_size(dir.path / "int8.tnet");
  CHECK(double(float_bytes) / double(int8_bytes) > 3.9);
  // Files keep the weights without the packing's padding: Dense<10>'s 16 columns are 10 there.
  static_assert(Quantized<SeedCnn>::stored_weight_bytes ==
                9 * 32 + 288 * 64 + 9216 * 128 + 128 * 10);
  auto narrow_head = std::make_unique<golden::Keras3Cnn>(35);
  save(*narrow_head, dir.path / "keras3.tnet");
  save(quantize(*narrow_head, images), dir.path / "keras3.int8.tnet");
  CHECK(double(fs::file_size(dir.path / "keras3.tnet")) /
            double(fs::file_size(dir.path / "keras3.int8.tnet")) >
        3.8);
  CHECK(io::parameters_file_size(SeedCnn::layer_infos, net->parameters()) == float_bytes);

  auto loaded = load_quantized<SeedCnn>(dir.path / "int8.tnet");
  CHECK(std::ranges::equal(loaded.int8_weights(), q.int8_weights()));
  CHECK(std::ranges::equal(loaded.quantizations(), q.quantizations()));
  CHECK(int8_outputs(loaded, images) == int8_outputs(q, images));

  const io::ModelFile file = io::read_model_file(dir.path / "int8.tnet");
  CHECK(file.kind == io::FileKind::Quantized);
  CHECK(io::net_type(file, "int8.tnet") == cpp_type(SeedCnn::layer_infos));
  // Float files keep format version 1: typenet before quantized nets reads them.
  CHECK(io::read_whole_file(dir.path / "float.tnet")[8] == std::byte{1});
  CHECK(io::read_whole_file(dir.path / "int8.tnet")[8] == std::byte{2});

  SUBCASE("a float loader meets a quantized file, and the reverse") {
    const ModelFileError float_load = load_error([&] { load(*net, dir.path / "int8.tnet"); });
    CHECK(float_load.problem() == ModelFileProblem::WrongKind);
    CHECK(contains(float_load, "expected a parameters file, found a quantized net (load it with "
                               "load_quantized)"));
    const ModelFileError int8_load =
        load_error([&] { load_quantized<SeedCnn>(dir.path / "float.tnet"); });
    CHECK(int8_load.problem() == ModelFileProblem::WrongKind);
    CHECK(contains(int8_load, "expected a quantized net, found a parameters file (a float net: "
                              "quantize it with quantize() or `typenet quantize`)"));
  }
  SUBCASE("another architecture") {
    const ModelFileError error = load_error([&] { load_quantized<Mlp>(dir.path / "int8.tnet"); });
    CHECK(error.problem() == ModelFileProblem::ArchitectureMismatch);
  }
  SUBCASE("a file whose layers ran another way") {
    io::ModelFile changed = file;
    for (io::Section& section : changed.sections)
      if (section.name == "int8/paths")
        section.value = std::string("int8 int8 int8 pass pass "
                                    "int8 pass float");
    io::write_model_file(dir.path / "int8.tnet", changed);
    const ModelFileError error =
        load_error([&] { load_quantized<SeedCnn>(dir.path / "int8.tnet"); });
    CHECK(error.problem() == ModelFileProblem::SectionMismatch);
    CHECK(contains(error, "this build runs them as 'int8 int8 int8 pass pass int8 pass int8': "
                          "quantize the float net again"));
  }
  SUBCASE("a quantization that cannot be used") {
    io::ModelFile changed = file;
    for (io::Section& section : changed.sections)
      if (section.name == "int8/quantization")
        std::get<std::vector<float>>(section.value)[5] = 0.5f;
    io::write_model_file(dir.path / "int8.tnet", changed);
    const ModelFileError error =
        load_error([&] { load_quantized<SeedCnn>(dir.path / "int8.tnet"); });
    CHECK(error.problem() == ModelFileProblem::Malformed);
    CHECK(contains(error, "holds tensor 1's quantization with a scale that is not positive or a "
                          "zero point that is not an integer in [0, 255]"));
  }
  SUBCASE("a net with float layers keeps their parameters") {
    auto fallback = std::make_unique<FallbackCnn>(33);
    const std::vector<float> small = grid_images(3 * FallbackCnn::input_size, 34);
    auto qf = quantize(*fallback, small);
    CHECK(Quantized<FallbackCnn>::float_param_count == 4 * 6);  // the BatchNorm's
    save(qf, dir.path / "fallback.tnet");
    auto back = load_quantized<FallbackCnn>(dir.path / "fallback.tnet");
    CHECK(int8_outputs(back, small) == int8_outputs(qf, small));
  }
}
