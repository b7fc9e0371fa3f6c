#include "architecture.hpp"

#include <algorithm>
#include <optional>
#include <vector>

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

// A file layer's config as its typenet layer reads it; complaints name the layer and, where
// the layer counts differ, say so (a missing or extra layer shows first as a mismatch of the
// layers after it).
class JsonConfig final : public KerasConfig {
 public:
  JsonConfig(const KerasLayer& layer, std::size_t index, const std::string& source,
             std::string note, bool channels_first, Dims input_dims)
      : layer_(layer), source_(source), channels_first_(channels_first), input_dims_(input_dims),
        where_("layer " + std::to_string(index) + " (" + layer.name + "): "),
        note_(std::move(note)) {}

  [[noreturn]] void mismatch(const std::string& detail) const override {
    fail(KerasProblem::ArchitectureMismatch, source_, where_ + detail + note_);
  }
  [[noreturn]] void unsupported(const std::string& detail) const override {
    fail(KerasProblem::Unsupported, source_, where_ + detail);
  }
  [[noreturn]] void corrupted(const std::string& detail) const override {
    fail(KerasProblem::Corrupted, source_, where_ + detail);
  }
  std::string_view class_name() const override { return layer_.class_name; }
  bool channels_first() const override { return channels_first_; }

  std::optional<double> number(std::string_view key) const override {
    return typed<double>(key, &nlohmann::json::is_number, "a number");
  }
  std::optional<std::string> text(std::string_view key) const override {
    return typed<std::string>(key, &nlohmann::json::is_string, "a string");
  }
  std::optional<bool> boolean(std::string_view key) const override {
    return typed<bool>(key, &nlohmann::json::is_boolean, "true or false");
  }
  std::optional<std::size_t> positive(std::string_view key) const override {
    const nlohmann::json* value = find(key);
    if (!value) return std::nullopt;
    return positive(*value, key);
  }
  std::optional<std::array<std::size_t, 2>> size_pair(std::string_view key) const override {
    const nlohmann::json* value = find(key);
    if (!value) return std::nullopt;
    if (value->is_array()) {
      if (value->size() != 2)
        unsupported("'" + std::string(key) + "' is " + value->dump() +
                    "; typenet layers are two-dimensional");
      return std::array{positive((*value)[0], key), positive((*value)[1], key)};
    }
    const std::size_t size = positive(*value, key);
    return std::array{size, size};
  }
  std::optional<std::vector<std::int64_t>> integers(std::string_view key) const override {
    const nlohmann::json* value = find(key);
    if (!value) return std::nullopt;
    const auto is_integer = [](const nlohmann::json& item) { return item.is_number_integer(); };
    if (!value->is_array() || !std::ranges::all_of(*value, is_integer))
      corrupted("expected '" + std::string(key) + "' to be a list of integers, file has " +
                value->dump());
    return value->get<std::vector<std::int64_t>>();
  }
  Dims input_dims() const override { return input_dims_; }
  std::string json(std::string_view key) const override {
    const nlohmann::json* value = find(key);
    return value ? value->dump() : "null";
  }

 private:
  const nlohmann::json* find(std::string_view key) const {
    const auto it = layer_.config.find(key);
    return it == layer_.config.end() || it->is_null() ? nullptr : &*it;
  }
  // The value at `key` when it is there and of the type `is_type` tells; corrupted() otherwise.
  template <class T>
  std::optional<T> typed(std::string_view key, bool (nlohmann::json::*is_type)() const noexcept,
                         const char* expected) const {
    const nlohmann::json* value = find(key);
    if (!value) return std::nullopt;
    if (!(value->*is_type)())
      corrupted("expected '" + std::string(key) + "' to be " + expected + ", file has " +
                value->dump());
    return value->get<T>();
  }
  std::size_t positive(const nlohmann::json& value, std::string_view key) const {
    if (!value.is_number_integer() || value.get<std::int64_t>() <= 0)
      corrupted("expected '" + std::string(key) + "' to be a positive integer, file has " +
                value.dump());
    return value.get<std::size_t>();
  }

  const KerasLayer& layer_;
  const std::string& source_;
  bool channels_first_;
  Dims input_dims_;  // the Net's layer's: the file's agrees up to this layer
  std::string where_;
  std::string note_;
};

// The Net's layer `index` against the file's: the class, then the layer's own check.
void check_layer(const LayerInfo& net, const KerasLayer& file, std::size_t index,
                 const std::string& source, const std::string& note, bool channels_first) {
  const JsonConfig config(file, index, source, note, channels_first, net.in);
  if (!has_keras_equivalent(file.class_name))
    config.unsupported("Keras layer class " + file.class_name + " has no typenet equivalent");
  if (!net.keras)
    config.mismatch("the Net's layer " + describe(net) + " has no Keras equivalent, file has " +
                    file.class_name);
  if (std::ranges::find(net.keras->classes, file.class_name) == net.keras->classes.end())
    config.mismatch("expected " + std::string(net.class_name) + ", file has " + file.class_name);
  net.keras->check(config);
}

}  // namespace

void check_architecture(std::span<const LayerInfo> net, const KerasModel& model,
                        bool channels_first, const std::string& source) {
  // A data format that disagrees with the options is the cause of every other difference
  // (input shape first): report it first.
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const KerasLayer& layer = model.layers[i];
    // Flatten's data_format says in which order a channels-first model flattened: the loader
    // reorders the next layer's rows for it (see load.cpp).
    if (layer.class_name == "Flatten" || !layer.data_format) continue;
    const std::string where = "layer " + std::to_string(i + 1) + " (" + layer.name + "): ";
    const bool file_channels_first = *layer.data_format == "channels_first";
    if (file_channels_first && !channels_first)
      fail(KerasProblem::ArchitectureMismatch, source,
           where + "the file's layer is channels_first; load it with "
                   "KerasOptions{.channels_first = true}");
    if (!file_channels_first && channels_first)
      fail(KerasProblem::ArchitectureMismatch, source,
           where + "KerasOptions::channels_first is set but the file's layer is " +
               *layer.data_format);
  }
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
    check_layer(net[i + 1], model.layers[i], i + 1, source, note, channels_first);
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
