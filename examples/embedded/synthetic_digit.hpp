// The one image predict_once and predict_once_from_file classify: a "1" drawn in the program (a
// slightly slanted stroke, MNIST-like: a 28 x 28 image of floats in [0, 1], ink bright), so that
// neither reads an image file.
#pragma once

#include <array>
#include <cstddef>

inline constexpr std::array<float, 28 * 28> synthetic_one = [] {
  std::array<float, 28 * 28> image{};
  for (std::size_t row = 5; row < 23; ++row) {
    const std::size_t column = 15 - (row - 5) / 6;  // leans right, as handwriting does
    image[row * 28 + column - 1] = 0.5f;
    image[row * 28 + column] = 1.0f;
    image[row * 28 + column + 1] = 1.0f;
    image[row * 28 + column + 2] = 0.5f;
  }
  return image;
}();
