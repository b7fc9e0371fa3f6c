// The optimizer's state for a Net's parameters (Adam's m and v, ...) and the optimizer steps done,
// with room to compute a step aside: two halves of slots (the current one and the one a step is
// staged into) and the staged parameters. A step is staged, checked, and only then committed, so
// a diverging step leaves the weights and the state as they were. Nothing is allocated until
// allocate(): a model that only evaluates and predicts needs none of it.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "typenet/io/save_load.hpp"

namespace typenet {

template <class NetT, class Optimizer>
class OptimizerState {
 public:
  static constexpr std::size_t slot_count = Optimizer::slot_names.size();

  explicit OptimizerState(Optimizer optimizer) : optimizer_(optimizer) {
    optimizer_.learning_rate.check();
  }

  bool allocated() const { return !staged_params_.empty(); }
  // Zero slots, as a fresh optimizer has; does nothing once allocated.
  void allocate() {
    if (allocated()) return;
    slots_.assign(2 * slot_count * NetT::param_count, 0.0f);
    staged_params_.resize(NetT::param_count);
  }

  std::uint64_t steps() const { return steps_; }
  // The rate of the next step; a constant rate can be set (LearningRate::set).
  float learning_rate() const { return optimizer_.learning_rate.at(steps_); }
  void set_learning_rate(float rate) { optimizer_.learning_rate.set(rate); }
  bool learning_rate_scheduled() const { return optimizer_.learning_rate.scheduled(); }

  // Stages the next step of parameters [begin, begin + length) from their gradients (`gradients`
  // points to the gradient of parameter `begin`). Returns the offset from `begin` of the first
  // parameter the step would make non-finite, `length` if none.
  std::size_t stage(const float* params, const float* gradients, std::size_t begin,
                    std::size_t length) {
    return optimizer_.update(params + begin, gradients, slot_slices(begin, current_half_),
                             staged_params_.data() + begin, slot_slices(begin, 1 - current_half_),
                             length, steps_ + 1);
  }
  // The value the staged step gives parameter `index`.
  float staged(std::size_t index) const { return staged_params_[index]; }
  // Copies the staged parameters [begin, end) into params.
  void commit(std::span<float> params, std::size_t begin, std::size_t end) const {
    std::copy(staged_params_.begin() + begin, staged_params_.begin() + end, params.begin() + begin);
  }
  // Once every part of the staged step was committed: its half of the slots becomes current.
  void finish_step() {
    current_half_ = 1 - current_half_;
    ++steps_;
  }

  // The state as a checkpoint holds it: one span per slot ("m", "v", ...) into the current half,
  // which loading a checkpoint fills, the steps done and a constant learning rate (a callback may
  // have changed it). Allocates the state.
  CheckpointExtras checkpoint_extras() {
    allocate();
    CheckpointExtras extras;
    extras.optimizer = std::string(Optimizer::name);
    const auto slots = slot_slices(0, current_half_);
    for (std::size_t k = 0; k < slot_count; ++k)
      extras.slots.push_back(
          {std::string(Optimizer::slot_names[k]), std::span(slots[k], NetT::param_count)});
    extras.step = steps_;
    if (!learning_rate_scheduled()) extras.learning_rate = learning_rate();
    return extras;
  }
  // After a checkpoint was loaded into checkpoint_extras()' spans. A schedule's rate follows from
  // the steps; a constant one is the checkpoint's, when it has one (files before typenet stored
  // it have none).
  void resume_after(const CheckpointExtras& loaded) {
    steps_ = loaded.step;
    if (loaded.learning_rate && !learning_rate_scheduled())
      set_learning_rate(*loaded.learning_rate);
  }

 private:
  // The slots' slices from parameter `begin` on, in one half of the state.
  std::array<float*, slot_count> slot_slices(std::size_t begin, std::size_t half) {
    std::array<float*, slot_count> slices;
    for (std::size_t k = 0; k < slot_count; ++k)
      slices[k] = slots_.data() + (half * slot_count + k) * NetT::param_count + begin;
    return slices;
  }

  Optimizer optimizer_;
  std::uint64_t steps_ = 0;
  std::vector<float> slots_;  // two halves of slot_count slots
  std::size_t current_half_ = 0;
  std::vector<float> staged_params_;  // the parameters the staged step gives
};

}  // namespace typenet
