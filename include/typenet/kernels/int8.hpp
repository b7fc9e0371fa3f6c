// 8-bit kernels: what quantized layers call (include/typenet/quantized.hpp).
//
// Activations are uint8 codes q standing for scale * (q - zero_point), one scale and zero point
// per tensor; weights are int8 codes w standing for weight_scale[j] * w, symmetric, one scale
// per output column j. Products accumulate exactly in int32, and the epilogue turns a column's
// sum into its output in float:
//
//   y = fma(float(sum), scale[j], offset[j])
//
// where the quantizer folds into scale[j] the input and weight scales and into offset[j] the bias
// and the input's zero point (-zero_point * scale[j] * the column's sum of weights). A uint8
// output is then
//
//   q = clamp(nearest_even(fma(y, output_inverse_scale, output_zero_point)), low, 255)
//
// with low = output_zero_point when relu (a ReLU is the clamp at the code of zero), else 0.
// Every version (scalar, Highway, VNNI, AMX) computes exactly these operations, so that their
// results are bit-identical.
//
// Weights are packed once, when a net is quantized: depth (the K of a GEMM) in groups of four
// (the four u8 x s8 products one VNNI lane sums), columns padded to a multiple of 16 with zeros:
// packed[((k / 4) * padded_columns + j) * 4 + k % 4] = w[k * n + j]. Rows of A (activations) are
// read in whole groups of four: a row must be readable up to int8_depth(k) bytes (the bytes past
// k may hold anything: their weights are zero).
#pragma once

#include <cstddef>
#include <cstdint>

namespace typenet::kernels {

inline constexpr std::size_t kInt8DepthGroup = 4;
inline constexpr std::size_t kInt8ColumnGroup = 16;

// Depth rounded up to whole groups: the bytes an A row must offer.
constexpr std::size_t int8_depth(std::size_t k) noexcept {
  return (k + kInt8DepthGroup - 1) / kInt8DepthGroup * kInt8DepthGroup;
}
// Columns rounded up to whole column groups.
constexpr std::size_t int8_padded_columns(std::size_t n) noexcept {
  return (n + kInt8ColumnGroup - 1) / kInt8ColumnGroup * kInt8ColumnGroup;
}
// Bytes of a packed k x n weight matrix.
constexpr std::size_t int8_packed_size(std::size_t k, std::size_t n) noexcept {
  return int8_depth(k) * int8_padded_columns(n);
}

// Packs the row-major k x n matrix w (w[k * n + j]) into `packed` (int8_packed_size(k, n)
// bytes), zeros in the padding. Done once per quantization: not dispatched.
void pack_int8_weights(const std::int8_t* w, std::size_t k, std::size_t n,
                       std::int8_t* packed) noexcept;

// How a column's int32 sum becomes its output (see above). scale and offset point at the
// first column of the call (shifted with packed_b when a call covers a band of columns).
struct Int8Epilogue {
  const float* scale = nullptr;
  const float* offset = nullptr;
  float output_inverse_scale = 1.0f;  // uint8 outputs only
  float output_zero_point = 0.0f;     // uint8 outputs only; an integer in [0, 255]
  bool relu = false;                  // uint8 outputs only
};

// Every kernel is declared twice, in typenet::kernels (dispatched: the best of VNNI, AMX,
// Highway's targets) and in typenet::kernels::reference (scalar), from this single list.
#define TYPENET_INT8_KERNEL_DECLARATIONS                                                         \
  /* C[i, j] for i < m, j < n: the epilogue of sum over p < k of A[i, p] * B[p, j], where A is \
     uint8 (row i at a + i * lda) and B the packed int8 weights whose columns start at         \
     packed_b (a band starting at a multiple of 16 columns: packed_b advanced by 4 bytes a      \
     column) within a packed matrix of packed_columns columns (int8_padded_columns of its     \
     n). The sums, hence the outputs, do not depend on which rows and columns a call covers. */ \
  void int8_gemm_u8(std::size_t m, std::size_t n, std::size_t k, const std::uint8_t* a,          \
                    std::size_t lda, const std::int8_t* packed_b, std::size_t packed_columns,    \
                    const Int8Epilogue& epilogue, std::uint8_t* c, std::size_t ldc) noexcept;    \
  /* The same with float outputs y (no output quantization, no relu). */                         \
  void int8_gemm_f32(std::size_t m, std::size_t n, std::size_t k, const std::uint8_t* a,         \
                     std::size_t lda, const std::int8_t* packed_b, std::size_t packed_columns,   \
                     const Int8Epilogue& epilogue, float* c, std::size_t ldc) noexcept;          \
  /* One channels-last uint8 image (h, w, c) to patch rows of int8_depth(kh * kw * c) bytes    \
     (ldcol apart, ldcol >= that): col[(oy * ow + ox) * ldcol + (ky * kw + kx) * c + ch] =      \
     in[oy * stride - pad_top + ky, ox * stride - pad_left + kx, ch], pad_value outside the    \
     image (the code of zero), zeros from kh * kw * c to the row's end. */ \
  void int8_im2col(const std::uint8_t* in, std::size_t h, std::size_t w, std::size_t c,          \
                   std::size_t kh, std::size_t kw, std::size_t stride, std::size_t pad_top,      \
                   std::size_t pad_left, std::size_t oh, std::size_t ow, std::uint8_t pad_value, \
                   std::uint8_t* col, std::size_t ldcol) noexcept;                               \
  /* Max pooling of one channels-last uint8 image, windows pool x pool moved by stride, no     \
     padding (codes order as the values they stand for). */ \
  void int8_maxpool(const std::uint8_t* in, std::size_t h, std::size_t w, std::size_t c,         \
                    std::size_t pool, std::size_t stride, std::size_t oh, std::size_t ow,        \
                    std::uint8_t* out) noexcept;                                                 \
  /* q[i] = clamp(nearest_even(fma(x[i], inverse_scale, zero_point)), 0, 255); a NaN gives   \
     zero_point. */   \
  void quantize_u8(const float* x, std::size_t count, float inverse_scale, float zero_point,     \
                   std::uint8_t* q) noexcept;                                                    \
  /* x[i] = (float(q[i]) - zero_point) * scale (exact up to one rounding). */                    \
  void dequantize_u8(const std::uint8_t* q, std::size_t count, float scale, float zero_point,    \
                     float* x) noexcept;

TYPENET_INT8_KERNEL_DECLARATIONS

// Which 8-bit dot-product instructions the dispatched kernels use on this CPU: "amx", "vnni"
// (AVX-512 VNNI) or the Highway target's name (widening multiplies); for benchmarks' output.
const char* int8_kernel_path() noexcept;

namespace reference {
TYPENET_INT8_KERNEL_DECLARATIONS
}  // namespace reference

}  // namespace typenet::kernels
