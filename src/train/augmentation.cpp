// The augmentations of train/augmentation.hpp. Factors are drawn and transforms built in float,
// in the order of operations of Keras 3's layers (keras/src/layers/preprocessing/
// image_preprocessing/random_{translation,rotation,zoom}.py), so that given the same draws the
// transforms are Keras' to the last bit or two (sin and cos may round differently).
#include "typenet/train/augmentation.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace typenet {
namespace {

// As Keras' random.uniform(minval, maxval): bounds rounded to float32, then low + (high - low) u.
float draw_between(Rng& rng, double low, double high) {
  return rng.uniform(float(low), float(high));
}

void check_range(const FactorRange& range, const char* augmentation, const char* factor) {
  if (!(range.lower >= -1 && range.upper <= 1))
    throw std::invalid_argument(std::string("typenet: ") + augmentation + ": " + factor + " [" +
                                std::to_string(range.lower) + ", " + std::to_string(range.upper) +
                                "] is not within [-1, 1], as Keras requires");
}

void apply(const Augmentation& augmentation, Rng& rng, const float* in, std::size_t h,
           std::size_t w, std::size_t c, float* out) noexcept {
  std::visit(
      [&](const auto& a) {
        const ImageTransform transform = a.draw(rng, h, w);
        kernels::affine_transform(in, h, w, c, transform.data(), a.interpolation, a.fill_mode,
                                  a.fill_value, out);
      },
      augmentation);
}

}  // namespace

ImageTransform RandomTranslation::transform(float height_fraction, float width_fraction,
                                            std::size_t h, std::size_t w) noexcept {
  const float dy = height_fraction * float(h), dx = width_fraction * float(w);
  return {1, 0, -dx, 0, 1, -dy, 0, 0};
}

ImageTransform RandomTranslation::draw(Rng& rng, std::size_t h, std::size_t w) const noexcept {
  const float height_fraction = draw_between(rng, height_factor.lower, height_factor.upper);
  const float width_fraction = draw_between(rng, width_factor.lower, width_factor.upper);
  return transform(height_fraction, width_fraction, h, w);
}

ImageTransform RandomRotation::transform(float degrees, std::size_t h, std::size_t w) noexcept {
  const float radians = degrees * float(std::numbers::pi / 180.0);
  const float cos = std::cos(radians), sin = std::sin(radians);
  const float cx = 0.5f * (float(w) - 1), cy = 0.5f * (float(h) - 1);
  // Keras' general matrix with scale 1, no shear and no translation: (0 + cx) - cx a0 - cy a1.
  const float a0 = cos, a1 = -sin, b0 = sin, b1 = cos;
  return {a0, a1, cx - cx * a0 - cy * a1, b0, b1, cy - cx * b0 - cy * b1, 0, 0};
}

ImageTransform RandomRotation::draw(Rng& rng, std::size_t h, std::size_t w) const noexcept {
  return transform(draw_between(rng, factor.lower * 360.0, factor.upper * 360.0), h, w);
}

ImageTransform RandomZoom::transform(float height_zoom, float width_zoom, std::size_t h,
                                     std::size_t w) noexcept {
  const float x_offset = (float(w) - 1) / 2 * (1 - width_zoom);
  const float y_offset = (float(h) - 1) / 2 * (1 - height_zoom);
  return {width_zoom, 0, x_offset, 0, height_zoom, y_offset, 0, 0};
}

ImageTransform RandomZoom::draw(Rng& rng, std::size_t h, std::size_t w) const noexcept {
  const float height_zoom = draw_between(rng, 1.0 + height_factor.lower, 1.0 + height_factor.upper);
  const float width_zoom =
      width_factor ? draw_between(rng, 1.0 + width_factor->lower, 1.0 + width_factor->upper)
                   : height_zoom;
  return transform(height_zoom, width_zoom, h, w);
}

void check_augmentations(std::span<const Augmentation> augmentations) {
  for (const Augmentation& augmentation : augmentations)
    std::visit(
        [](const auto& a) {
          using A = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<A, RandomTranslation>) {
            check_range(a.height_factor, "RandomTranslation", "height_factor");
            check_range(a.width_factor, "RandomTranslation", "width_factor");
          } else if constexpr (std::is_same_v<A, RandomRotation>) {
            check_range(a.factor, "RandomRotation", "factor");
          } else {
            check_range(a.height_factor, "RandomZoom", "height_factor");
            if (a.width_factor) check_range(*a.width_factor, "RandomZoom", "width_factor");
          }
        },
        augmentation);
}

void augment_image(std::span<const Augmentation> augmentations, Rng& rng, const float* in,
                   std::size_t h, std::size_t w, std::size_t c, float* out,
                   float* scratch) noexcept {
  if (augmentations.empty()) {
    std::copy_n(in, h * w * c, out);
    return;
  }
  // The last augmentation writes `out`: counting back from it, they alternate between out and
  // the scratch.
  const float* source = in;
  for (std::size_t i = 0; i < augmentations.size(); ++i) {
    float* target = (augmentations.size() - 1 - i) % 2 == 0 ? out : scratch;
    apply(augmentations[i], rng, source, h, w, c, target);
    source = target;
  }
}

}  // namespace typenet
