// Regenerates the example pictures in docs/ from real MNIST:
//   make_doc_pictures MNIST_DIR OUT_DIR [PHOTO]
// MNIST_DIR holds the four IDX .gz files. The curves, predictions and confusion matrix come from
// a softmax regression (784 -> 10) trained here for a few epochs, which is enough for real
// pictures without depending on the network code; the feature maps are those of eight fixed
// 3 x 3 edge filters + ReLU, standing in for a first convolution. PHOTO (optional) is a user's
// picture of a digit, shown with the regression's prediction.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "typenet/train/history.hpp"
#include "typenet/vis/vis.hpp"

namespace fs = std::filesystem;
using namespace typenet::vis;

namespace {

constexpr std::size_t kPixels = 784, kClasses = 10;

// The payload of a gzipped IDX file after its header of `header_bytes`.
std::vector<std::uint8_t> read_idx_gz(const fs::path& path, std::size_t header_bytes) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw std::runtime_error(path.string() + ": cannot open");
  std::vector<std::uint8_t> bytes;
  std::array<std::uint8_t, 1 << 16> buffer;
  int got = 0;
  while ((got = gzread(file, buffer.data(), unsigned(buffer.size()))) > 0) {
    bytes.insert(bytes.end(), buffer.begin(), buffer.begin() + got);
  }
  gzclose(file);
  if (got < 0 || bytes.size() < header_bytes) throw std::runtime_error(path.string() + ": bad IDX");
  return {bytes.begin() + std::ptrdiff_t(header_bytes), bytes.end()};
}

struct Split {
  std::vector<float> images;  // count * 784, in [0, 1]
  std::vector<int> labels;
};

Split load(const fs::path& dir, const std::string& prefix) {
  Split split;
  for (std::uint8_t v : read_idx_gz(dir / (prefix + "-images-idx3-ubyte.gz"), 16)) {
    split.images.push_back(float(v) / 255.0f);
  }
  for (std::uint8_t v : read_idx_gz(dir / (prefix + "-labels-idx1-ubyte.gz"), 8))
    split.labels.push_back(v);
  return split;
}

struct Softmax {
  std::vector<float> weights = std::vector<float>(kPixels * kClasses, 0.0f);
  std::array<float, kClasses> bias{};

  std::array<float, kClasses> probabilities(const float* x) const {
    std::array<float, kClasses> z = bias;
    for (std::size_t i = 0; i < kPixels; ++i) {
      if (x[i] == 0) continue;
      for (std::size_t c = 0; c < kClasses; ++c) z[c] += x[i] * weights[i * kClasses + c];
    }
    const float top = *std::max_element(z.begin(), z.end());
    float sum = 0;
    for (float& v : z) sum += (v = std::exp(v - top));
    for (float& v : z) v /= sum;
    return z;
  }
};

// Mean cross-entropy and accuracy of `model` on images [begin, end).
std::pair<double, double> evaluate(const Softmax& model, const Split& data, std::size_t begin,
                                   std::size_t end) {
  double loss = 0, correct = 0;
  for (std::size_t n = begin; n < end; ++n) {
    const auto p = model.probabilities(&data.images[n * kPixels]);
    loss -= std::log(std::max(p[std::size_t(data.labels[n])], 1e-12f));
    correct += std::max_element(p.begin(), p.end()) - p.begin() == data.labels[n];
  }
  return {loss / double(end - begin), correct / double(end - begin)};
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MNIST_DIR OUT_DIR [PHOTO]\n", argv[0]);
    return 2;
  }
  const fs::path mnist = argv[1], out = argv[2];
  fs::create_directories(out);
  const Split train = load(mnist, "train"), test = load(mnist, "t10k");

  // The tutorials' first look at the data.
  plot_digit_grid(out / "digits.png", std::span(train.images).first(15 * kPixels),
                  label_captions(std::span(train.labels).first(15)), 3, 5);
  std::vector<std::size_t> counts(kClasses, 0);
  for (int label : train.labels) ++counts[std::size_t(label)];
  plot_label_distribution(out / "label_distribution.png", counts,
                          "Label distribution (MNIST training set)");

  // fit(validation_split=0.1): the last 6000 training images validate.
  const std::size_t fit_count = 54000, total = train.labels.size();
  Softmax model;
  typenet::History history;
  std::vector<std::size_t> order(fit_count);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 random(42);
  constexpr float kLearningRate = 0.002f;
  for (int epoch = 0; epoch < 10; ++epoch) {
    std::shuffle(order.begin(), order.end(), random);
    for (std::size_t n : order) {  // plain SGD, one sample at a time
      const float* x = &train.images[n * kPixels];
      auto gradient = model.probabilities(x);
      gradient[std::size_t(train.labels[n])] -= 1;
      for (std::size_t c = 0; c < kClasses; ++c) model.bias[c] -= kLearningRate * gradient[c];
      for (std::size_t i = 0; i < kPixels; ++i) {
        if (x[i] == 0) continue;
        for (std::size_t c = 0; c < kClasses; ++c) {
          model.weights[i * kClasses + c] -= kLearningRate * x[i] * gradient[c];
        }
      }
    }
    const auto [loss, accuracy] = evaluate(model, train, 0, fit_count);
    const auto [val_loss, val_accuracy] = evaluate(model, train, fit_count, total);
    history.record("loss", loss);
    history.record("accuracy", accuracy);
    history.record("val_loss", val_loss);
    history.record("val_accuracy", val_accuracy);
    std::printf("epoch %d: loss %.4f accuracy %.4f val_loss %.4f val_accuracy %.4f\n", epoch + 1,
                loss, accuracy, val_loss, val_accuracy);
  }
  plot_history(out / "history.png", history);

  // Test predictions: a grid, the confusion matrix and the most confident mistakes.
  std::vector<int> predicted(test.labels.size());
  std::vector<float> confidence(test.labels.size());
  std::vector<std::size_t> confusion(kClasses * kClasses, 0);
  for (std::size_t n = 0; n < test.labels.size(); ++n) {
    const auto p = model.probabilities(&test.images[n * kPixels]);
    predicted[n] = int(std::max_element(p.begin(), p.end()) - p.begin());
    confidence[n] = p[std::size_t(predicted[n])];
    ++confusion[std::size_t(test.labels[n]) * kClasses + std::size_t(predicted[n])];
  }
  plot_digit_grid(
      out / "predictions.png", std::span(test.images).first(15 * kPixels),
      prediction_captions(std::span(predicted).first(15), std::span(test.labels).first(15)), 3, 5,
      "Predicted / true");
  plot_confusion_matrix(out / "confusion.png", confusion);
  std::vector<std::size_t> mistakes;
  for (std::size_t n = 0; n < predicted.size(); ++n) {
    if (predicted[n] != test.labels[n]) mistakes.push_back(n);
  }
  std::sort(mistakes.begin(), mistakes.end(),
            [&](std::size_t a, std::size_t b) { return confidence[a] > confidence[b]; });
  mistakes.resize(std::min<std::size_t>(mistakes.size(), 10));
  std::vector<float> mistake_images;
  std::vector<int> mistake_truth, mistake_predicted;
  std::vector<float> mistake_confidence;
  for (std::size_t n : mistakes) {
    mistake_images.insert(mistake_images.end(), test.images.begin() + std::ptrdiff_t(n * kPixels),
                          test.images.begin() + std::ptrdiff_t((n + 1) * kPixels));
    mistake_truth.push_back(test.labels[n]);
    mistake_predicted.push_back(predicted[n]);
    mistake_confidence.push_back(confidence[n]);
  }
  plot_misclassified(out / "misclassified.png", mistake_images, mistake_truth, mistake_predicted,
                     mistake_confidence, mistakes.size());

  // One prediction: the user's photo when given, else the first test image.
  if (argc > 3) {
    const DigitPixels photo = load_digit(argv[3]);
    const auto p = model.probabilities(photo.data());
    plot_prediction(out / "prediction.png", photo, p);
  } else {
    const auto p = model.probabilities(test.images.data());
    plot_prediction(out / "prediction.png", std::span(test.images).first(kPixels), p,
                    test.labels[0]);
  }

  // Feature maps: eight 3 x 3 edge filters (valid padding, ReLU) over 16 test digits, NHWC.
  const std::array<std::array<float, 9>, 4> edges = {{{-1, 0, 1, -2, 0, 2, -1, 0, 1},
                                                      {-1, -2, -1, 0, 0, 0, 1, 2, 1},
                                                      {-2, -1, 0, -1, 0, 1, 0, 1, 2},
                                                      {0, 1, 2, -1, 0, 1, -2, -1, 0}}};
  constexpr std::size_t kSamples = 16, kSide = 26, kFilters = 8;
  std::vector<float> maps(kSamples * kSide * kSide * kFilters);
  for (std::size_t s = 0; s < kSamples; ++s) {
    const float* x = &test.images[s * kPixels];
    for (std::size_t r = 0; r < kSide; ++r) {
      for (std::size_t c = 0; c < kSide; ++c) {
        for (std::size_t f = 0; f < kFilters; ++f) {
          const float sign = f < 4 ? 1.0f : -1.0f;
          float sum = 0;
          for (std::size_t k = 0; k < 9; ++k)
            sum += edges[f % 4][k] * x[(r + k / 3) * 28 + c + k % 3];
          maps[((s * kSide + r) * kSide + c) * kFilters + f] = std::max(0.0f, sign * sum);
        }
      }
    }
  }
  const FeatureMaps feature_maps{maps, kSamples, kSide, kSide, kFilters};
  plot_feature_maps_of_sample(out / "feature_maps_sample.png", feature_maps, 0,
                              "Eight 3x3 edge filters + ReLU on one digit");
  plot_feature_maps_of_channel(out / "feature_maps_channel.png", feature_maps, 0, kSamples,
                               "Filter 0 (vertical edges) on 16 digits");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "make_doc_pictures: %s\n", e.what());
  return 1;
}
