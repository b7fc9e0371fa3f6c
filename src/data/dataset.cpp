#include "typenet/data/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

#include "typenet/data/data_error.hpp"

namespace typenet {
namespace {

// The values of sample `index` in a per-sample array of `per_sample` values; out_of_range when
// the array is shorter, so that a Dataset whose fields disagree can not be read past its end.
template <typename T>
std::span<const T> sample(const std::vector<T>& values, std::size_t index, std::size_t per_sample,
                          const char* what) {
  if (index >= values.size() / std::max<std::size_t>(per_sample, 1)) {
    throw std::out_of_range(std::string("Dataset::") + what + ": index " + std::to_string(index) +
                            " is past the end (" +
                            std::to_string(values.size() / std::max<std::size_t>(per_sample, 1)) +
                            " samples)");
  }
  return std::span<const T>(values).subspan(index * per_sample, per_sample);
}

// A uniform draw from [0, bound), without modulo bias: draws below 2^64 mod bound are rejected,
// so every remainder is equally likely.
std::uint64_t uniform_below(std::mt19937_64& engine, std::uint64_t bound) {
  const std::uint64_t rejected_below = (0 - bound) % bound;
  for (;;) {
    const std::uint64_t draw = engine();
    if (draw >= rejected_below) return draw % bound;
  }
}

}  // namespace

std::span<const float> Dataset::image(std::size_t index) const {
  return sample(images, index, image_size(), "image");
}

std::span<const std::uint8_t> Dataset::image_pixels(std::size_t index) const {
  return sample(pixels, index, image_size(), "image_pixels");
}

void Dataset::validate() const {
  std::size_t per_image = 0;
  std::size_t values = 0;
  if (__builtin_mul_overflow(rows, cols, &per_image) ||
      __builtin_mul_overflow(count, per_image, &values)) {
    throw DataError("Dataset: impossible shape: expected count x rows x cols to fit in memory, "
                    "found " +
                    std::to_string(count) + " x " + std::to_string(rows) + " x " +
                    std::to_string(cols));
  }
  auto mismatch = [&](const char* field, std::size_t expected, std::size_t found) {
    return DataError("Dataset: inconsistent sizes: expected " + std::string(field) +
                     ".size() == " + std::to_string(expected) + " for " + std::to_string(count) +
                     " samples of " + std::to_string(rows) + "x" + std::to_string(cols) +
                     ", found " + std::to_string(found));
  };
  if (images.size() != values) throw mismatch("images", values, images.size());
  if (!pixels.empty() && pixels.size() != values) throw mismatch("pixels", values, pixels.size());
  if (labels.size() != count) throw mismatch("labels", count, labels.size());
}

Dataset gather(const Dataset& dataset, std::span<const std::size_t> indices) {
  dataset.validate();
  Dataset result;
  result.count = indices.size();
  result.rows = dataset.rows;
  result.cols = dataset.cols;
  const std::size_t size = dataset.image_size();
  result.images.reserve(indices.size() * size);
  result.pixels.reserve(dataset.pixels.empty() ? 0 : indices.size() * size);
  result.labels.reserve(indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const std::size_t index = indices[i];
    if (index >= dataset.count) {
      throw DataError("gather: index " + std::to_string(index) + " at position " +
                      std::to_string(i) + " is out of range: expected < " +
                      std::to_string(dataset.count) + " (the number of samples)");
    }
    const auto image = dataset.image(index);
    result.images.insert(result.images.end(), image.begin(), image.end());
    if (!dataset.pixels.empty()) {
      const auto pixels = dataset.image_pixels(index);
      result.pixels.insert(result.pixels.end(), pixels.begin(), pixels.end());
    }
    result.labels.push_back(dataset.labels[index]);
  }
  return result;
}

Dataset slice(const Dataset& dataset, std::size_t begin, std::size_t end) {
  dataset.validate();
  if (begin > end || end > dataset.count) {
    throw DataError("slice: range [" + std::to_string(begin) + ", " + std::to_string(end) +
                    ") is invalid: expected begin <= end <= " + std::to_string(dataset.count) +
                    " (the number of samples)");
  }
  const std::size_t size = dataset.image_size();
  Dataset result;
  result.count = end - begin;
  result.rows = dataset.rows;
  result.cols = dataset.cols;
  result.images.assign(dataset.images.begin() + begin * size, dataset.images.begin() + end * size);
  if (!dataset.pixels.empty()) {
    result.pixels.assign(dataset.pixels.begin() + begin * size,
                         dataset.pixels.begin() + end * size);
  }
  result.labels.assign(dataset.labels.begin() + begin, dataset.labels.begin() + end);
  return result;
}

Dataset take(const Dataset& dataset, std::size_t n) {
  return slice(dataset, 0, std::min(n, dataset.count));
}

std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  // Fisher-Yates with a fully specified engine (mt19937_64) and our own uniform draw.
  std::mt19937_64 engine(seed);
  for (std::size_t i = n; i > 1; --i) {
    std::swap(order[i - 1], order[uniform_below(engine, i)]);
  }
  return order;
}

Dataset shuffle(const Dataset& dataset, std::uint64_t seed) {
  return gather(dataset, permutation(dataset.count, seed));
}

TrainValidation validation_split(const Dataset& dataset, double fraction) {
  if (!(fraction > 0.0 && fraction < 1.0)) {
    throw DataError("validation_split: expected a fraction strictly between 0 and 1, found " +
                    std::to_string(fraction));
  }
  // Keras: split_at = floor(count * (1 - validation_split)); the rest, at the end, validates.
  const auto split_at =
      static_cast<std::size_t>(std::floor(static_cast<double>(dataset.count) * (1.0 - fraction)));
  if (split_at == 0 || split_at >= dataset.count) {
    throw DataError("validation_split: " + std::to_string(dataset.count) +
                    " samples can not be split with fraction " + std::to_string(fraction) +
                    ": expected both parts non-empty, found " + std::to_string(split_at) +
                    " training and " + std::to_string(dataset.count - split_at) +
                    " validation samples");
  }
  return {slice(dataset, 0, split_at), slice(dataset, split_at, dataset.count)};
}

}  // namespace typenet
