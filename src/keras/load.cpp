// load_keras_into: open the file, check the architecture, read every weighted layer into a
// staging copy of the parameters, and publish the copy only when everything succeeded.
#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "architecture.hpp"
#include "keras_file.hpp"
#include "net_layout.hpp"
#include "typenet/keras_mapping.hpp"

namespace typenet {

namespace keras_detail {
namespace {

// Keras' channels-first Flatten emitted features in (c, h, w) order, typenet's Flatten emits
// (h, w, c): reorder the rows of the weight that follows into typenet's order.
std::vector<float> rows_from_channels_first(const std::vector<float>& weight, const Dims& image) {
  const auto [height, width, channels] = image.extent;
  const std::size_t row_size = weight.size() / image.size();
  std::vector<float> reordered(weight.size());
  for (std::size_t y = 0; y < height; ++y)
    for (std::size_t x = 0; x < width; ++x)
      for (std::size_t c = 0; c < channels; ++c) {
        const std::size_t typenet_row = (y * width + x) * channels + c;
        const std::size_t file_row = (c * height + y) * width + x;
        std::copy_n(weight.begin() + file_row * row_size, row_size,
                    reordered.begin() + typenet_row * row_size);
      }
  return reordered;
}

struct LayerSource {
  std::size_t net_index;
  const KerasLayer* file_layer;  // from the model config; null for weights-only files
  std::string file_name;
  std::optional<Dims> channels_first_rows;  // the flattened image, when rows must be reordered
};

// Which file layer feeds each Net layer with parameters. `net` and `file_layers` (empty for
// weights-only files) have their blocks expanded (flat_layers): once the architecture matches,
// their layers pair up one by one.
std::vector<LayerSource> plan_sources(std::span<const LayerInfo> net,
                                      const std::vector<const KerasLayer*>& file_layers,
                                      const KerasFile& file, const KerasOptions& options) {
  const auto& model = file.model();
  std::vector<std::string> weighted_names;
  if (!model) {
    check_layer_names(net, file.layer_names(), file.source());
    weighted_names = file.weighted_layer_names();
    const auto net_weighted =
        std::ranges::count_if(net, [](const LayerInfo& layer) { return layer.param_count > 0; });
    if (std::size_t(net_weighted) != weighted_names.size()) {
      std::string names;
      for (const std::string& name : weighted_names) names += (names.empty() ? "" : ", ") + name;
      fail(KerasProblem::ArchitectureMismatch, file.source(),
           "expected " + std::to_string(net_weighted) + " layers with weights, file has " +
               std::to_string(weighted_names.size()) + " (" + names + ")");
    }
  }

  std::vector<LayerSource> sources;
  std::optional<Dims> pending_flatten;
  for (std::size_t i = 1; i < net.size(); ++i) {
    const LayerInfo& layer = net[i];
    if (layer.keras && layer.keras->flattens_image && options.channels_first) {
      // Keras 2.1.6+ Flatten(data_format='channels_first') transposes to channels-last first.
      if (!model || file_layers[i - 1]->data_format != "channels_first") pending_flatten = layer.in;
    }
    if (layer.param_count == 0) continue;
    const KerasLayer* file_layer = model ? file_layers[i - 1] : nullptr;
    sources.push_back({i, file_layer,
                       file_layer ? file_layer->name : weighted_names[sources.size()],
                       std::exchange(pending_flatten, {})});
  }
  return sources;
}

// A NaN or infinite weight is refused rather than loaded: batch-1 products skip the terms whose
// input is zero, so such a weight would not even show in every prediction.
void check_finite(const KerasFile& file, const std::vector<float>& values,
                  const std::string& what) {
  const auto bad = std::ranges::find_if(values, [](float v) { return !std::isfinite(v); });
  if (bad != values.end())
    fail(KerasProblem::NonFinite, file.source(),
         what + ": element " + std::to_string(bad - values.begin()) + " is " +
             std::to_string(*bad) +
             ": a diverged or damaged model (typenet loads finite weights only)");
}

std::string weight_list(std::span<const KerasWeight> weights) {
  std::string names;
  for (const KerasWeight& weight : weights)
    names += (names.empty() ? "" : ", ") + std::string(weight.name);
  return names;
}

// Reads the layer's weight arrays into its slice of `staged`; those the file lacks (use_bias =
// False, BatchNormalization's scale = False) take their fill value, as Keras computes without
// them.
void load_layer(const KerasFile& file, const LayerSource& source, const LayerInfo& layer,
                std::span<float> staged, const KerasOptions& options) {
  const std::string where = "layer " + std::to_string(source.net_index) + " (" + source.file_name +
                            ")";
  const LayerWeights weights = source.file_layer ? file.weights_of(*source.file_layer, where)
                                                 : file.weights_of(source.file_name, where);
  const std::span<const KerasWeight> expected =
      source.file_layer ? expected_weights(layer, *source.file_layer, source.net_index,
                                           file.source(), options.channels_first)
                        : all_weights(layer);
  // A weights-only file does not say whether a layer has its optional arrays (a bias).
  const std::size_t found = weights.paths.size(),
                    required = source.file_layer ? expected.size()
                                                 : std::size_t(std::ranges::count(
                                                       expected, false, &KerasWeight::optional));
  if (found < required || found > expected.size())
    fail(KerasProblem::ShapeMismatch, file.source(),
         where + ": expected " +
             (required == expected.size()
                  ? std::to_string(required)
                  : std::to_string(required) + " to " + std::to_string(expected.size())) +
             " weight array" + (expected.size() == 1 ? "" : "s") + " (" + weight_list(expected) +
             "), file has " + std::to_string(found));

  const auto slice = staged.subspan(layer.param_offset, layer.param_count);
  for (const KerasWeight& weight : all_weights(layer))
    std::ranges::fill(slice.subspan(weight.offset, weight.size()), weight.fill);
  for (std::size_t k = 0; k < found; ++k) {
    const KerasWeight& weight = expected[k];
    const std::string what = where + " " + std::string(weight.name);
    std::vector<float> values = file.tree().read_floats(
        *weights.group, weights.paths[k], std::span(weight.shape).first(weight.rank), what);
    check_finite(file, values, what);
    if (k == 0 && source.channels_first_rows)
      values = rows_from_channels_first(values, *source.channels_first_rows);
    std::ranges::copy(values, slice.begin() + static_cast<std::ptrdiff_t>(weight.offset));
  }
}

}  // namespace
}  // namespace keras_detail

void load_keras_into(std::span<const LayerInfo> layers, std::span<float> params,
                     const std::filesystem::path& path, const KerasOptions& options) {
  using namespace keras_detail;
  check_net_layout(layers, params.size(), "load_keras_into");
  const KerasFile file = KerasFile::open(path, options);
  // The file's data format decides; the option speaks for files that do not say.
  KerasOptions resolved = options;
  if (file.model()) {
    resolved.channels_first =
        model_channels_first(*file.model(), options.channels_first, file.source());
    check_architecture(layers, *file.model(), resolved.channels_first, file.source());
  }

  const std::vector<LayerInfo> net = flat_layers(layers);
  const std::vector<const KerasLayer*> file_layers =
      file.model() ? flat_layers(*file.model()) : std::vector<const KerasLayer*>{};
  std::vector<float> staged(params.begin(), params.end());
  for (const LayerSource& source : plan_sources(net, file_layers, file, resolved))
    load_layer(file, source, net[source.net_index], staged, resolved);
  std::ranges::copy(staged, params.begin());
}

}  // namespace typenet
