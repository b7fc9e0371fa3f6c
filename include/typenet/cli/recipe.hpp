// How the typenet tool trains an architecture when its command line leaves it open (`typenet
// train`), shared with the examples that run the same recipe.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <vector>

#include "typenet/optim/adam.hpp"
#include "typenet/train/augmentation.hpp"
#include "typenet/train/callbacks.hpp"

namespace typenet::cli {

// How an architecture trains when the command line leaves it open: the tutorials' recipe (Adam
// at 1e-3, 5 epochs, validated on the test set), or the one declared next to the architecture by
// specialising training_recipe (src/cli/models.hpp: `best`; examples/mnist_best.cpp).
struct TrainingRecipe {
  std::size_t epochs = 5;
  double validation_split = 0;  // 0: validate on the test set, as the tutorials
  std::vector<Augmentation> augment{};
  // Adam's rate decays along a cosine from 1e-3 to 0 over the run's steps (else constant).
  bool cosine_decay = false;
  std::optional<EarlyStoppingOptions> early_stopping{};

  Adam optimizer(std::size_t train_images, std::size_t batch_size, std::size_t epochs,
                 double split) const {
    if (!cosine_decay) return Adam{};
    const auto kept = std::size_t(std::floor(double(train_images) * (1.0 - split)));
    const std::size_t steps = (kept + batch_size - 1) / batch_size * epochs;
    return Adam{.learning_rate = CosineDecay{.initial_learning_rate = 1e-3,
                                             .decay_steps = std::max<std::size_t>(steps, 1)}};
  }
};
template <class NetT>
inline const TrainingRecipe training_recipe{};

}  // namespace typenet::cli
