// What the Keras tests compare a loaded Net with: Keras' outputs for a golden fixture's inputs
// (tests/golden/<name>.expected.txt) and Keras' predictions on the MNIST test set
// (../shared/keras/*.test_pred.txt). Shared by test_keras and test_exported.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "typenet/data/mnist.hpp"

namespace typenet::keras_test {

namespace fs = std::filesystem;

inline const fs::path golden_dir = TYPENET_GOLDEN_DIR;

// ../shared/keras, or nullopt (the tests that need it skip with a message).
inline std::optional<fs::path> shared_dir() {
  const char* shared = std::getenv("TYPENET_SHARED");
  if (!shared || !fs::is_directory(fs::path(shared) / "keras")) return std::nullopt;
  return fs::path(shared);
}

// A golden fixture's inputs and Keras' outputs (format: tests/golden/gen/make_fixtures.py).
struct Expected {
  std::size_t samples = 0, input_size = 0, output_size = 0;
  std::vector<float> inputs, outputs;
};

inline Expected read_expected(const std::string& name) {
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

}  // namespace typenet::keras_test
