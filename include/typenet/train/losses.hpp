// Cross-entropy losses, as Keras: categorical (one-hot or soft targets, `classes` floats per
// sample) and sparse categorical (a class index per sample), each on probabilities or, with
// from_logits, on raw scores. Probabilities are clipped to [1e-7, 1 - 1e-7] as Keras does.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "typenet/layer_info.hpp"

namespace typenet {

struct CategoricalCrossentropy {
  bool from_logits = false;
  using target_type = float;
  static constexpr std::size_t target_width(std::size_t classes) { return classes; }
  static float target(const float* t, std::size_t j) { return t[j]; }
  static std::size_t target_class(const float* t, std::size_t classes) {
    return std::size_t(std::max_element(t, t + classes) - t);
  }
};

struct SparseCategoricalCrossentropy {
  bool from_logits = false;
  using target_type = std::uint8_t;
  static constexpr std::size_t target_width(std::size_t) { return 1; }
  static float target(const std::uint8_t* t, std::size_t j) { return *t == j ? 1.0f : 0.0f; }
  static std::size_t target_class(const std::uint8_t* t, std::size_t) { return *t; }
};

template <class L>
concept CrossEntropyLoss = std::same_as<L, CategoricalCrossentropy> ||
    std::same_as<L, SparseCategoricalCrossentropy>;

// A Net without a Softmax head outputs logits, so its loss is taken from_logits.
template <class NetT>
inline constexpr bool outputs_logits = NetT::last_activation::kind != ActivationKind::Softmax;

// NetT's loss on targets of type Loss (class indices by default): from_logits when NetT outputs
// logits.
template <class NetT, CrossEntropyLoss Loss = SparseCategoricalCrossentropy>
constexpr Loss loss_for() {
  return {.from_logits = outputs_logits<NetT>};
}

struct SampleLoss {
  double loss;
  bool correct;
};

// Loss of one sample and, unless grad is null (evaluation), its gradient times `scale`, written to
// grad (classes floats):
// - from_logits: w.r.t. the logits, softmax(z) - t, computed stably through log-sum-exp;
// - probabilities after a Softmax head (`softmax_head`): w.r.t. the pre-softmax logits, p - t
//   (the fused, stable gradient; the Net then skips the softmax's own backward);
// - other probabilities: w.r.t. p, -t / p.
template <CrossEntropyLoss Loss>
SampleLoss cross_entropy(const Loss& loss, const float* out,
                         const typename Loss::target_type* target, std::size_t classes,
                         bool softmax_head, float scale, float* grad) noexcept {
  constexpr float clip = 1e-7f;
  const std::size_t predicted = std::size_t(std::max_element(out, out + classes) - out);
  const bool correct = predicted == Loss::target_class(target, classes);
  double value = 0;
  if (loss.from_logits) {
    const float max = out[predicted];
    double sum = 0;
    for (std::size_t j = 0; j < classes; ++j) sum += std::exp(double(out[j] - max));
    const double log_sum = std::log(sum) + max;
    for (std::size_t j = 0; j < classes; ++j) {
      const float t = Loss::target(target, j);
      value -= t * (double(out[j]) - log_sum);
      if (grad) grad[j] = scale * (float(std::exp(double(out[j]) - log_sum)) - t);
    }
  } else {
    for (std::size_t j = 0; j < classes; ++j) {
      const float t = Loss::target(target, j);
      const float p = std::clamp(out[j], clip, 1.0f - clip);
      if (t != 0.0f) value -= t * std::log(double(p));
      if (grad) grad[j] = scale * (softmax_head ? out[j] - t : -t / p);
    }
  }
  return {value, correct};
}

}  // namespace typenet
