#include "typenet/vis/digit_grid.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "figure.hpp"
#include "tile_grid.hpp"

namespace typenet::vis {
namespace {

constexpr std::size_t kDigitPixels = kDigitSide * kDigitSide;
constexpr int kDigitScale = 4;  // screen pixels per digit pixel, per side
constexpr int kTilePixels = int(kDigitSide) * kDigitScale;

// How many images `images` holds; throws when it is not a whole number of digits.
std::size_t digit_count(const std::filesystem::path& path, std::string_view function,
                        std::size_t values) {
  if (values == 0 || values % kDigitPixels != 0) {
    detail::bad_argument(path, function,
                         "expected a positive multiple of 28 * 28 = 784 pixel values, found " +
                             std::to_string(values));
  }
  return values / kDigitPixels;
}

}  // namespace

std::vector<Caption> label_captions(std::span<const int> labels) {
  std::vector<Caption> captions;
  for (int label : labels) captions.push_back({"Label: " + std::to_string(label), false});
  return captions;
}

std::vector<Caption> prediction_captions(std::span<const int> predicted,
                                         std::span<const int> truth) {
  if (predicted.size() != truth.size()) {
    throw std::invalid_argument("prediction_captions: expected as many true labels as " +
                                std::string("predictions (") + std::to_string(predicted.size()) +
                                "), found " + std::to_string(truth.size()));
  }
  std::vector<Caption> captions;
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    captions.push_back({std::to_string(predicted[i]) + " / " + std::to_string(truth[i]),
                        predicted[i] != truth[i]});
  }
  return captions;
}

GridLayout digit_grid_layout(std::size_t rows, std::size_t cols, std::string_view title) {
  return detail::tile_grid_layout(rows, cols, kTilePixels, kTilePixels, title);
}

void plot_digit_grid(const std::filesystem::path& path, std::span<const float> images,
                     std::span<const Caption> captions, std::size_t rows, std::size_t cols,
                     std::string_view title) {
  constexpr std::string_view kFunction = "plot_digit_grid";
  detail::check_grid_shape(path, kFunction, rows, cols);
  const std::size_t shown = std::min(digit_count(path, kFunction, images.size()), rows * cols);
  if (!captions.empty() && captions.size() < shown) {
    detail::bad_argument(path, kFunction,
                         "expected no captions or one per drawn image (" + std::to_string(shown) +
                             "), found " + std::to_string(captions.size()));
  }
  const GridLayout layout = digit_grid_layout(rows, cols, title);
  detail::Figure figure(path, layout.width, layout.height);
  figure.colormap(detail::Colormap::gray);
  detail::draw_tile_grid(figure, layout, images, shown, kDigitSide, kDigitSide, captions, title);
  figure.save();
}

void plot_digit_grid(const std::filesystem::path& path, std::span<const std::uint8_t> images,
                     std::span<const Caption> captions, std::size_t rows, std::size_t cols,
                     std::string_view title) {
  std::vector<float> scaled(images.size());
  std::transform(images.begin(), images.end(), scaled.begin(),
                 [](std::uint8_t v) { return float(v) / 255.0f; });
  plot_digit_grid(path, std::span<const float>(scaled), captions, rows, cols, title);
}

void plot_misclassified(const std::filesystem::path& path, std::span<const float> images,
                        std::span<const int> truth, std::span<const int> predicted,
                        std::span<const float> confidence, std::size_t count) {
  constexpr std::string_view kFunction = "plot_misclassified";
  const std::size_t available = digit_count(path, kFunction, images.size());
  if (count == 0 || count > available || truth.size() < count || predicted.size() < count ||
      confidence.size() < count) {
    detail::bad_argument(
        path, kFunction,
        "expected 1 <= count <= the number of images, true labels, predictions and "
        "confidences; found count " +
            std::to_string(count) + " with " + std::to_string(available) + ", " +
            std::to_string(truth.size()) + ", " + std::to_string(predicted.size()) + ", " +
            std::to_string(confidence.size()));
  }
  std::vector<Caption> captions;
  for (std::size_t i = 0; i < count; ++i) {
    const float percent = std::isnan(confidence[i]) ? 0.0f : 100.0f * confidence[i];
    captions.push_back({std::to_string(truth[i]) + " \u2192 " + std::to_string(predicted[i]) +
                            " (" + std::to_string(std::lround(percent)) + "%)",
                        true});
  }
  constexpr std::size_t kColumns = 5;
  const std::size_t cols = std::min(count, kColumns);
  plot_digit_grid(path, images.first(count * kDigitPixels), captions, (count + cols - 1) / cols,
                  cols, "Misclassified: true \u2192 predicted (confidence)");
}

}  // namespace typenet::vis
