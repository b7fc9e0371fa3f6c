// Turning a user's picture of a handwritten digit into an MNIST-like network input, as the
// Keras tutorials' `load_image_to_array('9.png')`.
//
// MNIST digits are light ink (255) on a black background (0), 28 x 28, scaled to [0, 1]. A photo
// is usually the opposite: dark ink on light paper. `preprocess_digit`:
//   1. takes the grey image (mean of R, G, B: see to_gray);
//   2. resizes it to 28 x 28 when it is not already, stretching as Keras' load_img does:
//      area averaging along an axis that shrinks, bilinear interpolation along one that grows;
//   3. inverts it (255 - grey) when the polarity asks for it; `automatic` inverts when the
//      background (the mean of the one-pixel border) is brighter than the whole picture;
//   4. divides by 255.
// For a 28 x 28 photo with R = G = B this is exactly the Keras photo project's
// `(255 - int(mean(R, G, B))) / 255`; with colours, the mean is not truncated (< 1/255 apart).
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>

#include "typenet/vis/image_file.hpp"

namespace typenet::vis {

inline constexpr std::size_t kDigitSide = 28;
using DigitPixels = std::array<float, kDigitSide * kDigitSide>;  // row-major, [0, 1]

enum class Polarity {
  automatic,  // invert when the picture is dark ink on a light background
  invert,     // always invert (the picture is dark-on-light)
  keep,       // never invert (the picture is already light-on-dark, as MNIST)
};

struct DigitOptions {
  Polarity polarity = Polarity::automatic;
};

// Resamples to width x height: area averaging along an axis that shrinks, bilinear (pixel
// centres aligned, edges clamped) along one that grows, a copy along one that keeps its size.
// Throws std::invalid_argument on an empty source or target.
GrayImage resize(const GrayImage& image, std::size_t width, std::size_t height);

// True when the border (the one-pixel frame) is brighter than the mean of the whole picture,
// i.e. dark ink on a light background.
bool is_dark_on_light(const GrayImage& image);

DigitPixels preprocess_digit(const GrayImage& image, const DigitOptions& options = {});

// read_image then preprocess_digit: the network input for a user's picture.
DigitPixels load_digit(const std::filesystem::path& path, const DigitOptions& options = {});

}  // namespace typenet::vis
