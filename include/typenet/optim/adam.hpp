// Adam with Keras' defaults and formulation: the bias corrections fold into the step size,
// alpha_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t), epsilon added to sqrt(v) unscaled.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <string_view>

#include "typenet/kernels/kernels.hpp"
#include "typenet/optim/learning_rate.hpp"

namespace typenet {

struct Adam {
  LearningRate learning_rate = 1e-3f;
  float beta_1 = 0.9f;
  float beta_2 = 0.999f;
  float epsilon = 1e-7f;

  static constexpr std::string_view name = "adam";
  static constexpr std::array<std::string_view, 2> slot_names{"m", "v"};

  // One update of `count` parameters at step t (counted from 1, so that it uses the learning
  // rate of Keras' iteration t - 1): reads params, grads and the
  // slots (slots[k]: slot k's slice) and writes the updated parameters and slots to new_params
  // and new_slots, which may be the same arrays (in place). Returns the index of the first
  // non-finite updated parameter (count if none).
  std::size_t update(const float* params, const float* grads, std::span<float* const> slots,
                     float* new_params, std::span<float* const> new_slots, std::size_t count,
                     std::uint64_t step) const noexcept {
    const double t = double(step);
    const double alpha = double(learning_rate.at(step - 1)) *
                         std::sqrt(1.0 - std::pow(double(beta_2), t)) /
                         (1.0 - std::pow(double(beta_1), t));
    return kernels::adam_update(params, grads, slots[0], slots[1], new_params, new_slots[0],
                                new_slots[1], count, float(alpha), beta_1, beta_2, epsilon);
  }
};

}  // namespace typenet
