// What a Net's layer records say about its parameter block, in Keras' terms. Private to
// src/keras.
#pragma once

#include <cstddef>
#include <span>

#include "typenet/keras_mapping.hpp"
#include "typenet/layer_info.hpp"

namespace typenet::keras_detail {

// Every weight array a layer may hold in a Keras file (its mapping's, without a config).
std::span<const KerasWeight> all_weights(const LayerInfo& layer);

// Throws std::invalid_argument unless `layers` starts with the Input record and every layer's
// (blocks expanded, as flat_layers does)
// Keras weight arrays fill its slice [param_offset, +param_count) inside a block of `param_count`
// floats (a layer with parameters and no Keras mapping cannot be read or written). `caller`
// names the function in the message.
void check_net_layout(std::span<const LayerInfo> layers, std::size_t param_count,
                      const char* caller);

}  // namespace typenet::keras_detail
