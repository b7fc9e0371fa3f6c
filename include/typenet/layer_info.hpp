// A run-time description of one layer of a Net, produced at compile time by the layer itself
// (its bound type's `info()`) and collected by `Net::layer_infos`.
//
// It is the bridge between the type-level architecture and the code that does not need to be a
// template: summaries, model files, Keras import/export and plots read these records (and the
// flat parameter block they index into) instead of the layer types. Nothing here knows the
// layer kinds: each record carries its layer's own words (type, arguments, Keras class) and, for
// layers with a Keras equivalent, the layer's own Keras mapping (keras_mapping.hpp).
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace typenet {

enum class ActivationKind {
  Linear,
  Relu,
  Sigmoid,
  Tanh,
  Softmax,
  Selu,
  Elu,
  LeakyRelu,
  Gelu,
  Swish,
  Softplus
};
enum class PaddingKind { Valid, Same };

// A tensor shape: rank 1 {n}, rank 2 {steps, features} or rank 3 {h, w, c} (channels last, as
// Keras).
struct Dims {
  std::size_t rank = 1;
  std::array<std::size_t, 3> extent{};  // the first `rank` are used
  constexpr std::size_t size() const {
    std::size_t count = 1;
    for (std::size_t i = 0; i < rank; ++i) count *= extent[i];
    return count;
  }
  constexpr bool operator==(const Dims&) const = default;
};

// Short text assembled at compile time, e.g. a layer's arguments "(32,k3,s1,valid,relu)" or its
// C++ spelling "Conv<32, 3, LeakyRelu<3, 10>, Same, Stride<2>>".
class FixedText {
 public:
  static constexpr std::size_t capacity = 128;

  constexpr FixedText() = default;
  constexpr FixedText& operator<<(std::string_view text) {
    for (const char c : text) push(c);
    return *this;
  }
  constexpr FixedText& operator<<(std::size_t value) {
    char digits[20]{};
    std::size_t count = 0;
    do {
      digits[count++] = char('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (count > 0) push(digits[--count]);
    return *this;
  }
  constexpr std::string_view view() const { return {chars_.data(), size_}; }

 private:
  constexpr void push(char c) {
    // Not a constant expression when it overflows: the layer's info() then fails to compile.
    if (size_ == capacity) throw "typenet: a layer's FixedText is longer than its capacity";
    chars_[size_++] = c;
  }
  std::array<char, capacity> chars_{};
  std::size_t size_ = 0;
};

struct KerasMapping;  // keras_mapping.hpp

struct LayerInfo {
  std::string_view type;  // typenet's name of the layer: "Conv", "Dense", "Input", ...
  FixedText arguments;    // its settings, as model files record them: "(32,k3,s1,valid,relu)"
  // The layer's C++ type as a user writes it, unqualified: "Conv<16, 5, Relu, Same>",
  // "Input<28, 28, 1>". It names the very type of the Net's layer (option tags as given, in
  // their order; defaulted template arguments left out). Empty for a residual block, which
  // cpp_type spells from its branches, and for a layer of the user's own that does not write it.
  FixedText cpp;
  std::string_view class_name;  // as Keras' summary shows it: Keras' class name where there is one
  Dims in, out;
  std::size_t param_offset = 0;  // into the Net's flat parameter block
  std::size_t param_count = 0;
  // Of param_count, those Keras' summary counts as non-trainable (BatchNormalization's moving
  // statistics).
  std::size_t non_trainable_count = 0;
  const KerasMapping* keras = nullptr;  // how it reads and writes Keras files; null: no equivalent
  // A residual block's branches (layers/residual.hpp): the records of its inner layers, their
  // param_offset relative to the block's. Empty for other layers, and for an identity shortcut.
  std::span<const LayerInfo> main, shortcut;

  constexpr bool is_block() const { return !main.empty(); }
};

// What code outside the Net needs of a network (save/load, Keras files, tools): its layer
// records, known at compile time, and one flat block of parameters.
template <class N>
concept NetLike = requires(N& net, const N& const_net) {
  requires std::same_as<std::ranges::range_value_t<decltype(N::layer_infos)>, LayerInfo>;
  { net.parameters() } -> std::same_as<std::span<float>>;
  { const_net.parameters() } -> std::same_as<std::span<const float>>;
};

constexpr std::string_view to_string(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::Linear: return "linear";
    case ActivationKind::Relu: return "relu";
    case ActivationKind::Sigmoid: return "sigmoid";
    case ActivationKind::Tanh: return "tanh";
    case ActivationKind::Softmax: return "softmax";
    case ActivationKind::Selu: return "selu";
    case ActivationKind::Elu: return "elu";
    case ActivationKind::LeakyRelu: return "leaky_relu";
    case ActivationKind::Gelu: return "gelu";
    case ActivationKind::Swish: return "swish";
    case ActivationKind::Softplus: return "softplus";
  }
  return "?";
}
// Whether the kind has a parameter: Elu's alpha, LeakyRelu's slope.
constexpr bool has_parameter(ActivationKind kind) {
  return kind == ActivationKind::Elu || kind == ActivationKind::LeakyRelu;
}
// The activation's tag as C++ names it: "Relu", "LeakyRelu" (a template: LeakyRelu<A, B>).
constexpr std::string_view cpp_name(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::Linear: return "Linear";
    case ActivationKind::Relu: return "Relu";
    case ActivationKind::Sigmoid: return "Sigmoid";
    case ActivationKind::Tanh: return "Tanh";
    case ActivationKind::Softmax: return "Softmax";
    case ActivationKind::Selu: return "Selu";
    case ActivationKind::Elu: return "Elu";
    case ActivationKind::LeakyRelu: return "LeakyRelu";
    case ActivationKind::Gelu: return "Gelu";
    case ActivationKind::Swish: return "Swish";
    case ActivationKind::Softplus: return "Softplus";
  }
  return "?";
}
constexpr std::string_view to_string(PaddingKind kind) {
  return kind == PaddingKind::Same ? "same" : "valid";
}
// "26x26x32", "28x28" or "128".
std::string to_string(const Dims& dims);
// The extents as template arguments, "28, 28, 1": Input's and Reshape's spelling.
constexpr void write_cpp_extents(FixedText& text, const Dims& dims) {
  for (std::size_t i = 0; i < dims.rank; ++i) {
    if (i > 0) text << ", ";
    text << dims.extent[i];
  }
}
// A layer's trailing option tags as the user gave them, each after ", " (", Relu, Same"): each
// tag spells itself with `static constexpr void write_cpp(FixedText&)`.
template <class... Options>
constexpr void write_cpp_options(FixedText& text) {
  ((text << ", ", Options::write_cpp(text)), ...);
}
// A canonical one-line description, e.g. "Conv(32,k3,s1,valid,relu) 28x28x1->26x26x32": what
// model files store and compare.
std::string describe(const LayerInfo& layer);
// The records with every block expanded, as Keras lists a functional model's layers: the Input,
// then for a block its main branch's layers, its shortcut's, and the block's own record as the
// layer that adds them (Keras' Add: no parameters, no branches); param offsets absolute.
std::vector<LayerInfo> flat_layers(std::span<const LayerInfo> layers);
// Keras' to_snake_case of a class name: "Conv2D" -> "conv2d", "MaxPooling2D" -> "max_pooling2d",
// "ReLU" -> "re_lu". Keras names layers and their saved variables after it.
std::string snake_case(std::string_view class_name);
// Keras' names for a Sequential model's layers: "conv2d", "conv2d_1", "dense", ...
std::string keras_layer_name(std::span<const LayerInfo> layers, std::size_t index);
// The Net's C++ type, every name qualified so that it compiles at global scope after
// #include <typenet/typenet.hpp>: "typenet::Net<typenet::Input<28, 28, 1>,
// typenet::Conv<32, 3, typenet::Relu>, ...>" (a block as Residual<Main<...>, Shortcut<...>>).
// Empty when a layer does not spell itself (LayerInfo::cpp).
std::string cpp_type(std::span<const LayerInfo> layers);
// Every name of a spelling qualified, for a header that uses it at global scope: "Conv<32, 3,
// Relu>" -> "typenet::Conv<32, 3, typenet::Relu>". A name starts with a letter; numbers ("-1")
// stay as they are.
std::string qualified_cpp(std::string_view spelling);
// The Keras model.summary() table of a Net's layers (Input first, not printed, as Keras; blocks
// expanded as flat_layers does).
std::string summary_table(std::span<const LayerInfo> layers);

}  // namespace typenet
