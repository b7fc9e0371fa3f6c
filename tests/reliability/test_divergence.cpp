// Training that blows up (absurd learning rates, an Inf in the data) must stop at the step that
// would make the loss or a weight non-finite, name that step (and the layer), keep the weights of
// the step before, and leave a usable backup.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "temp_folder.hpp"

using namespace typenet;
using namespace typenet::reliability;

namespace {

using SmallCnn = Net<Input<28, 28, 1>, Conv<4, 3, Relu>, MaxPool<2>, Flatten, Dense<10, Softmax>>;

bool all_finite(std::span<const float> values) {
  return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
}

// What training continues from: weights, optimizer slots, optimizer steps done.
struct TrainingState {
  std::vector<float> weights, slots;
  std::uint64_t steps = 0;

  template <class ModelT>
  explicit TrainingState(ModelT& model)
      : weights(model.net().parameters().begin(), model.net().parameters().end()),
        slots(optimizer_slots(model)), steps(model.optimizer_steps()) {}
};

struct Divergence {
  std::uint64_t step = 0;  // the optimizer step (counted from 1) that threw
  std::string message;
  TrainingState before, after;  // before and after the step that threw
};

// Trains batch after batch of MNIST-shaped random images (pixels in [0, pixel_scale)) until a
// step throws; checks on the way that every step that did not throw left finite weights, i.e.
// that training stops at the first step that would make the state non-finite.
template <class Optimizer>
Divergence train_until_divergence(Optimizer optimizer, float pixel_scale) {
  SyntheticSamples samples = synthetic_samples(256, SmallCnn::input_size, 11);
  for (float& pixel : samples.x) pixel *= pixel_scale;
  auto net = std::make_unique<SmallCnn>(1);
  auto model = compile(*net, optimizer, SparseCategoricalCrossentropy{}, {.threads = 2});
  std::vector<std::uint32_t> batch(32);
  for (std::uint64_t step = 1; step <= 20; ++step) {
    std::iota(batch.begin(), batch.end(), std::uint32_t(step * 32 % 256));
    TrainingState before(model);
    try {
      model.train_on_batch({samples.x, samples.y}, batch);
    } catch (const std::runtime_error& error) {
      MESSAGE("diverged: " << std::string(error.what()));
      return {step, error.what(), std::move(before), TrainingState(model)};
    }
    REQUIRE_MESSAGE(all_finite(net->parameters()),
                    "step " << step << " made a weight non-finite and did not throw");
  }
  FAIL("training did not diverge within 20 steps");
  return {0, "", TrainingState(model), TrainingState(model)};
}

bool names(const std::string& message, const std::string& words) {
  return message.find(words) != std::string::npos;
}

}  // namespace

TEST_CASE("SGD with a learning rate of 1e30: stops at the step whose loss is NaN, state intact") {
  // Step 1 makes the weights huge but finite; step 2's forward pass overflows.
  const Divergence divergence = train_until_divergence(SGD{.learning_rate = 1e30f}, 1.0f);
  CHECK(divergence.step == 2);
  CHECK(names(divergence.message, "the loss became"));
  CHECK(names(divergence.message, "at optimizer step 2:"));
  CHECK(names(divergence.message, "training diverged"));
  CHECK(divergence.after.weights == divergence.before.weights);
  CHECK(divergence.after.slots == divergence.before.slots);
  CHECK(divergence.after.steps == divergence.before.steps);
}

TEST_CASE("SGD with a learning rate of 1e38 on 0..255 pixels: the update overflows at step 1") {
  const Divergence divergence = train_until_divergence(SGD{.learning_rate = 1e38f}, 255.0f);
  CHECK(divergence.step == 1);
  CHECK(names(divergence.message, "a weight of layer 1 (conv2d) became"));
  CHECK(names(divergence.message, "at optimizer step 1:"));
  CHECK(all_finite(divergence.before.weights));
  CHECK(divergence.after.weights == divergence.before.weights);
}

// SGD's velocity would be left at -inf, which the next step turns into NaN weights even with
// momentum 0: the optimizer state and step count are put back with the weights.
TEST_CASE("an overflowing update leaves the optimizer state and step count intact too") {
  const Divergence divergence = train_until_divergence(SGD{.learning_rate = 1e38f}, 255.0f);
  CHECK(all_finite(divergence.after.slots));
  CHECK(divergence.after.slots == divergence.before.slots);
  CHECK(divergence.after.steps == divergence.before.steps);
}

TEST_CASE("a fit that diverges in epoch 3 keeps the backup of epoch 2, which resumes") {
  SyntheticSamples samples = synthetic_samples(128, SmallCnn::input_size, 12);
  // After epoch 2 an Inf appears in the data (a corrupted image): the next step diverges.
  struct CorruptDataAfterEpoch2 : Callback {
    std::vector<float>* images = nullptr;
    void on_epoch_end(std::size_t epoch, const History&, TrainingControl&) override {
      if (epoch == 1)
        std::fill(images->begin(), images->end(), std::numeric_limits<float>::infinity());
    }
  } corrupt;
  corrupt.images = &samples.x;
  const TempFolder folder("divergence_backup");
  const auto backup = folder / "backup.ckpt";
  auto net = std::make_unique<SmallCnn>(1);
  auto model = compile(*net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = 2, .seed = 4});
  // Set one by one: designated initializers warn about the members they leave out.
  FitOptions<std::uint8_t> options;
  options.batch_size = 32;
  options.epochs = 5;
  options.verbose = 0;
  options.backup = backup;
  options.callbacks = {&corrupt};
  std::optional<std::string> error;
  try {
    model.fit({samples.x, samples.y}, options);
  } catch (const std::runtime_error& caught) {
    error = caught.what();
  }
  REQUIRE_MESSAGE(error, "fit did not diverge on Inf images");
  MESSAGE("diverged: " << *error);
  // 128 images in batches of 32: epochs 1 and 2 took steps 1-8, the first step of epoch 3 is 9.
  CHECK(error->find("at optimizer step 9:") != std::string::npos);

  auto resumed_net = std::make_unique<SmallCnn>(2);
  auto resumed =
      compile(*resumed_net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = 2, .seed = 4});
  const auto [epochs_done, history] = resumed.load_checkpoint(backup);
  CHECK(epochs_done == 2);
  CHECK(history.epochs() == 2);
  CHECK(resumed.optimizer_steps() == 8);
  CHECK(all_finite(resumed_net->parameters()));
}
