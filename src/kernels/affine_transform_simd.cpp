// The dispatched affine_transform (kernels.hpp): the reference's float operations in its order,
// on a vector of a row's output pixels at a time, so that every target gives the reference's
// bits. Compiled, as the reference is, without fused multiply-adds (src/kernels/meson.build).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/kernels/affine_transform_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "src/kernels/affine_transform_reference.h"
#include "typenet/kernels/kernels.hpp"

HWY_BEFORE_NAMESPACE();
namespace typenet::kernels::HWY_NAMESPACE {
namespace {

namespace hn = hwy::HWY_NAMESPACE;
using std::size_t;
using D = hn::ScalableTag<float>;
using DI = hn::RebindToSigned<D>;
using V = hn::Vec<D>;
using VI = hn::Vec<DI>;
using M = hn::Mask<D>;

// Below this magnitude, of coordinates and of image sizes, every step of the fill modes and the
// sampling is exact in float lanes where the reference's is exact in int64: a truncated
// quotient, its product with a period or extent (rounded once, as the reference's conversion to
// float rounds it), the + 1 after it or after a floor, and the pixel indices. Beyond it (a far
// zoom-out, a projection near 0) the reference computes the pixels.
constexpr float kExactBelow = 0x1p22f;

// map_coordinate (affine_transform.cpp) on coordinates below kExactBelow; len > 0. A zero may
// come out with the other sign (Min and Max of +0 and -0 pick by operand order): no sampling
// below tells them apart. Its quotients of -coord are those of coord negated (division and
// rounding are symmetric), so one quotient serves both sides.
V MapCoordinate(D d, V coord, size_t len, FillMode mode) {
  const V zero = hn::Zero(d), one = hn::Set(d, 1.0f);
  const V extent = hn::Set(d, float(len)), last = hn::Set(d, float(len - 1));
  const auto in_image = [&](V below, V above) {
    const V mapped = hn::IfThenElse(hn::Lt(coord, zero), below,
                                    hn::IfThenElse(hn::Gt(coord, last), above, coord));
    return hn::Min(hn::Max(mapped, zero), last);
  };
  switch (mode) {
    case FillMode::Constant: return coord;
    case FillMode::Nearest: return hn::Min(hn::Max(coord, zero), last);
    case FillMode::Reflect: {
      if (len <= 1) return zero;
      const V period = hn::Set(d, float(2 * len));
      const V folded = hn::Sub(coord, hn::Mul(period, hn::Trunc(hn::Div(coord, period))));
      return in_image(
          hn::IfThenElse(hn::Lt(folded, hn::Neg(extent)), hn::Add(folded, period),
                         hn::Sub(hn::Neg(folded), one)),
          hn::IfThenElse(hn::Ge(folded, extent), hn::Sub(hn::Sub(period, folded), one), folded));
    }
    case FillMode::Wrap: {
      if (len <= 1) return zero;
      const V laps = hn::Trunc(hn::Div(coord, last));
      return in_image(hn::Add(coord, hn::Mul(extent, hn::Sub(one, laps))),
                      hn::Sub(coord, hn::Mul(extent, laps)));
    }
  }
  return coord;
}

// std::round's half away from zero (Highway's Round is half to even); v - Trunc(v) is exact.
V RoundHalfAway(D d, V v) {
  const V whole = hn::Trunc(v);
  const M half_or_more = hn::Ge(hn::Abs(hn::Sub(v, whole)), hn::Set(d, 0.5f));
  return hn::IfThenElse(half_or_more, hn::Add(whole, hn::CopySign(hn::Set(d, 1.0f), v)), whole);
}

// A row or a column of the image at whole-float indices: the offsets of its pixels (clamped
// into the image, so that a gather never reads outside it) and whether each is inside.
struct Line {
  VI offset;
  M inside;
};

Line ImageLine(D d, V index, size_t len, size_t stride) {
  const DI di;
  const V zero = hn::Zero(d);
  const V clamped = hn::Min(hn::Max(index, zero), hn::Set(d, float(len - 1)));
  return {hn::Mul(hn::ConvertTo(di, clamped), hn::Set(di, std::int32_t(stride))),
          hn::And(hn::Ge(index, zero), hn::Lt(index, hn::Set(d, float(len))))};
}

// Lanes [0, count) of v to out[0], out[stride], out[2 * stride], ...
void StoreLanes(D d, V v, size_t count, size_t stride, float* out) {
  if (stride == 1 && count == hn::Lanes(d)) return hn::StoreU(v, d, out);
  if (stride == 1) return hn::BlendedStore(v, hn::FirstN(d, count), d, out);
  HWY_ALIGN float lanes[hn::MaxLanes(d)];
  hn::Store(v, d, lanes);
  for (size_t i = 0; i < count; ++i) out[i * stride] = lanes[i];
}

// The image sampled, and how.
struct Sampling {
  const float* in;
  size_t h, w, c;
  Interpolation interpolation;
  FillMode fill_mode;
  float fill_value;
};

// Writes the first count <= Lanes(d) output pixels of out from the points (x, y) they read,
// already mapped by the fill mode: fill_value where `reads` is false.
void Sample(D d, const Sampling& s, V x, V y, M reads, size_t count, float* out) {
  const V fill = hn::Set(d, s.fill_value);
  // The image's pixel (row, column), channel ch, as Image::at reads it.
  const auto at = [&](const Line& row, const Line& column, size_t ch) {
    return hn::IfThenElse(hn::And(row.inside, column.inside),
                          hn::GatherIndex(d, s.in + ch, hn::Add(row.offset, column.offset)), fill);
  };
  if (s.interpolation == Interpolation::Nearest) {
    const Line row = ImageLine(d, RoundHalfAway(d, y), s.h, s.w * s.c);
    const Line column = ImageLine(d, RoundHalfAway(d, x), s.w, s.c);
    for (size_t ch = 0; ch < s.c; ++ch)
      StoreLanes(d, hn::IfThenElse(reads, at(row, column, ch), fill), count, s.c, out + ch);
    return;
  }
  // -0 becomes +0, whose floor is +0 on every target (a floor emulated through integers drops
  // the sign of -0, and x - floor(x) would then be -0 where the reference has +0): a weight
  // the same either way.
  x = hn::Add(x, hn::Zero(d));
  y = hn::Add(y, hn::Zero(d));
  const V one = hn::Set(d, 1.0f);
  const V x_floor = hn::Floor(x), y_floor = hn::Floor(y);
  const V x_ceil = hn::Add(x_floor, one), y_ceil = hn::Add(y_floor, one);
  const Line top = ImageLine(d, y_floor, s.h, s.w * s.c);
  const Line bottom = ImageLine(d, y_ceil, s.h, s.w * s.c);
  const Line left = ImageLine(d, x_floor, s.w, s.c);
  const Line right = ImageLine(d, x_ceil, s.w, s.c);
  const V left_weight = hn::Sub(x_ceil, x), right_weight = hn::Sub(x, x_floor);
  const V top_weight = hn::Sub(y_ceil, y), bottom_weight = hn::Sub(y, y_floor);
  for (size_t ch = 0; ch < s.c; ++ch) {
    const V upper_row =
        hn::Add(hn::Mul(left_weight, at(top, left, ch)), hn::Mul(right_weight, at(top, right, ch)));
    const V lower_row = hn::Add(hn::Mul(left_weight, at(bottom, left, ch)),
                                hn::Mul(right_weight, at(bottom, right, ch)));
    const V value = hn::Add(hn::Mul(top_weight, upper_row), hn::Mul(bottom_weight, lower_row));
    StoreLanes(d, hn::IfThenElse(reads, value, fill), count, s.c, out + ch);
  }
}

// Whether the image's extents are below kExactBelow and every offset into it fits an int32
// lane: else the reference computes it all.
bool FitsLanes(size_t h, size_t w, size_t c) {
  constexpr auto kMaxOffset = size_t(std::numeric_limits<std::int32_t>::max());
  return h <= size_t(kExactBelow) && w <= size_t(kExactBelow) && c <= kMaxOffset / (h * w);
}

}  // namespace

void AffineTransform(const float* in, size_t h, size_t w, size_t c, const float* transform,
                     Interpolation interpolation, FillMode fill_mode, float fill_value,
                     float* out) {
  if (h == 0 || w == 0 || c == 0) return;
  if (!FitsLanes(h, w, c))
    return reference::affine_transform(in, h, w, c, transform, interpolation, fill_mode, fill_value,
                                       out);
  const D d;
  const size_t N = hn::Lanes(d);
  const Sampling sampling{in, h, w, c, interpolation, fill_mode, fill_value};
  const float* t = transform;
  const V zero = hn::Zero(d), one = hn::Set(d, 1.0f);
  const V far_out = hn::Set(d, reference::kAffineFarOut), exact_below = hn::Set(d, kExactBelow);
  const V lane = hn::Iota(d, 0.0f);
  for (size_t row = 0; row < h; ++row) {
    const V out_y = hn::Set(d, float(row));
    for (size_t first_x = 0; first_x < w; first_x += N) {
      const size_t count = std::min(N, w - first_x);
      const V out_x = hn::Add(hn::Set(d, float(first_x)), lane);
      const V projection =
          hn::Add(hn::Add(hn::Mul(hn::Set(d, t[6]), out_x), hn::Mul(hn::Set(d, t[7]), out_y)), one);
      const V in_x = hn::Div(
          hn::Add(hn::Add(hn::Mul(hn::Set(d, t[0]), out_x), hn::Mul(hn::Set(d, t[1]), out_y)),
                  hn::Set(d, t[2])),
          projection);
      const V in_y = hn::Div(
          hn::Add(hn::Add(hn::Mul(hn::Set(d, t[3]), out_x), hn::Mul(hn::Set(d, t[4]), out_y)),
                  hn::Set(d, t[5])),
          projection);
      const M finite = hn::And(hn::Ne(projection, zero), hn::And(hn::Lt(hn::Abs(in_x), far_out),
                                                                 hn::Lt(hn::Abs(in_y), far_out)));
      const M exact =
          hn::And(hn::Lt(hn::Abs(in_x), exact_below), hn::Lt(hn::Abs(in_y), exact_below));
      float* pixels = out + (row * w + first_x) * c;
      if (!hn::AllFalse(d, hn::AndNot(exact, hn::And(finite, hn::FirstN(d, count))))) {
        reference::affine_transform_pixels(in, h, w, c, transform, interpolation, fill_mode,
                                           fill_value, row, first_x, first_x + count, out);
        continue;
      }
      // Lanes that read nothing here (not finite, or past the row's end) sample at 0.
      const V x = MapCoordinate(d, hn::IfThenElseZero(exact, in_x), w, fill_mode);
      const V y = MapCoordinate(d, hn::IfThenElseZero(exact, in_y), h, fill_mode);
      Sample(d, sampling, x, y, finite, count, pixels);
    }
  }
}

}  // namespace typenet::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace typenet::kernels {

HWY_EXPORT(AffineTransform);

void affine_transform(const float* in, std::size_t h, std::size_t w, std::size_t c,
                      const float* transform, Interpolation interpolation, FillMode fill_mode,
                      float fill_value, float* out) noexcept {
  HWY_DYNAMIC_DISPATCH(AffineTransform)
  (in, h, w, c, transform, interpolation, fill_mode, fill_value, out);
}

}  // namespace typenet::kernels
#endif  // HWY_ONCE
