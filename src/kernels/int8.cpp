// PLACEHOLDER on the int8-interface branch only: the dispatched 8-bit kernels forward to the
// scalar references until the int8-kernels branch replaces this file.
#include "typenet/kernels/int8.hpp"

namespace typenet::kernels {

void int8_gemm_u8(std::size_t m, std::size_t n, std::size_t k, const std::uint8_t* a,
                  std::size_t lda, const std::int8_t* packed_b, std::size_t packed_columns,
                  const Int8Epilogue& epilogue, std::uint8_t* c, std::size_t ldc) noexcept {
  reference::int8_gemm_u8(m, n, k, a, lda, packed_b, packed_columns, epilogue, c, ldc);
}
void int8_gemm_f32(std::size_t m, std::size_t n, std::size_t k, const std::uint8_t* a,
                   std::size_t lda, const std::int8_t* packed_b, std::size_t packed_columns,
                   const Int8Epilogue& epilogue, float* c, std::size_t ldc) noexcept {
  reference::int8_gemm_f32(m, n, k, a, lda, packed_b, packed_columns, epilogue, c, ldc);
}
void int8_im2col(const std::uint8_t* in, std::size_t h, std::size_t w, std::size_t c,
                 std::size_t kh, std::size_t kw, std::size_t stride, std::size_t pad_top,
                 std::size_t pad_left, std::size_t oh, std::size_t ow, std::uint8_t pad_value,
                 std::uint8_t* col, std::size_t ldcol) noexcept {
  reference::int8_im2col(in, h, w, c, kh, kw, stride, pad_top, pad_left, oh, ow, pad_value, col,
                         ldcol);
}
void int8_maxpool(const std::uint8_t* in, std::size_t h, std::size_t w, std::size_t c,
                  std::size_t pool, std::size_t stride, std::size_t oh, std::size_t ow,
                  std::uint8_t* out) noexcept {
  reference::int8_maxpool(in, h, w, c, pool, stride, oh, ow, out);
}
void quantize_u8(const float* x, std::size_t count, float inverse_scale, float zero_point,
                 std::uint8_t* q) noexcept {
  reference::quantize_u8(x, count, inverse_scale, zero_point, q);
}
void dequantize_u8(const std::uint8_t* q, std::size_t count, float scale, float zero_point,
                   float* x) noexcept {
  reference::dequantize_u8(q, count, scale, zero_point, x);
}
const char* int8_kernel_path() noexcept { return "reference"; }

}  // namespace typenet::kernels
