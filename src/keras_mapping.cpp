#include "typenet/keras_mapping.hpp"

#include <algorithm>
#include <iterator>

namespace typenet {

namespace {
std::string quoted(std::string_view text) {
  std::string result(1, '\'');
  result.append(text);
  return result += '\'';
}
std::string window_text(std::size_t h, std::size_t w) {
  return std::to_string(h) + "x" + std::to_string(w);
}
}  // namespace

void KerasConfig::expect(std::string_view what, std::size_t expected, std::size_t found,
                         std::string_view unit) const {
  if (expected != found)
    mismatch("expected " + std::string(what) + " " + std::to_string(expected) + std::string(unit) +
             ", file has " + std::to_string(found));
}

void KerasConfig::expect(std::string_view what, std::string_view expected,
                         std::string_view found) const {
  if (expected != found)
    mismatch("expected " + std::string(what) + " " + std::string(expected) + ", file has " +
             std::string(found));
}

ActivationKind KerasConfig::activation() const {
  const std::string name = text("activation").value_or("linear");
  constexpr ActivationKind known[] = {ActivationKind::Linear, ActivationKind::Relu,
                                      ActivationKind::Sigmoid, ActivationKind::Tanh,
                                      ActivationKind::Softmax};
  const auto* found =
      std::ranges::find(known, name, [](ActivationKind kind) { return to_string(kind); });
  if (found == std::end(known)) unsupported("activation '" + name + "' has no typenet equivalent");
  return *found;
}

PaddingKind KerasConfig::padding() const {
  const std::string padding = text("padding").value_or("valid");
  if (padding == "valid") return PaddingKind::Valid;
  if (padding != "same")
    unsupported("padding '" + padding + "' has no typenet equivalent (valid or same)");
  return PaddingKind::Same;
}

void KerasConfig::expect_activation(std::string_view what, ActivationKind expected) const {
  expect(what, quoted(to_string(expected)), quoted(to_string(activation())));
}

void KerasConfig::expect_padding(std::string_view what, PaddingKind expected) const {
  expect(what, quoted(to_string(expected)), quoted(to_string(padding())));
}

void KerasConfig::expect_window(std::string_view what, std::string_view window_what,
                                std::size_t window, std::size_t stride,
                                std::array<std::size_t, 2> found_window,
                                std::array<std::size_t, 2> found_stride) const {
  const std::string subject = std::string(what) + " with ";
  expect(subject + std::string(window_what), window_text(window, window),
         window_text(found_window[0], found_window[1]));
  expect(subject + "strides", window_text(stride, stride),
         window_text(found_stride[0], found_stride[1]));
}

std::size_t KerasConfig::required_positive(std::string_view key) const {
  const std::optional<std::size_t> value = positive(key);
  if (!value) corrupted("config has no '" + std::string(key) + "'");
  return *value;
}

bool KerasConfig::use_bias() const { return boolean("use_bias").value_or(true); }

std::size_t KerasConfig::square(std::string_view key, std::size_t fallback) const {
  const auto pair = size_pair(key).value_or(std::array{fallback, fallback});
  if (pair[0] != pair[1])
    unsupported("'" + std::string(key) + "' " + json(key) +
                " is not square; typenet windows and strides are square");
  return pair[0];
}

std::string_view cpp_tag(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::Linear: return "Linear";
    case ActivationKind::Relu: return "Relu";
    case ActivationKind::Sigmoid: return "Sigmoid";
    case ActivationKind::Tanh: return "Tanh";
    case ActivationKind::Softmax: return "Softmax";
  }
  return "?";
}

std::string activation_option(const KerasConfig& config) {
  const ActivationKind kind = config.activation();
  return kind == ActivationKind::Linear ? "" : ", " + std::string(cpp_tag(kind));
}

}  // namespace typenet
