// On-the-fly data augmentation, as Keras 3's RandomTranslation, RandomRotation and RandomZoom
// layers in training: each draws its factors for an image, builds the transform Keras builds and
// resamples the image with kernels::affine_transform (TensorFlow's ImageProjectiveTransformV3).
//
//   model.fit({x, y}, {.epochs = 10,
//                      .augment = {RandomRotation{.factor = 0.05}, RandomZoom{.height_factor = 0.1},
//                                  RandomTranslation{.height_factor = 0.1, .width_factor = 0.1}}});
//
// A list applies in order, each augmentation resampling the previous one's output with its own
// fill mode and interpolation, as Keras' layers one after the other do (composing the transforms
// into one resampling would interpolate once, but would fill differently at the edges).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <variant>

#include "typenet/kernels/kernels.hpp"
#include "typenet/random.hpp"

namespace typenet {

using kernels::FillMode;
using kernels::Interpolation;

// The 8 numbers of a projective transform as kernels::affine_transform reads them: where each
// output pixel reads the input.
using ImageTransform = std::array<float, 8>;

// The range a random factor is drawn from, uniformly, as Keras takes it: one value v means
// [-|v|, |v|]; two are the bounds, in either order: `.factor = 0.1`, `.factor = {-0.2, 0.3}`.
struct FactorRange {
  double lower = 0, upper = 0;

  FactorRange() = default;
  FactorRange(double v) : lower(-std::abs(v)), upper(std::abs(v)) {}  // NOLINT: as Keras
  FactorRange(double a, double b) : lower(std::min(a, b)), upper(std::max(a, b)) {}
};

// Shifts by fractions of the height and the width (positive: down and right).
struct RandomTranslation {
  FactorRange height_factor{}, width_factor{};  // within [-1, 1]
  FillMode fill_mode = FillMode::Reflect;
  Interpolation interpolation = Interpolation::Bilinear;
  float fill_value = 0;  // for FillMode::Constant

  // Keras' transform for shifts of height_fraction * h and width_fraction * w pixels.
  static ImageTransform transform(float height_fraction, float width_fraction, std::size_t h,
                                  std::size_t w) noexcept;
  // Draws the height's fraction, then the width's, as Keras.
  ImageTransform draw(Rng& rng, std::size_t h, std::size_t w) const noexcept;
};

// Rotates about the image's centre by a fraction of a full turn (positive: counter-clockwise).
struct RandomRotation {
  FactorRange factor{};  // within [-1, 1]: 0.05 is up to 18 degrees either way
  FillMode fill_mode = FillMode::Reflect;
  Interpolation interpolation = Interpolation::Bilinear;
  float fill_value = 0;

  // Keras' transform for a rotation by `degrees`.
  static ImageTransform transform(float degrees, std::size_t h, std::size_t w) noexcept;
  ImageTransform draw(Rng& rng, std::size_t h, std::size_t w) const noexcept;
};

// Zooms about the image's centre: a factor f shows 1 + f of the image's extent (positive: zoom
// out; negative: zoom in). Without a width factor, the width zooms as the height.
struct RandomZoom {
  FactorRange height_factor{};                // within [-1, 1]
  std::optional<FactorRange> width_factor{};  // within [-1, 1]
  FillMode fill_mode = FillMode::Reflect;
  Interpolation interpolation = Interpolation::Bilinear;
  float fill_value = 0;

  // Keras' transform for zooms (1 + factor) of height_zoom and width_zoom.
  static ImageTransform transform(float height_zoom, float width_zoom, std::size_t h,
                                  std::size_t w) noexcept;
  // Draws the height's zoom, then the width's (when it has a factor of its own), as Keras.
  ImageTransform draw(Rng& rng, std::size_t h, std::size_t w) const noexcept;
};

using Augmentation = std::variant<RandomTranslation, RandomRotation, RandomZoom>;

// Throws std::invalid_argument, naming the augmentation and its factor, for a factor Keras'
// constructor refuses.
void check_augmentations(std::span<const Augmentation> augmentations);

// One channels-last image (h, w, c) from `in` to `out`, through each augmentation in order, each
// drawing its factors from rng. `scratch` holds an image when there are two augmentations or
// more; in, out and scratch do not overlap. No augmentations: a copy.
void augment_image(std::span<const Augmentation> augmentations, Rng& rng, const float* in,
                   std::size_t h, std::size_t w, std::size_t c, float* out,
                   float* scratch) noexcept;

// What fit asks of a training step's gathering: image i of the batch augmented, drawing from
// Rng::stream(seed, first + i), so that an image's factors depend on the fit's seed, the epoch
// and its position in the epoch alone, not on the threads.
struct BatchAugmentation {
  std::span<const Augmentation> augmentations;
  std::uint64_t seed = 0;  // the epoch's
  std::size_t first = 0;   // the batch's first image's position in the epoch
};

}  // namespace typenet
