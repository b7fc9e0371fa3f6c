// A Keras model config (Keras 2 `model_config` attribute or Keras 3 `config.json`) reduced to
// what typenet can express. Private to src/keras.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "typenet/layer_info.hpp"

namespace typenet::keras_detail {

struct KerasLayer {
  std::string name;
  std::string class_name;  // as the file spells it ("Conv2D", "Convolution2D", ...)
  LayerKind kind = LayerKind::Dense;
  ActivationKind activation = ActivationKind::Linear;
  PaddingKind padding = PaddingKind::Valid;
  std::size_t units = 0;                  // Dense units, Conv2D filters
  std::array<std::size_t, 2> kernel{};    // Conv2D kernel or pool size, (h, w)
  std::array<std::size_t, 2> stride{};    // (h, w)
  double dropout_rate = 0;
  bool use_bias = true;
  std::optional<std::string> data_format;  // "channels_last" / "channels_first" when written
  // Where a Keras 3 .keras file keeps the layer's variables, below layers/: saving_lib names a
  // model's layers by class, not by layer name ("conv2d", "conv2d_1", "dense", ... in model order).
  std::string keras3_path;
};

struct KerasModel {
  std::vector<KerasLayer> layers;  // in order, without the InputLayer
  // The input shape without the batch dimension; nullopt entries are None (any size). Empty when
  // the config does not say.
  std::vector<std::optional<std::size_t>> input_shape;
};

// Keras' to_snake_case of a class name: "Conv2D" -> "conv2d", "MaxPooling2D" -> "max_pooling2d",
// "ReLU" -> "re_lu". Keras names layers and their saved variables after it.
std::string snake_case(std::string_view class_name);


// Parses the JSON text of a model config. Throws KerasError naming `source`: Corrupted for invalid
// JSON or missing keys, Unsupported for layers and models typenet cannot express (a layer class
// with no typenet equivalent, dilation, a functional model that is not a chain).
// Layer i of `layers` is reported as "layer i+1", the index of its match in a Net's layer_infos
// (whose record 0 is the Input).
KerasModel parse_model_config(const std::string& json_text, const std::string& source);

}  // namespace typenet::keras_detail
