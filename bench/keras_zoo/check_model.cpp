// One model of the Keras zoo (make_zoo.py) through the path a user takes: the header written by
// `typenet export-cpp` (included first, as its contract says), load_keras, predict on the 10,000
// MNIST test images. Prints how many predicted classes agree with Keras' and how many are right.
//   check_model MODEL_FILE KERAS_PREDICTIONS INPUT_SCALE    (MNIST from $TYPENET_DATA)
#include ZOO_HEADER

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include "typenet/data/mnist.hpp"

namespace {

// A test image as the model takes it: pixel / scale, centred in a larger input (LeNet-5's
// 32x32), or the same floats under any shape of 784 values.
std::vector<float> model_input(std::span<const std::uint8_t> pixels, float scale) {
  constexpr std::size_t size = ZooModel::input_size;
  std::vector<float> input(size, 0.0f);
  if (size == pixels.size()) {
    for (std::size_t i = 0; i < size; ++i) input[i] = float(pixels[i]) / scale;
    return input;
  }
  const auto dims = ZooModel::layer_infos[0].out;
  if (dims.rank != 3 || dims.extent[2] != 1 || dims.extent[0] < 28 || dims.extent[1] < 28) {
    std::cerr << "check_model: no way to feed MNIST to an input of " << typenet::to_string(dims)
              << "\n";
    std::exit(2);
  }
  const std::size_t top = (dims.extent[0] - 28) / 2, left = (dims.extent[1] - 28) / 2;
  for (std::size_t y = 0; y < 28; ++y)
    for (std::size_t x = 0; x < 28; ++x)
      input[(y + top) * dims.extent[1] + x + left] = float(pixels[y * 28 + x]) / scale;
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: check_model MODEL_FILE KERAS_PREDICTIONS INPUT_SCALE\n";
    return 2;
  }
  auto net = std::make_unique<ZooModel>();
  typenet::load_keras(*net, argv[1]);
  const float scale = std::strtof(argv[3], nullptr);
  const typenet::Dataset test = typenet::load_mnist({.normalize = false}).test;
  std::ifstream predictions(argv[2]);
  std::size_t agree = 0, typenet_right = 0, keras_right = 0;
  for (std::size_t i = 0; i < test.count; ++i) {
    std::size_t keras_class = 0;
    if (!(predictions >> keras_class)) {
      std::cerr << "check_model: " << argv[2] << " ends before image " << i << "\n";
      return 2;
    }
    const auto output = net->predict(model_input(test.image_pixels(i), scale));
    const auto best = std::size_t(std::max_element(output.begin(), output.end()) - output.begin());
    agree += best == keras_class;
    typenet_right += best == test.labels[i];
    keras_right += keras_class == test.labels[i];
  }
  std::cout << "agree=" << agree << " typenet_correct=" << typenet_right
            << " keras_correct=" << keras_right << "\n";
  return 0;
}
