// Flatten: an HxWxC image to a vector in Keras' channels-last (h, w, c) order. Buffers are
// already stored in that order, so it is a copy.
// 8-bit: passes its input's codes on.
// Keras: Flatten (data_format decides the order of a channels-first model's features).
#pragma once

#include "typenet/keras_mapping.hpp"
#include "typenet/layers/layer.hpp"
#include "typenet/quantization.hpp"

namespace typenet {

inline constexpr std::string_view flatten_keras_classes[] = {"Flatten"};
inline constexpr KerasLayerClass flatten_keras_layer{
    flatten_keras_classes, [](const KerasConfig&) { return std::string("Flatten"); }};

struct Flatten {
  template <class In>
  struct bind : IdentityLayer<In, Shape<In::size>> {
    static constexpr bool inference_is_identity = true;
    static constexpr bool forward_is_copy = true;
    struct int8 : Int8Member {
      static constexpr Int8Role role = Int8Role::PassThrough;
    };
    static constexpr KerasMapping keras{flatten_keras_classes, detail::no_keras_settings,
                                        detail::no_keras_weights, /*flattens_image*/ In::rank == 3};
    static constexpr LayerInfo info() {
      LayerInfo layer = layer_info<bind>("Flatten", "Flatten");
      layer.cpp << "Flatten";
      layer.keras = &keras;
      return layer;
    }
  };
};

}  // namespace typenet
