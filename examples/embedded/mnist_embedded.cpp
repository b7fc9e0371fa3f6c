// MNIST's test set classified by a net compiled into the program: MnistCnn.hpp and
// MnistCnn_parameters.cpp, written at build time by `typenet export-cpp --embed-weights` from a
// Keras file. It links the core typenet library alone: no HDF5, zip, zlib or image libraries.
//
//   mnist_embedded IMAGES LABELS [--predictions FILE]
//
// IMAGES, LABELS: uncompressed IDX files (t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte).
// Prints the lines of typenet's print_evaluation but the loss; --predictions FILE writes the
// predicted class of each image, one per line.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "MnistCnn.hpp"
#include "idx_file.hpp"

namespace {

struct TestSet {
  std::vector<float> images;  // count x 784, pixel / 255 as Keras tutorials (and typenet) scale
  std::vector<std::uint8_t> labels;
};

TestSet read_test_set(const std::string& images_path, const std::string& labels_path) {
  const IdxFile images = read_idx(images_path, 3);
  const IdxFile labels = read_idx(labels_path, 1);
  if (images.dimensions[1] * images.dimensions[2] != MnistCnn::input_size)
    throw std::runtime_error(images_path + ": images of " + std::to_string(images.dimensions[1]) +
                             " x " + std::to_string(images.dimensions[2]) +
                             " pixels, the net takes " + std::to_string(MnistCnn::input_size));
  if (labels.dimensions[0] != images.dimensions[0])
    throw std::runtime_error(labels_path + ": " + std::to_string(labels.dimensions[0]) +
                             " labels for " + std::to_string(images.dimensions[0]) + " images");
  TestSet set{std::vector<float>(images.values.size()), labels.values};
  std::transform(images.values.begin(), images.values.end(), set.images.begin(),
                 [](std::uint8_t pixel) { return float(pixel) / 255.0f; });
  return set;
}

int run(int argc, char** argv) {
  if (!(argc == 3 || (argc == 5 && std::string(argv[3]) == "--predictions"))) {
    std::fprintf(stderr, "usage: %s IMAGES LABELS [--predictions FILE]\n", argv[0]);
    return 2;
  }
  const TestSet test = read_test_set(argv[1], argv[2]);
  const std::size_t count = test.labels.size();
  std::vector<float> outputs(count * MnistCnn::output_size);
  MnistCnn_net.predict(test.images, outputs);

  std::vector<std::size_t> predicted(count);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const float* row = &outputs[i * MnistCnn::output_size];
    predicted[i] = std::size_t(std::max_element(row, row + MnistCnn::output_size) - row);
    correct += predicted[i] == test.labels[i];
  }
  if (argc == 5) {
    std::ofstream out(argv[4]);
    for (const std::size_t k : predicted) out << k << '\n';
    if (!out.flush()) throw std::runtime_error(std::string(argv[4]) + ": cannot write");
  }
  const double accuracy = count == 0 ? 0.0 : double(correct) / double(count);
  std::printf("Test accuracy: %.4f\n", accuracy);
  std::printf("Correctly classified: %zu, incorrectly classified: %zu\n", correct, count - correct);
  std::printf("test_accuracy=%.4f correct=%zu incorrect=%zu\n", accuracy, correct, count - correct);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "mnist_embedded: %s\n", error.what());
    return 1;
  }
}
