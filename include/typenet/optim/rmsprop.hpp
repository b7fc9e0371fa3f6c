// RMSprop with Keras' defaults (not centered, no momentum): v = rho v + (1 - rho) g^2,
// p -= lr g / (sqrt(v) + epsilon).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "typenet/kernels/kernels.hpp"
#include "typenet/optim/learning_rate.hpp"

namespace typenet {

struct RMSprop {
  LearningRate learning_rate = 1e-3f;
  float rho = 0.9f;
  float epsilon = 1e-7f;

  static constexpr std::string_view name = "rmsprop";
  static constexpr std::array<std::string_view, 1> slot_names{"v"};

  // As Adam::update (optim/adam.hpp): in place or into other arrays.
  std::size_t update(const float* params, const float* grads, std::span<float* const> slots,
                     float* new_params, std::span<float* const> new_slots, std::size_t count,
                     std::uint64_t step) const noexcept {
    return kernels::rmsprop_update(params, grads, slots[0], new_params, new_slots[0], count,
                                   learning_rate.at(step - 1), rho, epsilon);
  }
};

}  // namespace typenet
