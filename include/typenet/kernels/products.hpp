// The products of Conv and Dense in a Context's precision (typenet/precision.hpp): the float
// kernels or their bfloat16 twins, same arguments; which of the two a layer's products take; and
// their weights packed once for many bf16 products (layers/layer.hpp, "Weights packed once").
#pragma once

#include <cstddef>
#include <cstdint>

#include "typenet/kernels/kernels.hpp"
#include "typenet/precision.hpp"

namespace typenet::kernels {

// The precision of a layer whose forward products are `depth` deep (a Conv's patch, a Dense
// layer's inputs): a depth below one AMX tile row (32 bfloat16 values) leaves most of each tile
// product padding, so such a layer (the first Conv of an MNIST net: 9 deep) stays in float,
// which is faster there.
constexpr Precision layer_precision(Precision requested, std::size_t depth) noexcept {
  return depth < 32 ? Precision::Float32 : requested;
}

inline void gemm(Precision precision, Trans trans_a, Trans trans_b, std::size_t m, std::size_t n,
                 std::size_t k, const float* a, std::size_t lda, const float* b, std::size_t ldb,
                 float beta, float* c, std::size_t ldc, const float* bias) noexcept {
  if (precision == Precision::MixedBfloat16)
    gemm_bf16(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc, bias);
  else gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc, bias);
}

// The words of a k x n op(B) packed whole for the bf16 products.
constexpr std::size_t packed_words(std::size_t k, std::size_t n) noexcept {
  return bf16_packing::PackedLayout{k, n}.words();
}

// gemm in `precision`, op(B) read from `packed_b` when it is not null (packed by pack_bf16 from
// this b with trans_b; bf16 products only): the same bits.
inline void gemm(Precision precision, Trans trans_a, Trans trans_b, std::size_t m, std::size_t n,
                 std::size_t k, const float* a, std::size_t lda, const float* b, std::size_t ldb,
                 const std::uint32_t* packed_b, float beta, float* c, std::size_t ldc,
                 const float* bias) noexcept {
  if (packed_b && precision == Precision::MixedBfloat16)
    gemm_bf16_packed(trans_a, m, n, k, a, lda, packed_b, beta, c, ldc, bias);
  else gemm(precision, trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc, bias);
}

inline void conv_forward(Precision precision, const float* image, std::size_t w, std::size_t c,
                         std::size_t kh, std::size_t kw, std::size_t stride, std::size_t ow,
                         std::size_t first_pixel, std::size_t end_pixel, const float* kernel,
                         std::size_t filters, const float* bias, float* out) noexcept {
  if (precision == Precision::MixedBfloat16)
    conv_forward_bf16(image, w, c, kh, kw, stride, ow, first_pixel, end_pixel, kernel, filters,
                      bias, out);
  else
    conv_forward(image, w, c, kh, kw, stride, ow, first_pixel, end_pixel, kernel, filters, bias,
                 out);
}

// conv_forward in `precision`, the kernel read from `packed_kernel` when it is not null (packed
// by pack_bf16 from this kernel; bf16 products only): the same bits.
inline void conv_forward(Precision precision, const float* image, std::size_t w, std::size_t c,
                         std::size_t kh, std::size_t kw, std::size_t stride, std::size_t ow,
                         std::size_t first_pixel, std::size_t end_pixel, const float* kernel,
                         const std::uint32_t* packed_kernel, std::size_t filters, const float* bias,
                         float* out) noexcept {
  if (packed_kernel && precision == Precision::MixedBfloat16)
    conv_forward_bf16_packed(image, w, c, kh, kw, stride, ow, first_pixel, end_pixel, packed_kernel,
                             filters, bias, out);
  else
    conv_forward(precision, image, w, c, kh, kw, stride, ow, first_pixel, end_pixel, kernel,
                 filters, bias, out);
}

}  // namespace typenet::kernels
