#include "tile_grid.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace typenet::vis {

PixelRect GridLayout::tile(std::size_t index) const {
  PixelRect area = caption(index);
  area.y += caption_height;
  area.height = tile_height;
  return area;
}

PixelRect GridLayout::caption(std::size_t index) const {
  const auto row = static_cast<int>(index / cols), col = static_cast<int>(index % cols);
  return {left + col * (tile_width + gap), top + row * (caption_height + tile_height + gap),
          tile_width, caption_height};
}

namespace detail {
namespace {

constexpr int kMargin = 12;
constexpr int kGap = 20;
constexpr int kCaptionHeight = 26;
constexpr int kTitleHeight = 34;
constexpr double kCaptionTextPixels = 13;
constexpr double kTitleTextPixels = 16;
constexpr std::size_t kMaxSide = 1000;  // tiles per row or column; the picture size is the real
                                        // limit (Figure checks it)

}  // namespace

GridLayout tile_grid_layout(std::size_t rows, std::size_t cols, int tile_width, int tile_height,
                            std::string_view title) {
  const bool titled = !title.empty();
  GridLayout layout;
  layout.rows = rows;
  layout.cols = cols;
  layout.tile_width = tile_width;
  layout.tile_height = tile_height;
  layout.caption_height = kCaptionHeight;
  layout.gap = kGap;
  const int grid_width = int(cols) * tile_width + int(cols - 1) * kGap;
  const int grid_height = int(rows) * (kCaptionHeight + tile_height) + int(rows - 1) * kGap;
  const int title_width = int(std::ceil(estimated_text_width(title, kTitleTextPixels)));
  layout.width = std::max(grid_width, title_width) + 2 * kMargin;
  layout.height = grid_height + 2 * kMargin + (titled ? kTitleHeight : 0);
  layout.left = (layout.width - grid_width) / 2;
  layout.top = kMargin + (titled ? kTitleHeight : 0);
  return layout;
}

void draw_tile_grid(Figure& figure, const GridLayout& layout, std::span<const float> values,
                    std::size_t tile_count, std::size_t cells_wide, std::size_t cells_high,
                    std::span<const Caption> captions, std::string_view title) {
  const auto rect = [](PixelRect r) {
    return Rect{double(r.x), double(r.y), double(r.width), double(r.height)};
  };
  const std::size_t cells = cells_wide * cells_high;
  for (std::size_t i = 0; i < tile_count; ++i) {
    const Rect tile = rect(layout.tile(i));
    draw_image(figure, tile, values.subspan(i * cells, cells), cells_wide, cells_high);
    if (i >= captions.size()) continue;
    const Caption& caption = captions[i];
    const Rect band = rect(layout.caption(i));
    figure.text_size(kCaptionTextPixels);
    figure.text(band.x + band.width / 2, band.y + band.height / 2 - 3, caption.text,
                caption.highlighted ? kRed : kInk);
    if (caption.highlighted) {
      constexpr double kOutset = 3;  // outside the tile, so its pixels stay as drawn
      draw_frame(
          figure,
          {tile.x - kOutset, tile.y - kOutset, tile.width + 2 * kOutset, tile.height + 2 * kOutset},
          kRed, 2.5);
    }
  }
  if (!title.empty()) {
    figure.text_size(kTitleTextPixels);
    figure.text(layout.width / 2.0, kMargin + kTitleHeight / 2.0 - 4, title, kInk);
  }
}

void check_grid_shape(const std::filesystem::path& path, std::string_view function,
                      std::size_t rows, std::size_t cols) {
  if (rows == 0 || cols == 0 || rows > kMaxSide || cols > kMaxSide) {
    bad_argument(path, function,
                 "expected 1 to " + std::to_string(kMaxSide) + " rows and columns, found " +
                     std::to_string(rows) + " x " + std::to_string(cols));
  }
}

}  // namespace detail
}  // namespace typenet::vis
