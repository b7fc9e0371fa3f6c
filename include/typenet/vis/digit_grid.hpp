// Grids of digit pictures with a caption over each, as the tutorials' `plt.imshow` subplots:
// training samples ("Label: 5"), test predictions ("7 / 7", wrong ones in red with a red frame)
// and a gallery of misclassifications.
//
// Images are 28 x 28 (kDigitSide) each, row-major, back to back in one span: floats in [0, 1]
// (the network input) or bytes in [0, 255] (the IDX file). They are drawn as MNIST shows them,
// light ink on black, each pixel a 4 x 4 block. The picture is PNG or SVG by the file name's
// extension; errors are exceptions naming the function and the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "typenet/vis/digit_input.hpp"

namespace typenet::vis {

struct Caption {
  std::string text;
  bool highlighted = false;  // red text and a red frame (a wrong prediction)
};

// "Label: 5" per label.
std::vector<Caption> label_captions(std::span<const int> labels);
// "predicted / true" per image ("7 / 7"), highlighted where they differ.
std::vector<Caption> prediction_captions(std::span<const int> predicted,
                                         std::span<const int> truth);

// Draws the first min(count, rows * cols) images, row by row. `captions` is empty or has one
// caption per drawn image (at least); `title`, when not empty, goes above the grid.
void plot_digit_grid(const std::filesystem::path& path, std::span<const float> images,
                     std::span<const Caption> captions, std::size_t rows = 3, std::size_t cols = 5,
                     std::string_view title = {});
void plot_digit_grid(const std::filesystem::path& path, std::span<const std::uint8_t> images,
                     std::span<const Caption> captions, std::size_t rows = 3, std::size_t cols = 5,
                     std::string_view title = {});

// The first `count` images (the caller picks and orders them, e.g. the most confident mistakes
// first), captioned "4 → 9 (97%)" (true label → prediction (its probability)) in red, five per
// row, under the title "Misclassified: true → predicted (confidence)".
void plot_misclassified(const std::filesystem::path& path, std::span<const float> images,
                        std::span<const int> truth, std::span<const int> predicted,
                        std::span<const float> confidence, std::size_t count);

// Where things land in a grid picture, in pixels from the top-left corner: for callers that
// crop or annotate it, and for tests.
struct PixelRect {
  int x = 0, y = 0, width = 0, height = 0;
};
struct GridLayout {
  int width = 0, height = 0;  // of the whole picture
  std::size_t rows = 0, cols = 0;
  int left = 0, top = 0;  // of the first caption
  int tile_width = 0, tile_height = 0, caption_height = 0, gap = 0;
  PixelRect tile(std::size_t index) const;     // the image of tile `index` (row by row)
  PixelRect caption(std::size_t index) const;  // the band above it
};
// The layout of plot_digit_grid with these arguments.
GridLayout digit_grid_layout(std::size_t rows, std::size_t cols, std::string_view title = {});

}  // namespace typenet::vis
