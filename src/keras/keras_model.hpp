// A Keras model config (Keras 2 `model_config` attribute or Keras 3 `config.json`) reduced to
// what typenet can express. Private to src/keras.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "typenet/layer_info.hpp"

namespace typenet::keras_detail {

struct KerasLayer {
  std::string name;
  std::string class_name;  // as the file spells it ("Conv2D", "Convolution2D", ...)
  nlohmann::json config;   // the layer's config object, which its typenet layer checks
  std::optional<std::string> data_format;  // "channels_last" / "channels_first" when written
  // The input shape (without the batch) the file records for the layer: Keras 3's build_config.
  std::optional<Dims> built_input;
  // Where a Keras 3 .keras file keeps the layer's variables, below layers/: saving_lib names a
  // model's layers by class, not by layer name ("conv2d", "conv2d_1", "dense", ... in model order).
  std::string keras3_path;
  // A layer of a Sequential model nested in a functional one: that model's name. Keras 2 files
  // keep its layers' weights in the nested model's group, named "<layer>/kernel:0", ...
  std::string keras2_group;
  // Class Add of a functional model: the residual block it closes, the two paths from the
  // tensor where they fork to the Add, in order (the main branch is the longer one; the
  // shortcut is empty for an identity).
  std::vector<KerasLayer> main, shortcut;
};

struct KerasModel {
  std::vector<KerasLayer> layers;  // in order, without the InputLayer
  // The input shape without the batch dimension; nullopt entries are None (any size). Empty when
  // the config does not say.
  std::vector<std::optional<std::size_t>> input_shape;
};

// Parses the JSON text of a model config. Throws KerasError naming `source`: Corrupted for invalid
// JSON or missing keys, Unsupported for models typenet cannot express (a functional model that is
// not a chain). The layers' settings are checked later, each by its typenet layer.
// Layer i of `layers` is reported as "layer i+1", the index of its match in a Net's layer_infos
// (whose record 0 is the Input).
KerasModel parse_model_config(const std::string& json_text, const std::string& source);

// The layers with every block expanded, in the order of flat_layers (layer_info.hpp): a
// block's main branch, its shortcut, then the Add itself.
std::vector<const KerasLayer*> flat_layers(const KerasModel& model);

}  // namespace typenet::keras_detail
