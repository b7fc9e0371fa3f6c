// load_keras_into: open the file, check the architecture, read every weighted layer into a
// staging copy of the parameters, and publish the copy only when everything succeeded.
#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "architecture.hpp"
#include "keras_file.hpp"
#include "net_layout.hpp"

namespace typenet {

namespace keras_detail {
namespace {

// Keras' channels-first Flatten emitted features in (c, h, w) order, typenet's Flatten emits
// (h, w, c): reorder the rows of the Dense kernel that follows into typenet's order.
std::vector<float> rows_from_channels_first(const std::vector<float>& kernel, const Dims& image,
                                            std::size_t units) {
  const auto [height, width, channels] = image.extent;
  std::vector<float> reordered(kernel.size());
  for (std::size_t y = 0; y < height; ++y)
    for (std::size_t x = 0; x < width; ++x)
      for (std::size_t c = 0; c < channels; ++c) {
        const std::size_t typenet_row = (y * width + x) * channels + c;
        const std::size_t file_row = (c * height + y) * width + x;
        std::copy_n(kernel.begin() + file_row * units, units,
                    reordered.begin() + typenet_row * units);
      }
  return reordered;
}

struct LayerSource {
  std::size_t net_index;
  const KerasLayer* file_layer;  // from the model config; null for weights-only files
  std::string file_name;
  std::optional<Dims> channels_first_rows;  // the Flatten input, when rows must be reordered
};

// Which file layer feeds each weighted Net layer.
std::vector<LayerSource> plan_sources(std::span<const LayerInfo> net, const KerasFile& file,
                                      const KerasOptions& options) {
  const auto& model = file.model();
  std::vector<std::string> weighted_names;
  if (!model) {
    weighted_names = file.weighted_layer_names();
    const auto net_weighted = std::ranges::count_if(
        net, [](const LayerInfo& layer) { return layer.param_count > 0; });
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
    if (layer.kind == LayerKind::Flatten && layer.in.rank == 3 && options.channels_first) {
      // Keras 2.1.6+ Flatten(data_format='channels_first') transposes to channels-last first.
      if (!model || model->layers[i - 1].data_format != "channels_first")
        pending_flatten = layer.in;
    }
    if (layer.param_count == 0) continue;
    const KerasLayer* file_layer = model ? &model->layers[i - 1] : nullptr;
    sources.push_back({i, file_layer,
                       file_layer ? file_layer->name : weighted_names[sources.size()],
                       layer.kind == LayerKind::Dense ? std::exchange(pending_flatten, {})
                                                      : std::nullopt});
  }
  return sources;
}

// A NaN or infinite weight is refused rather than loaded: batch-1 products skip the terms whose
// input is zero, so such a weight would not even show in every prediction.
void check_finite(const KerasFile& file, const std::vector<float>& values, const std::string& what) {
  const auto bad = std::ranges::find_if(values, [](float v) { return !std::isfinite(v); });
  if (bad != values.end())
    fail(KerasProblem::NonFinite, file.source(),
         what + ": element " + std::to_string(bad - values.begin()) + " is " + std::to_string(*bad) +
             ": a diverged or damaged model (typenet loads finite weights only)");
}

void load_layer(const KerasFile& file, const LayerSource& source, const LayerInfo& layer,
                std::span<float> staged) {
  const std::string where =
      "layer " + std::to_string(source.net_index) + " (" + source.file_name + ")";
  const LayerWeights weights = source.file_layer ? file.weights_of(*source.file_layer, where)
                                                 : file.weights_of(source.file_name, where);
  // A weights-only file does not say whether a layer has a bias: either count will do.
  const std::size_t found = weights.paths.size();
  const std::optional<bool> use_bias =
      source.file_layer ? std::optional(source.file_layer->use_bias) : std::nullopt;
  if (use_bias ? found != (*use_bias ? 2u : 1u) : (found != 1 && found != 2))
    fail(KerasProblem::ShapeMismatch, file.source(),
         where + ": expected " +
             (!use_bias    ? "a kernel and maybe a bias"
              : *use_bias ? "2 weight arrays (kernel, bias)"
                          : "1 weight array (kernel, use_bias is false)") +
             ", file has " + std::to_string(found));

  const std::vector<std::size_t> shape = kernel_shape(layer);
  std::vector<float> kernel =
      file.reader().read_floats(weights.group.get(), weights.paths[0], shape, where + " kernel");
  std::vector<float> bias(layer.units, 0.0f);  // use_bias=False: typenet adds a zero bias
  if (weights.paths.size() == 2) {
    const std::size_t bias_shape[] = {layer.units};
    bias = file.reader().read_floats(weights.group.get(), weights.paths[1], bias_shape,
                                     where + " bias");
  }
  check_finite(file, kernel, where + " kernel");
  check_finite(file, bias, where + " bias");
  if (source.channels_first_rows)
    kernel = rows_from_channels_first(kernel, *source.channels_first_rows, layer.units);

  auto out = staged.begin() + static_cast<std::ptrdiff_t>(layer.param_offset);
  out = std::ranges::copy(kernel, out).out;
  std::ranges::copy(bias, out);
}

}  // namespace
}  // namespace keras_detail

void load_keras_into(std::span<const LayerInfo> layers, std::span<float> params,
                     const std::filesystem::path& path, const KerasOptions& options) {
  using namespace keras_detail;
  check_net_layout(layers, params.size(), "load_keras_into");
  const Hdf5Quiet quiet;
  const KerasFile file = KerasFile::open(path, options);
  if (file.model())
    check_architecture(layers, *file.model(), options.channels_first, file.source());

  std::vector<float> staged(params.begin(), params.end());
  for (const LayerSource& source : plan_sources(layers, file, options))
    load_layer(file, source, layers[source.net_index], staged);
  std::ranges::copy(staged, params.begin());
}

}  // namespace typenet
