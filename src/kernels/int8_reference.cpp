// Scalar references of the 8-bit kernels (include/typenet/kernels/int8.hpp): the oracle the
// dispatched versions must match bit for bit.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "src/kernels/int8_scalar.h"
#include "typenet/kernels/int8.hpp"

namespace typenet::kernels {

void pack_int8_weights(const std::int8_t* w, std::size_t k, std::size_t n,
                       std::int8_t* packed) noexcept {
  const std::size_t columns = int8_padded_columns(n);
  std::fill_n(packed, int8_packed_size(k, n), std::int8_t{0});
  for (std::size_t p = 0; p < k; ++p)
    for (std::size_t j = 0; j < n; ++j)
      packed[((p / kInt8DepthGroup) * columns + j) * kInt8DepthGroup + p % kInt8DepthGroup] =
          w[p * n + j];
}

namespace reference {
namespace {

std::int32_t dot(const std::uint8_t* a, const std::int8_t* packed_b, std::size_t packed_columns,
                 std::size_t j, std::size_t k) {
  std::int32_t sum = 0;
  for (std::size_t p = 0; p < int8_depth(k); ++p) {
    const std::int8_t weight =
        packed_b[((p / kInt8DepthGroup) * packed_columns + j) * kInt8DepthGroup +
                 p % kInt8DepthGroup];
    sum += std::int32_t(a[p]) * std::int32_t(weight);
  }
  return sum;
}

float epilogue_value(std::int32_t sum, const Int8Epilogue& epilogue, std::size_t j) {
  return int8_scalar::epilogue_value(sum, epilogue.scale[j], epilogue.offset[j]);
}

}  // namespace

void int8_gemm_u8(std::size_t m, std::size_t n, std::size_t k, const std::uint8_t* a,
                  std::size_t lda, const std::int8_t* packed_b, std::size_t packed_columns,
                  const Int8Epilogue& epilogue, std::uint8_t* c, std::size_t ldc) noexcept {
  const float low = epilogue.relu ? epilogue.output_zero_point : 0.0f;
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j)
      c[i * ldc + j] = int8_scalar::to_code(
          epilogue_value(dot(a + i * lda, packed_b, packed_columns, j, k), epilogue, j),
          epilogue.output_inverse_scale, epilogue.output_zero_point, low);
}

void int8_gemm_f32(std::size_t m, std::size_t n, std::size_t k, const std::uint8_t* a,
                   std::size_t lda, const std::int8_t* packed_b, std::size_t packed_columns,
                   const Int8Epilogue& epilogue, float* c, std::size_t ldc) noexcept {
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j)
      c[i * ldc + j] =
          epilogue_value(dot(a + i * lda, packed_b, packed_columns, j, k), epilogue, j);
}

void int8_im2col(const std::uint8_t* in, std::size_t h, std::size_t w, std::size_t c,
                 std::size_t kh, std::size_t kw, std::size_t stride, std::size_t pad_top,
                 std::size_t pad_left, std::size_t oh, std::size_t ow, std::uint8_t pad_value,
                 std::uint8_t* col, std::size_t ldcol) noexcept {
  const std::size_t patch = kh * kw * c;
  for (std::size_t oy = 0; oy < oh; ++oy)
    for (std::size_t ox = 0; ox < ow; ++ox) {
      std::uint8_t* row = col + (oy * ow + ox) * ldcol;
      for (std::size_t ky = 0; ky < kh; ++ky)
        for (std::size_t kx = 0; kx < kw; ++kx) {
          const auto y = std::ptrdiff_t(oy * stride + ky) - std::ptrdiff_t(pad_top);
          const auto x = std::ptrdiff_t(ox * stride + kx) - std::ptrdiff_t(pad_left);
          const bool inside = y >= 0 && x >= 0 && y < std::ptrdiff_t(h) && x < std::ptrdiff_t(w);
          for (std::size_t ch = 0; ch < c; ++ch)
            row[(ky * kw + kx) * c + ch] =
                inside ? in[(std::size_t(y) * w + std::size_t(x)) * c + ch] : pad_value;
        }
      std::fill(row + patch, row + ldcol, std::uint8_t{0});
    }
}

void int8_maxpool(const std::uint8_t* in, std::size_t h, std::size_t w, std::size_t c,
                  std::size_t pool, std::size_t stride, std::size_t oh, std::size_t ow,
                  std::uint8_t* out) noexcept {
  (void)h;
  for (std::size_t oy = 0; oy < oh; ++oy)
    for (std::size_t ox = 0; ox < ow; ++ox)
      for (std::size_t ch = 0; ch < c; ++ch) {
        std::uint8_t best = 0;
        for (std::size_t py = 0; py < pool; ++py)
          for (std::size_t px = 0; px < pool; ++px)
            best = std::max(best, in[((oy * stride + py) * w + ox * stride + px) * c + ch]);
        out[(oy * ow + ox) * c + ch] = best;
      }
}

void quantize_u8(const float* x, std::size_t count, float inverse_scale, float zero_point,
                 std::uint8_t* q) noexcept {
  for (std::size_t i = 0; i < count; ++i)
    q[i] = int8_scalar::to_code(x[i], inverse_scale, zero_point, 0.0f);
}

void dequantize_u8(const std::uint8_t* q, std::size_t count, float scale, float zero_point,
                   float* x) noexcept {
  for (std::size_t i = 0; i < count; ++i) x[i] = (float(q[i]) - zero_point) * scale;
}

}  // namespace reference
}  // namespace typenet::kernels
