#include "typenet/keras_mapping.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>

namespace typenet {

namespace {
std::string quoted(std::string_view text) {
  std::string result(1, '\'');
  result.append(text);
  return result += '\'';
}
// "'relu'", "'leaky_relu' (0.3)".
std::string activation_text(KerasActivation activation) {
  std::string text = quoted(to_string(activation.kind));
  if (!has_parameter(activation.kind)) return text;
  char number[32];
  std::snprintf(number, sizeof number, " (%s %.9g)",
                activation.kind == ActivationKind::Elu ? "alpha" : "slope", activation.alpha);
  return text + number;
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
  if (name == "silu") return ActivationKind::Swish;  // Keras 3's name of swish
  constexpr ActivationKind known[] = {
      ActivationKind::Linear, ActivationKind::Relu,      ActivationKind::Sigmoid,
      ActivationKind::Tanh,   ActivationKind::Softmax,   ActivationKind::Selu,
      ActivationKind::Elu,    ActivationKind::LeakyRelu, ActivationKind::Gelu,
      ActivationKind::Swish,  ActivationKind::Softplus};
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
  expect_activation(what, KerasActivation{expected, keras_string_alpha(expected)});
}

void KerasConfig::expect_activation(std::string_view what, KerasActivation expected) const {
  expect_activation(what, expected, keras_activation());
}

void KerasConfig::expect_activation(std::string_view what, KerasActivation expected,
                                    KerasActivation found) const {
  if (expected != found) expect(what, activation_text(expected), activation_text(found));
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
  // The parameter of Keras' activation string (keras_string_alpha).
  if (kind == ActivationKind::Elu) return "Elu<1, 1>";
  if (kind == ActivationKind::LeakyRelu) return "LeakyRelu<1, 5>";
  return cpp_name(kind);
}

std::string cpp_tag(const KerasConfig& config, KerasActivation activation) {
  if (!has_parameter(activation.kind)) return std::string(cpp_tag(activation.kind));
  const std::string_view name = cpp_name(activation.kind);
  const std::optional<Ratio> ratio = float_ratio(activation.alpha);
  if (!ratio || ratio->num < 0)
    config.unsupported(std::string(name) + " with parameter " + std::to_string(activation.alpha) +
                       " has no typenet equivalent (a ratio of non-negative integers)");
  return std::string(name) + "<" + std::to_string(ratio->num) + ", " + std::to_string(ratio->den) +
         ">";
}

std::optional<Ratio> float_ratio(double value) {
  const float target = float(value);
  if (!std::isfinite(target)) return std::nullopt;
  constexpr double limit = double(std::int64_t{1} << 31);
  const bool negative = target < 0;
  // Convergents h/k of |target|'s continued fraction: h(n) = a(n) h(n-1) + h(n-2), likewise k.
  double rest = std::fabs(double(target));
  double h_prev = 1, h = std::floor(rest), k_prev = 0, k = 1;
  for (;;) {
    if (h >= limit || k >= limit) return std::nullopt;
    if (float(h / k) == std::fabs(target))
      return Ratio{negative ? -std::int64_t(h) : std::int64_t(h), std::uint64_t(k)};
    const double fraction = rest - std::floor(rest);
    if (fraction == 0) return std::nullopt;
    rest = 1 / fraction;
    const double a = std::floor(rest);
    const double h_next = a * h + h_prev, k_next = a * k + k_prev;
    h_prev = h, h = h_next, k_prev = k, k = k_next;
  }
}

std::string activation_option(const KerasConfig& config) {
  const ActivationKind kind = config.activation();
  return kind == ActivationKind::Linear ? "" : ", " + std::string(cpp_tag(kind));
}

}  // namespace typenet
