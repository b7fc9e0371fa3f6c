// What the reliability tests and their helper process checkpoint_writer.cpp share: the nets, the
// data and the training steps (so that test_kill can load, check and recompute what the helper
// writes), and ways to look at training state and at what a write left on disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include <typenet/typenet.hpp>

namespace typenet::reliability {

// The net rewritten in a tight loop: a step trains in microseconds, while its checkpoint
// (parameters and Adam's two slots, ~115 KB) is large enough that kills often land mid-write.
using LoopNet = Net<Input<64>, Dense<128, Relu>, Dense<10, Softmax>>;

inline auto compile_loop_model(LoopNet& net) {
  return compile(net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = 1, .seed = 3});
}
using LoopModel = decltype(compile_loop_model(std::declval<LoopNet&>()));

struct SyntheticSamples {
  std::vector<float> x;
  std::vector<std::uint8_t> y;
};

// Random inputs in [0, 1) with random labels of 10 classes: enough for gradients to flow.
inline SyntheticSamples synthetic_samples(std::size_t count, std::size_t width,
                                          std::uint64_t seed) {
  Rng rng(seed);
  SyntheticSamples samples;
  samples.x.resize(count * width);
  for (float& value : samples.x) value = rng.uniform();
  samples.y.resize(count);
  for (std::uint8_t& label : samples.y) label = std::uint8_t(rng.below(10));
  return samples;
}

inline const SyntheticSamples& loop_samples() {
  static const SyntheticSamples samples = synthetic_samples(256, LoopNet::input_size, 5);
  return samples;
}

// Optimizer step number `step` (counted from 0) of the loop: its batch depends on the step alone,
// so a run resumed from any checkpoint computes exactly what an unbroken run computes.
inline void train_loop_step(LoopModel& model, std::uint64_t step) {
  constexpr std::size_t batch_size = 16;
  const SyntheticSamples& samples = loop_samples();
  std::vector<std::uint32_t> batch(batch_size);
  std::iota(batch.begin(), batch.end(), std::uint32_t(step * batch_size % samples.y.size()));
  model.train_on_batch({samples.x, samples.y}, batch);
}

// The net fitted on real MNIST with a backup, killed and resumed. Dropout makes the result
// depend on the random streams being resumed too, not just the weights.
using FitNet = Net<Input<784>, Dense<64, Relu>, Dropout<20>, Dense<10, Softmax>>;

inline auto compile_fit_model(FitNet& net) {
  return compile(net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = 2, .seed = 7});
}
using FitModel = decltype(compile_fit_model(std::declval<FitNet&>()));
inline constexpr std::size_t fit_images = 2000;
inline constexpr std::size_t fit_epochs = 8;

// The optimizer's slots (Adam's m and v, SGD's velocity...), one after the other.
template <class ModelT>
std::vector<float> optimizer_slots(ModelT& model) {
  std::vector<float> values;
  for (const OptimizerSlot& slot : model.checkpoint_extras().slots)
    values.insert(values.end(), slot.values.begin(), slot.values.end());
  return values;
}

// The temporary files of write_file_atomically ("<target>.tmp.<pid>") in a folder: a writer
// leaves one behind when it dies between creating it and renaming it over the target.
inline std::vector<std::filesystem::path> temporary_files_in(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> found;
  for (const auto& entry : std::filesystem::directory_iterator(folder))
    if (entry.path().filename().string().find(".tmp.") != std::string::npos)
      found.push_back(entry.path());
  return found;
}

}  // namespace typenet::reliability
