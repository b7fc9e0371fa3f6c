#include "typenet/vis/digit_input.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace typenet::vis {
namespace {

// How one output sample along an axis is made: sum of weight[k] * source[first + k].
struct Taps {
  std::size_t first = 0;
  std::vector<float> weights;
};

// Area averaging: each output covers source/target source pixels, partly at its ends.
std::vector<Taps> area_taps(std::size_t source, std::size_t target) {
  const double scale = double(source) / double(target);
  std::vector<Taps> taps(target);
  for (std::size_t i = 0; i < target; ++i) {
    const double begin = double(i) * scale;
    const double end = double(i + 1) * scale;
    const auto first = static_cast<std::size_t>(begin);
    const auto last = std::min(source, static_cast<std::size_t>(std::ceil(end)));
    taps[i].first = first;
    for (std::size_t s = first; s < last; ++s) {
      const double overlap = std::min(end, double(s + 1)) - std::max(begin, double(s));
      taps[i].weights.push_back(static_cast<float>(overlap / scale));
    }
  }
  return taps;
}

// Bilinear with pixel centres aligned ((i + 0.5) * scale - 0.5), clamped at the edges.
std::vector<Taps> bilinear_taps(std::size_t source, std::size_t target) {
  const double scale = double(source) / double(target);
  std::vector<Taps> taps(target);
  for (std::size_t i = 0; i < target; ++i) {
    const double centre = std::clamp((double(i) + 0.5) * scale - 0.5, 0.0, double(source - 1));
    const auto left = std::min(static_cast<std::size_t>(centre), source - 1);
    const double fraction = centre - double(left);
    taps[i].first = left;
    taps[i].weights = {static_cast<float>(1.0 - fraction)};
    if (left + 1 < source) taps[i].weights.push_back(static_cast<float>(fraction));
  }
  return taps;
}

std::vector<Taps> axis_taps(std::size_t source, std::size_t target) {
  if (target < source) return area_taps(source, target);
  if (target > source) return bilinear_taps(source, target);
  std::vector<Taps> identity(target);
  for (std::size_t i = 0; i < target; ++i) identity[i] = {i, {1.0f}};
  return identity;
}

void check_image(const GrayImage& image, const char* function) {
  if (image.width == 0 || image.height == 0 || image.pixels.size() != image.width * image.height) {
    throw std::invalid_argument(std::string(function) + ": expected a non-empty image with " +
                                "width * height pixels, found " + std::to_string(image.width) +
                                " x " + std::to_string(image.height) + " with " +
                                std::to_string(image.pixels.size()) + " pixels");
  }
}

}  // namespace

GrayImage resize(const GrayImage& image, std::size_t width, std::size_t height) {
  check_image(image, "resize");
  if (width == 0 || height == 0) {
    throw std::invalid_argument("resize: expected a non-empty target size, found " +
                                std::to_string(width) + " x " + std::to_string(height));
  }
  const std::vector<Taps> across = axis_taps(image.width, width);
  const std::vector<Taps> down = axis_taps(image.height, height);

  // Rows first (image.height x width), then columns.
  std::vector<float> rows(image.height * width);
  for (std::size_t y = 0; y < image.height; ++y) {
    const float* source = &image.pixels[y * image.width];
    for (std::size_t x = 0; x < width; ++x) {
      float sum = 0;
      for (std::size_t k = 0; k < across[x].weights.size(); ++k) {
        sum += across[x].weights[k] * source[across[x].first + k];
      }
      rows[y * width + x] = sum;
    }
  }
  GrayImage result{width, height, std::vector<float>(width * height, 0.0f)};
  for (std::size_t y = 0; y < height; ++y) {
    for (std::size_t k = 0; k < down[y].weights.size(); ++k) {
      const float weight = down[y].weights[k];
      const float* source = &rows[(down[y].first + k) * width];
      for (std::size_t x = 0; x < width; ++x) result.pixels[y * width + x] += weight * source[x];
    }
  }
  return result;
}

bool is_dark_on_light(const GrayImage& image) {
  check_image(image, "is_dark_on_light");
  double border = 0, all = 0;
  std::size_t border_count = 0;
  for (std::size_t y = 0; y < image.height; ++y) {
    for (std::size_t x = 0; x < image.width; ++x) {
      const double value = image.at(x, y);
      all += value;
      if (x == 0 || y == 0 || x + 1 == image.width || y + 1 == image.height) {
        border += value;
        ++border_count;
      }
    }
  }
  return border / double(border_count) > all / double(image.pixels.size());
}

DigitPixels preprocess_digit(const GrayImage& image, const DigitOptions& options) {
  check_image(image, "preprocess_digit");
  const GrayImage digit = (image.width == kDigitSide && image.height == kDigitSide)
                              ? image
                              : resize(image, kDigitSide, kDigitSide);
  const bool invert = options.polarity == Polarity::invert ||
                      (options.polarity == Polarity::automatic && is_dark_on_light(digit));
  DigitPixels pixels;
  for (std::size_t i = 0; i < pixels.size(); ++i) {
    const float value = invert ? 255.0f - digit.pixels[i] : digit.pixels[i];
    pixels[i] = std::isnan(value) ? 0.0f : std::clamp(value / 255.0f, 0.0f, 1.0f);
  }
  return pixels;
}

DigitPixels load_digit(const std::filesystem::path& path, const DigitOptions& options) {
  return preprocess_digit(read_image(path), options);
}

}  // namespace typenet::vis
