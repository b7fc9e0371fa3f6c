// Keras' label utilities: one-hot encoding for categorical_crossentropy, and class counts to see
// how balanced a data set is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace typenet {

// Labels are bytes, so there can be at most 256 classes.
inline constexpr std::size_t kMaxClasses = 256;

// keras.utils.to_categorical: labels.size() rows of num_classes floats, 1 at the label's column.
// DataError when num_classes is not in 1..256 or a label is >= num_classes (naming its index).
std::vector<float> to_categorical(std::span<const std::uint8_t> labels, std::size_t num_classes);

// How many labels there are of each class 0..num_classes-1; same errors as to_categorical.
std::vector<std::size_t> label_counts(std::span<const std::uint8_t> labels,
                                      std::size_t num_classes);

}  // namespace typenet
