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

using namespace typenet;
namespace fs = std::filesystem;

namespace {

const fs::path golden_dir = TYPENET_GOLDEN_DIR;

// ../shared/keras, or nullopt (the tests that need it skip with a message).
std::optional<fs::path> shared_dir() {
  const char* shared = std::getenv("TYPENET_SHARED");
  if (!shared || !fs::is_directory(fs::path(shared) / "keras")) return std::nullopt;
  return fs::path(shared);
}

using namespace typenet::golden;

// Nets hold their parameters and buffers inline: keep them off the stack.
template <class NetT>
std::unique_ptr<NetT> make_net(std::uint64_t seed = 7) {
  return std::make_unique<NetT>(seed);
}

// A golden fixture's inputs and Keras' outputs (format: tests/golden/gen/make_fixtures.py).
struct Expected {
  std::size_t samples = 0, input_size = 0, output_size = 0;
  std::vector<float> inputs, outputs;
};

Expected read_expected(const std::string& name) {
  std::ifstream in(golden_dir / (name + ".expected.txt"));
  REQUIRE_MESSAGE(in, "missing golden fixture " << name << ".expected.txt");
  Expected expected;
  std::string line, word;
  std::vector<float> numbers;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    if (line.starts_with("input ")) {
      fields >> word;
      expected.input_size = 1;
      for (std::size_t extent; fields >> extent;) expected.input_size *= extent;
    } else if (line.starts_with("output ")) {
      fields >> word >> expected.output_size;
    } else if (line.starts_with("samples ")) {
      fields >> word >> expected.samples;
    } else {
      for (float value; fields >> value;) numbers.push_back(value);
    }
  }
  const std::size_t input_floats = expected.samples * expected.input_size;
  REQUIRE(numbers.size() == input_floats + expected.samples * expected.output_size);
  expected.inputs.assign(numbers.begin(), numbers.begin() + std::ptrdiff_t(input_floats));
  expected.outputs.assign(numbers.begin() + std::ptrdiff_t(input_floats), numbers.end());
  return expected;
}

template <class NetT>
float max_difference(NetT& net, const Expected& expected) {
  REQUIRE(expected.input_size == NetT::input_size);
  REQUIRE(expected.output_size == NetT::output_size);
  std::vector<float> outputs(expected.outputs.size());
  net.predict(expected.inputs, outputs);
  float worst = 0;
  for (std::size_t i = 0; i < outputs.size(); ++i)
    worst = std::max(worst, std::abs(outputs[i] - expected.outputs[i]));
  return worst;
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

// MNIST parity: accuracy and every probability against Keras' predictions on the test set.
struct Parity {
  std::size_t correct = 0, predicted_as_keras = 0;
  float worst = 0;
};

template <class NetT>
Parity mnist_parity(const NetT& loaded, const fs::path& shared, const fs::path& predictions) {
  const fs::path mnist = shared / "data" / "mnist";
  const Dataset test =
      load_idx_dataset(mnist / "t10k-images-idx3-ubyte.gz", mnist / "t10k-labels-idx1-ubyte.gz");
  REQUIRE(test.count == 10000);
  std::ifstream in(predictions);
  REQUIRE_MESSAGE(in, "cannot read " << predictions);
  std::vector<int> keras_class(test.count);
  std::vector<float> keras_probabilities(test.count * 10);
  for (std::size_t i = 0; i < test.count; ++i) {
    in >> keras_class[i];
    for (std::size_t k = 0; k < 10; ++k) in >> keras_probabilities[i * 10 + k];
  }
  REQUIRE(in);

  // Two threads, each with its own copy of the Net (a Net holds its own buffers).
  std::vector<float> outputs(test.count * 10);
  const std::size_t half = test.count / 2;
  auto run = [&](std::size_t begin, std::size_t end) {
    auto net = std::make_unique<NetT>(loaded);
    net->predict(std::span(test.images).subspan(begin * 784, (end - begin) * 784),
                 std::span(outputs).subspan(begin * 10, (end - begin) * 10));
  };
  std::thread second(run, half, test.count);
  run(0, half);
  second.join();

  Parity parity;
  for (std::size_t i = 0; i < test.count; ++i) {
    const auto row = std::span(outputs).subspan(i * 10, 10);
    const auto predicted = std::size_t(std::ranges::max_element(row) - row.begin());
    parity.correct += predicted == test.labels[i];
    parity.predicted_as_keras += int(predicted) == keras_class[i];
    for (std::size_t k = 0; k < 10; ++k)
      parity.worst = std::max(parity.worst, std::abs(row[k] - keras_probabilities[i * 10 + k]));
  }
  return parity;
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
    Dims input_dims() const override { return input; }
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
  const KerasOptions channels_first{.channels_first = true};
  check_golden<ChannelsFirst>("channels_first", "channels_first.h5", channels_first);
  check_golden<ChannelsFirst>("channels_first", "channels_first_old.h5", channels_first);

  const KerasError error = load_error<ChannelsFirst>(golden_dir / "channels_first.h5");
  CHECK(error.problem() == KerasProblem::ArchitectureMismatch);
  CHECK(contains(error, "layer 1 (conv2d"));
  CHECK(contains(error, "load it with KerasOptions{.channels_first = true}"));
  CHECK(contains(load_error<ChannelsFirst>(golden_dir / "conv_same_stride2.h5", channels_first),
                 "layer 1 (conv2d): KerasOptions::channels_first is set but the file's layer is "
                 "channels_last"));
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
      load_error<Net<Input<8>, Dense<4>, Dense<2>>>(golden_dir / "unsupported_batchnorm.h5");
  CHECK(layer.problem() == KerasProblem::Unsupported);
  CHECK(contains(layer, "layer 2 (batch_norm): Keras layer class BatchNormalization has no "
                        "typenet equivalent"));
  const KerasError graph =
      load_error<Net<Input<6>, Dense<4>, Dense<4>, Dense<2>>>(golden_dir / "branching.h5");
  CHECK(graph.problem() == KerasProblem::Unsupported);
  CHECK(contains(graph, "layer 2 (right) does not take the output of 'left' alone; typenet nets "
                        "are a chain of layers"));
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
