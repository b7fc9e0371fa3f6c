#include "typenet/data/categorical.hpp"

#include <string>

#include "typenet/data/data_error.hpp"

namespace typenet {
namespace {

void check_labels(const char* caller, std::span<const std::uint8_t> labels,
                  std::size_t num_classes) {
  if (num_classes == 0 || num_classes > kMaxClasses) {
    throw DataError(std::string(caller) + ": expected num_classes in 1.." +
                    std::to_string(kMaxClasses) + ", found " + std::to_string(num_classes));
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= num_classes) {
      throw DataError(std::string(caller) + ": label at index " + std::to_string(i) +
                      ": expected a class below num_classes = " + std::to_string(num_classes) +
                      ", found " + std::to_string(labels[i]));
    }
  }
}

}  // namespace

std::vector<float> to_categorical(std::span<const std::uint8_t> labels, std::size_t num_classes) {
  check_labels("to_categorical", labels, num_classes);
  std::vector<float> one_hot(labels.size() * num_classes, 0.0f);
  for (std::size_t i = 0; i < labels.size(); ++i) one_hot[i * num_classes + labels[i]] = 1.0f;
  return one_hot;
}

std::vector<std::size_t> label_counts(std::span<const std::uint8_t> labels,
                                      std::size_t num_classes) {
  check_labels("label_counts", labels, num_classes);
  std::vector<std::size_t> counts(num_classes, 0);
  for (std::uint8_t label : labels) ++counts[label];
  return counts;
}

}  // namespace typenet
