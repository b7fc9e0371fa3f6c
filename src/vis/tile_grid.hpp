// A grid of small images with a caption over each: the engine of digit grids and feature-map
// mosaics (internal to the vis library).
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "figure.hpp"
#include "typenet/vis/digit_grid.hpp"

namespace typenet::vis::detail {

// The picture is wide enough for the title (an empty one takes no room).
GridLayout tile_grid_layout(std::size_t rows, std::size_t cols, int tile_width, int tile_height,
                            std::string_view title);

// Draws tile i (values[i * cells_wide * cells_high ...], row-major, in [0, 1]) with captions[i]
// when there is one; highlighted captions are red and framed.
void draw_tile_grid(Figure& figure, const GridLayout& layout, std::span<const float> values,
                    std::size_t tile_count, std::size_t cells_wide, std::size_t cells_high,
                    std::span<const Caption> captions, std::string_view title);

// Common checks: rows and cols at least 1 and a grid of at most kMaxTiles.
void check_grid_shape(const std::filesystem::path& path, std::string_view function,
                      std::size_t rows, std::size_t cols);

}  // namespace typenet::vis::detail
