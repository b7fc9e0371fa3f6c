// Activations: Linear, Relu, Sigmoid, Tanh, Softmax.
//
// Each is both an option tag (`Dense<128, Relu>`) and a layer of its own (`Dense<512>, Relu`, as
// Keras' `Activation('relu')`). Either way the Net applies it in place on the layer's output and
// differentiates it from that output alone, so one code path serves both spellings.
#pragma once

#include <cstddef>
#include <string>

#include "typenet/keras_mapping.hpp"
#include "typenet/kernels/kernels.hpp"
#include "typenet/layer_info.hpp"
#include "typenet/layers/layer.hpp"

namespace typenet {

inline constexpr std::string_view activation_keras_classes[] = {"Activation", "ReLU", "Softmax"};

namespace detail {
// The activation a Keras Activation, ReLU or Softmax layer applies; unsupported() for settings
// typenet has no equivalent of.
inline ActivationKind keras_activation_layer_kind(const KerasConfig& config) {
  if (config.class_name() == "ReLU") {
    for (const char* key : {"max_value", "negative_slope", "threshold"})
      if (const auto value = config.number(key); value && *value != 0)
        config.unsupported(std::string("ReLU with ") + key + " " + config.json(key) +
                           " has no typenet equivalent");
    return ActivationKind::Relu;
  }
  if (config.class_name() == "Softmax") {
    if (const auto axis = config.number("axis"); axis && *axis != -1)
      config.unsupported("Softmax over axis " + config.json("axis") + " has no typenet equivalent");
    return ActivationKind::Softmax;
  }
  return config.activation();
}
}  // namespace detail

inline constexpr KerasLayerClass activation_keras_layer{
    activation_keras_classes, [](const KerasConfig& config) {
      return std::string(cpp_tag(detail::keras_activation_layer_kind(config)));
    }};

namespace detail {
template <ActivationKind Kind>
struct Activation {
  static constexpr ActivationKind kind = Kind;

  // `count` values of `channels`-wide rows (softmax runs over the last axis, as Keras).
  static void forward(float* y, std::size_t count, std::size_t channels) noexcept {
    if constexpr (Kind == ActivationKind::Relu) kernels::relu_forward(y, count);
    if constexpr (Kind == ActivationKind::Sigmoid) kernels::sigmoid_forward(y, count);
    if constexpr (Kind == ActivationKind::Tanh) kernels::tanh_forward(y, count);
    if constexpr (Kind == ActivationKind::Softmax)
      kernels::softmax_forward(y, count / channels, channels);
  }
  static void backward(const float* y, float* dy, std::size_t count,
                       std::size_t channels) noexcept {
    if constexpr (Kind == ActivationKind::Relu) kernels::relu_backward(y, dy, count);
    if constexpr (Kind == ActivationKind::Sigmoid) kernels::sigmoid_backward(y, dy, count);
    if constexpr (Kind == ActivationKind::Tanh) kernels::tanh_backward(y, dy, count);
    if constexpr (Kind == ActivationKind::Softmax)
      kernels::softmax_backward(y, dy, count / channels, channels);
  }

  // Used as a layer: the identity, after which the Net applies the activation. Keras:
  // Activation, or the ReLU (plain) and Softmax (last axis) layers.
  template <class In>
  struct bind : IdentityLayer<In> {
    using activation = Activation;
    static void check_keras(const KerasConfig& config) {
      const ActivationKind found = keras_activation_layer_kind(config);
      config.expect("Activation", "'" + std::string(to_string(Kind)) + "'",
                    "'" + std::string(to_string(found)) + "'");
    }
    static constexpr KerasMapping keras{activation_keras_classes, check_keras,
                                        detail::no_keras_weights};
    static constexpr LayerInfo info() {
      LayerInfo layer = layer_info<bind>("Activation", "Activation");
      layer.arguments << "(" << to_string(Kind) << ")";
      layer.keras = &keras;
      return layer;
    }
  };
};
}  // namespace detail

struct Linear : detail::Activation<ActivationKind::Linear> {};
struct Relu : detail::Activation<ActivationKind::Relu> {};
struct Sigmoid : detail::Activation<ActivationKind::Sigmoid> {};
struct Tanh : detail::Activation<ActivationKind::Tanh> {};
struct Softmax : detail::Activation<ActivationKind::Softmax> {};

template <class T>
concept HasActivationKind = requires {
  T::kind;
};
template <class T>
concept ActivationTag = HasActivationKind<T> && requires {
  static_cast<const detail::Activation<T::kind>*>(static_cast<const T*>(nullptr));
};

}  // namespace typenet
