// The reference affine_transform (kernels.hpp): TensorFlow's ImageProjectiveTransformV3 (Keras
// 3's affine_transform), operation for operation in float, so that its roundings are
// TensorFlow's. Compiled without fused multiply-adds (src/kernels/meson.build).
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "src/kernels/affine_transform_reference.h"
#include "typenet/kernels/kernels.hpp"

namespace typenet::kernels::reference {
namespace {

using Index = std::int64_t;  // TensorFlow's DenseIndex: coordinates truncate through it

float clamp_to_image(float coord, Index len) {
  return std::fmin(std::fmax(coord, 0.0f), float(len - 1));
}

// A coordinate beyond [0, len - 1] brought back in as the fill mode says (TensorFlow's
// MapCoordinate, which follows scipy.ndimage, period 2 len for Reflect and, as TensorFlow has
// it, a shift of len per len - 1 for Wrap); Constant leaves it outside.
float map_coordinate(float coord, Index len, FillMode mode) {
  switch (mode) {
    case FillMode::Constant: return coord;
    case FillMode::Nearest: return clamp_to_image(coord, len);
    case FillMode::Reflect:
      if (coord < 0) {
        if (len <= 1) return 0;
        const Index period = 2 * len;
        if (coord < float(period)) coord = float(period * Index(-coord / float(period))) + coord;
        coord = coord < float(-len) ? coord + float(period) : -coord - 1;
      } else if (coord > float(len - 1)) {
        if (len <= 1) return 0;
        const Index period = 2 * len;
        coord -= float(period * Index(coord / float(period)));
        if (coord >= float(len)) coord = float(period) - coord - 1;
      }
      return clamp_to_image(coord, len);
    case FillMode::Wrap:
      if (coord < 0) {
        if (len <= 1) return 0;
        coord += float(len * (Index(-coord / float(len - 1)) + 1));
      } else if (coord > float(len - 1)) {
        if (len <= 1) return 0;
        coord -= float(len * Index(coord / float(len - 1)));
      }
      return clamp_to_image(coord, len);
  }
  return coord;
}

struct Image {
  const float* pixels;
  Index h, w, c;
  float fill_value;

  // Channel ch of pixel (y, x), fill_value outside the image.
  float at(Index y, Index x, Index ch) const {
    return 0 <= y && y < h && 0 <= x && x < w ? pixels[(y * w + x) * c + ch] : fill_value;
  }
  float bilinear(float y, float x, Index ch) const {
    const float y_floor = std::floor(y), x_floor = std::floor(x);
    const float y_ceil = y_floor + 1, x_ceil = x_floor + 1;
    const Index top = Index(y_floor), bottom = Index(y_ceil);
    const Index left = Index(x_floor), right = Index(x_ceil);
    const float upper_row = (x_ceil - x) * at(top, left, ch) + (x - x_floor) * at(top, right, ch);
    const float lower_row = (x_ceil - x) * at(bottom, left, ch) +
                            (x - x_floor) * at(bottom, right, ch);
    return (y_ceil - y) * upper_row + (y - y_floor) * lower_row;
  }
};

}  // namespace

void affine_transform_pixels(const float* in, std::size_t h, std::size_t w, std::size_t c,
                             const float* transform, Interpolation interpolation,
                             FillMode fill_mode, float fill_value, std::size_t row,
                             std::size_t first_x, std::size_t end_x, float* out) noexcept {
  const Image image{in, Index(h), Index(w), Index(c), fill_value};
  const float* t = transform;
  const Index out_y = Index(row);
  for (Index out_x = Index(first_x); out_x < Index(end_x); ++out_x) {
    float* pixel = out + (out_y * image.w + out_x) * image.c;
    const float projection = t[6] * float(out_x) + t[7] * float(out_y) + 1.0f;
    const float in_x = (t[0] * float(out_x) + t[1] * float(out_y) + t[2]) / projection;
    const float in_y = (t[3] * float(out_x) + t[4] * float(out_y) + t[5]) / projection;
    // A point at infinity (projection 0), or one so far out that no image reaches it, reads
    // nothing (which spares the casts to Index an overflow).
    const bool finite = projection != 0 && std::fabs(in_x) < kAffineFarOut &&
                        std::fabs(in_y) < kAffineFarOut;
    if (!finite) {
      for (Index ch = 0; ch < image.c; ++ch) pixel[ch] = fill_value;
      continue;
    }
    // Only Constant leaves a point outside the image: its neighbours there read fill_value.
    const float x = map_coordinate(in_x, image.w, fill_mode);
    const float y = map_coordinate(in_y, image.h, fill_mode);
    for (Index ch = 0; ch < image.c; ++ch)
      pixel[ch] = interpolation == Interpolation::Nearest
                      ? image.at(Index(std::round(y)), Index(std::round(x)), ch)
                      : image.bilinear(y, x, ch);
  }
}

void affine_transform(const float* in, std::size_t h, std::size_t w, std::size_t c,
                      const float* transform, Interpolation interpolation, FillMode fill_mode,
                      float fill_value, float* out) noexcept {
  for (std::size_t row = 0; row < h; ++row)
    affine_transform_pixels(in, h, w, c, transform, interpolation, fill_mode, fill_value, row, 0, w,
                            out);
}

}  // namespace typenet::kernels::reference
