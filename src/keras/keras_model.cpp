#include "keras_model.hpp"

#include <map>
#include <set>

#include "keras_error.hpp"

namespace typenet::keras_detail {

namespace {

using Json = nlohmann::json;

KerasLayer parse_layer(const Json& entry, std::size_t net_index, const std::string& source) {
  KerasLayer layer;
  if (!entry.is_object() || !entry.contains("class_name") || !entry["class_name"].is_string() ||
      !entry.contains("config") || !entry["config"].is_object())
    fail(KerasProblem::Corrupted, source,
         "layer " + std::to_string(net_index) +
             ": expected an object with 'class_name' and 'config'");
  layer.class_name = entry["class_name"].get<std::string>();
  layer.config = entry["config"];
  if (const auto name = layer.config.find("name"); name != layer.config.end() && name->is_string())
    layer.name = name->get<std::string>();
  if (const auto format = layer.config.find("data_format");
      format != layer.config.end() && !format->is_null()) {
    if (!format->is_string())
      fail(KerasProblem::Corrupted, source,
           "layer " + std::to_string(net_index) + " (" + layer.name +
               "): expected 'data_format' to be a string, file has " + format->dump());
    layer.data_format = format->get<std::string>();
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
