// Activations: Linear, Relu, Sigmoid, Tanh, Softmax, Selu, Elu<A, B>, LeakyRelu<A, B>, Gelu,
// Swish (= Silu) and Softplus.
//
// Each is both an option tag (`Dense<128, Relu>`) and a layer of its own (`Dense<512>, Relu`, as
// Keras' `Activation('relu')`). Either way the Net applies it on the layer's output, so one code
// path serves both spellings (as a layer, in the same pass as the layer's copy). Most are
// differentiated from that output alone; Gelu and Swish, whose slope their output does not
// determine, say `needs_input`: while training, the Net keeps the layer's output before the
// activation (Buffers::pre_activations; as a layer, its input) and differentiates from that.
// Inference is the same pass for all.
//
// 8-bit (quantized.hpp): used as a layer, Linear passes its input's codes on and ReLU clamps them
// at the code of zero; the others run in float. As options, the layer they are given to says.
//
// Elu's alpha and LeakyRelu's slope are ratios of integers A / B (no floating-point template
// arguments): Keras computes with float32 of its value, which is float(double(A) / double(B)).
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>

#include "typenet/keras_mapping.hpp"
#include "typenet/kernels/kernels.hpp"
#include "typenet/layer_info.hpp"
#include "typenet/layers/layer.hpp"
#include "typenet/quantization.hpp"

namespace typenet {

inline constexpr std::string_view activation_keras_classes[] = {"Activation", "ReLU", "Softmax",
                                                                "LeakyReLU", "ELU"};

namespace detail {
// A non-negative parameter of a LeakyReLU or ELU layer (`keys` in the order Keras versions
// named it, `fallback` when absent); unsupported() when negative.
inline float keras_layer_alpha(const KerasConfig& config, std::initializer_list<const char*> keys,
                               double fallback) {
  for (const char* key : keys)
    if (const std::optional<double> value = config.number(key)) {
      if (*value < 0)
        config.unsupported(std::string(config.class_name()) + " with " + key + " " +
                           config.json(key) + " has no typenet equivalent (it must be >= 0)");
      return float(*value);
    }
  return float(fallback);
}

// The activation a Keras Activation, ReLU, Softmax, LeakyReLU or ELU layer applies;
// unsupported() for settings typenet has no equivalent of.
inline KerasActivation keras_activation_layer(const KerasConfig& config) {
  const std::string_view class_name = config.class_name();
  if (class_name == "ReLU") {
    for (const char* key : {"max_value", "negative_slope", "threshold"})
      if (const auto value = config.number(key); value && *value != 0)
        config.unsupported(std::string("ReLU with ") + key + " " + config.json(key) +
                           " has no typenet equivalent");
    return {ActivationKind::Relu};
  }
  if (class_name == "Softmax") {
    if (const auto axis = config.number("axis"); axis && *axis != -1)
      config.unsupported("Softmax over axis " + config.json("axis") + " has no typenet equivalent");
    return {ActivationKind::Softmax};
  }
  // Keras 3 calls LeakyReLU's slope negative_slope, Keras 2 alpha; both default to 0.3.
  if (class_name == "LeakyReLU")
    return {ActivationKind::LeakyRelu, keras_layer_alpha(config, {"negative_slope", "alpha"}, 0.3)};
  if (class_name == "ELU") return {ActivationKind::Elu, keras_layer_alpha(config, {"alpha"}, 1.0)};
  return config.keras_activation();
}
}  // namespace detail

inline constexpr KerasLayerClass activation_keras_layer{
    activation_keras_classes, [](const KerasConfig& config) {
      return cpp_tag(config, detail::keras_activation_layer(config));
    }};

namespace detail {
// SELU's constants, as Keras (and TensorFlow's kernel: scale * alpha rounded once).
inline constexpr float selu_scale = float(1.0507009873554804934193349852946);
inline constexpr float selu_scale_alpha = float(1.7580993408473768599402175208123);

// The int8 member of an activation used as a layer, over input shape In: none for those that run
// in float.
template <ActivationKind Kind, class In>
struct ActivationInt8 {};
template <class In>
struct ActivationInt8<ActivationKind::Linear, In> {
  struct int8 : Int8Member {
    static constexpr Int8Role role = Int8Role::PassThrough;
  };
};
template <class In>
struct ActivationInt8<ActivationKind::Relu, In> {
  struct int8 : Int8Member {
    static constexpr Int8Role role = Int8Role::SameQuantization;
    static void forward(const Int8Call& call, const std::uint8_t* in, std::uint8_t* out,
                        std::size_t n) noexcept {
      const auto zero = std::uint8_t(call.in.zero_point);
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = 0; k < In::size; ++k)
          out[i * call.out_stride + k] = std::max(in[i * call.in_stride + k], zero);
    }
  };
};

template <ActivationKind Kind, std::size_t AlphaNum, std::size_t AlphaDen>
struct Activation {
  static_assert(AlphaDen > 0, "typenet: an activation's ratio A / B needs B > 0");
  static constexpr ActivationKind kind = Kind;
  static constexpr std::size_t alpha_num = AlphaNum, alpha_den = AlphaDen;
  // Elu's alpha or LeakyRelu's slope; unused by the others.
  static constexpr float alpha = float(double(AlphaNum) / double(AlphaDen));
  // Whether backward needs the activation's input rather than its output (see above).
  static constexpr bool needs_input = Kind == ActivationKind::Gelu || Kind == ActivationKind::Swish;

  // `count` values of `channels`-wide rows (softmax runs over the last axis, as Keras).
  static void forward(float* y, std::size_t count, std::size_t channels) noexcept {
    if constexpr (Kind == ActivationKind::Relu) kernels::relu_forward(y, count);
    if constexpr (Kind == ActivationKind::Sigmoid) kernels::sigmoid_forward(y, count);
    if constexpr (Kind == ActivationKind::Tanh) kernels::tanh_forward(y, count);
    if constexpr (Kind == ActivationKind::Softmax)
      kernels::softmax_forward(y, count / channels, channels);
    if constexpr (Kind == ActivationKind::Selu)
      kernels::elu_forward(y, count, selu_scale, selu_scale_alpha);
    if constexpr (Kind == ActivationKind::Elu) kernels::elu_forward(y, count, 1.0f, alpha);
    if constexpr (Kind == ActivationKind::LeakyRelu) kernels::leaky_relu_forward(y, count, alpha);
    if constexpr (Kind == ActivationKind::Gelu) kernels::gelu_forward(y, count);
    if constexpr (Kind == ActivationKind::Swish) kernels::swish_forward(y, count);
    if constexpr (Kind == ActivationKind::Softplus) kernels::softplus_forward(y, count);
  }
  // dy, the gradient w.r.t. the output, becomes the gradient w.r.t. the input. `from` is the
  // input when needs_input, the output otherwise.
  static void backward(const float* from, float* dy, std::size_t count,
                       std::size_t channels) noexcept {
    if constexpr (Kind == ActivationKind::Relu) kernels::relu_backward(from, dy, count);
    if constexpr (Kind == ActivationKind::Sigmoid) kernels::sigmoid_backward(from, dy, count);
    if constexpr (Kind == ActivationKind::Tanh) kernels::tanh_backward(from, dy, count);
    if constexpr (Kind == ActivationKind::Softmax)
      kernels::softmax_backward(from, dy, count / channels, channels);
    if constexpr (Kind == ActivationKind::Selu)
      kernels::elu_backward(from, dy, count, selu_scale, selu_scale_alpha);
    if constexpr (Kind == ActivationKind::Elu) kernels::elu_backward(from, dy, count, 1.0f, alpha);
    if constexpr (Kind == ActivationKind::LeakyRelu)
      kernels::leaky_relu_backward(from, dy, count, alpha);
    if constexpr (Kind == ActivationKind::Gelu) kernels::gelu_backward(from, dy, count);
    if constexpr (Kind == ActivationKind::Swish) kernels::swish_backward(from, dy, count);
    if constexpr (Kind == ActivationKind::Softplus) kernels::softplus_backward(from, dy, count);
  }

  // Its name in model files and summaries: "relu", "leaky_relu(3/10)", "elu(1/1)".
  static constexpr void write_name(FixedText& text) {
    text << to_string(Kind);
    if constexpr (has_parameter(Kind)) text << "(" << AlphaNum << "/" << AlphaDen << ")";
  }
  // Its tag as C++ spells it: "Relu", "LeakyRelu<3, 10>".
  static constexpr void write_cpp(FixedText& text) {
    text << cpp_name(Kind);
    if constexpr (has_parameter(Kind)) text << "<" << AlphaNum << ", " << AlphaDen << ">";
  }

  // Used as a layer: the identity, after which the Net applies the activation. Keras:
  // Activation, or the ReLU (plain), Softmax (last axis), LeakyReLU and ELU layers.
  template <class In>
  struct bind : IdentityLayer<In>, ActivationInt8<Kind, In> {
    using activation = Activation;
    static constexpr bool forward_is_copy = true;
    static void check_keras(const KerasConfig& config) {
      const KerasActivation found = keras_activation_layer(config);
      config.expect_activation("Activation", KerasActivation{Kind, alpha}, found);
    }
    static constexpr KerasMapping keras{activation_keras_classes, check_keras,
                                        detail::no_keras_weights};
    static constexpr LayerInfo info() {
      LayerInfo layer = layer_info<bind>("Activation", "Activation");
      layer.arguments << "(";
      write_name(layer.arguments);
      layer.arguments << ")";
      write_cpp(layer.cpp);
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
// Keras 'selu': scale 1.0507009873554805, alpha 1.6732632423543772.
struct Selu : detail::Activation<ActivationKind::Selu> {};
// x > 0 ? x : alpha * (exp(x) - 1) with alpha = A / B; Keras' 'elu' and ELU() are Elu<>.
template <std::size_t A = 1, std::size_t B = 1>
struct Elu : detail::Activation<ActivationKind::Elu, A, B> {};
// x > 0 ? x : slope * x with slope = A / B >= 0; the default is the LeakyReLU layer's 0.3
// (Keras 2 and 3); Keras 3's activation 'leaky_relu' is LeakyRelu<1, 5>.
template <std::size_t A = 3, std::size_t B = 10>
struct LeakyRelu : detail::Activation<ActivationKind::LeakyRelu, A, B> {};
// The exact GELU x * Phi(x) (Keras' approximate=False, its default).
struct Gelu : detail::Activation<ActivationKind::Gelu> {};
// x * sigmoid(x): Keras 'swish' and 'silu'.
struct Swish : detail::Activation<ActivationKind::Swish> {};
using Silu = Swish;
// log(1 + exp(x)), computed without overflow.
struct Softplus : detail::Activation<ActivationKind::Softplus> {};

template <class T>
concept HasActivationKind = requires {
  T::kind;
};
template <class T>
concept ActivationTag = HasActivationKind<T> && requires {
  static_cast<const detail::Activation<T::kind, T::alpha_num, T::alpha_den>*>(
      static_cast<const T*>(nullptr));
};

}  // namespace typenet
