#include "typenet/vis/feature_maps.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "figure.hpp"
#include "tile_grid.hpp"

namespace typenet::vis {
namespace {

constexpr std::size_t kMaxMapSide = 1024;
constexpr int kTargetTilePixels = 84;  // tiles are scaled by a whole factor towards this

void check_maps(const std::filesystem::path& path, std::string_view function,
                const FeatureMaps& maps) {
  const bool sane = maps.samples > 0 && maps.height > 0 && maps.width > 0 && maps.channels > 0 &&
                    maps.height <= kMaxMapSide && maps.width <= kMaxMapSide &&
                    maps.channels <= std::numeric_limits<std::size_t>::max() /
                                         (maps.height * maps.width) / maps.samples;
  if (!sane || maps.values.size() != maps.samples * maps.height * maps.width * maps.channels) {
    detail::bad_argument(
        path, function,
        "expected samples * height * width * channels values (height and width up to " +
            std::to_string(kMaxMapSide) + "), found " + std::to_string(maps.values.size()) +
            " values for " + std::to_string(maps.samples) + " x " + std::to_string(maps.height) +
            " x " + std::to_string(maps.width) + " x " + std::to_string(maps.channels));
  }
}

// Copies map (sample, channel) out of NHWC into `tile`, scaled to [0, 1] by its own range.
void normalised_tile(const FeatureMaps& maps, std::size_t sample, std::size_t channel,
                     std::span<float> tile) {
  const std::size_t pixels = maps.height * maps.width;
  const float* base = maps.values.data() + sample * pixels * maps.channels + channel;
  float low = INFINITY, high = -INFINITY;
  for (std::size_t i = 0; i < pixels; ++i) {
    const float v = base[i * maps.channels];
    if (std::isfinite(v)) low = std::min(low, v), high = std::max(high, v);
  }
  const float range = high - low;
  for (std::size_t i = 0; i < pixels; ++i) {
    const float v = base[i * maps.channels];
    tile[i] = std::isfinite(v) && range > 0 ? (v - low) / range : 0.0f;
  }
}

// Draws the selected (sample, channel) maps as a near-square mosaic.
void plot_mosaic(const std::filesystem::path& path, const FeatureMaps& maps,
                 std::span<const std::pair<std::size_t, std::size_t>> selection,
                 std::span<const Caption> captions, std::string_view title) {
  const std::size_t count = selection.size();
  const auto cols = static_cast<std::size_t>(std::ceil(std::sqrt(double(count))));
  const std::size_t rows = (count + cols - 1) / cols;
  const int scale = std::max(
      1, int(std::lround(double(kTargetTilePixels) / double(std::max(maps.height, maps.width)))));
  const GridLayout layout = detail::tile_grid_layout(rows, cols, int(maps.width) * scale,
                                                     int(maps.height) * scale, title);
  const std::size_t pixels = maps.height * maps.width;
  std::vector<float> tiles(count * pixels);
  for (std::size_t i = 0; i < count; ++i) {
    normalised_tile(maps, selection[i].first, selection[i].second,
                    std::span<float>(tiles).subspan(i * pixels, pixels));
  }
  detail::Figure figure(path, layout.width, layout.height);
  figure.colormap(detail::Colormap::viridis);
  detail::draw_tile_grid(figure, layout, tiles, count, maps.width, maps.height, captions, title);
  figure.save();
}

}  // namespace

void plot_feature_maps_of_channel(const std::filesystem::path& path, const FeatureMaps& maps,
                                  std::size_t channel, std::size_t count, std::string_view title) {
  constexpr std::string_view kFunction = "plot_feature_maps_of_channel";
  check_maps(path, kFunction, maps);
  if (channel >= maps.channels || count == 0 || count > maps.samples) {
    detail::bad_argument(path, kFunction,
                         "expected a channel below " + std::to_string(maps.channels) +
                             " and 1 to " + std::to_string(maps.samples) +
                             " samples, found channel " + std::to_string(channel) + " and " +
                             std::to_string(count) + " samples");
  }
  std::vector<std::pair<std::size_t, std::size_t>> selection;
  std::vector<Caption> captions;
  for (std::size_t s = 0; s < count; ++s) {
    selection.emplace_back(s, channel);
    // Not "#" + std::to_string(s): GCC 12 warns falsely (-Wrestrict) on that at -O3.
    captions.push_back({std::string("#").append(std::to_string(s)), false});
  }
  plot_mosaic(path, maps, selection, captions, title);
}

void plot_feature_maps_of_sample(const std::filesystem::path& path, const FeatureMaps& maps,
                                 std::size_t sample, std::string_view title) {
  constexpr std::string_view kFunction = "plot_feature_maps_of_sample";
  check_maps(path, kFunction, maps);
  if (sample >= maps.samples) {
    detail::bad_argument(path, kFunction,
                         "expected a sample below " + std::to_string(maps.samples) + ", found " +
                             std::to_string(sample));
  }
  std::vector<std::pair<std::size_t, std::size_t>> selection;
  std::vector<Caption> captions;
  for (std::size_t c = 0; c < maps.channels; ++c) {
    selection.emplace_back(sample, c);
    captions.push_back({"ch " + std::to_string(c), false});
  }
  plot_mosaic(path, maps, selection, captions, title);
}

}  // namespace typenet::vis
