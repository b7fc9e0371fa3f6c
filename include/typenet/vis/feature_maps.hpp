// Mosaics of convolution outputs, as the tutorials' look at the first layer's feature maps:
// one channel across many samples (64 samples as 8 x 8), or every channel of one sample.
//
// Maps are NHWC (samples, height, width, channels; Keras' channels-last), back to back in one
// span. Each tile is normalised on its own (its minimum black, its maximum yellow, viridis as
// matplotlib; a constant tile is black), so faint and strong maps are both readable. The
// mosaic is as square as possible: ceil(sqrt(tiles)) columns. PNG or SVG by the extension.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>

namespace typenet::vis {

struct FeatureMaps {
  std::span<const float> values;  // samples * height * width * channels
  std::size_t samples = 0, height = 0, width = 0, channels = 0;
};

// Channel `channel` of the first `count` samples, each captioned with its sample index.
void plot_feature_maps_of_channel(const std::filesystem::path& path, const FeatureMaps& maps,
                                  std::size_t channel, std::size_t count,
                                  std::string_view title = {});

// Every channel of sample `sample`, each captioned with its channel index.
void plot_feature_maps_of_sample(const std::filesystem::path& path, const FeatureMaps& maps,
                                 std::size_t sample, std::string_view title = {});

}  // namespace typenet::vis
