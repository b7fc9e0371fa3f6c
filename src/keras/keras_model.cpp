#include "keras_model.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "keras_error.hpp"

namespace typenet::keras_detail {

namespace {

using Json = nlohmann::json;

// The input shape Keras 3 records for a built layer ({"build_config": {"input_shape": [null, 784]}}),
// when it is one fixed shape of rank 1 to 3; nullopt otherwise (the file does not say for sure).
std::optional<Dims> built_input_shape(const Json& entry) {
  const auto build = entry.find("build_config");
  if (build == entry.end() || !build->is_object()) return std::nullopt;
  const auto shape = build->find("input_shape");
  if (shape == build->end() || !shape->is_array() || shape->size() < 2 || shape->size() > 4)
    return std::nullopt;
  Dims dims{shape->size() - 1, {}};
  for (std::size_t i = 0; i < dims.rank; ++i) {
    const Json& extent = (*shape)[i + 1];
    if (!extent.is_number_integer() || extent.get<std::int64_t>() <= 0) return std::nullopt;
    dims.extent[i] = extent.get<std::size_t>();
  }
  return dims;
}

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
  layer.built_input = built_input_shape(entry);
  return layer;
}

// Where a functional model's layer takes its inputs from: the layer names in its inbound nodes,
// Keras 2 style ([["dense", 0, 0, {}]]) or Keras 3 style ({"keras_history": ["dense", 0, 0]}).
// In order, repeats kept (Add([x, x]) names x twice).
void collect_inbound_names(const Json& value, std::vector<std::string>& names, int depth) {
  if (depth > 32) return;  // real configs nest a few levels; bounded against hostile ones
  if (value.is_object()) {
    if (const auto history = value.find("keras_history");
        history != value.end() && history->is_array() && !history->empty() &&
        (*history)[0].is_string()) {
      names.push_back((*history)[0].get<std::string>());
      return;  // a tensor: its keras_history would name the layer twice
    }
    for (const Json& child : value) collect_inbound_names(child, names, depth + 1);
  } else if (value.is_array()) {
    if (value.size() >= 3 && value[0].is_string() && value[1].is_number_integer())
      names.push_back(value[0].get<std::string>());
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
    std::vector<std::string> inbound;
    if (const auto nodes = layers[i].find("inbound_nodes"); nodes != layers[i].end())
      collect_inbound_names(*nodes, inbound, 0);
    if (std::set<std::string>(inbound.begin(), inbound.end()) != std::set<std::string>{previous})
      fail(KerasProblem::Unsupported, source,
           "layer " + std::to_string(i) + " (" + name + ") does not take the output of '" +
               previous + "' alone; typenet nets are a chain of layers");
  }
}

// A functional model with residual blocks: a chain from the input where a tensor may fork into
// two paths that an Add joins again. Built from the model's layers (in config order, without the
// InputLayer) and the graph in their inbound nodes; anything else is refused, naming the layer.
class ResidualGraph {
 public:
  ResidualGraph(const Json& entries, std::vector<KerasLayer> layers, const std::string& source)
      : layers_(std::move(layers)), source_(source) {
    for (std::size_t i = 0; i < layers_.size(); ++i) index_[layers_[i].name] = i;
    std::vector<std::string> inputs;
    for (const Json& entry : entries) {
      const std::string name = entry["config"].value("name", std::string());
      if (entry.value("class_name", std::string()) == "InputLayer") {
        inputs.push_back(name);
        continue;
      }
      std::vector<std::string>& inbound = inbound_[name];
      if (const auto nodes = entry.find("inbound_nodes"); nodes != entry.end()) {
        if (nodes->is_array() && nodes->size() > 1)
          refuse(name, "is called more than once (a shared layer); typenet layers are not shared");
        collect_inbound_names(*nodes, inbound, 0);
      }
      for (const std::string& from : inbound) consumers_[from].push_back(name);
    }
    if (inputs.size() != 1)
      fail(KerasProblem::Unsupported, source_,
           "the model has " + std::to_string(inputs.size()) + " inputs; typenet nets have one");
    input_ = inputs[0];
  }

  // The model's layers from the input on, each block as one Add entry holding its branches.
  std::vector<KerasLayer> chain() {
    std::vector<KerasLayer> chain;
    std::string current = input_;
    for (;;) {
      const std::vector<std::string>& next = consumers_[current];
      if (next.empty()) break;
      if (next.size() > 2)
        refuse(current, "feeds " + std::to_string(next.size()) +
                            " layers; typenet forks a tensor only into the two branches of a "
                            "residual block");
      if (next.size() == 2) {
        chain.push_back(block(current, next[0], next[1]));
      } else {
        require_single_input(next[0]);
        chain.push_back(take(next[0]));
      }
      current = chain.back().name;
    }
    for (const auto& [name, index] : index_)
      if (!taken_names_.count(name))
        refuse(name, "is not on the path from the input to the output");
    return chain;
  }

 private:
  [[noreturn]] void refuse(const std::string& name, const std::string& detail) const {
    const auto it = index_.find(name);
    const std::string where = it == index_.end()
                                  ? "'" + name + "'"
                                  : "layer " + std::to_string(it->second + 1) + " (" + name + ", " +
                                        layers_[it->second].class_name + ")";
    fail(KerasProblem::Unsupported, source_, where + " " + detail);
  }
  void require_single_input(const std::string& name) {
    const std::vector<std::string>& inbound = inbound_[name];
    if (inbound.size() != 1)
      refuse(name, "joins " + std::to_string(inbound.size()) +
                       " tensors; typenet joins only the two branches of a residual block, "
                       "with Add");
  }
  KerasLayer take(const std::string& name) {
    const auto it = index_.find(name);
    if (it == index_.end()) refuse(name, "is not a layer of the model");
    if (!taken_names_.insert(name).second) refuse(name, "is reached twice");
    return std::move(layers_[it->second]);
  }
  // The layers from `start` on, up to (without) the Add that ends the branch, and that Add.
  std::pair<std::vector<std::string>, std::string> follow(const std::string& fork,
                                                          std::string name) {
    std::vector<std::string> path;
    while (layers_[index_.at(name)].class_name != "Add") {
      require_single_input(name);
      const std::vector<std::string>& next = consumers_[name];
      if (next.empty())
        refuse(name, "ends a branch from '" + fork +
                         "' that no Add joins; typenet nets have "
                         "one output");
      if (next.size() > 1)
        refuse(name, "forks inside a residual block; typenet blocks do not nest");
      path.push_back(name);
      name = next[0];
      if (!index_.count(name)) refuse(name, "is not a layer of the model");
    }
    return {path, name};
  }
  KerasLayer block(const std::string& fork, const std::string& first, const std::string& second) {
    for (const std::string& name : {first, second})
      if (!index_.count(name)) refuse(name, "is not a layer of the model");
    auto [first_path, first_add] = follow(fork, first);
    auto [second_path, second_add] = follow(fork, second);
    if (first_add != second_add)
      refuse(fork, "forks into branches that different Adds join ('" + first_add + "', '" +
                       second_add + "'); typenet blocks do not nest");
    const std::string& add = first_add;
    // The Add's two inputs are the branches' ends (the fork itself for an identity).
    const auto end_of = [&](const std::vector<std::string>& path) {
      return path.empty() ? fork : path.back();
    };
    std::vector<std::string> ends{end_of(first_path), end_of(second_path)};
    std::vector<std::string> inbound = inbound_[add];
    std::ranges::sort(ends);
    std::ranges::sort(inbound);
    if (inbound != ends || (first_path.empty() && second_path.empty()))
      refuse(add, "does not add exactly the two branches from '" + fork +
                      "'; typenet's Add joins a residual block's main branch and shortcut");
    // The main branch is the longer one; of two as long, the Add's first input.
    const bool first_is_main = first_path.size() != second_path.size()
                                   ? first_path.size() > second_path.size()
                                   : inbound_[add][0] == end_of(first_path);
    KerasLayer joined = take(add);
    for (const std::string& name : first_is_main ? first_path : second_path)
      joined.main.push_back(take(name));
    for (const std::string& name : first_is_main ? second_path : first_path)
      joined.shortcut.push_back(take(name));
    return joined;
  }

  std::vector<KerasLayer> layers_;
  const std::string& source_;
  std::map<std::string, std::size_t> index_;
  std::map<std::string, std::vector<std::string>> inbound_, consumers_;
  std::string input_;
  std::set<std::string> taken_names_;
};

bool has_add(const Json& layers) {
  return std::ranges::any_of(
      layers, [](const Json& entry) { return entry.value("class_name", std::string()) == "Add"; });
}

void append_flat(const std::vector<KerasLayer>& layers, std::vector<const KerasLayer*>& flat) {
  for (const KerasLayer& layer : layers) {
    append_flat(layer.main, flat);
    append_flat(layer.shortcut, flat);
    flat.push_back(&layer);
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

bool is_nested_sequential(const Json& entry) {
  return entry.value("class_name", std::string()) == "Sequential";
}

// The layers of a Sequential model used as one layer of a functional model, in its place: a
// chain inside the chain. `path` is where a Keras 3 file keeps the nested model's variables.
void append_nested_sequential(const Json& entry, const std::string& path, KerasModel& model,
                              const std::string& source) {
  const Json& config = entry["config"];
  const std::string name = config.value("name", std::string());
  const Json* inner = config.is_object() && config.contains("layers") ? &config["layers"] : nullptr;
  if (!inner || !inner->is_array())
    fail(KerasProblem::Corrupted, source,
         "layer " + std::to_string(model.layers.size() + 1) + " (" + name +
             "): expected the nested Sequential model to list its 'layers'");
  std::map<std::string, std::size_t> class_count;
  for (const Json& inner_entry : *inner) {
    if (!inner_entry.is_object() || inner_entry.value("class_name", std::string()) == "InputLayer")
      continue;
    if (is_nested_sequential(inner_entry))
      fail(KerasProblem::Unsupported, source,
           "layer " + std::to_string(model.layers.size() + 1) + " (" + name +
               "): a Sequential model nested two levels deep has no typenet equivalent");
    KerasLayer layer = parse_layer(inner_entry, model.layers.size() + 1, source);
    const std::string base = snake_case(layer.class_name);
    const std::size_t repeat = class_count[base]++;
    layer.keras3_path = path + "/layers/" + (repeat ? base + "_" + std::to_string(repeat) : base);
    layer.keras2_group = name;
    model.layers.push_back(std::move(layer));
  }
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
  // A functional model with Add may hold residual blocks (ResidualGraph); without, a chain.
  const bool residual = functional && has_add(*layers);
  if (functional && !residual) require_chain(*layers, source);

  KerasModel model;
  if (const Json* shape = find_input_shape(config, *layers))
    model.input_shape = shape_without_batch(*shape, source);
  std::map<std::string, std::size_t> class_count;
  for (const Json& entry : *layers) {
    if (entry.value("class_name", std::string()) == "InputLayer") continue;
    const std::string base = snake_case(entry.value("class_name", std::string()));
    const std::size_t repeat = class_count[base]++;
    const std::string keras3_path = repeat ? base + "_" + std::to_string(repeat) : base;
    if (functional && !residual && is_nested_sequential(entry)) {
      append_nested_sequential(entry, keras3_path, model, source);
      continue;
    }
    KerasLayer layer = parse_layer(entry, model.layers.size() + 1, source);
    layer.keras3_path = keras3_path;
    model.layers.push_back(std::move(layer));
  }
  if (residual) model.layers = ResidualGraph(*layers, std::move(model.layers), source).chain();
  return model;
}

std::vector<const KerasLayer*> flat_layers(const KerasModel& model) {
  std::vector<const KerasLayer*> flat;
  append_flat(model.layers, flat);
  return flat;
}

}  // namespace typenet::keras_detail
