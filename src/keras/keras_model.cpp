#include "keras_model.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <map>
#include <set>

#include "keras_error.hpp"

namespace typenet::keras_detail {

namespace {

using Json = nlohmann::json;

// Reads one layer's config; every complaint names the layer ("layer 3 (conv2d_1)").
class LayerReader {
 public:
  LayerReader(const Json& config, std::string where, const std::string& source)
      : config_(config), where_(std::move(where)), source_(source) {}

  [[noreturn]] void corrupted(const std::string& detail) const {
    fail(KerasProblem::Corrupted, source_, where_ + ": " + detail);
  }
  [[noreturn]] void unsupported(const std::string& detail) const {
    fail(KerasProblem::Unsupported, source_, where_ + ": " + detail);
  }

  const Json* find(const char* key) const {
    const auto it = config_.find(key);
    return it == config_.end() || it->is_null() ? nullptr : &*it;
  }

  std::size_t positive(const Json& value, const char* key) const {
    if (!value.is_number_integer() || value.get<std::int64_t>() <= 0)
      corrupted(std::string("expected '") + key + "' to be a positive integer, file has " +
                value.dump());
    return value.get<std::size_t>();
  }
  std::size_t positive(const char* key) const {
    const Json* value = find(key);
    if (!value) corrupted(std::string("config has no '") + key + "'");
    return positive(*value, key);
  }

  // Keras writes sizes as an int or a list of two ints; nullopt when absent or null.
  std::optional<std::array<std::size_t, 2>> pair(const char* key) const {
    const Json* value = find(key);
    if (!value) return std::nullopt;
    if (value->is_array()) {
      if (value->size() != 2)
        unsupported(std::string("'") + key + "' is " + value->dump() +
                    "; typenet layers are two-dimensional");
      return std::array{positive((*value)[0], key), positive((*value)[1], key)};
    }
    const std::size_t size = positive(*value, key);
    return std::array{size, size};
  }

  std::string text(const char* key, const char* fallback) const {
    const Json* value = find(key);
    if (!value) return fallback;
    if (!value->is_string())
      corrupted(std::string("expected '") + key + "' to be a string, file has " + value->dump());
    return value->get<std::string>();
  }

  PaddingKind padding() const {
    const std::string padding = text("padding", "valid");
    if (padding == "valid") return PaddingKind::Valid;
    if (padding == "same") return PaddingKind::Same;
    unsupported("padding '" + padding + "' has no typenet equivalent (valid or same)");
  }

  ActivationKind activation() const {
    const std::string name = text("activation", "linear");
    for (ActivationKind kind : {ActivationKind::Linear, ActivationKind::Relu,
                                ActivationKind::Sigmoid, ActivationKind::Tanh,
                                ActivationKind::Softmax})
      if (name == to_string(kind)) return kind;
    unsupported("activation '" + name + "' has no typenet equivalent");
  }

  void require_unit_dilation() const {
    const auto dilation = pair("dilation_rate");
    if (dilation && (*dilation)[0] * (*dilation)[1] != 1)
      unsupported("dilated convolution (dilation_rate " + find("dilation_rate")->dump() +
                  ") has no typenet equivalent");
    if (const Json* groups = find("groups"); groups && *groups != 1)
      unsupported("grouped convolution (groups " + groups->dump() + ") has no typenet equivalent");
  }

  bool use_bias() const {
    const Json* value = find("use_bias");
    if (value && !value->is_boolean()) corrupted("expected 'use_bias' to be true or false");
    return !value || value->get<bool>();
  }

  std::optional<std::string> data_format() const {
    if (!find("data_format")) return std::nullopt;
    return text("data_format", "");
  }

  // A ReLU layer with the defaults is typenet's Relu; a capped or leaky one is not.
  void require_plain_relu() const {
    for (const char* key : {"max_value", "negative_slope", "threshold"})
      if (const Json* value = find(key); value && !(value->is_number() && *value == 0))
        unsupported(std::string("ReLU with ") + key + " " + value->dump() +
                    " has no typenet equivalent");
  }

 private:
  const Json& config_;
  std::string where_;
  const std::string& source_;
};

KerasLayer parse_layer(const Json& entry, std::size_t net_index, const std::string& source) {
  KerasLayer layer;
  if (!entry.is_object() || !entry.contains("class_name") || !entry["class_name"].is_string() ||
      !entry.contains("config") || !entry["config"].is_object())
    fail(KerasProblem::Corrupted, source,
         "layer " + std::to_string(net_index) +
             ": expected an object with 'class_name' and 'config'");
  layer.class_name = entry["class_name"].get<std::string>();
  const Json& config = entry["config"];
  if (const auto name = config.find("name"); name != config.end() && name->is_string())
    layer.name = name->get<std::string>();
  const LayerReader read(config,
                         "layer " + std::to_string(net_index) + " (" + layer.name + ")", source);
  const std::string& type = layer.class_name;

  if (type == "Dense") {
    layer.kind = LayerKind::Dense;
    layer.units = read.positive("units");
    layer.activation = read.activation();
    layer.use_bias = read.use_bias();
  } else if (type == "Conv2D" || type == "Convolution2D") {
    layer.kind = LayerKind::Conv;
    layer.units = read.positive("filters");
    const auto kernel = read.pair("kernel_size");
    if (!kernel) read.corrupted("config has no 'kernel_size'");
    layer.kernel = *kernel;
    layer.stride = read.pair("strides").value_or(std::array<std::size_t, 2>{1, 1});
    layer.padding = read.padding();
    layer.activation = read.activation();
    layer.use_bias = read.use_bias();
    layer.data_format = read.data_format();
    read.require_unit_dilation();
  } else if (type == "MaxPooling2D" || type == "MaxPool2D") {
    layer.kind = LayerKind::MaxPool;
    layer.kernel = read.pair("pool_size").value_or(std::array<std::size_t, 2>{2, 2});
    layer.stride = read.pair("strides").value_or(layer.kernel);  // null strides = pool size
    layer.padding = read.padding();
    layer.data_format = read.data_format();
  } else if (type == "GlobalAveragePooling2D" || type == "GlobalAvgPool2D") {
    layer.kind = LayerKind::GlobalAvgPool;
    layer.data_format = read.data_format();
    if (const Json* keepdims = read.find("keepdims"); keepdims && *keepdims == true)
      read.unsupported("GlobalAveragePooling2D with keepdims has no typenet equivalent");
  } else if (type == "Flatten") {
    layer.kind = LayerKind::Flatten;
    layer.data_format = read.data_format();
  } else if (type == "Dropout") {
    layer.kind = LayerKind::Dropout;
    const Json* rate = read.find("rate");
    if (!rate || !rate->is_number() || *rate < 0 || *rate >= 1)
      read.corrupted("expected 'rate' to be a number in [0, 1)");
    layer.dropout_rate = rate->get<double>();
  } else if (type == "Activation") {
    layer.kind = LayerKind::Activation;
    layer.activation = read.activation();
  } else if (type == "ReLU") {
    layer.kind = LayerKind::Activation;
    layer.activation = ActivationKind::Relu;
    read.require_plain_relu();
  } else if (type == "Softmax") {
    layer.kind = LayerKind::Activation;
    layer.activation = ActivationKind::Softmax;
    if (const Json* axis = read.find("axis"); axis && *axis != -1)
      read.unsupported("Softmax over axis " + axis->dump() + " has no typenet equivalent");
  } else {
    read.unsupported("Keras layer class " + type + " has no typenet equivalent");
  }
  return layer;
}

// Where a functional model's layer takes its inputs from: the layer names in its inbound nodes,
// Keras 2 style ([["dense", 0, 0, {}]]) or Keras 3 style ({"keras_history": ["dense", 0, 0]}).
void collect_inbound_names(const Json& value, std::set<std::string>& names, int depth) {
  if (depth > 32) return;  // real configs nest a few levels; bounded against hostile ones
  if (value.is_object()) {
    if (const auto history = value.find("keras_history");
        history != value.end() && history->is_array() && !history->empty() &&
        (*history)[0].is_string())
      names.insert((*history)[0].get<std::string>());
    for (const Json& child : value) collect_inbound_names(child, names, depth + 1);
  } else if (value.is_array()) {
    if (value.size() >= 3 && value[0].is_string() && value[1].is_number_integer())
      names.insert(value[0].get<std::string>());
    else
      for (const Json& child : value) collect_inbound_names(child, names, depth + 1);
  }
}

// typenet nets are chains: each layer of a functional model must take the previous one's output.
void require_chain(const Json& layers, const std::string& source) {
  for (std::size_t i = 1; i < layers.size(); ++i) {
    const Json& config = layers[i]["config"];
    const std::string name = config.value("name", std::string());
    const std::string previous = layers[i - 1]["config"].value("name", std::string());
    std::set<std::string> inbound;
    if (const auto nodes = layers[i].find("inbound_nodes"); nodes != layers[i].end())
      collect_inbound_names(*nodes, inbound, 0);
    if (inbound != std::set<std::string>{previous})
      fail(KerasProblem::Unsupported, source,
           "layer " + std::to_string(i) + " (" + name + ") does not take the output of '" +
               previous + "' alone; typenet nets are a chain of layers");
  }
}

std::vector<std::optional<std::size_t>> shape_without_batch(const Json& shape,
                                                            const std::string& source) {
  if (!shape.is_array() || shape.size() < 2)
    fail(KerasProblem::Corrupted, source,
         "expected the model's input shape to be a list [batch, ...], file has " + shape.dump());
  std::vector<std::optional<std::size_t>> extents;
  for (std::size_t i = 1; i < shape.size(); ++i) {
    if (shape[i].is_null()) {
      extents.push_back(std::nullopt);
    } else if (shape[i].is_number_integer() && shape[i].get<std::int64_t>() > 0) {
      extents.push_back(shape[i].get<std::size_t>());
    } else {
      fail(KerasProblem::Corrupted, source,
           "expected the model's input shape to hold positive sizes, file has " + shape.dump());
    }
  }
  return extents;
}

// The first of: the InputLayer's shape, the first layer's (only the first layer's counts: later
// layers may carry stale batch_input_shape values), the Sequential's build_input_shape.
const Json* find_input_shape(const Json& model_config, const Json& layers) {
  for (const char* key : {"batch_shape", "batch_input_shape"})
    if (!layers.empty() && layers[0]["config"].contains(key) && !layers[0]["config"][key].is_null())
      return &layers[0]["config"][key];
  if (model_config.is_object() && model_config.contains("build_input_shape") &&
      !model_config["build_input_shape"].is_null())
    return &model_config["build_input_shape"];
  return nullptr;
}

}  // namespace

std::string snake_case(std::string_view class_name) {
  const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  const auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  std::string name;
  for (std::size_t i = 0; i < class_name.size(); ++i) {
    const char c = class_name[i];
    // An underscore before a capital that starts a word ("MaxPooling") or that follows a
    // lower-case letter ("ReLU").
    const bool starts_word = i > 0 && upper(c) &&
                             ((i + 1 < class_name.size() && lower(class_name[i + 1])) ||
                              lower(class_name[i - 1]));
    if (starts_word && name.back() != '_') name += '_';
    name += upper(c) ? char(c - 'A' + 'a') : c;
  }
  return name;
}

KerasModel parse_model_config(const std::string& json_text, const std::string& source) {
  Json root;
  try {
    root = Json::parse(json_text);
  } catch (const Json::exception& error) {
    fail(KerasProblem::Corrupted, source,
         std::string("the model config is not valid JSON (") + error.what() + ")");
  }
  if (!root.is_object() || !root.contains("class_name") || !root["class_name"].is_string() ||
      !root.contains("config"))
    fail(KerasProblem::Corrupted, source,
         "expected the model config to be an object with 'class_name' and 'config'");
  const std::string model_class = root["class_name"].get<std::string>();
  const bool functional = model_class == "Functional" || model_class == "Model";
  if (model_class != "Sequential" && !functional)
    fail(KerasProblem::Unsupported, source,
         "model class " + model_class + " is neither Sequential nor Functional");

  // Keras up to 2.1 wrote a Sequential's config as the list of layers itself.
  const Json& config = root["config"];
  const Json* layers = config.is_array() ? &config : nullptr;
  if (config.is_object() && config.contains("layers")) layers = &config["layers"];
  if (!layers || !layers->is_array())
    fail(KerasProblem::Corrupted, source, "expected the model config to list its 'layers'");
  for (const Json& entry : *layers)
    if (!entry.is_object() || !entry.contains("config") || !entry["config"].is_object())
      fail(KerasProblem::Corrupted, source,
           "expected every layer of the model config to have a 'config' object");
  if (functional) require_chain(*layers, source);

  KerasModel model;
  if (const Json* shape = find_input_shape(config, *layers))
    model.input_shape = shape_without_batch(*shape, source);
  std::map<std::string, std::size_t> class_count;
  for (const Json& entry : *layers) {
    if (entry.value("class_name", std::string()) == "InputLayer") continue;
    KerasLayer layer = parse_layer(entry, model.layers.size() + 1, source);
    const std::string base = snake_case(layer.class_name);
    const std::size_t repeat = class_count[base]++;
    layer.keras3_path = repeat ? base + "_" + std::to_string(repeat) : base;
    model.layers.push_back(std::move(layer));
  }
  return model;
}

}  // namespace typenet::keras_detail
