// Every layer typenet has, and the Keras classes each reads: the list that code looking layers
// up by Keras class name searches. A new layer adds its include and its class list here.
#pragma once

#include <algorithm>
#include <span>
#include <string_view>

#include "typenet/activations.hpp"
#include "typenet/layers/conv.hpp"
#include "typenet/layers/dense.hpp"
#include "typenet/layers/dropout.hpp"
#include "typenet/layers/flatten.hpp"
#include "typenet/layers/input.hpp"
#include "typenet/layers/pooling.hpp"

namespace typenet {

inline constexpr std::span<const std::string_view> keras_classes_of_layers[] = {
    activation_keras_classes, conv_keras_classes,    dense_keras_classes,
    dropout_keras_classes,    flatten_keras_classes, global_avg_pool_keras_classes,
    max_pool_keras_classes,
};

// Whether some typenet layer reads Keras layers of class `name`.
constexpr bool has_keras_equivalent(std::string_view name) {
  return std::ranges::any_of(keras_classes_of_layers,
                             [&](std::span<const std::string_view> classes) {
                               return std::ranges::find(classes, name) != classes.end();
                             });
}

}  // namespace typenet
