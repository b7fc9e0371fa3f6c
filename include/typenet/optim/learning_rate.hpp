// An optimizer's learning rate: a constant, or one of Keras' schedules
// (keras.optimizers.schedules), a function of the optimizer step.
//
//   Adam{.learning_rate = 1e-3f}
//   SGD{.learning_rate = ExponentialDecay{.initial_learning_rate = 0.1, .decay_steps = 1000,
//                                         .decay_rate = 0.96}}
//   Adam{.learning_rate = CosineDecay{.initial_learning_rate = 0.0, .decay_steps = 5000,
//                                     .warmup_target = 1e-3, .warmup_steps = 500}}
//
// Steps are Keras' `iterations`: the update number t (from 0) uses schedule(t). The schedules
// compute in float32 with Keras' operations in Keras' order, so that they give Keras' values.
// The arguments are doubles, as Python's floats are: Keras converts each where it does.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>

namespace typenet {

// initial_learning_rate * decay_rate ^ (step / decay_steps), the exponent floored when
// `staircase`.
struct ExponentialDecay {
  double initial_learning_rate = 0;
  std::uint64_t decay_steps = 0;  // > 0
  double decay_rate = 0;
  bool staircase = false;

  float operator()(std::uint64_t step) const noexcept {
    float p = float(step) / float(decay_steps);
    if (staircase) p = std::floor(p);
    return float(initial_learning_rate) * std::pow(float(decay_rate), p);
  }
};

// Half a cosine from initial_learning_rate down to alpha * initial_learning_rate over
// decay_steps, then flat. With a warmup_target: first a linear warmup from
// initial_learning_rate to warmup_target over warmup_steps, then the cosine from warmup_target.
struct CosineDecay {
  double initial_learning_rate = 0;
  std::uint64_t decay_steps = 0;  // > 0
  double alpha = 0;
  std::optional<double> warmup_target{};
  std::uint64_t warmup_steps = 0;

  float operator()(std::uint64_t step) const noexcept {
    const float initial = float(initial_learning_rate), decay = float(decay_steps);
    if (!warmup_target) return decayed(std::min(float(step), decay), decay, initial);
    const float target = float(*warmup_target), warmup = float(warmup_steps);
    const float at = std::min(float(step), decay + warmup);
    if (at < warmup) return (target - initial) * (at / warmup) + initial;
    return decayed(at - warmup, decay, target);
  }

 private:
  float decayed(float step, float decay, float from) const noexcept {
    const float cosine = 0.5f * (1.0f + std::cos(std::numbers::pi_v<float> * (step / decay)));
    return from * (float(1 - alpha) * cosine + float(alpha));
  }
};

class LearningRate {
 public:
  LearningRate(float constant) : value_(constant) {}  // NOLINT: Adam{.learning_rate = 1e-3f}
  LearningRate(ExponentialDecay schedule) : value_(schedule) {}  // NOLINT
  LearningRate(CosineDecay schedule) : value_(schedule) {}       // NOLINT

  // The rate of update number `iterations` (counted from 0).
  float at(std::uint64_t iterations) const noexcept {
    return std::visit(
        [&](const auto& schedule) {
          if constexpr (std::is_same_v<std::decay_t<decltype(schedule)>, float>) return schedule;
          else return schedule(iterations);
        },
        value_);
  }
  bool scheduled() const { return !std::holds_alternative<float>(value_); }
  // Replaces a constant rate, as Keras' `optimizer.learning_rate = x`; as Keras, a schedule
  // cannot be overridden (std::logic_error).
  void set(float rate) {
    if (scheduled())
      throw std::logic_error(
          "typenet: this optimizer's learning rate is a schedule (ExponentialDecay, "
          "CosineDecay), so it cannot be set: give the optimizer a constant learning rate to "
          "change it from a callback");
    if (!std::isfinite(rate))
      throw std::invalid_argument("typenet: a learning rate must be finite, got " +
                                  std::to_string(rate));
    value_ = rate;
  }
  // Throws std::invalid_argument for a schedule Keras refuses (decay_steps of 0).
  void check() const {
    const auto* exponential = std::get_if<ExponentialDecay>(&value_);
    const auto* cosine = std::get_if<CosineDecay>(&value_);
    if ((exponential && exponential->decay_steps == 0) || (cosine && cosine->decay_steps == 0))
      throw std::invalid_argument(std::string("typenet: ") +
                                  (exponential ? "ExponentialDecay" : "CosineDecay") +
                                  " needs decay_steps > 0");
  }

 private:
  std::variant<float, ExponentialDecay, CosineDecay> value_;
};

}  // namespace typenet
