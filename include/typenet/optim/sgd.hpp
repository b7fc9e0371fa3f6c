// SGD with optional momentum and Nesterov, as Keras: velocity = momentum velocity - lr g;
// p += velocity, or with Nesterov p += momentum velocity - lr g.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "typenet/kernels/kernels.hpp"
#include "typenet/optim/learning_rate.hpp"

namespace typenet {

struct SGD {
  LearningRate learning_rate = 1e-2f;
  float momentum = 0.0f;
  bool nesterov = false;

  static constexpr std::string_view name = "sgd";
  static constexpr std::array<std::string_view, 1> slot_names{"velocity"};

  // As Adam::update (optim/adam.hpp): in place or into other arrays.
  std::size_t update(const float* params, const float* grads, std::span<float* const> slots,
                     float* new_params, std::span<float* const> new_slots, std::size_t count,
                     std::uint64_t step) const noexcept {
    return kernels::sgd_update(params, grads, slots[0], new_params, new_slots[0], count,
                               learning_rate.at(step - 1), momentum, nesterov);
  }
};

}  // namespace typenet
