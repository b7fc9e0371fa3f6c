#include "net_layout.hpp"

#include <functional>
#include <numeric>
#include <stdexcept>
#include <string>

namespace typenet::keras_detail {

std::vector<std::size_t> kernel_shape(const LayerInfo& layer) {
  if (layer.kind == LayerKind::Conv)
    return {layer.kernel, layer.kernel, layer.in.extent[2], layer.units};
  return {layer.in.size(), layer.units};
}

void check_net_layout(std::span<const LayerInfo> layers, std::size_t param_count,
                      const char* caller) {
  const std::string where = std::string("typenet::") + caller + ": ";
  if (layers.empty() || layers[0].kind != LayerKind::Input)
    throw std::invalid_argument(where + "expected a Net's layer_infos, whose first record is the "
                                        "Input");
  for (std::size_t i = 1; i < layers.size(); ++i) {
    const LayerInfo& layer = layers[i];
    const bool weighted = layer.kind == LayerKind::Dense || layer.kind == LayerKind::Conv;
    std::size_t expected = 0;
    if (weighted) {
      const std::vector<std::size_t> shape = kernel_shape(layer);
      expected = std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies{}) +
                 layer.units;
    }
    if ((layer.kind == LayerKind::Conv && layer.in.rank != 3) || layer.param_count != expected ||
        layer.param_offset > param_count || layer.param_count > param_count - layer.param_offset)
      throw std::invalid_argument(where + "layer " + std::to_string(i) + " (" + describe(layer) +
                                  ") does not fit a parameter block of " +
                                  std::to_string(param_count) + " floats as kernel then bias");
  }
}

}  // namespace typenet::keras_detail
