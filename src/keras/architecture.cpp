#include "architecture.hpp"

#include <algorithm>
#include <iostream>
#include <optional>
#include <vector>

#include "json_config.hpp"
#include "keras_error.hpp"
#include "typenet/keras_mapping.hpp"
#include "typenet/layers/registry.hpp"

namespace typenet::keras_detail {

namespace {

// The input shape the Net expects, in the order the file writes it.
std::vector<std::size_t> expected_input_shape(const Dims& input, bool channels_first) {
  if (input.rank < 3) return {input.extent.begin(), input.extent.begin() + input.rank};
  const auto [h, w, c] = input.extent;
  return channels_first ? std::vector{c, h, w} : std::vector{h, w, c};
}

bool input_shape_matches(const std::vector<std::size_t>& expected,
                         const std::vector<std::optional<std::size_t>>& file) {
  // A 2-D Keras input (h, w) feeding Flatten is typenet's h x w x 1 image.
  if (file.size() == 2 && expected.size() == 3 && expected[2] == 1)
    return input_shape_matches({expected[0], expected[1]}, file);
  if (file.size() != expected.size()) return false;
  for (std::size_t i = 0; i < file.size(); ++i)
    if (file[i] && *file[i] != expected[i]) return false;
  return true;
}

std::string file_shape_text(const std::vector<std::optional<std::size_t>>& shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + (shape[i] ? std::to_string(*shape[i]) : std::string("None"));
  return text + (shape.size() == 1 ? ",)" : ")");
}

void check_block(const LayerInfo& net, const KerasLayer& file, const std::string& where,
                 const std::string& source, const std::string& note, bool channels_first);

// The Net's layer against the file's (named `where`): the class, then the layer's own check;
// a residual block, its branches.
void check_layer(const LayerInfo& net, const KerasLayer& file, const std::string& where,
                 const std::string& source, const std::string& note, bool channels_first) {
  if (net.is_block() || file.class_name == "Add")
    return check_block(net, file, where, source, note, channels_first);
  const JsonConfig config(file, where, source, note, channels_first, net.in);
  if (!has_keras_equivalent(file.class_name))
    config.unsupported("Keras layer class " + file.class_name + " has no typenet equivalent");
  if (!net.keras)
    config.mismatch("the Net's layer " + describe(net) + " has no Keras equivalent, file has " +
                    file.class_name);
  if (std::ranges::find(net.keras->classes, file.class_name) == net.keras->classes.end())
    config.mismatch("expected " + std::string(net.class_name) + ", file has " + file.class_name);
  net.keras->check(config);
}

// Keras layer classes, for telling a name Keras gave a layer of that class ("average_pooling2d_1")
// from a custom one. Those typenet reads come from the registry.
constexpr std::string_view other_keras_classes[] = {"Add",
                                                    "AveragePooling1D",
                                                    "AveragePooling2D",
                                                    "AveragePooling3D",
                                                    "BatchNormalization",
                                                    "Bidirectional",
                                                    "Concatenate",
                                                    "Conv1D",
                                                    "Conv2DTranspose",
                                                    "Conv3D",
                                                    "Cropping2D",
                                                    "DepthwiseConv2D",
                                                    "ELU",
                                                    "Embedding",
                                                    "GaussianNoise",
                                                    "GlobalAveragePooling1D",
                                                    "GlobalMaxPooling1D",
                                                    "GlobalMaxPooling2D",
                                                    "GRU",
                                                    "InputLayer",
                                                    "LayerNormalization",
                                                    "LeakyReLU",
                                                    "LSTM",
                                                    "MaxPooling1D",
                                                    "MaxPooling3D",
                                                    "Multiply",
                                                    "Normalization",
                                                    "Permute",
                                                    "PReLU",
                                                    "Rescaling",
                                                    "Reshape",
                                                    "SeparableConv2D",
                                                    "SimpleRNN",
                                                    "SpatialDropout2D",
                                                    "UpSampling2D",
                                                    "ZeroPadding2D"};

// The Keras class whose default layer name `name` is ("conv2d_3": Conv2D); null when it is none.
std::optional<std::string_view> class_named_by(std::string_view name) {
  std::string_view base = name;
  if (const std::size_t underscore = name.rfind('_');
      underscore != std::string_view::npos && underscore + 1 < name.size() &&
      name.find_first_not_of("0123456789", underscore + 1) == std::string_view::npos)
    base = name.substr(0, underscore);
  for (const KerasLayerClass& layer : keras_layer_classes)
    for (const std::string_view keras_class : layer.classes)
      if (snake_case(keras_class) == base) return keras_class;
  for (const std::string_view keras_class : other_keras_classes)
    if (snake_case(keras_class) == base) return keras_class;
  // Keras 2 names input layers "input_1", Keras 3 "input_layer".
  if (base == "input") return "InputLayer";
  return std::nullopt;
}

// A branch of a block against the file's path: the same layers, one by one.
void check_branch(std::span<const LayerInfo> net, const std::vector<KerasLayer>& file,
                  const JsonConfig& block, const std::string& where, std::string_view branch,
                  const std::string& source, bool channels_first) {
  const auto names = [&] {
    std::string text;
    for (const KerasLayer& layer : file) text += (text.empty() ? "" : ", ") + layer.name;
    return text.empty() ? std::string("the identity") : text;
  };
  if (net.size() != file.size())
    block.mismatch("expected a " + std::string(branch) + " of " + std::to_string(net.size()) +
                   (net.size() == 1 ? " layer" : " layers") + ", file has " +
                   std::to_string(file.size()) + " (" + names() + ")");
  for (std::size_t i = 0; i < net.size(); ++i)
    check_layer(net[i], file[i],
                where + " " + std::string(branch) + " layer " + std::to_string(i + 1) + " (" +
                    file[i].name + ")",
                source, "", channels_first);
}

void check_block(const LayerInfo& net, const KerasLayer& file, const std::string& where,
                 const std::string& source, const std::string& note, bool channels_first) {
  const JsonConfig config(file, where, source, note, channels_first, net.in);
  if (!net.is_block())
    config.mismatch("expected " + std::string(net.class_name) +
                    ", file has Add (a residual block)");
  if (file.class_name != "Add")
    config.mismatch("expected a residual block (Add), file has " + file.class_name);
  check_branch(net.main, file.main, config, where, "main branch", source, channels_first);
  check_branch(net.shortcut, file.shortcut, config, where, "shortcut", source, channels_first);
}

}  // namespace

void check_layer_names(std::span<const LayerInfo> net, std::span<const std::string> names,
                       const std::string& source) {
  // A functional model lists its InputLayer; the Net's Input is record 0.
  if (!names.empty() && class_named_by(names[0]) == "InputLayer") names = names.subspan(1);
  std::vector<std::string> custom;
  for (std::size_t i = 0; i < std::min(net.size() - 1, names.size()); ++i) {
    const LayerInfo& layer = net[i + 1];
    const std::optional<std::string_view> named = class_named_by(names[i]);
    if (!named) {
      custom.push_back(names[i]);
      continue;
    }
    if (layer.keras &&
        std::ranges::find(layer.keras->classes, *named) != layer.keras->classes.end())
      continue;
    fail(KerasProblem::ArchitectureMismatch, source,
         "layer " + std::to_string(i + 1) + " (" + names[i] + "): expected " +
             std::string(layer.class_name) + ", the file's layer has the name Keras gives " +
             std::string(*named) + " layers");
  }
  if (!custom.empty()) {
    std::string list;
    for (const std::string& name : custom) list += (list.empty() ? "" : ", ") + name;
    std::clog << "typenet: warning: " << source << ": the layer names " << list
              << " do not say their layer's class; only the order and shapes of the weighted "
                 "layers are checked\n";
  }
}

bool model_channels_first(const KerasModel& model, bool option, const std::string& source) {
  const KerasLayer* first_said = nullptr;
  std::size_t first_said_index = 0;
  const std::vector<const KerasLayer*> every_layer = flat_layers(model);
  for (std::size_t i = 0; i < every_layer.size(); ++i) {
    const KerasLayer& layer = *every_layer[i];
    // Flatten's data_format says in which order a channels-first model flattened: the loader
    // reorders the next layer's rows for it (see load.cpp).
    if (layer.class_name == "Flatten" || !layer.data_format) continue;
    const std::string where = "layer " + std::to_string(i + 1) + " (" + layer.name + "): ";
    if (*layer.data_format != "channels_first" && *layer.data_format != "channels_last")
      fail(KerasProblem::Corrupted, source,
           where + "expected 'data_format' channels_last or channels_first, file has " +
               *layer.data_format);
    if (!first_said) first_said = &layer, first_said_index = i;
    if (*layer.data_format != *first_said->data_format)
      fail(KerasProblem::Unsupported, source,
           where + "the layer is " + *layer.data_format + ", layer " + first_said->name + " is " +
               *first_said->data_format + "; a typenet Net has one data format");
  }
  if (!first_said) return option;
  const bool file_channels_first = *first_said->data_format == "channels_first";
  // The option is for old files that do not say; one that contradicts the file is a mistake.
  if (option && !file_channels_first)
    fail(KerasProblem::ArchitectureMismatch, source,
         "layer " + std::to_string(first_said_index + 1) + " (" + first_said->name +
             "): KerasOptions::channels_first is set but the file's layer is " +
             *first_said->data_format);
  return file_channels_first;
}

void check_architecture(std::span<const LayerInfo> net, const KerasModel& model,
                        bool channels_first, const std::string& source) {
  if (!model.input_shape.empty()) {
    const std::vector<std::size_t> expected = expected_input_shape(net[0].out, channels_first);
    if (!input_shape_matches(expected, model.input_shape))
      fail(KerasProblem::ArchitectureMismatch, source,
           "input: expected shape " + shape_text(expected) +
               (channels_first ? " (channels first)" : "") + ", file has " +
               file_shape_text(model.input_shape));
  }

  const std::size_t net_layers = net.size() - 1, file_layers = model.layers.size();
  const std::string counts = "expected " + std::to_string(net_layers) +
                             " layers after the input, file has " + std::to_string(file_layers);
  // A missing or extra layer shows first as a mismatch of the layers after it: say so.
  const std::string note = net_layers == file_layers ? "" : " (" + counts + ")";
  for (std::size_t i = 0; i < std::min(net_layers, file_layers); ++i)
    check_layer(net[i + 1], model.layers[i],
                "layer " + std::to_string(i + 1) + " (" + model.layers[i].name + ")", source, note,
                channels_first);
  if (net_layers < file_layers) {
    const KerasLayer& extra = model.layers[net_layers];
    fail(KerasProblem::ArchitectureMismatch, source,
         counts + ": layer " + std::to_string(net_layers + 1) + " (" + extra.name + ", " +
             extra.class_name + ") is not in the Net");
  }
  if (net_layers > file_layers)
    fail(KerasProblem::ArchitectureMismatch, source,
         counts + ": the Net's layer " + std::to_string(file_layers + 1) + " (" +
             std::string(net[file_layers + 1].class_name) + ") is not in the file");
}

std::span<const KerasWeight> expected_weights(const LayerInfo& net, const KerasLayer& file,
                                              std::size_t index, const std::string& source,
                                              bool channels_first) {
  const JsonConfig config(file, index, source, "", channels_first, net.in);
  return net.keras->weights(&config);
}

}  // namespace typenet::keras_detail
