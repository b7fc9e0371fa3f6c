// Every layer typenet has, and the Keras classes each reads: the list that code looking layers
// up by Keras class name searches (the loader, export-cpp). A new layer adds its include and its
// KerasLayerClass here. (Residual has none: a Keras Add joins two branches, which export-cpp
// spells with residual_cpp_type.)
#pragma once

#include <algorithm>
#include <span>
#include <string_view>

#include "typenet/activations.hpp"
#include "typenet/layers/batch_norm.hpp"
#include "typenet/layers/conv.hpp"
#include "typenet/layers/dense.hpp"
#include "typenet/layers/dropout.hpp"
#include "typenet/layers/flatten.hpp"
#include "typenet/layers/input.hpp"
#include "typenet/layers/lstm.hpp"
#include "typenet/layers/pooling.hpp"
#include "typenet/layers/rescaling.hpp"
#include "typenet/layers/reshape.hpp"
#include "typenet/layers/residual.hpp"

namespace typenet {

inline constexpr KerasLayerClass keras_layer_classes[] = {
    activation_keras_layer, avg_pool_keras_layer,        batch_norm_keras_layer,
    conv_keras_layer,       dense_keras_layer,           dropout_keras_layer,
    flatten_keras_layer,    global_avg_pool_keras_layer, lstm_keras_layer,
    max_pool_keras_layer,   rescaling_keras_layer,       reshape_keras_layer,
};

// The typenet layer that reads Keras layers of class `name`; null when there is none.
constexpr const KerasLayerClass* keras_layer_class(std::string_view name) {
  for (const KerasLayerClass& layer : keras_layer_classes)
    if (std::ranges::find(layer.classes, name) != layer.classes.end()) return &layer;
  return nullptr;
}
constexpr bool has_keras_equivalent(std::string_view name) {
  return keras_layer_class(name) != nullptr;
}

}  // namespace typenet
