#include "typenet/layer_info.hpp"

#include <cstdio>
#include <sstream>

namespace typenet {

std::string_view to_string(LayerKind kind) {
  switch (kind) {
    case LayerKind::Input: return "Input";
    case LayerKind::Dense: return "Dense";
    case LayerKind::Conv: return "Conv";
    case LayerKind::MaxPool: return "MaxPool";
    case LayerKind::GlobalAvgPool: return "GlobalAvgPool";
    case LayerKind::Flatten: return "Flatten";
    case LayerKind::Dropout: return "Dropout";
    case LayerKind::Activation: return "Activation";
  }
  return "?";
}

std::string_view to_string(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::Linear: return "linear";
    case ActivationKind::Relu: return "relu";
    case ActivationKind::Sigmoid: return "sigmoid";
    case ActivationKind::Tanh: return "tanh";
    case ActivationKind::Softmax: return "softmax";
  }
  return "?";
}

std::string_view to_string(PaddingKind kind) {
  return kind == PaddingKind::Same ? "same" : "valid";
}

std::string to_string(const Dims& dims) {
  if (dims.rank == 1) return std::to_string(dims.extent[0]);
  return std::to_string(dims.extent[0]) + "x" + std::to_string(dims.extent[1]) + "x" +
         std::to_string(dims.extent[2]);
}

std::string describe(const LayerInfo& layer) {
  std::ostringstream text;
  text << to_string(layer.kind);
  switch (layer.kind) {
    case LayerKind::Dense:
      text << "(" << layer.units << "," << to_string(layer.activation) << ")";
      break;
    case LayerKind::Conv:
      text << "(" << layer.units << ",k" << layer.kernel << ",s" << layer.stride << ","
           << to_string(layer.padding) << "," << to_string(layer.activation) << ")";
      break;
    case LayerKind::MaxPool:
      text << "(" << layer.kernel << ",s" << layer.stride << ")";
      break;
    case LayerKind::Dropout: text << "(" << layer.dropout_percent << "%)"; break;
    case LayerKind::Activation: text << "(" << to_string(layer.activation) << ")"; break;
    default: break;
  }
  text << " " << to_string(layer.in) << "->" << to_string(layer.out);
  return text.str();
}

std::string_view keras_class_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::Input: return "InputLayer";
    case LayerKind::Dense: return "Dense";
    case LayerKind::Conv: return "Conv2D";
    case LayerKind::MaxPool: return "MaxPooling2D";
    case LayerKind::GlobalAvgPool: return "GlobalAveragePooling2D";
    case LayerKind::Flatten: return "Flatten";
    case LayerKind::Dropout: return "Dropout";
    case LayerKind::Activation: return "Activation";
  }
  return "?";
}

std::string keras_layer_name(std::span<const LayerInfo> layers, std::size_t index) {
  static constexpr std::string_view snake[] = {"input", "dense", "conv2d", "max_pooling2d",
                                               "global_average_pooling2d", "flatten", "dropout",
                                               "activation"};
  std::size_t earlier = 0;
  for (std::size_t i = 0; i < index; ++i) earlier += layers[i].kind == layers[index].kind;
  std::string name(snake[std::size_t(layers[index].kind)]);
  return earlier == 0 ? name : name + "_" + std::to_string(earlier);
}

namespace {
std::string with_thousands(std::size_t value) {
  std::string digits = std::to_string(value);
  for (int i = int(digits.size()) - 3; i > 0; i -= 3) digits.insert(std::size_t(i), ",");
  return digits;
}
std::string keras_shape(const Dims& dims) {
  if (dims.rank == 1) return "(None, " + std::to_string(dims.extent[0]) + ")";
  return "(None, " + std::to_string(dims.extent[0]) + ", " + std::to_string(dims.extent[1]) +
         ", " + std::to_string(dims.extent[2]) + ")";
}
std::string padded(std::string text, std::size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text + " ";
}
}  // namespace

std::string summary_table(std::span<const LayerInfo> layers) {
  const std::string rule(65, '_'), double_rule(65, '=');
  std::ostringstream out;
  out << "Model: \"sequential\"\n" << rule << "\n";
  out << padded(" Layer (type)", 28) << padded("Output Shape", 25) << "Param #\n";
  out << double_rule << "\n";
  std::size_t total = 0;
  for (std::size_t i = 1; i < layers.size(); ++i) {
    const LayerInfo& layer = layers[i];
    const std::string name = " " + keras_layer_name(layers, i) + " (" +
                             std::string(keras_class_name(layer.kind)) + ")";
    out << padded(name, 28) << padded(keras_shape(layer.out), 25)
        << with_thousands(layer.param_count) << "\n";
    if (i + 1 < layers.size()) out << "\n";
    total += layer.param_count;
  }
  out << double_rule << "\n";
  out << "Total params: " << with_thousands(total) << "\n";
  out << "Trainable params: " << with_thousands(total) << "\n";
  out << "Non-trainable params: 0\n" << rule << "\n";
  return out.str();
}

}  // namespace typenet
