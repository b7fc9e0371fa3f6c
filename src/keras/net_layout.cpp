#include "net_layout.hpp"

#include <stdexcept>
#include <string>

namespace typenet::keras_detail {

std::span<const KerasWeight> all_weights(const LayerInfo& layer) {
  return layer.keras ? layer.keras->weights(nullptr) : std::span<const KerasWeight>{};
}

void check_net_layout(std::span<const LayerInfo> layers, std::size_t param_count,
                      const char* caller) {
  const std::string where = std::string("typenet::") + caller + ": ";
  if (layers.empty() || layers[0].type != "Input")
    throw std::invalid_argument(where + "expected a Net's layer_infos, whose first record is the "
                                        "Input");
  // A block's parameters are its inner layers' (flat_layers lists them, the Add without any).
  const std::vector<LayerInfo> flat = flat_layers(layers);
  for (std::size_t i = 1; i < flat.size(); ++i) {
    const LayerInfo& layer = flat[i];
    std::size_t covered = 0;
    for (const KerasWeight& weight : all_weights(layer)) {
      if (weight.offset != covered) covered = param_count + 1;  // a gap or an overlap
      covered += weight.size();
    }
    if (covered != layer.param_count || layer.param_offset > param_count ||
        layer.param_count > param_count - layer.param_offset)
      throw std::invalid_argument(where + "layer " + std::to_string(i) + " (" + describe(layer) +
                                  ") does not fit a parameter block of " +
                                  std::to_string(param_count) + " floats as its Keras weights");
  }
}

}  // namespace typenet::keras_detail
