#include "architecture.hpp"

#include <cmath>
#include <optional>
#include <vector>

#include "keras_error.hpp"

namespace typenet::keras_detail {

namespace {

std::string size_pair(std::size_t h, std::size_t w) {
  return std::to_string(h) + "x" + std::to_string(w);
}

std::string quoted(std::string_view text) {
  std::string result(1, '\'');
  result.append(text);
  return result += '\'';
}

// The input shape the Net expects, in the order the file writes it.
std::vector<std::size_t> expected_input_shape(const Dims& input, bool channels_first) {
  if (input.rank == 1) return {input.extent[0]};
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

class LayerCheck {
 public:
  // `note` is appended to a mismatch message.
  LayerCheck(const LayerInfo& net, const KerasLayer& file, std::size_t index,
             const std::string& source, std::string note)
      : net_(net), file_(file), source_(source),
        where_("layer " + std::to_string(index) + " (" + file.name + "): "), note_(std::move(note)) {}

  void run() const {
    if (net_.kind != file_.kind)
      mismatch("expected " + std::string(keras_class_name(net_.kind)) + ", file has " +
               file_.class_name);
    const std::string kind(keras_class_name(net_.kind));
    switch (net_.kind) {
      case LayerKind::Dense:
        compare(kind + " with", net_.units, file_.units, " units");
        compare_activation(kind + " with activation");
        break;
      case LayerKind::Conv:
        compare(kind + " with", net_.units, file_.units, " filters");
        compare_window(kind + " with kernel size", "strides");
        compare(kind + " with padding", quoted(to_string(net_.padding)),
                quoted(to_string(file_.padding)));
        compare_activation(kind + " with activation");
        break;
      case LayerKind::MaxPool:
        compare_window(kind + " with pool size", "strides");
        compare(kind + " with padding", quoted(to_string(net_.padding)),
                quoted(to_string(file_.padding)));
        break;
      case LayerKind::Dropout:
        // Dropout<25> is rate 0.25; the rate has no effect on inference, the check is a sanity
        // check that the two architectures are the same.
        if (std::abs(file_.dropout_rate * 100 - double(net_.dropout_percent)) >= 0.5)
          mismatch("expected Dropout with rate " + rate_text(net_.dropout_percent / 100.0) +
                   ", file has " + rate_text(file_.dropout_rate));
        break;
      case LayerKind::Activation:
        compare_activation("Activation");
        break;
      case LayerKind::GlobalAvgPool:
      case LayerKind::Flatten:
      case LayerKind::Input:
        break;
    }
  }

 private:
  [[noreturn]] void mismatch(const std::string& detail) const {
    fail(KerasProblem::ArchitectureMismatch, source_, where_ + detail + note_);
  }

  template <class T>
  void compare(const std::string& what, const T& expected, const T& found,
               const std::string& unit = "") const {
    if (expected != found)
      mismatch("expected " + what + " " + text(expected) + unit + ", file has " + text(found));
  }
  static std::string text(std::size_t value) { return std::to_string(value); }
  static std::string text(const std::string& value) { return value; }
  static std::string rate_text(double rate) {
    std::string text = std::to_string(rate);
    text.erase(text.find_last_not_of('0') + 1);
    if (text.back() == '.') text += '0';
    return text;
  }

  void compare_activation(const std::string& what) const {
    compare(what, quoted(to_string(net_.activation)), quoted(to_string(file_.activation)));
  }

  void compare_window(const std::string& size_what, const std::string& stride_what) const {
    compare(size_what, size_pair(net_.kernel, net_.kernel),
            size_pair(file_.kernel[0], file_.kernel[1]));
    compare(std::string(keras_class_name(net_.kind)) + " with " + stride_what,
            size_pair(net_.stride, net_.stride), size_pair(file_.stride[0], file_.stride[1]));
  }

  const LayerInfo& net_;
  const KerasLayer& file_;
  const std::string& source_;
  std::string where_;
  std::string note_;
};

}  // namespace

void check_architecture(std::span<const LayerInfo> net, const KerasModel& model,
                        bool channels_first, const std::string& source) {
  // A data format that disagrees with the options is the cause of every other difference
  // (input shape first): report it first.
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const KerasLayer& layer = model.layers[i];
    if (layer.kind == LayerKind::Flatten || !layer.data_format) continue;
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
           "input: expected shape " + shape_text(expected) + (channels_first ? " (channels first)" : "") +
               ", file has " + file_shape_text(model.input_shape));
  }

  const std::size_t net_layers = net.size() - 1, file_layers = model.layers.size();
  const std::string counts = "expected " + std::to_string(net_layers) +
                             " layers after the input, file has " + std::to_string(file_layers);
  // A missing or extra layer shows first as a mismatch of the layers after it: say so.
  const std::string note = net_layers == file_layers ? "" : " (" + counts + ")";
  for (std::size_t i = 0; i < std::min(net_layers, file_layers); ++i)
    LayerCheck(net[i + 1], model.layers[i], i + 1, source, note).run();
  if (net_layers < file_layers) {
    const KerasLayer& extra = model.layers[net_layers];
    fail(KerasProblem::ArchitectureMismatch, source,
         counts + ": layer " + std::to_string(net_layers + 1) + " (" + extra.name + ", " +
             extra.class_name + ") is not in the Net");
  }
  if (net_layers > file_layers)
    fail(KerasProblem::ArchitectureMismatch, source,
         counts + ": the Net's layer " + std::to_string(file_layers + 1) + " (" +
             std::string(keras_class_name(net[file_layers + 1].kind)) + ") is not in the file");
}

}  // namespace typenet::keras_detail
