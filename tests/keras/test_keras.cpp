// Keras import and export against real Keras files: the two MNIST models of ../shared/keras
// (parity with Keras' own predictions on the 10000 test images), the golden fixtures of
// tests/golden (made by tests/golden/gen/make_fixtures.py with Keras 3 and tf_keras), mismatch
// and damaged-file errors, and the export round trip.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "typenet/data/mnist.hpp"
#include "typenet/io/keras.hpp"
#include "typenet/typenet.hpp"
#include "../golden/nets.hpp"
#include "keras_outputs.hpp"

using namespace typenet;
namespace fs = std::filesystem;

namespace {

using namespace typenet::golden;
using namespace typenet::keras_test;

// Nets hold their parameters and buffers inline: keep them off the stack.
template <class NetT>
std::unique_ptr<NetT> make_net(std::uint64_t seed = 7) {
  return std::make_unique<NetT>(seed);
}

// Loads `file` (in tests/golden) into a fresh NetT and compares with Keras' outputs.
template <class NetT>
void check_golden(const std::string& name, const std::string& file,
                  const KerasOptions& options = {}) {
  CAPTURE(file);
  auto net = make_net<NetT>();
  load_keras(*net, golden_dir / file, options);
  CHECK(max_difference(*net, read_expected(name)) < 1e-5f);
}

template <class NetT>
KerasError load_error(const fs::path& path, const KerasOptions& options = {}) {
  auto net = make_net<NetT>();
  const std::vector<float> before(net->parameters().begin(), net->parameters().end());
  try {
    load_keras(*net, path, options);
  } catch (const KerasError& error) {
    // Strong guarantee: a failed load leaves the parameters as they were.
    CHECK(std::ranges::equal(before, net->parameters()));
    return error;
  }
  FAIL("loading " << path << " should have failed");
  throw std::logic_error("unreachable");
}

bool contains(const KerasError& error, const std::string& words) {
  return std::string(error.what()).find(words) != std::string::npos;
}

// A scratch folder, removed at the end of the test.
struct TempDir {
  fs::path path = fs::temp_directory_path() /
                  ("typenet_keras_test_" + std::to_string(std::random_device{}()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

}  // namespace

TEST_CASE("Keras 2.2.4 HDF5 MNIST CNN: 9902 of 10000 and Keras' probabilities") {
  const auto shared = shared_dir();
  if (!shared) {
    MESSAGE("skipped: TYPENET_SHARED/keras is absent");
    return;
  }
  auto net = make_net<Keras224Cnn>();
  load_keras(*net, *shared / "keras" / "keras224_mnist_cnn.h5");
  const Parity parity =
      mnist_parity(*net, *shared, *shared / "keras" / "keras224_mnist_cnn.test_pred.txt");
  MESSAGE("keras224_mnist_cnn.h5: " << parity.correct
                                    << "/10000 correct, max |p - p_keras| = " << parity.worst);
  CHECK(parity.correct == 9902);
  CHECK(parity.predicted_as_keras == 10000);
  CHECK(parity.worst < 1e-5f);
}

TEST_CASE("Keras 3.1.1 .keras MNIST CNN: 9918 of 10000 and Keras' probabilities") {
  const auto shared = shared_dir();
  if (!shared) {
    MESSAGE("skipped: TYPENET_SHARED/keras is absent");
    return;
  }
  auto net = make_net<Keras3Cnn>();
  load_keras(*net, *shared / "keras" / "keras3_mnist_cnn.keras");
  const Parity parity =
      mnist_parity(*net, *shared, *shared / "keras" / "keras3_mnist_cnn.test_pred.txt");
  MESSAGE("keras3_mnist_cnn.keras: " << parity.correct
                                     << "/10000 correct, max |p - p_keras| = " << parity.worst);
  CHECK(parity.correct == 9918);
  CHECK(parity.predicted_as_keras == 10000);
  CHECK(parity.worst < 1e-5f);
}

TEST_CASE("golden fixtures: Keras 3 .keras, tf_keras .h5 and weights-only files") {
  check_golden<ConvSameStride2>("conv_same_stride2", "conv_same_stride2.keras");
  check_golden<ConvSameStride2>("conv_same_stride2", "conv_same_stride2.h5");
  check_golden<ConvSameStride2>("conv_same_stride2", "conv_same_stride2_weights.h5");
  check_golden<ConvSameStride2>("conv_same_stride2", "conv_same_stride2_split_weights.h5");
  check_golden<ConvValidGap>("conv_valid_gap", "conv_valid_gap.keras");
  check_golden<ConvValidGap>("conv_valid_gap", "conv_valid_gap.h5");
  check_golden<ConvValidGap>("conv_valid_gap", "conv_valid_gap.keras3.h5");
  check_golden<ConvEvenNoBias>("conv_even_no_bias", "conv_even_no_bias.keras");
  check_golden<ConvEvenNoBias>("conv_even_no_bias", "conv_even_no_bias.h5");
  check_golden<DenseOnly>("dense_only", "dense_only.keras");
  check_golden<DenseOnly>("dense_only", "dense_only.h5");
  // An input whose batch size is fixed (batch_input_shape [3, 6, 6, 1]).
  check_golden<Net<Input<6, 6, 1>, Conv<2, 3, Relu>, Flatten, Dense<3, Softmax>>>("fixed_batch",
                                                                                  "fixed_batch.h5");
  // A Sequential model used as a layer of a functional one: its layers in its place (Keras 2
  // keeps their weights in the nested model's group, Keras 3 under its layers/).
  using Nested = Net<Input<4>, Dense<6, Relu>, Dense<5, Tanh>, Dense<3, Softmax>>;
  check_golden<Nested>("nested_sequential", "nested_sequential.h5");
  check_golden<Nested>("nested_sequential", "nested_sequential.keras");
}

TEST_CASE("the container is told by the file's first bytes, not by its name") {
  TempDir temp;
  // A Keras 2 HDF5 model named .keras, a Keras 2 weights file named as Keras 3 names its own.
  fs::copy_file(golden_dir / "conv_same_stride2.h5", temp.path / "model.keras");
  fs::copy_file(golden_dir / "conv_same_stride2_weights.h5", temp.path / "model.weights.h5");
  const Expected expected = read_expected("conv_same_stride2");
  for (const char* name : {"model.keras", "model.weights.h5"}) {
    CAPTURE(name);
    auto net = make_net<ConvSameStride2>();
    load_keras(*net, temp.path / name);
    CHECK(max_difference(*net, expected) < 1e-5f);
  }
}

TEST_CASE("BatchNormalization: moving statistics, center/scale False, epsilon, refusals") {
  check_golden<BnConv>("bn_conv", "bn_conv.keras");
  check_golden<BnConv>("bn_conv", "bn_conv.h5");
  check_golden<BnOptions>("bn_options", "bn_options.keras");
  check_golden<BnOptions>("bn_options", "bn_options.h5");

  // center = False and scale = False: the absent beta is 0 and the absent gamma 1.
  auto net = make_net<BnOptions>();
  load_keras(*net, golden_dir / "bn_options.h5");
  const auto block = [&](std::size_t layer, std::size_t array) {
    const LayerInfo& info = BnOptions::layer_infos[layer];
    const std::size_t channels = info.param_count / 4;
    return net->parameters().subspan(info.param_offset + array * channels, channels);
  };
  const auto all_equal = [](std::span<const float> values, float value) {
    return std::ranges::all_of(values, [value](float v) { return v == value; });
  };
  CHECK(all_equal(block(2, 1), 0.0f));  // center = False: beta
  CHECK(!all_equal(block(2, 0), 1.0f));
  CHECK(all_equal(block(4, 0), 1.0f));  // scale = False: gamma
  CHECK(!all_equal(block(4, 1), 0.0f));
  CHECK(all_equal(block(6, 0), 1.0f));  // both
  CHECK(all_equal(block(6, 1), 0.0f));

  const KerasError epsilon =
      load_error<Net<Input<10>, Dense<6>, BatchNorm<>, Dense<5>, BatchNorm<>, Dense<4>, BatchNorm<>,
                     Dense<3>>>(golden_dir / "bn_options.h5");
  CAPTURE(std::string(epsilon.what()));
  CHECK(epsilon.problem() == KerasProblem::ArchitectureMismatch);
  CHECK(contains(epsilon, "layer 4 (batch_normalization_4): expected BatchNormalization with "
                          "epsilon 1/1000, file has 1e-05"));
  const KerasError axis = load_error<Net<Input<4, 3, 2>, BatchNorm<>>>(golden_dir / "bn_axis.h5");
  CHECK(axis.problem() == KerasProblem::Unsupported);
  CHECK(contains(axis, "layer 1 (batch_normalization): BatchNormalization over axis [1] has no "
                       "typenet equivalent: BatchNorm normalizes the channel axis (-1)"));
  const KerasError renorm =
      load_error<Net<Input<4, 3, 2>, BatchNorm<>>>(golden_dir / "bn_renorm.h5");
  CHECK(renorm.problem() == KerasProblem::Unsupported);
  CHECK(contains(renorm, "BatchNormalization with renorm has no typenet equivalent"));
  // The same file is a channels-first model's BatchNorm over its channels (axis 1).
  const KerasOptions channels_first{.channels_first = true};
  auto image_net = make_net<Net<Input<3, 2, 4>, BatchNorm<>>>();
  load_keras(*image_net, golden_dir / "bn_axis.h5", channels_first);
}

TEST_CASE("LSTM: return_sequences, a stacked LSTM, Keras 2's hard_sigmoid, no bias") {
  check_golden<LstmStack>("lstm_stack", "lstm_stack.keras");
  check_golden<LstmStack>("lstm_stack", "lstm_stack.h5");
  check_golden<LstmHardSigmoid>("lstm_hard_sigmoid", "lstm_hard_sigmoid.h5");

  // Model::predict passes chunks of images: the LSTM computes up to 4 sequences at once (9
  // images: groups of 4, 4 and 1).
  auto net = make_net<LstmStack>();
  load_keras(*net, golden_dir / "lstm_stack.h5");
  auto model = compile(*net, Adam{}, SparseCategoricalCrossentropy{},
                       {.threads = 1, .precision = Precision::Float32});
  const Expected expected = read_expected("lstm_stack");
  constexpr std::size_t images = 9;
  std::vector<float> inputs;
  for (std::size_t i = 0; i < images; ++i) {
    const auto sample = expected.inputs.begin() +
                        std::ptrdiff_t(i % expected.samples * expected.input_size);
    inputs.insert(inputs.end(), sample, sample + std::ptrdiff_t(expected.input_size));
  }
  const std::vector<float> outputs = model.predict(inputs);
  float worst = 0;
  for (std::size_t i = 0; i < outputs.size(); ++i)
    worst = std::max(worst, std::abs(outputs[i] - expected.outputs[i % expected.outputs.size()]));
  CHECK(worst < 1e-5f);

  const fs::path file = golden_dir / "lstm_stack.h5";
  const auto mismatch = [&](const KerasError& error, const std::string& words) {
    CAPTURE(error.what());
    CHECK(error.problem() == KerasProblem::ArchitectureMismatch);
    CHECK(contains(error, words));
  };
  mismatch(load_error<Net<Input<12, 7>, LSTM<8, ReturnSequences>, BatchNorm<>,
                          LSTM<6, ReturnSequences>, Flatten, Dense<3>>>(file),
           "layer 3 (lstm_1): expected LSTM with return_sequences true, file has false");
  mismatch(
      load_error<Net<Input<12, 7>, LSTM<8, ReturnSequences>, BatchNorm<>, LSTM<7>, Dense<3>>>(file),
      "layer 3 (lstm_1): expected LSTM with 7 units, file has 6");
  mismatch(load_error<Net<Input<12, 7>, LSTM<8, ReturnSequences, HardSigmoid>, BatchNorm<>, LSTM<6>,
                          Dense<3>>>(file),
           "layer 1 (lstm): expected LSTM with recurrent_activation hard_sigmoid, file has "
           "sigmoid");
  mismatch(
      load_error<Net<Input<12, 6>, LSTM<8, ReturnSequences>, BatchNorm<>, LSTM<6>, Dense<3>>>(file),
      "input: expected shape (12, 6), file has (12, 7)");
}

TEST_CASE("golden fixtures of selu, elu, leaky_relu, gelu, swish, softplus, AvgPool, Rescaling "
          "and Reshape") {
  for (const char* extension : {".keras", ".h5"}) {
    check_golden<LayersCnn>("layers_cnn", std::string("layers_cnn") + extension);
    check_golden<LayersConvAvgPool>("layers_conv_avgpool",
                                    std::string("layers_conv_avgpool") + extension);
    check_golden<LayersActivations>("layers_activations",
                                    std::string("layers_activations") + extension);
  }
  check_golden<LayersKeras3>("layers_keras3", "layers_keras3.keras");
}

TEST_CASE("the new layers' settings are checked: slopes, alphas, scales, shapes, windows") {
  const auto expect = [](const KerasError& error, const std::string& words) {
    const std::string message = error.what();
    CAPTURE(message);
    CHECK(error.problem() == KerasProblem::ArchitectureMismatch);
    CHECK(contains(error, words));
  };
  const fs::path cnn = golden_dir / "layers_cnn.keras";
  expect(load_error<Net<Input<10, 10>, Rescaling<1, 256>, Reshape<10, 10, 1>, Conv<4, 3, Selu>,
                        AvgPool<3, Same, Stride<2>>, Flatten, Dense<8, Gelu>, LeakyRelu<1, 10>,
                        Dense<5, Softmax>>>(cnn),
         "layer 1 (rescaling): expected Rescaling with scale 0.00390625 and offset 0, file has "
         "scale 0.00392156862745098 and offset 0.0");
  expect(load_error<Net<Input<10, 10>, Rescaling<1, 255>, Reshape<100>, Dense<4>>>(cnn),
         "layer 2 (reshape): expected Reshape to 100, file has 10x10x1");
  expect(load_error<Net<Input<10, 10>, Rescaling<1, 255>, Reshape<10, 10, 1>, Conv<4, 3, Elu<>>,
                        AvgPool<3, Same, Stride<2>>, Flatten, Dense<8, Gelu>, LeakyRelu<1, 10>,
                        Dense<5, Softmax>>>(cnn),
         "layer 3 (conv2d): expected Conv2D with activation 'elu' (alpha 1), file has 'selu'");
  expect(load_error<Net<Input<10, 10>, Rescaling<1, 255>, Reshape<10, 10, 1>, Conv<4, 3, Selu>,
                        AvgPool<3, Stride<2>>, Flatten, Dense<8, Gelu>, LeakyRelu<1, 10>,
                        Dense<5, Softmax>>>(cnn),
         "layer 4 (average_pooling2d): expected AveragePooling2D with padding 'valid', file has "
         "'same'");
  expect(load_error<Net<Input<10, 10>, Rescaling<1, 255>, Reshape<10, 10, 1>, Conv<4, 3, Selu>,
                        AvgPool<3, Same, Stride<2>>, Flatten, Dense<8, Gelu>, LeakyRelu<>,
                        Dense<5, Softmax>>>(cnn),
         "layer 7 (leaky_re_lu): expected Activation 'leaky_relu' (slope 0.300000012), file has "
         "'leaky_relu' (slope 0.100000001)");
  expect(
      load_error<Net<Input<7>, Dense<5, LeakyRelu<>>, Dense<4, Silu>, LeakyRelu<>, Dense<3>>>(
          golden_dir / "layers_keras3.keras"),
      "layer 1 (dense_10): expected Dense with activation 'leaky_relu' (slope 0.300000012), file "
      "has 'leaky_relu' (slope 0.200000003)");
  expect(load_error<Net<Input<4, 3>, Flatten, Dense<8>, Selu, Dense<8>, Gelu, Dense<6>, Swish,
                        Reshape<2, 3>, Flatten, Dense<6>, Softplus, Dense<6>, Elu<>, Dense<4>,
                        Elu<1, 2>, Dense<3>>>(golden_dir / "layers_activations.h5"),
         "layer 8 (reshape_1): expected Reshape to 2x3, file has 3x2");
}

TEST_CASE("the export spellings of the new layers (KerasLayerClass) resolve the file's values") {
  // A config as export-cpp shows it: class, settings as JSON text, the input's shape.
  struct FakeConfig final : KerasConfig {
    std::string class_text;
    std::map<std::string, double, std::less<>> numbers;
    std::optional<std::vector<std::int64_t>> target;
    Dims input{};
    [[noreturn]] void mismatch(const std::string& detail) const override {
      throw std::runtime_error("mismatch: " + detail);
    }
    [[noreturn]] void unsupported(const std::string& detail) const override {
      throw std::runtime_error("unsupported: " + detail);
    }
    [[noreturn]] void corrupted(const std::string& detail) const override {
      throw std::runtime_error("corrupted: " + detail);
    }
    std::string_view class_name() const override { return class_text; }
    bool channels_first() const override { return false; }
    std::optional<double> number(std::string_view key) const override {
      const auto it = numbers.find(key);
      return it == numbers.end() ? std::nullopt : std::optional(it->second);
    }
    std::optional<std::string> text(std::string_view) const override { return std::nullopt; }
    std::optional<bool> boolean(std::string_view) const override { return std::nullopt; }
    std::optional<std::size_t> positive(std::string_view) const override { return std::nullopt; }
    std::optional<std::array<std::size_t, 2>> size_pair(std::string_view) const override {
      return std::nullopt;
    }
    std::optional<std::vector<std::int64_t>> integers(std::string_view) const override {
      return target;
    }
    std::optional<Dims> input_dims() const override { return input; }
    std::string json(std::string_view key) const override {
      const auto value = number(key);
      return value ? std::to_string(*value) : "null";
    }
  };
  const auto spell = [](const FakeConfig& config) {
    return keras_layer_class(config.class_text)->cpp_type(config);
  };
  FakeConfig rescaling;
  rescaling.class_text = "Rescaling";
  rescaling.numbers = {{"scale", 0.00392156862745098}, {"offset", 0.0}};
  CHECK(spell(rescaling) == "Rescaling<1, 255>");
  rescaling.numbers = {{"scale", 1 / 127.5}, {"offset", -1.0}};
  CHECK(spell(rescaling) == "Rescaling<2, 255, -1, 1>");
  rescaling.numbers = {{"scale", 1e-30}};
  CHECK_THROWS_WITH(spell(rescaling), doctest::Contains("unsupported: Rescaling with scale"));
  FakeConfig leaky;
  leaky.class_text = "LeakyReLU";
  CHECK(spell(leaky) == "LeakyRelu<3, 10>");  // the default 0.3
  leaky.numbers = {{"alpha", 0.01}};          // Keras 2's name of the slope
  CHECK(spell(leaky) == "LeakyRelu<1, 100>");
  leaky.numbers = {{"negative_slope", -0.5}};
  CHECK_THROWS_WITH(spell(leaky), doctest::Contains("unsupported: LeakyReLU with negative_slope"));
  FakeConfig elu;
  elu.class_text = "ELU";
  elu.numbers = {{"alpha", 0.5}};
  CHECK(spell(elu) == "Elu<1, 2>");
  FakeConfig reshape;
  reshape.class_text = "Reshape";
  reshape.target = std::vector<std::int64_t>{-1, 2};
  reshape.input = Dims{1, {6, 0, 0}};
  CHECK(spell(reshape) == "Reshape<3, 2>");
  reshape.target = std::vector<std::int64_t>{-1, 4};
  CHECK_THROWS_WITH(spell(reshape), doctest::Contains("mismatch: Reshape to"));
  reshape.target = std::vector<std::int64_t>{-1, -1};
  CHECK_THROWS_WITH(spell(reshape), doctest::Contains("corrupted"));
  FakeConfig pool;
  pool.class_text = "AveragePooling2D";
  CHECK(spell(pool) == "AvgPool<2>");
  // float_ratio: the first convergent whose float is the file's float.
  CHECK(float_ratio(0.3)->num == 3);
  CHECK(float_ratio(0.3)->den == 10);
  CHECK(float_ratio(-1.0)->num == -1);
  CHECK(!float_ratio(1e300));
}

TEST_CASE("channels-first models: Flatten order (c, h, w) before Keras 2.1.6, (h, w, c) after") {
  // The layers' data_format says channels_first: no option needed.
  check_golden<ChannelsFirst>("channels_first", "channels_first.h5");
  check_golden<ChannelsFirst>("channels_first", "channels_first_old.h5");
  // The option is for files that do not say; it may repeat what the file says, not contradict it.
  const KerasOptions channels_first{.channels_first = true};
  check_golden<ChannelsFirst>("channels_first", "channels_first.h5", channels_first);
  const KerasError error =
      load_error<ConvSameStride2>(golden_dir / "conv_same_stride2.h5", channels_first);
  CHECK(error.problem() == KerasProblem::ArchitectureMismatch);
  CHECK(contains(error, "layer 1 (conv2d): KerasOptions::channels_first is set but the file's "
                        "layer is channels_last"));
}

TEST_CASE("architecture mismatches are reported layer by layer, in words") {
  const fs::path file = golden_dir / "conv_same_stride2.h5";
  const auto expect = [&](const KerasError& error, const std::string& words) {
    const std::string message = error.what();
    CAPTURE(message);
    CHECK(error.problem() == KerasProblem::ArchitectureMismatch);
    CHECK(contains(error, words));
    CHECK(message.starts_with(golden_dir.string()));
  };
  // Units, activation, kernel size, filters, stride, padding, layer kind, input shape.
  expect(load_error<Net<Input<12, 9, 2>, Conv<6, 3, Relu, Same>, Conv<5, 5, Tanh, Same, Stride<2>>,
                        MaxPool<2>, Flatten, Dense<8, Sigmoid>, Dense<4, Softmax>>>(file),
         "layer 5 (dense): expected Dense with 8 units, file has 7");
  expect(load_error<Net<Input<12, 9, 2>, Conv<6, 3, Relu, Same>, Conv<5, 5, Tanh, Same, Stride<2>>,
                        MaxPool<2>, Flatten, Dense<7, Sigmoid>, Dense<4, Sigmoid>>>(file),
         "layer 6 (dense_1): expected Dense with activation 'sigmoid', file has 'softmax'");
  expect(load_error<Net<Input<12, 9, 2>, Conv<6, 5, Relu, Same>, Conv<5, 5, Tanh, Same, Stride<2>>,
                        MaxPool<2>, Flatten, Dense<7, Sigmoid>, Dense<4, Softmax>>>(file),
         "layer 1 (conv2d): expected Conv2D with kernel size 5x5, file has 3x3");
  expect(load_error<Net<Input<12, 9, 2>, Conv<8, 3, Relu, Same>, Conv<5, 5, Tanh, Same, Stride<2>>,
                        MaxPool<2>, Flatten, Dense<7, Sigmoid>, Dense<4, Softmax>>>(file),
         "layer 1 (conv2d): expected Conv2D with 8 filters, file has 6");
  expect(load_error<Net<Input<12, 9, 2>, Conv<6, 3, Relu, Same>, Conv<5, 5, Tanh, Same>, MaxPool<2>,
                        Flatten, Dense<7, Sigmoid>, Dense<4, Softmax>>>(file),
         "layer 2 (conv2d_1): expected Conv2D with strides 1x1, file has 2x2");
  expect(load_error<Net<Input<12, 9, 2>, Conv<6, 3, Relu>, Conv<5, 5, Tanh, Same, Stride<2>>,
                        MaxPool<2>, Flatten, Dense<7, Sigmoid>, Dense<4, Softmax>>>(file),
         "layer 1 (conv2d): expected Conv2D with padding 'valid', file has 'same'");
  expect(load_error<Net<Input<12, 9, 2>, Conv<6, 3, Relu, Same>, Conv<5, 5, Tanh, Same, Stride<2>>,
                        GlobalAvgPool, Dense<7, Sigmoid>, Dense<4, Softmax>>>(file),
         "layer 3 (max_pooling2d): expected GlobalAveragePooling2D, file has MaxPooling2D");
  expect(load_error<Net<Input<12, 9, 1>, Conv<6, 3, Relu, Same>, Conv<5, 5, Tanh, Same, Stride<2>>,
                        MaxPool<2>, Flatten, Dense<7, Sigmoid>, Dense<4, Softmax>>>(file),
         "input: expected shape (12, 9, 1), file has (12, 9, 2)");
  // Layer count: one missing in the middle, one missing at the end, one too many.
  expect(load_error<Net<Input<12, 9, 2>, Conv<6, 3, Relu, Same>, Conv<5, 5, Tanh, Same, Stride<2>>,
                        Flatten, Dense<7, Sigmoid>, Dense<4, Softmax>>>(file),
         "layer 3 (max_pooling2d): expected Flatten, file has MaxPooling2D (expected 5 layers "
         "after the input, file has 6)");
  expect(load_error<Net<Input<12, 9, 2>, Conv<6, 3, Relu, Same>, Conv<5, 5, Tanh, Same, Stride<2>>,
                        MaxPool<2>, Flatten, Dense<7, Sigmoid>>>(file),
         "expected 5 layers after the input, file has 6: layer 6 (dense_1, Dense) is not in the "
         "Net");
  expect(load_error<Net<Input<12, 9, 2>, Conv<6, 3, Relu, Same>, Conv<5, 5, Tanh, Same, Stride<2>>,
                        MaxPool<2>, Flatten, Dense<7, Sigmoid>, Dense<4, Softmax>, Relu>>(file),
         "expected 7 layers after the input, file has 6: the Net's layer 7 (Activation) is not "
         "in the file");
  // Dropout rates and stand-alone activations are checked too.
  expect(load_error<Net<Input<16, 16, 1>, Conv<8, 5, Relu>, MaxPool<3, Stride<2>>,
                        Conv<6, 3, Stride<2>>, Relu, GlobalAvgPool, Dropout<50>, Dense<3>>>(
             golden_dir / "conv_valid_gap.keras"),
         "layer 6 (dropout): expected Dropout with rate 0.5, file has 0.3");
  expect(load_error<Net<Input<16, 16, 1>, Conv<8, 5, Relu>, MaxPool<3, Stride<2>>,
                        Conv<6, 3, Stride<2>>, Tanh, GlobalAvgPool, Dropout<30>, Dense<3>>>(
             golden_dir / "conv_valid_gap.keras"),
         "layer 4 (activation): expected Activation 'tanh', file has 'relu'");
  expect(load_error<Net<Input<16, 16, 1>, Conv<8, 5, Relu>, MaxPool<2>, Conv<6, 3, Stride<2>>, Relu,
                        GlobalAvgPool, Dropout<30>, Dense<3>>>(golden_dir / "conv_valid_gap.keras"),
         "layer 2 (max_pooling2d_1): expected MaxPooling2D with pool size 2x2, file has 3x3");
}

TEST_CASE("models typenet cannot express are refused with the reason") {
  const KerasError layer =
      load_error<Net<Input<8>, Dense<4>, Dense<2>>>(golden_dir / "unsupported_layer_norm.h5");
  CHECK(layer.problem() == KerasProblem::Unsupported);
  CHECK(contains(layer, "layer 2 (layer_norm): Keras layer class LayerNormalization has no "
                        "typenet equivalent"));
  // A fork that Concatenate joins, in a model with residual blocks.
  const KerasError graph =
      load_error<Net<Input<6>, Dense<4>, Dense<2>>>(golden_dir / "residual_concatenate.h5");
  CHECK(graph.problem() == KerasProblem::Unsupported);
  CHECK(contains(graph, "layer 4 (concat, Concatenate) joins 2 tensors; typenet joins only the "
                        "two branches of a residual block, with Add"));
}

TEST_CASE("residual blocks: Keras functional models with Add, Keras 3 and tf_keras") {
  check_golden<ResidualTiny>("residual_tiny", "residual_tiny.keras");
  check_golden<ResidualTiny>("residual_tiny", "residual_tiny.h5");
  check_golden<ResidualShortcutFirst>("residual_shortcut_first", "residual_shortcut_first.keras");
  check_golden<ResidualShortcutFirst>("residual_shortcut_first", "residual_shortcut_first.h5");

  // Two Dense paths of the same length joined by Add([left, right]): the Add's first input is
  // the main branch. A chain of the same layers is another architecture.
  auto block = make_net<Net<Input<6>, Residual<Main<Dense<4>>, Shortcut<Dense<4>>>, Dense<2>>>();
  load_keras(*block, golden_dir / "branching.h5");
  const KerasError chain =
      load_error<Net<Input<6>, Dense<4>, Dense<4>, Dense<2>>>(golden_dir / "branching.h5");
  CHECK(chain.problem() == KerasProblem::ArchitectureMismatch);
  CHECK(contains(chain, "layer 1 (add): expected Dense, file has Add (a residual block)"));
  const KerasError shortcut =
      load_error<Net<Input<6>, Residual<Main<Dense<4>>, Shortcut<Dense<4, Relu>>>, Dense<2>>>(
          golden_dir / "branching.h5");
  CHECK(contains(shortcut, "layer 1 (add) shortcut layer 1 (right): expected Dense with "
                           "activation 'relu', file has 'linear'"));
}

TEST_CASE("residual blocks: mismatches name the block, the branch and the layer") {
  const fs::path tiny = golden_dir / "residual_tiny.keras";
  const auto expect = [&](const KerasError& error, const std::string& words) {
    const std::string message = error.what();
    CAPTURE(message);
    CHECK(error.problem() == KerasProblem::ArchitectureMismatch);
    CHECK(contains(error, words));
  };
  expect(load_error<Net<Input<8, 8, 2>, Conv<4, 3, Relu, Same>,
                        Residual<Main<Conv<4, 3, Same>, Relu, Conv<4, 3, Same>>>, Relu,
                        Residual<Main<Conv<6, 3, Relu, Same, Stride<2>>, Conv<6, 3, Same>>,
                                 Shortcut<Conv<6, 3, Same, Stride<2>>>>,
                        Relu, GlobalAvgPool, Dense<3, Softmax>>>(tiny),
         "layer 4 (add_1) shortcut layer 1 (conv2d_5): expected Conv2D with kernel size 3x3, file "
         "has 1x1");
  expect(
      load_error<Net<Input<5, 5, 3>,
                     Residual<Main<Conv<3, 3, Relu, Same>, Conv<3, 3, Same>>, Shortcut<Conv<3, 1>>>,
                     Relu, Flatten, Dense<4>>>(golden_dir / "residual_shortcut_first.h5"),
      "layer 1 (add_2): expected a shortcut of 1 layer, file has 0 (the identity)");
  expect(load_error<
             Net<Input<5, 5, 3>, Residual<Main<Conv<3, 3, Relu, Same>>>, Relu, Flatten, Dense<4>>>(
             golden_dir / "residual_shortcut_first.keras"),
         "layer 1 (add_2): expected a main branch of 1 layer, file has 2 (conv2d_6, conv2d_7)");
  expect(load_error<Net<Input<5, 5, 3>, Conv<3, 3, Relu, Same>, Conv<3, 3, Same>, Relu, Flatten,
                        Dense<4>>>(golden_dir / "residual_shortcut_first.keras"),
         "layer 1 (add_2): expected Conv2D, file has Add (a residual block)");
}

TEST_CASE("residual blocks: export-cpp spells a block from its branches' spellings") {
  const std::vector<std::string> main{"Conv<6, 3, Relu, Same, Stride<2>>", "Conv<6, 3, Same>"};
  const std::vector<std::string> projection{"Conv<6, 1, Stride<2>>"};
  CHECK(residual_cpp_type(main, projection) ==
        "Residual<Main<Conv<6, 3, Relu, Same, Stride<2>>, Conv<6, 3, Same>>, "
        "Shortcut<Conv<6, 1, Stride<2>>>>");
  CHECK(residual_cpp_type(main, {}) ==
        "Residual<Main<Conv<6, 3, Relu, Same, Stride<2>>, Conv<6, 3, Same>>>");
}

TEST_CASE("residual blocks: the summary lists every layer as Keras names them, the Add too") {
  const std::string summary = ResidualTiny::summary_string();
  CAPTURE(summary);
  CHECK(summary.starts_with("Model: \"functional\""));
  std::size_t at = 0;
  for (const char* line : {" conv2d (Conv2D)             (None, 8, 8, 4)           76",
                           " conv2d_1 (Conv2D)           (None, 8, 8, 4)           148",
                           " activation (Activation)     (None, 8, 8, 4)           0",
                           " conv2d_2 (Conv2D)           (None, 8, 8, 4)           148",
                           " add (Add)                   (None, 8, 8, 4)           0",
                           " activation_1 (Activation)   (None, 8, 8, 4)           0",
                           " conv2d_3 (Conv2D)           (None, 4, 4, 6)           222",
                           " conv2d_4 (Conv2D)           (None, 4, 4, 6)           330",
                           " conv2d_5 (Conv2D)           (None, 4, 4, 6)           30",
                           " add_1 (Add)                 (None, 4, 4, 6)           0",
                           " activation_2 (Activation)   (None, 4, 4, 6)           0",
                           " dense (Dense)", "Total params: 975"}) {
    CAPTURE(line);
    at = summary.find(line, at);
    CHECK(at != std::string::npos);
  }
}

TEST_CASE("the real Keras 2.2.4 file names its mismatches too") {
  const auto shared = shared_dir();
  if (!shared) {
    MESSAGE("skipped: TYPENET_SHARED/keras is absent");
    return;
  }
  const KerasError error = load_error<
      Net<Input<28, 28, 1>, Conv<16, 5, Relu, Same>, MaxPool<2>, Conv<32, 5, Relu, Same>,
          MaxPool<2>, Dropout<25>, Flatten, Dense<128, Relu>, Dropout<50>, Dense<10, Softmax>>>(
      *shared / "keras" / "keras224_mnist_cnn.h5");
  CHECK(contains(error, "layer 3 (conv2d_2): expected Conv2D with 32 filters, file has 36"));
}

TEST_CASE("weights-only files: the weighted layers' count, order and shapes are checked") {
  const fs::path file = golden_dir / "conv_same_stride2_weights.h5";
  const KerasError count =
      load_error<Net<Input<12, 9, 2>, Conv<6, 3, Relu, Same>, Conv<5, 5, Tanh, Same, Stride<2>>,
                     MaxPool<2>, Flatten, Dense<7, Sigmoid>, Dense<7, Sigmoid>, Dense<4, Softmax>>>(
          file);
  CHECK(count.problem() == KerasProblem::ArchitectureMismatch);
  CHECK(contains(count, "expected 5 layers with weights, file has 4 (conv2d, conv2d_1, dense, "
                        "dense_1)"));
  // Without a config, a different Dense size shows as a weight shape.
  const KerasError shape =
      load_error<Net<Input<12, 9, 2>, Conv<6, 3, Relu, Same>, Conv<5, 5, Tanh, Same, Stride<2>>,
                     MaxPool<2>, Flatten, Dense<8, Sigmoid>, Dense<4, Softmax>>>(file);
  CHECK(shape.problem() == KerasProblem::ShapeMismatch);
  CHECK(contains(shape, "layer 5 (dense) kernel 'dense/kernel:0': expected shape (30, 8), file "
                        "has (30, 7)"));
  // A Keras 3 weights file has no layer order: refused, with the way out.
  const KerasError keras3 =
      load_error<ConvSameStride2>(golden_dir / "conv_same_stride2.weights.h5");
  CHECK(keras3.problem() == KerasProblem::Unsupported);
  CHECK(contains(keras3, "load the .keras file"));
}

TEST_CASE("weights-only files: the layer names, weightless layers too, name the layer classes") {
  // A LeNet-like model with AveragePooling2D (gen/make_loader_fixtures.py): its weighted layers
  // fit a MaxPool Net, its layer_names say otherwise.
  const fs::path file = golden_dir / "lenet_avgpool_weights.h5";
  const KerasError pooling =
      load_error<Net<Input<12, 12, 1>, Conv<2, 3, Relu>, MaxPool<2>, Flatten, Dense<3, Softmax>>>(
          file);
  CHECK(pooling.problem() == KerasProblem::ArchitectureMismatch);
  CHECK(contains(pooling, "layer 2 (average_pooling2d): expected MaxPooling2D, the file's layer "
                          "has the name Keras gives AveragePooling2D layers"));
  // With a later problem too (a Dense of other units), the first layer that fails is named.
  CHECK(contains(
      load_error<Net<Input<12, 12, 1>, Conv<2, 3, Relu>, MaxPool<2>, Flatten, Dense<4, Softmax>>>(
          file),
      "layer 2 (average_pooling2d)"));
  // A missing weightless layer shows at its place.
  CHECK(contains(load_error<Net<Input<12, 12, 1>, Conv<2, 3, Relu>, Flatten, Dense<3, Softmax>>>(
                     golden_dir / "conv_same_stride2_weights.h5"),
                 "layer 2 (conv2d_1): expected Flatten, the file's layer has the name Keras gives "
                 "Conv2D layers"));

  // Custom names say nothing of the class: loaded, with a warning.
  std::ostringstream warnings;
  std::streambuf* const clog = std::clog.rdbuf(warnings.rdbuf());
  auto net = make_net<Net<Input<5>, Dense<4, Relu>, Dense<2>>>();
  load_keras(*net, golden_dir / "custom_names_weights.h5");
  std::clog.rdbuf(clog);
  CHECK(warnings.str().find("the layer names hidden, scores do not say their layer's class") !=
        std::string::npos);
  CHECK(std::ranges::any_of(net->parameters(), [](float p) { return p != 0; }));
}

TEST_CASE("layer records that do not describe the parameter block are the caller's error") {
  std::vector<float> params(DenseOnly::param_count);
  const fs::path file = golden_dir / "dense_only.h5";
  CHECK_THROWS_AS(load_keras_into({}, params, file), std::invalid_argument);
  CHECK_THROWS_AS(load_keras_into(DenseOnly::layer_infos, std::span(params).first(100), file),
                  std::invalid_argument);
  auto layers = DenseOnly::layer_infos;
  layers[1].param_count += 1;
  CHECK_THROWS_AS(load_keras_into(layers, params, file), std::invalid_argument);
  load_keras_into(DenseOnly::layer_infos, params, file);
  CHECK(std::ranges::any_of(params, [](float p) { return p != 0; }));
}

TEST_CASE("missing, damaged and foreign files give clear errors") {
  TempDir temp;
  const auto expect = [](const KerasError& error, KerasProblem problem, const std::string& words) {
    const std::string message = error.what();
    CAPTURE(message);
    CHECK(error.problem() == problem);
    CHECK(contains(error, words));
  };
  expect(load_error<DenseOnly>(temp.path / "absent.h5"), KerasProblem::CannotOpen, "no such file");
  expect(load_error<DenseOnly>(temp.path), KerasProblem::CannotOpen, "expected a Keras file");

  write_bytes(temp.path / "empty.h5", "");
  expect(load_error<DenseOnly>(temp.path / "empty.h5"), KerasProblem::NotKerasFile, "it is empty");
  write_bytes(temp.path / "text.h5", "<!DOCTYPE html> not a model");
  expect(load_error<DenseOnly>(temp.path / "text.h5"), KerasProblem::NotKerasFile,
         "first bytes: 3c 21 44 4f 43 54 59 50");

  const std::string h5 = read_bytes(golden_dir / "dense_only.h5");
  write_bytes(temp.path / "truncated.h5", h5.substr(0, h5.size() / 2));
  expect(load_error<DenseOnly>(temp.path / "truncated.h5"), KerasProblem::Corrupted, "truncated");

  const std::string keras = read_bytes(golden_dir / "dense_only.keras");
  write_bytes(temp.path / "truncated.keras", keras.substr(0, keras.size() - 100));
  expect(load_error<DenseOnly>(temp.path / "truncated.keras"), KerasProblem::Corrupted,
         "not a readable zip archive");
  // model.weights.h5 is stored uncompressed: flipping a byte of it breaks its CRC-32.
  std::string flipped = keras;
  const std::size_t weights_at = flipped.find("\x89HDF");
  REQUIRE(weights_at != std::string::npos);
  flipped[weights_at + 3000] = char(~flipped[weights_at + 3000]);
  write_bytes(temp.path / "flipped.keras", flipped);
  expect(load_error<DenseOnly>(temp.path / "flipped.keras"), KerasProblem::Corrupted, "CRC");

  const KerasOptions small{.max_bytes = 1000};
  expect(load_error<DenseOnly>(golden_dir / "dense_only.h5", small), KerasProblem::TooLarge,
         "over the limit of 1000");

  // A NaN weight in a well-formed file (saved from a net that holds one) is named and refused.
  auto poisoned = make_net<DenseOnly>();
  poisoned->parameters()[3] = std::numeric_limits<float>::quiet_NaN();
  save_keras_weights(*poisoned, temp.path / "nan.h5");
  expect(load_error<DenseOnly>(temp.path / "nan.h5"), KerasProblem::NonFinite,
         "kernel: element 3 is nan");

  // Every truncation of a weights file fails cleanly (never a crash, never a partial load).
  const std::string weights = read_bytes(golden_dir / "conv_same_stride2_weights.h5");
  for (std::size_t length = 0; length < weights.size(); length += weights.size() / 37 + 1) {
    write_bytes(temp.path / "cut.h5", weights.substr(0, length));
    CAPTURE(length);
    load_error<ConvSameStride2>(temp.path / "cut.h5");
  }
}

TEST_CASE("export: a Keras 2 weights file that loads back to identical parameters and outputs") {
  TempDir temp;
  // TYPENET_KERAS_EXPORT_DIR keeps the exported files, for tests/golden/gen/make_fixtures.py
  // check-export (loads them with Keras' own load_weights).
  const char* keep = std::getenv("TYPENET_KERAS_EXPORT_DIR");
  const auto round_trip = [&]<class NetT>(const std::string& name, NetT*) {
    CAPTURE(name);
    auto original = make_net<NetT>();
    load_keras(*original, golden_dir / (name + ".keras"));
    const fs::path exported = temp.path / (name + ".h5");
    save_keras_weights(*make_net<NetT>(/*seed*/ 5), exported);
    save_keras_weights(*original, exported);  // replaces the first file
    if (keep)
      fs::copy_file(exported, fs::path(keep) / (name + ".h5"),
                    fs::copy_options::overwrite_existing);

    auto reloaded = make_net<NetT>(/*seed*/ 99);
    load_keras(*reloaded, exported);
    CHECK(std::ranges::equal(original->parameters(), reloaded->parameters()));
    const Expected expected = read_expected(name);
    std::vector<float> a(expected.outputs.size()), b(expected.outputs.size());
    original->predict(expected.inputs, a);
    reloaded->predict(expected.inputs, b);
    CHECK(a == b);
  };
  round_trip("conv_same_stride2", static_cast<ConvSameStride2*>(nullptr));
  round_trip("conv_valid_gap", static_cast<ConvValidGap*>(nullptr));
  round_trip("conv_even_no_bias", static_cast<ConvEvenNoBias*>(nullptr));
  round_trip("dense_only", static_cast<DenseOnly*>(nullptr));
  round_trip("bn_conv", static_cast<BnConv*>(nullptr));
  round_trip("bn_options", static_cast<BnOptions*>(nullptr));
  round_trip("lstm_stack", static_cast<LstmStack*>(nullptr));
  round_trip("residual_tiny", static_cast<ResidualTiny*>(nullptr));
  round_trip("layers_cnn", static_cast<LayersCnn*>(nullptr));
  round_trip("layers_conv_avgpool", static_cast<LayersConvAvgPool*>(nullptr));
  round_trip("layers_activations", static_cast<LayersActivations*>(nullptr));
  round_trip("layers_keras3", static_cast<LayersKeras3*>(nullptr));

  auto net = make_net<DenseOnly>();
  try {
    save_keras_weights(*net, temp.path / "no" / "such" / "folder" / "w.h5");
    FAIL("saving into a missing folder should fail");
  } catch (const KerasError& error) {
    CHECK(error.problem() == KerasProblem::CannotOpen);
    CHECK(contains(error, "w.h5"));
  }
}
