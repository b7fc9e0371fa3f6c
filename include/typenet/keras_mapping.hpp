// How a layer maps to Keras, told by the layer itself (one creator per layer, as frugally-deep):
// the Keras class names it reads, the check of a file's layer config against the bound layer,
// its weight arrays in Keras' order and layout, and (KerasLayerClass) how export-cpp spells a
// file's layer as that typenet layer. The Keras loader (typenet-keras) only walks
// the layers and calls these; it knows no layer kind. This header needs no JSON or HDF5: the
// loader shows a config through the KerasConfig interface.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "typenet/layer_info.hpp"

namespace typenet {

// An activation as a Keras file gives it: its kind and, for elu and leaky_relu, its parameter
// as Keras computes with it (float32 of the file's value); 0 for the others.
struct KerasActivation {
  ActivationKind kind = ActivationKind::Linear;
  float alpha = 0.0f;
  constexpr bool operator==(const KerasActivation&) const = default;
};
// The parameter an activation string implies: Keras 3's 'leaky_relu' has slope 0.2, 'elu' alpha 1.
constexpr float keras_string_alpha(ActivationKind kind) {
  if (kind == ActivationKind::LeakyRelu) return float(0.2);
  if (kind == ActivationKind::Elu) return 1.0f;
  return 0.0f;
}

// A ratio of integers: how typenet's template arguments spell a Keras float setting.
struct Ratio {
  std::int64_t num = 0;
  std::uint64_t den = 1;
};
// The first convergent p/q of `value`'s continued fraction with float(double(p) / double(q)) ==
// float(value): the smallest integers that give the float Keras computes with (1/255 for
// 0.00392156862745098). nullopt when there is none with q and |p| below 2^31 (not finite, or
// too large or small).
std::optional<Ratio> float_ratio(double value);

// One layer's config in a Keras model file, as the loader shows it to the layer's mapping.
// Complaints are prefixed with the layer ("layer 3 (conv2d_1): ") and thrown as KerasError.
class KerasConfig {
 public:
  // The file's layer is not the Net's (ArchitectureMismatch).
  [[noreturn]] virtual void mismatch(const std::string& detail) const = 0;
  // The file's layer has a setting typenet cannot express (Unsupported).
  [[noreturn]] virtual void unsupported(const std::string& detail) const = 0;
  // A value of the wrong type or range (Corrupted).
  [[noreturn]] virtual void corrupted(const std::string& detail) const = 0;

  virtual std::string_view class_name() const = 0;
  // Whether the model keeps channels first (its images (c, h, w)): a layer's axis settings then
  // count the channel axis as 1.
  virtual bool channels_first() const = 0;
  // A value of the config; nullopt when absent or null. A value of another type is corrupted().
  virtual std::optional<double> number(std::string_view key) const = 0;
  virtual std::optional<std::string> text(std::string_view key) const = 0;
  virtual std::optional<bool> boolean(std::string_view key) const = 0;
  // A positive integer ("units"), or Keras' window sizes: an int or a list of two ints.
  virtual std::optional<std::size_t> positive(std::string_view key) const = 0;
  virtual std::optional<std::array<std::size_t, 2>> size_pair(std::string_view key) const = 0;
  // A list of integers (Reshape's target_shape, where -1 stands for the rest).
  virtual std::optional<std::vector<std::int64_t>> integers(std::string_view key) const = 0;
  // The shape of the layer's input: what a setting relative to it (a -1 in a target shape)
  // resolves against. The loader gives the Net's layer's; export-cpp the one the file records
  // (Keras 3's build_config), or nullopt.
  virtual std::optional<Dims> input_dims() const = 0;
  // The value as JSON text, for messages ("[2, 2]"); "null" when absent.
  virtual std::string json(std::string_view key) const = 0;

  // Helpers the mappings share. Each complains "expected <what> <expected><unit>, file has
  // <found>" through mismatch() unless the file agrees.
  void expect(std::string_view what, std::size_t expected, std::size_t found,
              std::string_view unit = "") const;
  void expect(std::string_view what, std::string_view expected, std::string_view found) const;
  // The "activation" setting (default linear); unsupported() when typenet has no such one.
  // Its parameter, if any, is keras_string_alpha(kind).
  ActivationKind activation() const;
  KerasActivation keras_activation() const {
    const ActivationKind kind = activation();
    return {kind, keras_string_alpha(kind)};
  }
  // The "padding" setting (default valid); unsupported() unless valid or same.
  PaddingKind padding() const;
  // The "activation" setting against an activation without a parameter, or with one.
  void expect_activation(std::string_view what, ActivationKind expected) const;
  void expect_activation(std::string_view what, KerasActivation expected) const;
  // Two activations: mismatch() unless equal, naming both with their parameters.
  void expect_activation(std::string_view what, KerasActivation expected,
                         KerasActivation found) const;
  void expect_padding(std::string_view what, PaddingKind expected) const;
  // A square window and stride, against `window_key` ("kernel_size", "pool_size") and "strides".
  void expect_window(std::string_view what, std::string_view window_what, std::size_t window,
                     std::size_t stride, std::array<std::size_t, 2> found_window,
                     std::array<std::size_t, 2> found_stride) const;
  // A positive integer the config must have; corrupted() when it has none.
  std::size_t required_positive(std::string_view key) const;
  // "use_bias", true when absent.
  bool use_bias() const;
  // A square window or stride at `key` (default `fallback` when absent); unsupported() when it
  // is not square.
  std::size_t square(std::string_view key, std::size_t fallback) const;

 protected:
  ~KerasConfig() = default;
};

// One weight array of a layer, in Keras' layout: the loader copies it as is.
struct KerasWeight {
  std::string_view name;               // Keras' variable name: "kernel", "bias"
  std::array<std::size_t, 4> shape{};  // Keras' shape: `rank` extents
  std::size_t rank = 0;
  std::size_t offset = 0;  // where it starts in the layer's parameters
  // May be absent from a file whose config is unknown (weights-only): then it is `fill`, as
  // Keras' use_bias = False.
  bool optional = false;
  // Its value wherever a file lacks it (a config without it, or an optional array): what Keras
  // computes with instead (a missing bias is 0, BatchNormalization's missing gamma 1).
  float fill = 0.0f;

  constexpr std::size_t size() const {
    std::size_t count = 1;
    for (std::size_t i = 0; i < rank; ++i) count *= shape[i];
    return count;
  }
};

struct KerasMapping {
  // The Keras classes read as this layer (aliases of old Keras versions included).
  std::span<const std::string_view> classes;
  // Complains through `config` unless the file's layer (of one of `classes`) is this layer.
  void (*check)(const KerasConfig& config);
  // The weight arrays in the order Keras stores them: with a config, those the file must have;
  // without one (weights-only files), all that may appear.
  std::span<const KerasWeight> (*weights)(const KerasConfig* config);
  // The layer flattens an image. Keras models built channels-first flattened it in (c, h, w)
  // order: the loader then reorders the rows of the next layer's first weight.
  bool flattens_image = false;
};

// How export-cpp writes a Keras layer as a typenet layer: each layer header defines one beside
// its bound type's KerasMapping, and layers/registry.hpp lists them all.
struct KerasLayerClass {
  // The Keras classes the layer reads (the same list as its KerasMapping's).
  std::span<const std::string_view> classes;
  // The C++ spelling of the file's layer (of one of `classes`) as the typenet layer, e.g.
  // "Conv<32, 3, Relu, Same>"; a setting typenet cannot express goes to config.unsupported().
  std::string (*cpp_type)(const KerasConfig& config);
};

// An activation's typenet tag as C++ spells it: "Relu", "Softmax", ...; for elu and leaky_relu
// with the parameter of Keras' activation string: "Elu<1, 1>", "LeakyRelu<1, 5>".
std::string_view cpp_tag(ActivationKind kind);
// The tag of an activation with its parameter, "LeakyRelu<3, 10>"; unsupported() through
// `config` when the parameter is not a ratio typenet can spell.
std::string cpp_tag(const KerasConfig& config, KerasActivation activation);
// The option list of a layer whose "activation" setting becomes a tag: ", Relu", or "" for
// linear.
std::string activation_option(const KerasConfig& config);

namespace detail {
inline void no_keras_settings(const KerasConfig&) {}
inline std::span<const KerasWeight> no_keras_weights(const KerasConfig*) { return {}; }
}  // namespace detail

// The kernel (Keras shape `KernelShape...`) and the bias (`Units`) of Dense and Conv2D, stored
// kernel first; the bias is absent when the config says use_bias = False.
template <std::size_t Units, std::size_t... KernelShape>
std::span<const KerasWeight> kernel_and_bias(const KerasConfig* config) {
  static constexpr std::size_t kernel_size = (KernelShape * ...);
  static constexpr std::array<KerasWeight, 2> weights{
      KerasWeight{.name = "kernel", .shape = {KernelShape...}, .rank = sizeof...(KernelShape)},
      KerasWeight{
          .name = "bias", .shape = {Units}, .rank = 1, .offset = kernel_size, .optional = true}};
  if (config && !config->use_bias()) return std::span(weights).first(1);
  return weights;
}

}  // namespace typenet
