// What a Model is compiled and trained with, and what evaluating it gives (train/model.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <span>
#include <vector>

#include "typenet/precision.hpp"
#include "typenet/train/augmentation.hpp"
#include "typenet/train/callbacks.hpp"

namespace typenet {

struct ModelOptions {
  std::size_t threads = 0;  // 0: every core
  std::uint64_t seed = 1;   // shuffling and dropout; the weights of a Net that compile creates
  // The arithmetic of fit, evaluate and predict's Conv and Dense products (typenet/precision.hpp):
  // Auto is mixed bfloat16 where that is faster (AMX), float32 elsewhere.
  Precision precision = Precision::Auto;
  // How its Float32 3x3 convolutions are computed (typenet/precision.hpp): Auto is Winograd's.
  ConvAlgorithm convolution = ConvAlgorithm::Auto;
};

// Images (input_size floats each) with their targets (a class index each for sparse losses,
// `classes` floats each for categorical ones).
template <class Target>
struct Samples {
  std::span<const float> x;
  std::span<const Target> y;

  bool empty() const { return x.empty() && y.empty(); }
};

template <class Target>
struct FitOptions {
  std::size_t batch_size = 32;
  std::size_t epochs = 1;
  int verbose = 1;
  double validation_split = 0;  // the last fraction of the training data, as Keras
  // Validated on after every epoch when not empty, e.g. {x_test, y_test}; takes precedence over
  // validation_split.
  Samples<Target> validation_data{};
  bool shuffle = true;
  std::size_t initial_epoch = 0;  // epochs already done, as Keras' initial_epoch
  // As Keras' BackupAndRestore: a training checkpoint (parameters, optimizer state, epoch,
  // history) written atomically after every epoch; when it exists as fit starts, training
  // resumes from it and gives the same weights as a run that never stopped. Removed when fit
  // completes.
  std::filesystem::path backup{};
  // Applied in order to every training image as it joins a batch (never to validation data),
  // as Keras' RandomTranslation, RandomRotation and RandomZoom layers in training, e.g.
  // {RandomRotation{.factor = 0.05}, RandomZoom{.height_factor = 0.1}}. An image's factors
  // depend on the seed, the epoch and its position in the epoch (train/augmentation.hpp).
  std::vector<Augmentation> augment{};
  std::vector<Callback*> callbacks{};
  std::ostream* out = &std::cout;
};

struct Evaluation {
  double loss = 0;
  double accuracy = 0;
  std::size_t correct = 0, incorrect = 0;
};

}  // namespace typenet
