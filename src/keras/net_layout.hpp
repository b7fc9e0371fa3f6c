// What a Net's layer records say about its parameter block, in Keras' terms. Private to
// src/keras.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "typenet/layer_info.hpp"

namespace typenet::keras_detail {

// Keras' kernel shape of a Dense (in, out) or Conv (kh, kw, cin, cout) layer.
std::vector<std::size_t> kernel_shape(const LayerInfo& layer);

// Throws std::invalid_argument unless `layers` starts with the Input record and every Dense and
// Conv layer's slice [param_offset, +param_count) is its kernel plus bias inside a block of
// `param_count` floats. `caller` names the function in the message.
void check_net_layout(std::span<const LayerInfo> layers, std::size_t param_count,
                      const char* caller);

}  // namespace typenet::keras_detail
