// A labelled image data set held in memory, as Keras tutorials hold x_train / y_train, and the
// Keras-style ways to cut it: first N, a slice, a shuffle, the validation split of fit().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace typenet {

struct Dataset {
  // Channels-last images with one channel, flattened: image i is images[i*image_size()...],
  // row by row. Floats in [0, 1] when loaded with normalize (Keras' x / 255.0), else 0..255.
  std::vector<float> images;
  // The same images as the raw bytes of the file (0 = background), for pictures and for saving;
  // empty when a Dataset is built without them.
  std::vector<std::uint8_t> pixels;
  std::vector<std::uint8_t> labels;  // one class index per image
  std::size_t count = 0;
  std::size_t rows = 0;
  std::size_t cols = 0;
  static constexpr std::size_t channels = 1;

  std::size_t image_size() const { return rows * cols * channels; }
  // One image's values; throws std::out_of_range past the end.
  std::span<const float> image(std::size_t index) const;
  std::span<const std::uint8_t> image_pixels(std::size_t index) const;
  // Throws DataError unless the vectors' sizes agree with count, rows and cols.
  void validate() const;
};

// The samples at `indices`, in that order (repeats allowed); an index past the end is a DataError.
Dataset gather(const Dataset& dataset, std::span<const std::size_t> indices);
// Samples [begin, end); DataError unless begin <= end <= count.
Dataset slice(const Dataset& dataset, std::size_t begin, std::size_t end);
// The first min(n, count) samples, as x[:n] in NumPy or Dataset.take(n) in tf.data.
Dataset take(const Dataset& dataset, std::size_t n);

// A permutation of 0..n-1 that depends only on the seed: the same on every compiler and
// standard library (std::shuffle's is not), so runs can be reproduced anywhere.
std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed);
// The samples in the order of permutation(count, seed): images and labels stay together.
Dataset shuffle(const Dataset& dataset, std::uint64_t seed);

struct TrainValidation {
  Dataset train;
  Dataset validation;
};
// As Keras' fit(validation_split=fraction), before any shuffling: the first
// floor(count * (1 - fraction)) samples train, the LAST ones validate. DataError unless
// 0 < fraction < 1 and both parts are non-empty.
TrainValidation validation_split(const Dataset& dataset, double fraction);

}  // namespace typenet
