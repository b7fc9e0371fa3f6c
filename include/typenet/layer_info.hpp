// A run-time description of one layer of a Net, produced at compile time by `Net::layers()`.
//
// It is the bridge between the type-level architecture and the code that does not need to be a
// template: summaries, model files, Keras import/export and plots all read these records (and
// the flat parameter block they index into) instead of the layer types.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace typenet {

enum class LayerKind { Input, Dense, Conv, MaxPool, GlobalAvgPool, Flatten, Dropout, Activation };
enum class ActivationKind { Linear, Relu, Sigmoid, Tanh, Softmax };
enum class PaddingKind { Valid, Same };

// A tensor shape: rank 1 {n} or rank 3 {h, w, c} (channels last, as Keras).
struct Dims {
  std::size_t rank = 1;
  std::array<std::size_t, 3> extent{};  // rank 1 uses extent[0]
  constexpr std::size_t size() const {
    return rank == 1 ? extent[0] : extent[0] * extent[1] * extent[2];
  }
  constexpr bool operator==(const Dims&) const = default;
};

struct LayerInfo {
  LayerKind kind = LayerKind::Input;
  ActivationKind activation = ActivationKind::Linear;  // fused or stand-alone activation
  PaddingKind padding = PaddingKind::Valid;
  std::size_t units = 0;    // Dense units or Conv filters
  std::size_t kernel = 0;   // Conv kernel size or pool size
  std::size_t stride = 1;   // Conv or pool stride
  std::size_t dropout_percent = 0;
  Dims in, out;
  std::size_t param_offset = 0;  // into the Net's flat parameter block
  std::size_t param_count = 0;   // Dense: kernel (in, out) then bias; Conv: kernel (kh, kw, cin, cout) then bias
};

std::string_view to_string(LayerKind kind);
std::string_view to_string(ActivationKind kind);
std::string_view to_string(PaddingKind kind);
// "26x26x32" or "128".
std::string to_string(const Dims& dims);
// A canonical one-line description, e.g. "Conv(32,k3,s1,valid,relu) 28x28x1->26x26x32".
std::string describe(const LayerInfo& layer);
// Keras' names for a Sequential model's layers: "conv2d", "conv2d_1", "dense", ...
std::string keras_layer_name(std::span<const LayerInfo> layers, std::size_t index);
// Keras' class name: "Conv2D", "MaxPooling2D", "Dense", ...
std::string_view keras_class_name(LayerKind kind);
// The Keras model.summary() table of a Net's layers (Input first, not printed, as Keras).
std::string summary_table(std::span<const LayerInfo> layers);

}  // namespace typenet
