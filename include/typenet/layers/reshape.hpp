// Reshape<Extents...>: the same values as a Shape<Extents...> of rank 1, 2 or 3 (Keras'
// row-major order is typenet's: a copy). Reshape<28, 28, 1> after Input<28, 28> makes images.
// Keras: Reshape (target_shape, where one -1 stands for what the input leaves).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "typenet/keras_mapping.hpp"
#include "typenet/layers/layer.hpp"

namespace typenet {

inline constexpr std::string_view reshape_keras_classes[] = {"Reshape"};

namespace detail {
// The file's target shape, its -1 resolved against the layer's input.
inline Dims keras_reshape_target(const KerasConfig& config) {
  const std::optional<std::vector<std::int64_t>> target = config.integers("target_shape");
  if (!target) config.corrupted("config has no 'target_shape'");
  if (target->empty() || target->size() > 3)
    config.unsupported("Reshape to " + config.json("target_shape") +
                       " has no typenet equivalent (typenet shapes have rank 1, 2 or 3)");
  Dims dims{target->size(), {}};
  std::size_t known = 1, unknowns = 0;
  for (std::size_t i = 0; i < target->size(); ++i) {
    const std::int64_t extent = (*target)[i];
    if (extent == -1) {
      ++unknowns;
    } else if (extent > 0) {
      dims.extent[i] = std::size_t(extent);
      known *= dims.extent[i];
    } else {
      config.corrupted("expected 'target_shape' to hold positive sizes and at most one -1, file "
                       "has " +
                       config.json("target_shape"));
    }
  }
  if (unknowns > 1)
    config.corrupted("expected 'target_shape' to hold at most one -1, file has " +
                     config.json("target_shape"));
  const std::optional<Dims> input = config.input_dims();
  if (!input) {
    if (unknowns != 0)
      config.unsupported("Reshape to " + config.json("target_shape") +
                         ": the file does not record the layer's input shape, which the -1 "
                         "stands for a part of");
  } else if (input->size() % known != 0 || (unknowns == 0 && known != input->size())) {
    config.mismatch("Reshape to " + config.json("target_shape") + " does not fit its input of " +
                    to_string(*input));
  }
  for (std::size_t i = 0; i < dims.rank; ++i)
    if (dims.extent[i] == 0) dims.extent[i] = input->size() / known;
  // Channels-first models keep images as (c, h, w): the same reshape moves other values.
  if (config.channels_first() && (dims.rank == 3 || (input && input->rank == 3)))
    config.unsupported("Reshape of images in a channels_first model has no typenet equivalent");
  return dims;
}
}  // namespace detail

inline constexpr KerasLayerClass reshape_keras_layer{
    reshape_keras_classes, [](const KerasConfig& config) {
      const Dims dims = detail::keras_reshape_target(config);
      std::string type = "Reshape<";
      for (std::size_t i = 0; i < dims.rank; ++i)
        type += (i ? ", " : "") + std::to_string(dims.extent[i]);
      return type + ">";
    }};

template <std::size_t... Extents>
struct Reshape {
  using shape = Shape<Extents...>;

  template <class In>
  struct bind : IdentityLayer<In, shape> {
    static constexpr bool inference_is_identity = true;
    static constexpr bool forward_is_copy = true;
    static_assert(shape::size == In::size,
                  "typenet: Reshape<Extents...> must hold as many values as its input");
    static void check_keras(const KerasConfig& config) {
      const Dims found = detail::keras_reshape_target(config);
      if (found != shape::dims)
        config.mismatch("expected Reshape to " + to_string(shape::dims) + ", file has " +
                        to_string(found));
    }
    static constexpr KerasMapping keras{reshape_keras_classes, check_keras,
                                        detail::no_keras_weights};
    static constexpr LayerInfo info() {
      LayerInfo layer = layer_info<bind>("Reshape", "Reshape");
      write_cpp_extents(layer.cpp << "Reshape<", shape::dims);
      layer.cpp << ">";
      layer.keras = &keras;
      return layer;
    }
  };
};

}  // namespace typenet
