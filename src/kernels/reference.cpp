// Scalar reference kernels: the simplest correct code for each kernel, used as the oracle
// against which the SIMD kernels (simd.cpp) are tested. Clarity over speed.
#include "typenet/kernels/kernels.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace typenet::kernels::reference {

namespace {

float as_is(float x) { return x; }

// x rounded to the nearest bfloat16 (ties to even), as a float: the top 16 bits of the rounded
// bits. A NaN stays a (quiet) NaN, which the rounding carry could otherwise turn into inf.
float round_to_bf16(float x) {
  if (std::isnan(x)) return x;
  std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return std::bit_cast<float>(bits & 0xFFFF0000u);
}

// gemm and gemm_bf16, each operand element taken through kOperand (as_is or round_to_bf16).
// Products of floats, and so of bf16 values, are exact in double; one rounding, at the end.
template <float (*kOperand)(float)>
void gemm_of(Trans trans_a, Trans trans_b, std::size_t m, std::size_t n, std::size_t k,
             const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
             std::size_t ldc, const float* bias) {
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      double sum = 0;
      for (std::size_t p = 0; p < k; ++p) {
        const float av = trans_a == Trans::No ? a[i * lda + p] : a[p * lda + i];
        const float bv = trans_b == Trans::No ? b[p * ldb + j] : b[j * ldb + p];
        sum += double(kOperand(av)) * double(kOperand(bv));
      }
      if (bias) sum += bias[j];
      float& out = c[i * ldc + j];
      out = beta == 0.0f ? float(sum) : float(sum + double(beta) * out);
    }
  }
}

// conv_forward and conv_forward_bf16, likewise.
template <float (*kOperand)(float)>
void conv_forward_of(const float* image, std::size_t w, std::size_t c, std::size_t kh,
                     std::size_t kw, std::size_t stride, std::size_t ow, std::size_t first_pixel,
                     std::size_t end_pixel, const float* kernel, std::size_t filters,
                     const float* bias, float* out) {
  for (std::size_t pixel = first_pixel; pixel < end_pixel; ++pixel) {
    const std::size_t oy = pixel / ow, ox = pixel % ow;
    for (std::size_t f = 0; f < filters; ++f) {
      double sum = bias ? bias[f] : 0.0;
      for (std::size_t ky = 0; ky < kh; ++ky)
        for (std::size_t kx = 0; kx < kw; ++kx)
          for (std::size_t ch = 0; ch < c; ++ch)
            sum += double(kOperand(image[((oy * stride + ky) * w + ox * stride + kx) * c + ch])) *
                   double(kOperand(kernel[((ky * kw + kx) * c + ch) * filters + f]));
      out[pixel * filters + f] = float(sum);
    }
  }
}

}  // namespace

void gemm(Trans trans_a, Trans trans_b, std::size_t m, std::size_t n, std::size_t k, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc,
          const float* bias) noexcept {
  gemm_of<as_is>(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc, bias);
}

void gemm_bf16(Trans trans_a, Trans trans_b, std::size_t m, std::size_t n, std::size_t k,
               const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta,
               float* c, std::size_t ldc, const float* bias) noexcept {
  gemm_of<round_to_bf16>(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc, bias);
}

void conv_forward(const float* image, std::size_t w, std::size_t c, std::size_t kh, std::size_t kw,
                  std::size_t stride, std::size_t ow, std::size_t first_pixel,
                  std::size_t end_pixel, const float* kernel, std::size_t filters,
                  const float* bias, float* out) noexcept {
  conv_forward_of<as_is>(image, w, c, kh, kw, stride, ow, first_pixel, end_pixel, kernel, filters,
                         bias, out);
}

void conv_forward_bf16(const float* image, std::size_t w, std::size_t c, std::size_t kh,
                       std::size_t kw, std::size_t stride, std::size_t ow, std::size_t first_pixel,
                       std::size_t end_pixel, const float* kernel, std::size_t filters,
                       const float* bias, float* out) noexcept {
  conv_forward_of<round_to_bf16>(image, w, c, kh, kw, stride, ow, first_pixel, end_pixel, kernel,
                                 filters, bias, out);
}

void conv_kernel_grad_bf16(const float* image, std::size_t w, std::size_t c, std::size_t kh,
                           std::size_t kw, std::size_t stride, std::size_t ow, std::size_t pixels,
                           const float* dy, std::size_t filters, float beta,
                           float* dkernel) noexcept {
  // gemm_of's order: the products over the pixels, then beta * dkernel.
  for (std::size_t ky = 0; ky < kh; ++ky)
    for (std::size_t kx = 0; kx < kw; ++kx)
      for (std::size_t ch = 0; ch < c; ++ch)
        for (std::size_t f = 0; f < filters; ++f) {
          double sum = 0;
          for (std::size_t p = 0; p < pixels; ++p) {
            const std::size_t oy = p / ow, ox = p % ow;
            sum +=
                double(round_to_bf16(image[((oy * stride + ky) * w + ox * stride + kx) * c + ch])) *
                double(round_to_bf16(dy[p * filters + f]));
          }
          float& out = dkernel[((ky * kw + kx) * c + ch) * filters + f];
          out = beta == 0.0f ? float(sum) : float(sum + double(beta) * out);
        }
}

void dropout_forward(const float* x, float* y, std::size_t count, std::uint64_t seed,
                     std::uint32_t threshold, float scale) noexcept {
  for (std::size_t i = 0; i < count; ++i)
    y[i] = dropout_bits(seed, std::uint32_t(i)) >= threshold ? x[i] * scale : 0.0f;
}

void dropout_backward(const float* dy, float* dx, std::size_t count, std::uint64_t seed,
                      std::uint32_t threshold, float scale) noexcept {
  dropout_forward(dy, dx, count, seed, threshold, scale);
}

void add_column_sums(const float* dy, std::size_t m, std::size_t n, std::size_t ldy,
                     float* bias_grad) noexcept {
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) bias_grad[j] += dy[i * ldy + j];
}

void add_to(float* dst, const float* src, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) dst[i] += src[i];
}

namespace {
// Visits every (patch row, patch column, image offset) triple of a convolution's patches whose
// source pixel lies inside the image; im2col and its adjoint differ only in the direction of
// the copy.
template <class Visit>
void for_each_patch_element(std::size_t h, std::size_t w, std::size_t c, std::size_t kh,
                            std::size_t kw, std::size_t stride, std::size_t pad_top,
                            std::size_t pad_left, std::size_t oh, std::size_t ow, Visit visit) {
  const std::size_t patch = kh * kw * c;
  for (std::size_t oy = 0; oy < oh; ++oy)
    for (std::size_t ox = 0; ox < ow; ++ox)
      for (std::size_t ky = 0; ky < kh; ++ky)
        for (std::size_t kx = 0; kx < kw; ++kx) {
          const auto y = std::ptrdiff_t(oy * stride + ky) - std::ptrdiff_t(pad_top);
          const auto x = std::ptrdiff_t(ox * stride + kx) - std::ptrdiff_t(pad_left);
          const bool inside = y >= 0 && x >= 0 && y < std::ptrdiff_t(h) && x < std::ptrdiff_t(w);
          for (std::size_t ch = 0; ch < c; ++ch) {
            const std::size_t col_index = (oy * ow + ox) * patch + (ky * kw + kx) * c + ch;
            visit(col_index, inside, inside ? (std::size_t(y) * w + std::size_t(x)) * c + ch : 0);
          }
        }
}
}  // namespace

void im2col(const float* in, std::size_t h, std::size_t w, std::size_t c, std::size_t kh,
            std::size_t kw, std::size_t stride, std::size_t pad_top, std::size_t pad_left,
            std::size_t oh, std::size_t ow, float* col) noexcept {
  for_each_patch_element(
      h, w, c, kh, kw, stride, pad_top, pad_left, oh, ow,
      [&](std::size_t ci, bool inside, std::size_t ii) { col[ci] = inside ? in[ii] : 0.0f; });
}

void col2im_add(const float* col, std::size_t h, std::size_t w, std::size_t c, std::size_t kh,
                std::size_t kw, std::size_t stride, std::size_t pad_top, std::size_t pad_left,
                std::size_t oh, std::size_t ow, float* din) noexcept {
  for_each_patch_element(h, w, c, kh, kw, stride, pad_top, pad_left, oh, ow,
                         [&](std::size_t ci, bool inside, std::size_t ii) {
                           if (inside) din[ii] += col[ci];
                         });
}

void maxpool_forward(const float* in, std::size_t h, std::size_t w, std::size_t c, std::size_t pool,
                     std::size_t stride, std::size_t oh, std::size_t ow, float* out,
                     std::uint32_t* argmax) noexcept {
  (void)h;
  for (std::size_t oy = 0; oy < oh; ++oy)
    for (std::size_t ox = 0; ox < ow; ++ox)
      for (std::size_t ch = 0; ch < c; ++ch) {
        std::size_t best = (oy * stride * w + ox * stride) * c + ch;
        for (std::size_t py = 0; py < pool; ++py)
          for (std::size_t px = 0; px < pool; ++px) {
            const std::size_t i = ((oy * stride + py) * w + ox * stride + px) * c + ch;
            if (in[i] > in[best]) best = i;
          }
        const std::size_t o = (oy * ow + ox) * c + ch;
        out[o] = in[best];
        if (argmax) argmax[o] = std::uint32_t(best);
      }
}

void maxpool_backward(const float* dout, const std::uint32_t* argmax, std::size_t h, std::size_t w,
                      std::size_t c, std::size_t /*pool*/, std::size_t /*stride*/, std::size_t oh,
                      std::size_t ow, float* din) noexcept {
  std::fill_n(din, h * w * c, 0.0f);
  for (std::size_t i = 0; i < oh * ow * c; ++i) din[argmax[i]] += dout[i];
}

void global_avg_pool_forward(const float* in, std::size_t pixels, std::size_t c,
                             float* out) noexcept {
  for (std::size_t ch = 0; ch < c; ++ch) {
    double sum = 0;
    for (std::size_t p = 0; p < pixels; ++p) sum += in[p * c + ch];
    out[ch] = float(sum / double(pixels));
  }
}

void global_avg_pool_backward(const float* dout, std::size_t pixels, std::size_t c,
                              float* din) noexcept {
  for (std::size_t p = 0; p < pixels; ++p)
    for (std::size_t ch = 0; ch < c; ++ch) din[p * c + ch] = dout[ch] / float(pixels);
}

void relu_forward(float* y, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) y[i] = std::max(y[i], 0.0f);
}
void relu_backward(const float* y, float* dy, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
void relu_forward_signs(float* y, std::size_t count, std::uint8_t* signs) noexcept {
  relu_forward(y, count);
  std::fill_n(signs, (count + 7) / 8, std::uint8_t{0});
  for (std::size_t i = 0; i < count; ++i)
    if (y[i] > 0.0f) signs[i / 8] = std::uint8_t(signs[i / 8] | 1u << (i % 8));
}
void relu_backward_signs(const std::uint8_t* signs, float* dy, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) dy[i] = signs[i / 8] >> (i % 8) & 1u ? dy[i] : 0.0f;
}
void sigmoid_forward(float* y, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) y[i] = 1.0f / (1.0f + std::exp(-y[i]));
}
void sigmoid_backward(const float* y, float* dy, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) dy[i] *= y[i] * (1.0f - y[i]);
}
void tanh_forward(float* y, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) y[i] = std::tanh(y[i]);
}
void tanh_backward(const float* y, float* dy, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) dy[i] *= 1.0f - y[i] * y[i];
}
void elu_forward(float* y, std::size_t count, float positive_scale, float negative_scale) noexcept {
  for (std::size_t i = 0; i < count; ++i)
    y[i] = y[i] > 0.0f ? positive_scale * y[i] : negative_scale * std::expm1(y[i]);
}
void elu_backward(const float* y, float* dy, std::size_t count, float positive_scale,
                  float negative_scale) noexcept {
  for (std::size_t i = 0; i < count; ++i)
    dy[i] *= y[i] > 0.0f ? positive_scale : y[i] + negative_scale;
}
void leaky_relu_forward(float* y, std::size_t count, float slope) noexcept {
  for (std::size_t i = 0; i < count; ++i) y[i] = y[i] > 0.0f ? y[i] : y[i] * slope;
}
void leaky_relu_backward(const float* y, float* dy, std::size_t count, float slope) noexcept {
  for (std::size_t i = 0; i < count; ++i) dy[i] = y[i] > 0.0f ? dy[i] : dy[i] * slope;
}
void softplus_forward(float* y, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i)
    y[i] = std::max(y[i], 0.0f) + std::log1p(std::exp(-std::fabs(y[i])));
}
void softplus_backward(const float* y, float* dy, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) dy[i] *= -std::expm1(-y[i]);
}
namespace {
constexpr double kSqrtHalf = 0.70710678118654752440;
// The standard normal CDF, through erfc so that its lower tail keeps its relative precision.
double normal_cdf(double x) { return 0.5 * std::erfc(-x * kSqrtHalf); }
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
}  // namespace
void gelu_forward(float* y, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) y[i] = float(y[i] * normal_cdf(y[i]));
}
void gelu_backward(const float* x, float* dy, std::size_t count) noexcept {
  constexpr double inv_sqrt_2pi = 0.39894228040143267794;
  for (std::size_t i = 0; i < count; ++i) {
    const double density = inv_sqrt_2pi * std::exp(-0.5 * double(x[i]) * x[i]);
    dy[i] = float(dy[i] * (normal_cdf(x[i]) + x[i] * density));
  }
}
void swish_forward(float* y, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) y[i] = float(y[i] * sigmoid(y[i]));
}
void swish_backward(const float* x, float* dy, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    const double s = sigmoid(x[i]);
    dy[i] = float(dy[i] * s * (1.0 + x[i] * (1.0 - s)));
  }
}
void scale_shift(const float* x, float* y, std::size_t count, float scale, float offset) noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    const float scaled = x[i] * scale;  // rounded before the offset is added, as Keras
    y[i] = scaled + offset;
  }
}

namespace {
// The rows or columns [first, end) of the image that a pooling window starting at `start`
// (negative: in the padding) covers.
std::pair<std::size_t, std::size_t> window_span(std::size_t out_index, std::size_t stride,
                                                std::size_t pad, std::size_t pool,
                                                std::size_t extent) {
  const std::ptrdiff_t start = std::ptrdiff_t(out_index * stride) - std::ptrdiff_t(pad);
  const std::ptrdiff_t first = std::max<std::ptrdiff_t>(start, 0);
  const std::ptrdiff_t end =
      std::min<std::ptrdiff_t>(start + std::ptrdiff_t(pool), std::ptrdiff_t(extent));
  return {std::size_t(first), std::size_t(std::max(end, first))};
}
}  // namespace

void avg_pool_forward(const float* in, std::size_t h, std::size_t w, std::size_t c,
                      std::size_t pool, std::size_t stride, std::size_t pad_top,
                      std::size_t pad_left, std::size_t oh, std::size_t ow, float* out) noexcept {
  for (std::size_t oy = 0; oy < oh; ++oy)
    for (std::size_t ox = 0; ox < ow; ++ox) {
      const auto [y0, y1] = window_span(oy, stride, pad_top, pool, h);
      const auto [x0, x1] = window_span(ox, stride, pad_left, pool, w);
      const float pixels = float((y1 - y0) * (x1 - x0));
      for (std::size_t ch = 0; ch < c; ++ch) {
        float sum = 0.0f;
        for (std::size_t y = y0; y < y1; ++y)
          for (std::size_t x = x0; x < x1; ++x) sum += in[(y * w + x) * c + ch];
        out[(oy * ow + ox) * c + ch] = sum / pixels;
      }
    }
}
void avg_pool_backward_add(const float* dout, std::size_t h, std::size_t w, std::size_t c,
                           std::size_t pool, std::size_t stride, std::size_t pad_top,
                           std::size_t pad_left, std::size_t oh, std::size_t ow,
                           float* din) noexcept {
  for (std::size_t oy = 0; oy < oh; ++oy)
    for (std::size_t ox = 0; ox < ow; ++ox) {
      const auto [y0, y1] = window_span(oy, stride, pad_top, pool, h);
      const auto [x0, x1] = window_span(ox, stride, pad_left, pool, w);
      const float pixels = float((y1 - y0) * (x1 - x0));
      for (std::size_t y = y0; y < y1; ++y)
        for (std::size_t x = x0; x < x1; ++x)
          for (std::size_t ch = 0; ch < c; ++ch)
            din[(y * w + x) * c + ch] += dout[(oy * ow + ox) * c + ch] / pixels;
    }
}

void softmax_forward(float* y, std::size_t rows, std::size_t cols) noexcept {
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = y + r * cols;
    const float max = *std::max_element(row, row + cols);
    double sum = 0;
    for (std::size_t i = 0; i < cols; ++i) sum += row[i] = std::exp(row[i] - max);
    for (std::size_t i = 0; i < cols; ++i) row[i] = float(row[i] / sum);
  }
}
void softmax_backward(const float* y, float* dy, std::size_t rows, std::size_t cols) noexcept {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* yr = y + r * cols;
    float* dr = dy + r * cols;
    double dot = 0;
    for (std::size_t i = 0; i < cols; ++i) dot += double(dr[i]) * yr[i];
    for (std::size_t i = 0; i < cols; ++i) dr[i] = yr[i] * float(dr[i] - dot);
  }
}

namespace {
// Updates parameter by parameter: new_param(i) stores parameter i's updated value and slots and
// returns the value. As the SIMD kernels, returns the index of the first non-finite updated
// parameter (count when none).
template <class NewParam>
std::size_t update_params(std::size_t count, const NewParam& new_param) {
  std::size_t first_non_finite = count;
  for (std::size_t i = 0; i < count; ++i)
    if (!std::isfinite(new_param(i)) && first_non_finite == count) first_non_finite = i;
  return first_non_finite;
}
}  // namespace

std::size_t adam_update(const float* p, const float* g, const float* m, const float* v,
                        float* p_out, float* m_out, float* v_out, std::size_t count, float lr_t,
                        float beta1, float beta2, float eps_t) noexcept {
  return update_params(count, [&](std::size_t i) {
    const float new_m = beta1 * m[i] + (1.0f - beta1) * g[i];
    const float new_v = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
    const float new_p = p[i] - lr_t * new_m / (std::sqrt(new_v) + eps_t);
    m_out[i] = new_m, v_out[i] = new_v, p_out[i] = new_p;
    return new_p;
  });
}
std::size_t rmsprop_update(const float* p, const float* g, const float* v, float* p_out,
                           float* v_out, std::size_t count, float lr, float rho,
                           float eps) noexcept {
  return update_params(count, [&](std::size_t i) {
    const float new_v = rho * v[i] + (1.0f - rho) * g[i] * g[i];
    const float new_p = p[i] - lr * g[i] / (std::sqrt(new_v) + eps);
    v_out[i] = new_v, p_out[i] = new_p;
    return new_p;
  });
}
std::size_t sgd_update(const float* p, const float* g, const float* vel, float* p_out,
                       float* vel_out, std::size_t count, float lr, float mu,
                       bool nesterov) noexcept {
  return update_params(count, [&](std::size_t i) {
    const float new_vel = mu * vel[i] - lr * g[i];
    const float new_p = p[i] + (nesterov ? mu * new_vel - lr * g[i] : new_vel);
    vel_out[i] = new_vel, p_out[i] = new_p;
    return new_p;
  });
}

namespace {
// Runs of kBatchNormRun rows: visit(first, end) for each, in order.
template <class Visit>
void for_each_run(std::size_t rows, const Visit& visit) {
  for (std::size_t first = 0; first < rows; first += kBatchNormRun)
    visit(first, std::min(rows, first + kBatchNormRun));
}
}  // namespace

void add_channel_sums(const float* x, std::size_t rows, std::size_t channels,
                      double* sums) noexcept {
  for_each_run(rows, [&](std::size_t first, std::size_t end) {
    for (std::size_t c = 0; c < channels; ++c) {
      float run = 0.0f;
      for (std::size_t r = first; r < end; ++r) run += x[r * channels + c];
      sums[c] += run;
    }
  });
}

void add_channel_squared_deviations(const float* x, std::size_t rows, std::size_t channels,
                                    const double* means, double* m2) noexcept {
  for_each_run(rows, [&](std::size_t first, std::size_t end) {
    for (std::size_t c = 0; c < channels; ++c) {
      const float mean = float(means[c]);
      float run = 0.0f;
      for (std::size_t r = first; r < end; ++r) {
        const float deviation = x[r * channels + c] - mean;
        run = std::fma(deviation, deviation, run);
      }
      m2[c] += run;
    }
  });
}

void add_batch_norm_grad_sums(const float* x, const float* dy, std::size_t rows,
                              std::size_t channels, const float* mean, const float* inv_std,
                              double* dy_sum, double* dy_xhat_sum) noexcept {
  for_each_run(rows, [&](std::size_t first, std::size_t end) {
    for (std::size_t c = 0; c < channels; ++c) {
      float run = 0.0f, run_xhat = 0.0f;
      for (std::size_t r = first; r < end; ++r) {
        const float xhat = (x[r * channels + c] - mean[c]) * inv_std[c];
        run += dy[r * channels + c];
        run_xhat = std::fma(dy[r * channels + c], xhat, run_xhat);
      }
      dy_sum[c] += run;
      dy_xhat_sum[c] += run_xhat;
    }
  });
}

void batch_norm_input_grad(const float* x, const float* dy, std::size_t rows, std::size_t channels,
                           const float* mean, const float* inv_std, const float* k, const float* a,
                           const float* b, float* dx) noexcept {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < channels; ++c) {
      const std::size_t at = r * channels + c;
      const float xhat = (x[at] - mean[c]) * inv_std[c];
      dx[at] = k[c] * ((dy[at] - a[c]) - xhat * b[c]);
    }
}

void scale_shift_channels(const float* in, std::size_t rows, std::size_t channels,
                          const float* scale, const float* shift, float* out) noexcept {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t ch = 0; ch < channels; ++ch)
      out[r * channels + ch] = in[r * channels + ch] * scale[ch] + shift[ch];
}

void lstm_cell(const float* z, std::size_t ldz, std::size_t rows, std::size_t units,
               bool hard_sigmoid, float* c, float* h, std::size_t ldh) noexcept {
  const auto activation = [hard_sigmoid](float x) {
    return hard_sigmoid ? std::clamp(0.2f * x + 0.5f, 0.0f, 1.0f) : 1.0f / (1.0f + std::exp(-x));
  };
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t u = 0; u < units; ++u) {
      const float* gates = z + r * ldz + u;
      float& cell = c[r * units + u];
      cell = activation(gates[units]) * cell + activation(gates[0]) * std::tanh(gates[2 * units]);
      h[r * ldh + u] = activation(gates[3 * units]) * std::tanh(cell);
    }
}

}  // namespace typenet::kernels::reference
