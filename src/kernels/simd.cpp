// The dispatched kernels other than gemm (gemm.cpp): convolution patches, pooling, activations,
// softmax and optimizer updates. They are memory-bound loops, so each is one vectorised pass;
// compiled once per Highway target and dispatched at run time.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/kernels/simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// After highway.h, inside the per-target pass: the math functions are per target too.
#include <hwy/contrib/math/math-inl.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <utility>

#include "typenet/kernels/kernels.hpp"

HWY_BEFORE_NAMESPACE();
namespace typenet::kernels::HWY_NAMESPACE {
namespace {

namespace hn = hwy::HWY_NAMESPACE;
using std::size_t;

// Calls body(d, i) for i = 0, N, 2N, ... with full vectors, then for each remaining element
// with a one-lane tag: one generic body serves the vector loop and its tail.
template <class Body>
HWY_INLINE void ForEachVector(size_t count, const Body& body) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= count; i += N) body(d, i);
  for (; i < count; ++i) body(hn::CappedTag<float, 1>(), i);
}

void CopyFloats(float* HWY_RESTRICT dst, const float* HWY_RESTRICT src, size_t count) {
  ForEachVector(count, [&](auto d, size_t i) { hn::StoreU(hn::LoadU(d, src + i), d, dst + i); });
}

void ZeroFloats(float* HWY_RESTRICT dst, size_t count) {
  ForEachVector(count, [&](auto d, size_t i) { hn::StoreU(hn::Zero(d), d, dst + i); });
}

// A convolution's patches, one kernel row at a time. For every output pixel and kernel row,
// calls visit(col_offset, in_offset, lo, hi): the row's kw * c floats start at col[col_offset],
// and its floats [lo, hi) come from in[in_offset, ...), contiguous in a channels-last image;
// the others fall outside the image (padding). lo == hi when the whole row is outside.
template <class Visit>
void ForEachPatchRow(size_t h, size_t w, size_t c, size_t kh, size_t kw, size_t stride,
                     size_t pad_top, size_t pad_left, size_t oh, size_t ow, const Visit& visit) {
  const size_t row_length = kw * c;
  const auto width = std::ptrdiff_t(w);
  const auto kernel_width = std::ptrdiff_t(kw);
  for (size_t oy = 0; oy < oh; ++oy)
    for (size_t ox = 0; ox < ow; ++ox) {
      const size_t patch_offset = (oy * ow + ox) * kh * row_length;
      const std::ptrdiff_t x0 = std::ptrdiff_t(ox * stride) - std::ptrdiff_t(pad_left);
      const std::ptrdiff_t y0 = std::ptrdiff_t(oy * stride) - std::ptrdiff_t(pad_top);
      if (x0 >= 0 && y0 >= 0 && x0 + kernel_width <= width &&
          y0 + std::ptrdiff_t(kh) <= std::ptrdiff_t(h)) {
        // The whole patch inside the image (the common case): no clipping to work out.
        const size_t in_offset = size_t(y0 * width + x0) * c;
        for (size_t ky = 0; ky < kh; ++ky)
          visit(patch_offset + ky * row_length, in_offset + ky * w * c, size_t{0}, row_length);
        continue;
      }
      const std::ptrdiff_t kx_lo = std::clamp<std::ptrdiff_t>(-x0, 0, kernel_width);
      const std::ptrdiff_t kx_hi = std::clamp<std::ptrdiff_t>(width - x0, kx_lo, kernel_width);
      for (size_t ky = 0; ky < kh; ++ky) {
        const size_t col_offset = patch_offset + ky * row_length;
        const std::ptrdiff_t y = y0 + std::ptrdiff_t(ky);
        if (y < 0 || y >= std::ptrdiff_t(h) || kx_lo == kx_hi) {
          visit(col_offset, size_t{0}, size_t{0}, size_t{0});
          continue;
        }
        const auto in_offset = size_t(y * width + x0 + kx_lo) * c;
        visit(col_offset, in_offset, size_t(kx_lo) * c, size_t(kx_hi) * c);
      }
    }
}

}  // namespace

void AddTo(float* dst, const float* src, size_t count) {
  ForEachVector(count, [&](auto d, size_t i) {
    hn::StoreU(hn::Add(hn::LoadU(d, dst + i), hn::LoadU(d, src + i)), d, dst + i);
  });
}

void AddColumnSums(const float* dy, size_t m, size_t n, size_t ldy, float* bias_grad) {
  // A column strip at a time, summed in registers down all rows.
  ForEachVector(n, [&](auto d, size_t j) {
    auto sum = hn::Zero(d);
    for (size_t i = 0; i < m; ++i) sum = hn::Add(sum, hn::LoadU(d, dy + i * ldy + j));
    hn::StoreU(hn::Add(hn::LoadU(d, bias_grad + j), sum), d, bias_grad + j);
  });
}

void Im2Col(const float* in, size_t h, size_t w, size_t c, size_t kh, size_t kw, size_t stride,
            size_t pad_top, size_t pad_left, size_t oh, size_t ow, float* col) {
  const size_t row_length = kw * c;
  ForEachPatchRow(h, w, c, kh, kw, stride, pad_top, pad_left, oh, ow,
                  [&](size_t col_offset, size_t in_offset, size_t lo, size_t hi) {
                    float* row = col + col_offset;
                    ZeroFloats(row, lo);
                    CopyFloats(row + lo, in + in_offset, hi - lo);
                    ZeroFloats(row + hi, row_length - hi);
                  });
}

void Col2ImAdd(const float* col, size_t h, size_t w, size_t c, size_t kh, size_t kw, size_t stride,
               size_t pad_top, size_t pad_left, size_t oh, size_t ow, float* din) {
  ForEachPatchRow(h, w, c, kh, kw, stride, pad_top, pad_left, oh, ow,
                  [&](size_t col_offset, size_t in_offset, size_t lo, size_t hi) {
                    AddTo(din + in_offset, col + col_offset + lo, hi - lo);
                  });
}

// The winners' values alone (inference): the same comparisons, no indices.
void MaxpoolValues(const float* in, size_t w, size_t c, size_t pool, size_t stride, size_t oh,
                   size_t ow, float* out) {
  for (size_t oy = 0; oy < oh; ++oy)
    for (size_t ox = 0; ox < ow; ++ox)
      ForEachVector(c, [&](auto d, size_t ch) {
        const float* window = in + (oy * stride * w + ox * stride) * c + ch;
        auto best = hn::LoadU(d, window);
        for (size_t py = 0; py < pool; ++py)
          for (size_t px = 0; px < pool; ++px) {
            const auto value = hn::LoadU(d, window + (py * w + px) * c);
            best = hn::IfThenElse(hn::Gt(value, best), value, best);
          }
        hn::StoreU(best, d, out + (oy * ow + ox) * c + ch);
      });
}

void MaxpoolForward(const float* in, size_t /*h*/, size_t w, size_t c, size_t pool, size_t stride,
                    size_t oh, size_t ow, float* out, std::uint32_t* argmax) {
  if (!argmax) return MaxpoolValues(in, w, c, pool, stride, oh, ow, out);
  for (size_t oy = 0; oy < oh; ++oy)
    for (size_t ox = 0; ox < ow; ++ox) {
      const size_t out_offset = (oy * ow + ox) * c;
      // A strip of channels at a time; a strictly greater value takes over, so the first
      // maximum in window order wins, as in the reference.
      ForEachVector(c, [&](auto d, size_t ch) {
        const hn::RebindToUnsigned<decltype(d)> du;
        // Indices of the lanes as Set(first) + 0, 1, 2...: Iota itself goes through memory.
        const auto lane = hn::Iota(du, 0);
        const auto indices = [&](size_t first) {
          return hn::Add(hn::Set(du, std::uint32_t(first)), lane);
        };
        const auto window_start = (oy * stride * w + ox * stride) * c + ch;
        auto best = hn::LoadU(d, in + window_start);
        auto best_index = indices(window_start);
        for (size_t py = 0; py < pool; ++py)
          for (size_t px = 0; px < pool; ++px) {
            const size_t index = ((oy * stride + py) * w + ox * stride + px) * c + ch;
            const auto value = hn::LoadU(d, in + index);
            const auto greater = hn::Gt(value, best);
            best = hn::IfThenElse(greater, value, best);
            best_index = hn::IfThenElse(hn::RebindMask(du, greater), indices(index), best_index);
          }
        hn::StoreU(best, d, out + out_offset + ch);
        hn::StoreU(best_index, du, argmax + out_offset + ch);
      });
    }
}

void MaxpoolBackward(const float* dout, const std::uint32_t* argmax, size_t h, size_t w, size_t c,
                     size_t pool, size_t stride, size_t oh, size_t ow, float* din) {
  if (stride != pool || oh * pool > h || ow * pool > w) {
    // Overlapping windows, or (Same padding) a winner outside its window: a scatter whose
    // targets may repeat, sequential by nature.
    ZeroFloats(din, h * w * c);
    for (size_t i = 0; i < oh * ow * c; ++i) din[argmax[i]] += dout[i];
    return;
  }
  // Windows that tile the image: each input of a window is written once, with the window's
  // gradient (0 + dout, the scatter's sum) where it won, else zero.
  for (size_t oy = 0; oy < oh; ++oy)
    for (size_t ox = 0; ox < ow; ++ox)
      ForEachVector(c, [&](auto d, size_t ch) {
        const hn::RebindToUnsigned<decltype(d)> du;
        const auto lane = hn::Iota(du, 0);
        const size_t o = (oy * ow + ox) * c + ch;
        const auto gradient = hn::Add(hn::Zero(d), hn::LoadU(d, dout + o));
        const auto winner = hn::LoadU(du, argmax + o);
        for (size_t py = 0; py < pool; ++py)
          for (size_t px = 0; px < pool; ++px) {
            const size_t index = ((oy * pool + py) * w + ox * pool + px) * c + ch;
            const auto won = hn::Eq(winner, hn::Add(hn::Set(du, std::uint32_t(index)), lane));
            hn::StoreU(hn::IfThenElseZero(hn::RebindMask(d, won), gradient), d, din + index);
          }
      });
  // The columns and rows that no window covers.
  for (size_t y = 0; y < oh * pool; ++y)
    ZeroFloats(din + (y * w + ow * pool) * c, (w - ow * pool) * c);
  ZeroFloats(din + oh * pool * w * c, (h - oh * pool) * w * c);
}

void GlobalAvgPoolForward(const float* in, size_t pixels, size_t c, float* out) {
  ForEachVector(c, [&](auto d, size_t ch) {
    auto sum = hn::Zero(d);
    for (size_t p = 0; p < pixels; ++p) sum = hn::Add(sum, hn::LoadU(d, in + p * c + ch));
    hn::StoreU(hn::Div(sum, hn::Set(d, float(pixels))), d, out + ch);
  });
}

void GlobalAvgPoolBackward(const float* dout, size_t pixels, size_t c, float* din) {
  if (pixels == 0) return;
  // The first pixel's row, then copies of it.
  ForEachVector(c, [&](auto d, size_t ch) {
    hn::StoreU(hn::Div(hn::LoadU(d, dout + ch), hn::Set(d, float(pixels))), d, din + ch);
  });
  for (size_t p = 1; p < pixels; ++p) CopyFloats(din + p * c, din, c);
}

void ReluForward(float* y, size_t count) {
  ForEachVector(count, [&](auto d, size_t i) {
    hn::StoreU(hn::Max(hn::LoadU(d, y + i), hn::Zero(d)), d, y + i);
  });
}

void ReluBackward(const float* y, float* dy, size_t count) {
  ForEachVector(count, [&](auto d, size_t i) {
    const auto active = hn::Gt(hn::LoadU(d, y + i), hn::Zero(d));
    hn::StoreU(hn::IfThenElseZero(active, hn::LoadU(d, dy + i)), d, dy + i);
  });
}

// Whole vectors of 8k lanes put their bits in whole bytes; the last values go a bit at a time.
void ReluForwardSigns(float* y, size_t count, std::uint8_t* signs) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  if (N % 8 == 0)
    for (; i + N <= count; i += N) {
      const auto value = hn::Max(hn::LoadU(d, y + i), hn::Zero(d));
      hn::StoreU(value, d, y + i);
      hn::StoreMaskBits(d, hn::Gt(value, hn::Zero(d)), signs + i / 8);
    }
  const hn::CappedTag<float, 1> d1;  // ReluForward's arithmetic on its last values
  for (; i < count; ++i) {
    hn::StoreU(hn::Max(hn::LoadU(d1, y + i), hn::Zero(d1)), d1, y + i);
    const auto bit = std::uint8_t(1u << (i % 8));
    signs[i / 8] = std::uint8_t(y[i] > 0.0f ? signs[i / 8] | bit : signs[i / 8] & ~bit);
  }
}

void ReluBackwardSigns(const std::uint8_t* signs, float* dy, size_t count) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  if (N % 8 == 0)
    for (; i + N <= count; i += N)
      hn::StoreU(hn::IfThenElseZero(hn::LoadMaskBits(d, signs + i / 8), hn::LoadU(d, dy + i)), d,
                 dy + i);
  for (; i < count; ++i)
    if (!(signs[i / 8] >> (i % 8) & 1u)) dy[i] = 0.0f;
}

template <class D, class V>
HWY_INLINE V Sigmoid(D d, V x) {
  // exp(-x) overflows to infinity past 88.7 (sigmoid 0 either way) and Highway's Exp is only
  // specified up to 104, so the exponent is clamped at 88.
  const auto exponent = hn::Min(hn::Set(d, 88.0f), hn::Neg(x));
  const auto one = hn::Set(d, 1.0f);
  return hn::Div(one, hn::Add(one, hn::Exp(d, exponent)));
}

void SigmoidForward(float* y, size_t count) {
  ForEachVector(count,
                [&](auto d, size_t i) { hn::StoreU(Sigmoid(d, hn::LoadU(d, y + i)), d, y + i); });
}

void SigmoidBackward(const float* y, float* dy, size_t count) {
  ForEachVector(count, [&](auto d, size_t i) {
    const auto value = hn::LoadU(d, y + i);
    const auto slope = hn::Mul(value, hn::Sub(hn::Set(d, 1.0f), value));
    hn::StoreU(hn::Mul(hn::LoadU(d, dy + i), slope), d, dy + i);
  });
}

void TanhForward(float* y, size_t count) {
  ForEachVector(count,
                [&](auto d, size_t i) { hn::StoreU(hn::Tanh(d, hn::LoadU(d, y + i)), d, y + i); });
}

void TanhBackward(const float* y, float* dy, size_t count) {
  ForEachVector(count, [&](auto d, size_t i) {
    const auto value = hn::LoadU(d, y + i);
    const auto slope = hn::NegMulAdd(value, value, hn::Set(d, 1.0f));
    hn::StoreU(hn::Mul(hn::LoadU(d, dy + i), slope), d, dy + i);
  });
}

void EluForward(float* y, size_t count, float positive_scale, float negative_scale) {
  ForEachVector(count, [&](auto d, size_t i) {
    const auto x = hn::LoadU(d, y + i);
    // Expm1 of the negative part only: it is specified up to 104.
    const auto negative =
        hn::Mul(hn::Set(d, negative_scale), hn::Expm1(d, hn::Min(x, hn::Zero(d))));
    const auto positive = hn::Mul(hn::Set(d, positive_scale), x);
    hn::StoreU(hn::IfThenElse(hn::Gt(x, hn::Zero(d)), positive, negative), d, y + i);
  });
}

void EluBackward(const float* y, float* dy, size_t count, float positive_scale,
                 float negative_scale) {
  ForEachVector(count, [&](auto d, size_t i) {
    const auto value = hn::LoadU(d, y + i);
    const auto slope = hn::IfThenElse(hn::Gt(value, hn::Zero(d)), hn::Set(d, positive_scale),
                                      hn::Add(value, hn::Set(d, negative_scale)));
    hn::StoreU(hn::Mul(hn::LoadU(d, dy + i), slope), d, dy + i);
  });
}

void LeakyReluForward(float* y, size_t count, float slope) {
  ForEachVector(count, [&](auto d, size_t i) {
    const auto x = hn::LoadU(d, y + i);
    hn::StoreU(hn::IfThenElse(hn::Gt(x, hn::Zero(d)), x, hn::Mul(x, hn::Set(d, slope))), d, y + i);
  });
}

void LeakyReluBackward(const float* y, float* dy, size_t count, float slope) {
  ForEachVector(count, [&](auto d, size_t i) {
    const auto gradient = hn::LoadU(d, dy + i);
    const auto active = hn::Gt(hn::LoadU(d, y + i), hn::Zero(d));
    hn::StoreU(hn::IfThenElse(active, gradient, hn::Mul(gradient, hn::Set(d, slope))), d, dy + i);
  });
}

void SoftplusForward(float* y, size_t count) {
  ForEachVector(count, [&](auto d, size_t i) {
    const auto x = hn::LoadU(d, y + i);
    const auto tail = hn::Log1p(d, hn::Exp(d, hn::Neg(hn::Abs(x))));
    hn::StoreU(hn::Add(hn::Max(x, hn::Zero(d)), tail), d, y + i);
  });
}

void SoftplusBackward(const float* y, float* dy, size_t count) {
  ForEachVector(count, [&](auto d, size_t i) {
    const auto slope = hn::Neg(hn::Expm1(d, hn::Neg(hn::LoadU(d, y + i))));
    hn::StoreU(hn::Mul(hn::LoadU(d, dy + i), slope), d, dy + i);
  });
}

// erfc(z) for z >= 0: Numerical Recipes' erfcc (relative error below 1.2e-7), z clamped at 10,
// where erfc is 2e-45.
template <class D, class V>
HWY_INLINE V Erfc(D d, V z) {
  z = hn::Min(z, hn::Set(d, 10.0f));
  const auto t = hn::Div(hn::Set(d, 1.0f), hn::MulAdd(hn::Set(d, 0.5f), z, hn::Set(d, 1.0f)));
  constexpr float coefficients[] = {0.17087277f,  -0.82215223f, 1.48851587f,
                                    -1.13520398f, 0.27886807f,  -0.18628806f,
                                    0.09678418f,  0.37409196f,  1.00002368f};
  auto poly = hn::Set(d, coefficients[0]);
  for (std::size_t k = 1; k < std::size(coefficients); ++k)
    poly = hn::MulAdd(poly, t, hn::Set(d, coefficients[k]));
  poly = hn::MulAdd(poly, t, hn::Set(d, -1.26551223f));
  return hn::Mul(t, hn::Exp(d, hn::Sub(poly, hn::Mul(z, z))));
}

// The standard normal CDF: erfc(|x| / sqrt 2) / 2 is the tail beyond |x|.
template <class D, class V>
HWY_INLINE V NormalCdf(D d, V x) {
  const auto tail =
      hn::Mul(hn::Set(d, 0.5f), Erfc(d, hn::Mul(hn::Abs(x), hn::Set(d, 0.70710678f))));
  return hn::IfThenElse(hn::Lt(x, hn::Zero(d)), tail, hn::Sub(hn::Set(d, 1.0f), tail));
}

void GeluForward(float* y, size_t count) {
  ForEachVector(count, [&](auto d, size_t i) {
    const auto x = hn::LoadU(d, y + i);
    hn::StoreU(hn::Mul(x, NormalCdf(d, x)), d, y + i);
  });
}

void GeluBackward(const float* x, float* dy, size_t count) {
  ForEachVector(count, [&](auto d, size_t i) {
    const auto value = hn::LoadU(d, x + i);
    // The density exp(-x^2 / 2) / sqrt(2 pi), |x| clamped at 14 where it is 0 in float.
    const auto clamped = hn::Min(hn::Abs(value), hn::Set(d, 14.0f));
    const auto density = hn::Mul(hn::Set(d, 0.39894228f),
                                 hn::Exp(d, hn::Mul(hn::Set(d, -0.5f), hn::Mul(clamped, clamped))));
    const auto slope = hn::MulAdd(value, density, NormalCdf(d, value));
    hn::StoreU(hn::Mul(hn::LoadU(d, dy + i), slope), d, dy + i);
  });
}

void SwishForward(float* y, size_t count) {
  ForEachVector(count, [&](auto d, size_t i) {
    const auto x = hn::LoadU(d, y + i);
    hn::StoreU(hn::Mul(x, Sigmoid(d, x)), d, y + i);
  });
}

void SwishBackward(const float* x, float* dy, size_t count) {
  ForEachVector(count, [&](auto d, size_t i) {
    const auto value = hn::LoadU(d, x + i);
    const auto s = Sigmoid(d, value);
    const auto one = hn::Set(d, 1.0f);
    // s (1 + x (1 - s))
    const auto slope = hn::Mul(s, hn::MulAdd(value, hn::Sub(one, s), one));
    hn::StoreU(hn::Mul(hn::LoadU(d, dy + i), slope), d, dy + i);
  });
}

void ScaleShift(const float* x, float* y, size_t count, float scale, float offset) {
  ForEachVector(count, [&](auto d, size_t i) {
    const auto scaled = hn::Mul(hn::LoadU(d, x + i), hn::Set(d, scale));
    hn::StoreU(hn::Add(scaled, hn::Set(d, offset)), d, y + i);
  });
}

// The rows or columns [first, end) of the image that the pooling window of output `index`
// covers (it starts at index * stride - pad, possibly in the padding).
std::pair<size_t, size_t> WindowSpan(size_t index, size_t stride, size_t pad, size_t pool,
                                     size_t extent) {
  const std::ptrdiff_t start = std::ptrdiff_t(index * stride) - std::ptrdiff_t(pad);
  const std::ptrdiff_t first = std::max<std::ptrdiff_t>(start, 0);
  const std::ptrdiff_t end =
      std::min<std::ptrdiff_t>(start + std::ptrdiff_t(pool), std::ptrdiff_t(extent));
  return {size_t(first), size_t(std::max(end, first))};
}

void AvgPoolForward(const float* in, size_t h, size_t w, size_t c, size_t pool, size_t stride,
                    size_t pad_top, size_t pad_left, size_t oh, size_t ow, float* out) {
  for (size_t oy = 0; oy < oh; ++oy)
    for (size_t ox = 0; ox < ow; ++ox) {
      const auto [y0, y1] = WindowSpan(oy, stride, pad_top, pool, h);
      const auto [x0, x1] = WindowSpan(ox, stride, pad_left, pool, w);
      const float pixels = float((y1 - y0) * (x1 - x0));
      ForEachVector(c, [&](auto d, size_t ch) {
        auto sum = hn::Zero(d);
        for (size_t y = y0; y < y1; ++y)
          for (size_t x = x0; x < x1; ++x)
            sum = hn::Add(sum, hn::LoadU(d, in + (y * w + x) * c + ch));
        hn::StoreU(hn::Div(sum, hn::Set(d, pixels)), d, out + (oy * ow + ox) * c + ch);
      });
    }
}

void AvgPoolBackwardAdd(const float* dout, size_t h, size_t w, size_t c, size_t pool, size_t stride,
                        size_t pad_top, size_t pad_left, size_t oh, size_t ow, float* din) {
  for (size_t oy = 0; oy < oh; ++oy)
    for (size_t ox = 0; ox < ow; ++ox) {
      const auto [y0, y1] = WindowSpan(oy, stride, pad_top, pool, h);
      const auto [x0, x1] = WindowSpan(ox, stride, pad_left, pool, w);
      const float pixels = float((y1 - y0) * (x1 - x0));
      ForEachVector(c, [&](auto d, size_t ch) {
        const auto share =
            hn::Div(hn::LoadU(d, dout + (oy * ow + ox) * c + ch), hn::Set(d, pixels));
        for (size_t y = y0; y < y1; ++y)
          for (size_t x = x0; x < x1; ++x) {
            float* target = din + (y * w + x) * c + ch;
            hn::StoreU(hn::Add(hn::LoadU(d, target), share), d, target);
          }
      });
    }
}

// murmur3_mix and dropout_bits (kernels.hpp), a vector of counters at a time.
template <class DU, class VU>
HWY_INLINE VU Murmur3Mix(DU du, VU h) {
  h = hn::Xor(h, hn::ShiftRight<16>(h));
  h = hn::Mul(h, hn::Set(du, 0x85ebca6bu));
  h = hn::Xor(h, hn::ShiftRight<13>(h));
  h = hn::Mul(h, hn::Set(du, 0xc2b2ae35u));
  return hn::Xor(h, hn::ShiftRight<16>(h));
}

// Forward and backward alike: y = x * scale where the mask keeps a value, else 0.
void Dropout(const float* x, float* y, size_t count, std::uint64_t seed, std::uint32_t threshold,
             float scale) {
  ForEachVector(count, [&](auto d, size_t i) {
    const hn::RebindToUnsigned<decltype(d)> du;
    const auto index = hn::Add(hn::Set(du, std::uint32_t(i)), hn::Iota(du, 0));
    const auto weyl =
        hn::Add(hn::Mul(index, hn::Set(du, 0x9e3779b9u)), hn::Set(du, std::uint32_t(seed)));
    const auto bits =
        Murmur3Mix(du, hn::Xor(Murmur3Mix(du, weyl), hn::Set(du, std::uint32_t(seed >> 32))));
    const auto kept = hn::Not(hn::Gt(hn::Set(du, threshold), bits));  // bits >= threshold
    hn::StoreU(hn::IfThenElseZero(hn::RebindMask(d, kept),
                                  hn::Mul(hn::LoadU(d, x + i), hn::Set(d, scale))),
               d, y + i);
  });
}

void SoftmaxForward(float* y, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = y + r * cols;
    float max = -std::numeric_limits<float>::infinity();
    ForEachVector(cols, [&](auto d, size_t i) {
      max = std::max(max, hn::GetLane(hn::MaxOfLanes(d, hn::LoadU(d, row + i))));
    });
    float sum = 0.0f;
    ForEachVector(cols, [&](auto d, size_t i) {
      const auto e = hn::Exp(d, hn::Sub(hn::LoadU(d, row + i), hn::Set(d, max)));
      hn::StoreU(e, d, row + i);
      sum += hn::GetLane(hn::SumOfLanes(d, e));
    });
    ForEachVector(cols, [&](auto d, size_t i) {
      hn::StoreU(hn::Div(hn::LoadU(d, row + i), hn::Set(d, sum)), d, row + i);
    });
  }
}

void SoftmaxBackward(const float* y, float* dy, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; ++r) {
    const float* y_row = y + r * cols;
    float* dy_row = dy + r * cols;
    float dot = 0.0f;
    ForEachVector(cols, [&](auto d, size_t i) {
      dot += hn::GetLane(
          hn::SumOfLanes(d, hn::Mul(hn::LoadU(d, dy_row + i), hn::LoadU(d, y_row + i))));
    });
    ForEachVector(cols, [&](auto d, size_t i) {
      const auto centred = hn::Sub(hn::LoadU(d, dy_row + i), hn::Set(d, dot));
      hn::StoreU(hn::Mul(hn::LoadU(d, y_row + i), centred), d, dy_row + i);
    });
  }
}

// Drives an optimizer update: new_params(d, i) computes the updated parameters of the lanes at
// i, stores them and the optimizer's slots, and returns them. Returns the index of the first
// non-finite updated parameter, count when there is none. The outputs may be the inputs: each
// vector is loaded before it is stored.
template <class NewParams>
HWY_INLINE size_t UpdateParams(size_t count, const NewParams& new_params) {
  size_t first_non_finite = count;
  ForEachVector(count, [&](auto d, size_t i) {
    const auto non_finite = hn::Not(hn::IsFinite(new_params(d, i)));
    if (HWY_UNLIKELY(!hn::AllFalse(d, non_finite)) && first_non_finite == count)
      first_non_finite = i + size_t(hn::FindFirstTrue(d, non_finite));
  });
  return first_non_finite;
}

size_t AdamUpdate(const float* p, const float* g, const float* m, const float* v, float* p_out,
                  float* m_out, float* v_out, size_t count, float lr_t, float beta1, float beta2,
                  float eps_t) {
  return UpdateParams(count, [&](auto d, size_t i) {
    const auto grad = hn::LoadU(d, g + i);
    const auto new_m =
        hn::MulAdd(hn::Set(d, beta1), hn::LoadU(d, m + i), hn::Mul(hn::Set(d, 1.0f - beta1), grad));
    const auto new_v = hn::MulAdd(hn::Set(d, beta2), hn::LoadU(d, v + i),
                                  hn::Mul(hn::Mul(hn::Set(d, 1.0f - beta2), grad), grad));
    const auto step = hn::Div(new_m, hn::Add(hn::Sqrt(new_v), hn::Set(d, eps_t)));
    const auto new_p = hn::NegMulAdd(hn::Set(d, lr_t), step, hn::LoadU(d, p + i));
    hn::StoreU(new_m, d, m_out + i);
    hn::StoreU(new_v, d, v_out + i);
    hn::StoreU(new_p, d, p_out + i);
    return new_p;
  });
}

size_t RmspropUpdate(const float* p, const float* g, const float* v, float* p_out, float* v_out,
                     size_t count, float lr, float rho, float eps) {
  return UpdateParams(count, [&](auto d, size_t i) {
    const auto grad = hn::LoadU(d, g + i);
    const auto new_v = hn::MulAdd(hn::Set(d, rho), hn::LoadU(d, v + i),
                                  hn::Mul(hn::Mul(hn::Set(d, 1.0f - rho), grad), grad));
    const auto step = hn::Div(grad, hn::Add(hn::Sqrt(new_v), hn::Set(d, eps)));
    const auto new_p = hn::NegMulAdd(hn::Set(d, lr), step, hn::LoadU(d, p + i));
    hn::StoreU(new_v, d, v_out + i);
    hn::StoreU(new_p, d, p_out + i);
    return new_p;
  });
}

size_t SgdUpdate(const float* p, const float* g, const float* vel, float* p_out, float* vel_out,
                 size_t count, float lr, float mu, bool nesterov) {
  return UpdateParams(count, [&](auto d, size_t i) {
    const auto lr_grad = hn::Mul(hn::Set(d, lr), hn::LoadU(d, g + i));
    const auto new_vel = hn::MulSub(hn::Set(d, mu), hn::LoadU(d, vel + i), lr_grad);
    const auto step = nesterov ? hn::MulSub(hn::Set(d, mu), new_vel, lr_grad) : new_vel;
    const auto new_p = hn::Add(hn::LoadU(d, p + i), step);
    hn::StoreU(new_vel, d, vel_out + i);
    hn::StoreU(new_p, d, p_out + i);
    return new_p;
  });
}

void ScaleShiftChannels(const float* in, size_t rows, size_t channels, const float* scale,
                        const float* shift, float* out) {
  for (size_t r = 0; r < rows; ++r) {
    const float* row_in = in + r * channels;
    float* row_out = out + r * channels;
    ForEachVector(channels, [&](auto d, size_t ch) {
      hn::StoreU(
          hn::MulAdd(hn::LoadU(d, row_in + ch), hn::LoadU(d, scale + ch), hn::LoadU(d, shift + ch)),
          d, row_out + ch);
    });
  }
}

// Batch normalization's sums over rows, per channel (kernels.hpp: runs of kBatchNormRun rows in
// float, their sums in double): the lanes are channels, and each channel's sums run down the
// rows in order, so every target gives the reference's bits. Up to 2 vectors of channels at a
// time, then single channels.
template <class Body>
HWY_INLINE void ForEachChannelBlock(size_t channels, const Body& body) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t c = 0;
  for (; c + 2 * N <= channels; c += 2 * N) body(d, c, std::integral_constant<size_t, 2>());
  for (; c + N <= channels; c += N) body(d, c, std::integral_constant<size_t, 1>());
  for (; c < channels; ++c) body(hn::CappedTag<float, 1>(), c, std::integral_constant<size_t, 1>());
}

// sums[0, lanes of d) += the float lanes of v, in double.
template <class D>
HWY_INLINE void AddPromoted(D d, hn::Vec<D> v, double* sums) {
  if constexpr (hn::MaxLanes(d) == 1) {
    sums[0] += double(hn::GetLane(v));
  } else {
#if HWY_TARGET != HWY_SCALAR  // (one lane there: the branch above)
    const hn::Repartition<double, D> dd;
    const hn::Half<D> dh;
    const size_t half = hn::Lanes(dd);
    hn::StoreU(hn::Add(hn::LoadU(dd, sums), hn::PromoteTo(dd, hn::LowerHalf(dh, v))), dd, sums);
    hn::StoreU(hn::Add(hn::LoadU(dd, sums + half), hn::PromoteTo(dd, hn::UpperHalf(dh, v))), dd,
               sums + half);
#endif
  }
}

// For each run of kBatchNormRun rows, per channel vector, float sums of its rows' terms, added
// to each of `sums` in double. block_terms(d, c) sets up the vector of channels from c on and
// returns add(r, run): adds row r's terms to the run's sums, one per output (products with
// MulAdd: fused wherever the target has FMA, as the reference's std::fma).
template <size_t Outputs, class BlockTerms>
HWY_INLINE void AddRunSums(size_t rows, size_t channels, const std::array<double*, Outputs>& sums,
                           const BlockTerms& block_terms) {
  ForEachChannelBlock(channels, [&](auto d, size_t c, auto blocks) {
    using V = hn::Vec<decltype(d)>;
    const size_t N = hn::Lanes(d);
    // (With one block, the second is the first again, unused.)
    const std::array add{block_terms(d, c), block_terms(d, c + (blocks() - 1) * N)};
    for (size_t first = 0; first < rows; first += kBatchNormRun) {
      const size_t end = std::min(rows, first + kBatchNormRun);
      std::array<V, Outputs> run[blocks()];
      for (size_t b = 0; b < blocks(); ++b) run[b].fill(hn::Zero(d));
      for (size_t r = first; r < end; ++r)
        for (size_t b = 0; b < blocks(); ++b) add[b](r, run[b]);
      for (size_t b = 0; b < blocks(); ++b)
        for (size_t o = 0; o < Outputs; ++o) AddPromoted(d, run[b][o], sums[o] + c + b * N);
    }
  });
}

void AddChannelSums(const float* x, size_t rows, size_t channels, double* sums) {
  AddRunSums<1>(rows, channels, {sums}, [&](auto d, size_t c) {
    return
        [=](size_t r, auto& run) { run[0] = hn::Add(run[0], hn::LoadU(d, x + r * channels + c)); };
  });
}

void AddChannelSquaredDeviations(const float* x, size_t rows, size_t channels, const double* means,
                                 double* m2) {
  AddRunSums<1>(rows, channels, {m2}, [&](auto d, size_t c) {
    HWY_ALIGN float centres[hn::MaxLanes(d)];
    for (size_t i = 0; i < hn::Lanes(d); ++i) centres[i] = float(means[c + i]);
    const auto centre = hn::Load(d, centres);
    return [=](size_t r, auto& run) {
      const auto deviation = hn::Sub(hn::LoadU(d, x + r * channels + c), centre);
      run[0] = hn::MulAdd(deviation, deviation, run[0]);
    };
  });
}

void AddBatchNormGradSums(const float* x, const float* dy, size_t rows, size_t channels,
                          const float* mean, const float* inv_std, double* dy_sum,
                          double* dy_xhat_sum) {
  AddRunSums<2>(rows, channels, {dy_sum, dy_xhat_sum}, [&](auto d, size_t c) {
    const auto centre = hn::LoadU(d, mean + c), scale = hn::LoadU(d, inv_std + c);
    return [=](size_t r, auto& run) {
      const size_t at = r * channels + c;
      const auto xhat = hn::Mul(hn::Sub(hn::LoadU(d, x + at), centre), scale);
      const auto gradient = hn::LoadU(d, dy + at);
      run[0] = hn::Add(run[0], gradient);
      run[1] = hn::MulAdd(gradient, xhat, run[1]);
    };
  });
}

void BatchNormInputGrad(const float* x, const float* dy, size_t rows, size_t channels,
                        const float* mean, const float* inv_std, const float* k, const float* a,
                        const float* b, float* dx) {
  for (size_t r = 0; r < rows; ++r) {
    const size_t row = r * channels;
    ForEachVector(channels, [&](auto d, size_t ch) {
      const auto xhat = hn::Mul(hn::Sub(hn::LoadU(d, x + row + ch), hn::LoadU(d, mean + ch)),
                                hn::LoadU(d, inv_std + ch));
      const auto centred = hn::Sub(hn::LoadU(d, dy + row + ch), hn::LoadU(d, a + ch));
      hn::StoreU(
          hn::Mul(hn::LoadU(d, k + ch), hn::Sub(centred, hn::Mul(xhat, hn::LoadU(d, b + ch)))), d,
          dx + row + ch);
    });
  }
}

void LstmCell(const float* z, size_t ldz, size_t rows, size_t units, bool hard_sigmoid, float* c,
              float* h, size_t ldh) {
  for (size_t r = 0; r < rows; ++r) {
    const float* gates = z + r * ldz;
    float* cell = c + r * units;
    float* hidden = h + r * ldh;
    ForEachVector(units, [&](auto d, size_t u) {
      const auto gate = [&](size_t which) {
        const auto x = hn::LoadU(d, gates + which * units + u);
        if (!hard_sigmoid) return Sigmoid(d, x);
        const auto linear = hn::MulAdd(x, hn::Set(d, 0.2f), hn::Set(d, 0.5f));
        return hn::Min(hn::Max(linear, hn::Zero(d)), hn::Set(d, 1.0f));
      };
      const auto candidate = hn::Tanh(d, hn::LoadU(d, gates + 2 * units + u));
      const auto next = hn::MulAdd(gate(1), hn::LoadU(d, cell + u), hn::Mul(gate(0), candidate));
      hn::StoreU(next, d, cell + u);
      hn::StoreU(hn::Mul(gate(3), hn::Tanh(d, next)), d, hidden + u);
    });
  }
}

}  // namespace typenet::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace typenet::kernels {

HWY_EXPORT(AddColumnSums);
HWY_EXPORT(AddTo);
HWY_EXPORT(Im2Col);
HWY_EXPORT(Col2ImAdd);
HWY_EXPORT(MaxpoolForward);
HWY_EXPORT(MaxpoolBackward);
HWY_EXPORT(GlobalAvgPoolForward);
HWY_EXPORT(GlobalAvgPoolBackward);
HWY_EXPORT(ReluForward);
HWY_EXPORT(ReluBackward);
HWY_EXPORT(ReluForwardSigns);
HWY_EXPORT(ReluBackwardSigns);
HWY_EXPORT(SigmoidForward);
HWY_EXPORT(SigmoidBackward);
HWY_EXPORT(TanhForward);
HWY_EXPORT(TanhBackward);
HWY_EXPORT(EluForward);
HWY_EXPORT(EluBackward);
HWY_EXPORT(LeakyReluForward);
HWY_EXPORT(LeakyReluBackward);
HWY_EXPORT(SoftplusForward);
HWY_EXPORT(SoftplusBackward);
HWY_EXPORT(GeluForward);
HWY_EXPORT(GeluBackward);
HWY_EXPORT(SwishForward);
HWY_EXPORT(SwishBackward);
HWY_EXPORT(ScaleShift);
HWY_EXPORT(AvgPoolForward);
HWY_EXPORT(AvgPoolBackwardAdd);
HWY_EXPORT(Dropout);
HWY_EXPORT(SoftmaxForward);
HWY_EXPORT(SoftmaxBackward);
HWY_EXPORT(AdamUpdate);
HWY_EXPORT(RmspropUpdate);
HWY_EXPORT(SgdUpdate);
HWY_EXPORT(ScaleShiftChannels);
HWY_EXPORT(AddChannelSums);
HWY_EXPORT(AddChannelSquaredDeviations);
HWY_EXPORT(AddBatchNormGradSums);
HWY_EXPORT(BatchNormInputGrad);
HWY_EXPORT(LstmCell);

void add_column_sums(const float* dy, std::size_t m, std::size_t n, std::size_t ldy,
                     float* bias_grad) noexcept {
  HWY_DYNAMIC_DISPATCH(AddColumnSums)(dy, m, n, ldy, bias_grad);
}
void add_to(float* dst, const float* src, std::size_t count) noexcept {
  HWY_DYNAMIC_DISPATCH(AddTo)(dst, src, count);
}
void im2col(const float* in, std::size_t h, std::size_t w, std::size_t c, std::size_t kh,
            std::size_t kw, std::size_t stride, std::size_t pad_top, std::size_t pad_left,
            std::size_t oh, std::size_t ow, float* col) noexcept {
  HWY_DYNAMIC_DISPATCH(Im2Col)(in, h, w, c, kh, kw, stride, pad_top, pad_left, oh, ow, col);
}
void col2im_add(const float* col, std::size_t h, std::size_t w, std::size_t c, std::size_t kh,
                std::size_t kw, std::size_t stride, std::size_t pad_top, std::size_t pad_left,
                std::size_t oh, std::size_t ow, float* din) noexcept {
  HWY_DYNAMIC_DISPATCH(Col2ImAdd)(col, h, w, c, kh, kw, stride, pad_top, pad_left, oh, ow, din);
}
void maxpool_forward(const float* in, std::size_t h, std::size_t w, std::size_t c, std::size_t pool,
                     std::size_t stride, std::size_t oh, std::size_t ow, float* out,
                     std::uint32_t* argmax) noexcept {
  HWY_DYNAMIC_DISPATCH(MaxpoolForward)(in, h, w, c, pool, stride, oh, ow, out, argmax);
}
void maxpool_backward(const float* dout, const std::uint32_t* argmax, std::size_t h, std::size_t w,
                      std::size_t c, std::size_t pool, std::size_t stride, std::size_t oh,
                      std::size_t ow, float* din) noexcept {
  HWY_DYNAMIC_DISPATCH(MaxpoolBackward)(dout, argmax, h, w, c, pool, stride, oh, ow, din);
}
void global_avg_pool_forward(const float* in, std::size_t pixels, std::size_t c,
                             float* out) noexcept {
  HWY_DYNAMIC_DISPATCH(GlobalAvgPoolForward)(in, pixels, c, out);
}
void global_avg_pool_backward(const float* dout, std::size_t pixels, std::size_t c,
                              float* din) noexcept {
  HWY_DYNAMIC_DISPATCH(GlobalAvgPoolBackward)(dout, pixels, c, din);
}
void relu_forward(float* y, std::size_t count) noexcept {
  HWY_DYNAMIC_DISPATCH(ReluForward)(y, count);
}
void relu_backward(const float* y, float* dy, std::size_t count) noexcept {
  HWY_DYNAMIC_DISPATCH(ReluBackward)(y, dy, count);
}
void relu_forward_signs(float* y, std::size_t count, std::uint8_t* signs) noexcept {
  HWY_DYNAMIC_DISPATCH(ReluForwardSigns)(y, count, signs);
}
void relu_backward_signs(const std::uint8_t* signs, float* dy, std::size_t count) noexcept {
  HWY_DYNAMIC_DISPATCH(ReluBackwardSigns)(signs, dy, count);
}
void sigmoid_forward(float* y, std::size_t count) noexcept {
  HWY_DYNAMIC_DISPATCH(SigmoidForward)(y, count);
}
void sigmoid_backward(const float* y, float* dy, std::size_t count) noexcept {
  HWY_DYNAMIC_DISPATCH(SigmoidBackward)(y, dy, count);
}
void tanh_forward(float* y, std::size_t count) noexcept {
  HWY_DYNAMIC_DISPATCH(TanhForward)(y, count);
}
void tanh_backward(const float* y, float* dy, std::size_t count) noexcept {
  HWY_DYNAMIC_DISPATCH(TanhBackward)(y, dy, count);
}
void dropout_forward(const float* x, float* y, std::size_t count, std::uint64_t seed,
                     std::uint32_t threshold, float scale) noexcept {
  HWY_DYNAMIC_DISPATCH(Dropout)(x, y, count, seed, threshold, scale);
}
void dropout_backward(const float* dy, float* dx, std::size_t count, std::uint64_t seed,
                      std::uint32_t threshold, float scale) noexcept {
  HWY_DYNAMIC_DISPATCH(Dropout)(dy, dx, count, seed, threshold, scale);
}
void elu_forward(float* y, std::size_t count, float positive_scale, float negative_scale) noexcept {
  HWY_DYNAMIC_DISPATCH(EluForward)(y, count, positive_scale, negative_scale);
}
void elu_backward(const float* y, float* dy, std::size_t count, float positive_scale,
                  float negative_scale) noexcept {
  HWY_DYNAMIC_DISPATCH(EluBackward)(y, dy, count, positive_scale, negative_scale);
}
void leaky_relu_forward(float* y, std::size_t count, float slope) noexcept {
  HWY_DYNAMIC_DISPATCH(LeakyReluForward)(y, count, slope);
}
void leaky_relu_backward(const float* y, float* dy, std::size_t count, float slope) noexcept {
  HWY_DYNAMIC_DISPATCH(LeakyReluBackward)(y, dy, count, slope);
}
void softplus_forward(float* y, std::size_t count) noexcept {
  HWY_DYNAMIC_DISPATCH(SoftplusForward)(y, count);
}
void softplus_backward(const float* y, float* dy, std::size_t count) noexcept {
  HWY_DYNAMIC_DISPATCH(SoftplusBackward)(y, dy, count);
}
void gelu_forward(float* y, std::size_t count) noexcept {
  HWY_DYNAMIC_DISPATCH(GeluForward)(y, count);
}
void gelu_backward(const float* x, float* dy, std::size_t count) noexcept {
  HWY_DYNAMIC_DISPATCH(GeluBackward)(x, dy, count);
}
void swish_forward(float* y, std::size_t count) noexcept {
  HWY_DYNAMIC_DISPATCH(SwishForward)(y, count);
}
void swish_backward(const float* x, float* dy, std::size_t count) noexcept {
  HWY_DYNAMIC_DISPATCH(SwishBackward)(x, dy, count);
}
void scale_shift(const float* x, float* y, std::size_t count, float scale, float offset) noexcept {
  HWY_DYNAMIC_DISPATCH(ScaleShift)(x, y, count, scale, offset);
}
void avg_pool_forward(const float* in, std::size_t h, std::size_t w, std::size_t c,
                      std::size_t pool, std::size_t stride, std::size_t pad_top,
                      std::size_t pad_left, std::size_t oh, std::size_t ow, float* out) noexcept {
  HWY_DYNAMIC_DISPATCH(AvgPoolForward)(in, h, w, c, pool, stride, pad_top, pad_left, oh, ow, out);
}
void avg_pool_backward_add(const float* dout, std::size_t h, std::size_t w, std::size_t c,
                           std::size_t pool, std::size_t stride, std::size_t pad_top,
                           std::size_t pad_left, std::size_t oh, std::size_t ow,
                           float* din) noexcept {
  HWY_DYNAMIC_DISPATCH(AvgPoolBackwardAdd)
  (dout, h, w, c, pool, stride, pad_top, pad_left, oh, ow, din);
}
void softmax_forward(float* y, std::size_t rows, std::size_t cols) noexcept {
  HWY_DYNAMIC_DISPATCH(SoftmaxForward)(y, rows, cols);
}
void softmax_backward(const float* y, float* dy, std::size_t rows, std::size_t cols) noexcept {
  HWY_DYNAMIC_DISPATCH(SoftmaxBackward)(y, dy, rows, cols);
}
std::size_t adam_update(const float* p, const float* g, const float* m, const float* v,
                        float* p_out, float* m_out, float* v_out, std::size_t count, float lr_t,
                        float beta1, float beta2, float eps_t) noexcept {
  return HWY_DYNAMIC_DISPATCH(AdamUpdate)(p, g, m, v, p_out, m_out, v_out, count, lr_t, beta1,
                                          beta2, eps_t);
}
std::size_t rmsprop_update(const float* p, const float* g, const float* v, float* p_out,
                           float* v_out, std::size_t count, float lr, float rho,
                           float eps) noexcept {
  return HWY_DYNAMIC_DISPATCH(RmspropUpdate)(p, g, v, p_out, v_out, count, lr, rho, eps);
}
std::size_t sgd_update(const float* p, const float* g, const float* vel, float* p_out,
                       float* vel_out, std::size_t count, float lr, float mu,
                       bool nesterov) noexcept {
  return HWY_DYNAMIC_DISPATCH(SgdUpdate)(p, g, vel, p_out, vel_out, count, lr, mu, nesterov);
}

void scale_shift_channels(const float* in, std::size_t rows, std::size_t channels,
                          const float* scale, const float* shift, float* out) noexcept {
  HWY_DYNAMIC_DISPATCH(ScaleShiftChannels)(in, rows, channels, scale, shift, out);
}
void add_channel_sums(const float* x, std::size_t rows, std::size_t channels,
                      double* sums) noexcept {
  HWY_DYNAMIC_DISPATCH(AddChannelSums)(x, rows, channels, sums);
}
void add_channel_squared_deviations(const float* x, std::size_t rows, std::size_t channels,
                                    const double* means, double* m2) noexcept {
  HWY_DYNAMIC_DISPATCH(AddChannelSquaredDeviations)(x, rows, channels, means, m2);
}
void add_batch_norm_grad_sums(const float* x, const float* dy, std::size_t rows,
                              std::size_t channels, const float* mean, const float* inv_std,
                              double* dy_sum, double* dy_xhat_sum) noexcept {
  HWY_DYNAMIC_DISPATCH(AddBatchNormGradSums)
  (x, dy, rows, channels, mean, inv_std, dy_sum, dy_xhat_sum);
}
void batch_norm_input_grad(const float* x, const float* dy, std::size_t rows, std::size_t channels,
                           const float* mean, const float* inv_std, const float* k, const float* a,
                           const float* b, float* dx) noexcept {
  HWY_DYNAMIC_DISPATCH(BatchNormInputGrad)(x, dy, rows, channels, mean, inv_std, k, a, b, dx);
}
void lstm_cell(const float* z, std::size_t ldz, std::size_t rows, std::size_t units,
               bool hard_sigmoid, float* c, float* h, std::size_t ldh) noexcept {
  HWY_DYNAMIC_DISPATCH(LstmCell)(z, ldz, rows, units, hard_sigmoid, c, h, ldh);
}

}  // namespace typenet::kernels
#endif  // HWY_ONCE
