#include "typenet/layer_info.hpp"

#include <algorithm>
#include <sstream>

#include "typenet/layers/residual.hpp"

namespace typenet {

std::string to_string(const Dims& dims) {
  std::string text;
  for (std::size_t i = 0; i < dims.rank; ++i)
    text += (i ? "x" : "") + std::to_string(dims.extent[i]);
  return text;
}

namespace {
// A block's branch in describe(): "[Conv(...) 8x8x4->8x8x4, Activation(relu) 8x8x4->8x8x4]".
std::string describe_branch(std::span<const LayerInfo> branch) {
  std::string text = "[";
  for (const LayerInfo& layer : branch) text += (text.size() > 1 ? ", " : "") + describe(layer);
  return text + "]";
}

void append_flat(std::span<const LayerInfo> layers, std::size_t base,
                 std::vector<LayerInfo>& flat) {
  for (LayerInfo layer : layers) {
    layer.param_offset += base;
    if (layer.is_block()) {
      append_flat(layer.main, layer.param_offset, flat);
      append_flat(layer.shortcut, layer.param_offset, flat);
      layer.param_offset += layer.param_count;
      layer.param_count = 0;
      layer.main = layer.shortcut = {};
    }
    flat.push_back(layer);
  }
}
}  // namespace

std::string describe(const LayerInfo& layer) {
  std::string text = std::string(layer.type) + std::string(layer.arguments.view());
  // A block's line names its inner layers: model files then tell blocks apart.
  if (layer.is_block())
    text += "{main " + describe_branch(layer.main) + " shortcut " +
            describe_branch(layer.shortcut) + "}";
  return text + " " + to_string(layer.in) + "->" + to_string(layer.out);
}

std::vector<LayerInfo> flat_layers(std::span<const LayerInfo> layers) {
  std::vector<LayerInfo> flat;
  append_flat(layers, 0, flat);
  return flat;
}

std::string snake_case(std::string_view class_name) {
  const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  const auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  std::string name;
  for (std::size_t i = 0; i < class_name.size(); ++i) {
    const char c = class_name[i];
    // An underscore before a capital that starts a word ("MaxPooling") or that follows a
    // lower-case letter ("ReLU").
    const bool starts_word =
        i > 0 && upper(c) &&
        ((i + 1 < class_name.size() && lower(class_name[i + 1])) || lower(class_name[i - 1]));
    if (starts_word && name.back() != '_') name += '_';
    name += upper(c) ? char(c - 'A' + 'a') : c;
  }
  return name;
}

std::string keras_layer_name(std::span<const LayerInfo> layers, std::size_t index) {
  std::size_t earlier = 0;
  for (std::size_t i = 0; i < index; ++i)
    earlier += layers[i].class_name == layers[index].class_name;
  const std::string name = snake_case(layers[index].class_name);
  return earlier == 0 ? name : name + "_" + std::to_string(earlier);
}

namespace {
std::string unqualified_cpp(const LayerInfo& layer);

// Whether every layer of the branch spells itself; their spellings appended to `spellings`.
bool spell_branch(std::span<const LayerInfo> branch, std::vector<std::string>& spellings) {
  for (const LayerInfo& inner : branch) {
    spellings.push_back(unqualified_cpp(inner));
    if (spellings.back().empty()) return false;
  }
  return true;
}

// The layer's unqualified spelling (a block's from its branches', as its header joins them);
// empty when a layer does not spell itself.
std::string unqualified_cpp(const LayerInfo& layer) {
  if (!layer.is_block()) return std::string(layer.cpp.view());
  std::vector<std::string> main, shortcut;
  if (!spell_branch(layer.main, main) || !spell_branch(layer.shortcut, shortcut)) return {};
  return residual_cpp_type(main, shortcut);
}

}  // namespace

std::string qualified_cpp(std::string_view spelling) {
  const auto is_letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  const auto in_name = [&](char c) { return is_letter(c) || (c >= '0' && c <= '9') || c == '_'; };
  std::string text;
  for (std::size_t i = 0; i < spelling.size(); ++i) {
    if (is_letter(spelling[i]) && (i == 0 || !in_name(spelling[i - 1]))) text += "typenet::";
    text += spelling[i];
  }
  return text;
}
std::string cpp_type(std::span<const LayerInfo> layers) {
  std::vector<std::string> spellings;
  if (!spell_branch(layers, spellings)) return {};
  std::string spelling = "Net<";
  for (std::size_t i = 0; i < spellings.size(); ++i) spelling += (i ? ", " : "") + spellings[i];
  return qualified_cpp(spelling + ">");
}

namespace {
std::string with_thousands(std::size_t value) {
  std::string digits = std::to_string(value);
  for (int i = int(digits.size()) - 3; i > 0; i -= 3) digits.insert(std::size_t(i), ",");
  return digits;
}
std::string keras_shape(const Dims& dims) {
  std::string text = "(None";
  for (std::size_t i = 0; i < dims.rank; ++i) text += ", " + std::to_string(dims.extent[i]);
  return text + ")";
}
std::string padded(std::string text, std::size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text + " ";
}
}  // namespace

std::string summary_table(std::span<const LayerInfo> net_layers) {
  const std::string rule(65, '_'), double_rule(65, '=');
  const bool functional = std::ranges::any_of(net_layers, &LayerInfo::is_block);
  const std::vector<LayerInfo> layers = flat_layers(net_layers);
  std::ostringstream out;
  out << "Model: \"" << (functional ? "functional" : "sequential") << "\"\n" << rule << "\n";
  out << padded(" Layer (type)", 28) << padded("Output Shape", 25) << "Param #\n";
  out << double_rule << "\n";
  std::size_t total = 0, non_trainable = 0;
  for (std::size_t i = 1; i < layers.size(); ++i) {
    const LayerInfo& layer = layers[i];
    const std::string name = " " + keras_layer_name(layers, i) + " (" +
                             std::string(layer.class_name) + ")";
    out << padded(name, 28) << padded(keras_shape(layer.out), 25)
        << with_thousands(layer.param_count) << "\n";
    if (i + 1 < layers.size()) out << "\n";
    total += layer.param_count;
    non_trainable += layer.non_trainable_count;
  }
  out << double_rule << "\n";
  out << "Total params: " << with_thousands(total) << "\n";
  out << "Trainable params: " << with_thousands(total - non_trainable) << "\n";
  out << "Non-trainable params: " << with_thousands(non_trainable) << "\n" << rule << "\n";
  return out.str();
}

}  // namespace typenet
