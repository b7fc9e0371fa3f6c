// gemm: C = op(A) op(B) + beta C (+ bias), the arithmetic of every dense and convolution layer,
// forward and backward. Compiled once per Highway target and dispatched at run time.
//
// The Goto/BLIS scheme: op(B) is packed block by block (kKC deep, kNC wide) into panels of NR
// columns, zero-padded and stored depth-major, so that the register-blocked micro-kernel
// (kMR rows x 2 vectors) always reads full, contiguous panels of B whatever the transpose and
// the ragged edges; the write-back clips each tile to C. The micro-kernel broadcasts A one
// element at a time, so A is read in place (row pointers), except a transposed A with long
// rows or much reuse, which is packed into kMR-row panels (see PackA). With at most kFewRows
// rows (batch-1 inference) packing B would cost more than the product: B is streamed in place,
// skipping the rows of B that meet only zeros of A. So it is, kFewRows rows at a time, when A is
// mostly zeros (MNIST pixels in the first Dense layer, forward and dW; see MostlyZero). A
// convolution whose patches are a few values (conv1's 3x3 on one channel) is computed directly,
// with the GEMM's sums (see DirectConv).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/kernels/gemm.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "src/kernels/gemm_blocking.h"
#include "typenet/kernels/kernels.hpp"

HWY_BEFORE_NAMESPACE();
namespace typenet::kernels::HWY_NAMESPACE {
namespace {

namespace hn = hwy::HWY_NAMESPACE;
namespace gb = gemm_blocking;
using gb::kMR;

// Vectors of at most 16 floats, so that gemm_blocking's buffer sizes bound every target.
using D = hn::CappedTag<float, 16>;
using V = hn::Vec<D>;

// Rows [i0, i0 + rows) and depths [p0, p0 + depth) of op(A) = A^T (A stored K x M), packed
// into panels of kMR rows; a panel stores the kMR values of each depth step together, and rows
// past `rows` are zeros. Each stored row of A holds one depth step of all the rows: it is read
// once, front to back, and dealt out kMR floats per panel (reading down the columns instead
// would touch a new page at every step).
void PackTransposedA(const float* a, std::size_t lda, std::size_t i0, std::size_t rows,
                     std::size_t p0, std::size_t depth, float* HWY_RESTRICT out) {
  const std::size_t full_panels = rows / kMR;
  const std::size_t tail_rows = rows % kMR;
  const std::size_t panel_size = kMR * depth;
  for (std::size_t p = 0; p < depth; ++p) {
    const float* src = a + (p0 + p) * lda + i0;
    float* dst = out + p * kMR;
    for (std::size_t panel = 0; panel < full_panels; ++panel, src += kMR, dst += panel_size)
      std::memcpy(dst, src, kMR * sizeof(float));
    if (tail_rows != 0) {
      for (std::size_t r = 0; r < tail_rows; ++r) dst[r] = src[r];
      for (std::size_t r = tail_rows; r < kMR; ++r) dst[r] = 0.0f;
    }
  }
}

// One panel of op(B) = B^T (B stored N x K): columns [j0, j0 + cols) and depths [p0, p0 + depth),
// each depth step's NR values together, columns past `cols` zero. A transpose, done in 4 x 4
// blocks in registers except on the scalar target.
void PackTransposedBPanel(const float* b, std::size_t ldb, std::size_t p0, std::size_t depth,
                          std::size_t j0, std::size_t cols, std::size_t NR,
                          float* HWY_RESTRICT out) {
  std::size_t j = 0;
#if HWY_TARGET != HWY_SCALAR
  {
    const hn::Full128<float> d4;
    for (; j + 4 <= cols; j += 4) {
      const float* src0 = b + (j0 + j) * ldb + p0;
      const float* src1 = src0 + ldb;
      const float* src2 = src1 + ldb;
      const float* src3 = src2 + ldb;
      std::size_t p = 0;
      for (; p + 4 <= depth; p += 4) {
        // 4 depth steps of columns a, b, c, d in; columns a, b, c, d of 4 depth steps out.
        const auto col_a = hn::LoadU(d4, src0 + p), col_b = hn::LoadU(d4, src1 + p);
        const auto col_c = hn::LoadU(d4, src2 + p), col_d = hn::LoadU(d4, src3 + p);
        const auto a_b_low = hn::InterleaveLower(d4, col_a, col_b);   // a0 b0 a1 b1
        const auto c_d_low = hn::InterleaveLower(d4, col_c, col_d);   // c0 d0 c1 d1
        const auto a_b_high = hn::InterleaveUpper(d4, col_a, col_b);  // a2 b2 a3 b3
        const auto c_d_high = hn::InterleaveUpper(d4, col_c, col_d);  // c2 d2 c3 d3
        float* dst = out + p * NR + j;
        hn::StoreU(hn::ConcatLowerLower(d4, c_d_low, a_b_low), d4, dst);
        hn::StoreU(hn::ConcatUpperUpper(d4, c_d_low, a_b_low), d4, dst + NR);
        hn::StoreU(hn::ConcatLowerLower(d4, c_d_high, a_b_high), d4, dst + 2 * NR);
        hn::StoreU(hn::ConcatUpperUpper(d4, c_d_high, a_b_high), d4, dst + 3 * NR);
      }
      for (; p < depth; ++p) {
        float* dst = out + p * NR + j;
        dst[0] = src0[p];
        dst[1] = src1[p];
        dst[2] = src2[p];
        dst[3] = src3[p];
      }
    }
  }
#endif
  for (; j < cols; ++j) {
    const float* src = b + (j0 + j) * ldb + p0;
    for (std::size_t p = 0; p < depth; ++p) out[p * NR + j] = src[p];
  }
  for (; j < NR; ++j)
    for (std::size_t p = 0; p < depth; ++p) out[p * NR + j] = 0.0f;
}

// Depths [p0, p0 + depth) and columns [j0, j0 + cols) of op(B), packed into panels of NR
// columns; a panel stores the NR values of each depth step together. Columns past `cols` are
// zeros.
void PackB(D d, Trans trans_b, const float* b, std::size_t ldb, std::size_t p0, std::size_t depth,
           std::size_t j0, std::size_t cols, float* HWY_RESTRICT out) {
  const std::size_t N = hn::Lanes(d);
  const std::size_t NR = 2 * N;
  const std::size_t panel_size = NR * depth;
  if (trans_b == Trans::Yes) {
    for (std::size_t c0 = 0; c0 < cols; c0 += NR, out += panel_size)
      PackTransposedBPanel(b, ldb, p0, depth, j0 + c0, std::min(NR, cols - c0), NR, out);
    return;
  }
  // Row by row of B, each read front to back and dealt out NR floats per panel: streaming
  // reads, whatever ldb (a panel at a time would stride down B, a page per row when it is wide).
  const std::size_t full_panels = cols / NR;
  const std::size_t tail_cols = cols % NR;
  for (std::size_t p = 0; p < depth; ++p) {
    const float* src = b + (p0 + p) * ldb + j0;
    float* dst = out + p * NR;
    for (std::size_t panel = 0; panel < full_panels; ++panel, src += NR, dst += panel_size) {
      hn::Store(hn::LoadU(d, src), d, dst);
      hn::Store(hn::LoadU(d, src + N), d, dst + N);
    }
    if (tail_cols != 0) {
      for (std::size_t j = 0; j < tail_cols; ++j) dst[j] = src[j];
      for (std::size_t j = tail_cols; j < NR; ++j) dst[j] = 0.0f;
    }
  }
}

// Where a micro-tile's result goes: the top-left corner of its rows x cols window of C, and
// what to add to it (bias, beta * C unless C must not be read).
struct TileOutput {
  float* c;
  std::size_t ldc;
  std::size_t rows;
  std::size_t cols;
  const float* bias;
  float beta;
  bool read_c;
};

// c_row[j] = acc[j] (+ bias[j]) (+ beta * c_row[j]) for the out.cols columns of one tile row.
HWY_INLINE void StoreTileRow(D d, V acc0, V acc1, float* HWY_RESTRICT c_row,
                             const TileOutput& out) {
  const std::size_t N = hn::Lanes(d);
  if (out.cols == 2 * N) {
    if (out.bias) {
      acc0 = hn::Add(acc0, hn::LoadU(d, out.bias));
      acc1 = hn::Add(acc1, hn::LoadU(d, out.bias + N));
    }
    if (out.read_c) {
      const V beta = hn::Set(d, out.beta);
      acc0 = hn::MulAdd(beta, hn::LoadU(d, c_row), acc0);
      acc1 = hn::MulAdd(beta, hn::LoadU(d, c_row + N), acc1);
    }
    hn::StoreU(acc0, d, c_row);
    hn::StoreU(acc1, d, c_row + N);
    return;
  }
  // Right edge of C: through a buffer, so that no element past the matrix is touched.
  HWY_ALIGN float lanes[2 * hn::MaxLanes(d)];
  hn::Store(acc0, d, lanes);
  hn::Store(acc1, d, lanes + N);
  for (std::size_t j = 0; j < out.cols; ++j) {
    float value = lanes[j];
    if (out.bias) value += out.bias[j];
    if (out.read_c) value += out.beta * c_row[j];
    c_row[j] = value;
  }
}

// The micro-kernel reads op(A) through one of three panel types, each a view of kMR rows over a
// depth block with element (r, p) at at(r, p), or (ImageA) a sequence of such views.

// A packed panel of op(A): element (r, p) at a[p * kMR + r].
struct PackedA {
  const float* HWY_RESTRICT a;
  float at(std::size_t r, std::size_t p) const { return a[p * kMR + r]; }
};

// kMR rows of op(A), read where they are in A: the micro-kernel broadcasts one element at a
// time, so they need no packing (which, for a row-major A, would be a transpose). Element
// (r, p) is row[r][p * depth_step]: depth_step is 1 for a row-major A and lda for A^T. Rows
// past the matrix repeat its last row; their results are never stored.
struct InPlaceA {
  InPlaceA(Trans trans_a, const float* a, std::size_t lda, std::size_t i0, std::size_t rows,
           std::size_t p0)
      : depth_step(trans_a == Trans::No ? 1 : lda) {
    const std::size_t row_step = trans_a == Trans::No ? lda : 1;
    for (std::size_t r = 0; r < kMR; ++r)
      row[r] = a + std::min(i0 + r, i0 + rows - 1) * row_step + p0 * depth_step;
  }
  InPlaceA() = default;
  const float* row[kMR];
  std::size_t depth_step = 1;
  float at(std::size_t r, std::size_t p) const { return row[r][p * depth_step]; }
};

// The patches of kMR output pixels of a convolution, read from the channels-last image where
// they are (an implicit im2col): element p = (ky * kw + kx) * c + ch of a pixel's patch lies at
// first[r] + (p / segment) * image_row + p % segment, where segment = kw * c floats (one kernel
// row, contiguous in the image) and image_row = w * c. Read as one InPlaceA per segment.
struct ImageA {
  const float* first[kMR];  // each pixel's window corner
  std::size_t segment, image_row, p0;
};

// Where the rows of op(A) come from, for the blocked driver (GemmBlocked): a matrix, packed
// block by block or read in place ...
struct MatrixRows {
  Trans trans;
  const float* a;
  std::size_t lda;
  bool pack;  // see PackA
  void pack_block(std::size_t i0, std::size_t rows, std::size_t p0, std::size_t depth,
                  float* HWY_RESTRICT out) const {
    PackTransposedA(a, lda, i0, rows, p0, depth, out);
  }
  InPlaceA panel(std::size_t i0, std::size_t rows, std::size_t p0) const {
    return InPlaceA(trans, a, lda, i0, rows, p0);
  }
};

// ... or the patches of a convolution's output pixels [first_pixel, ...), from the image.
struct PatchRows {
  const float* image;
  std::size_t w, c, kw, stride, ow, first_pixel;
  static constexpr bool pack = false;
  void pack_block(std::size_t, std::size_t, std::size_t, std::size_t, float*) const {}
  ImageA panel(std::size_t i0, std::size_t rows, std::size_t p0) const {
    ImageA panel;
    for (std::size_t r = 0; r < kMR; ++r) {
      const std::size_t pixel = first_pixel + std::min(i0 + r, i0 + rows - 1);
      panel.first[r] = image + ((pixel / ow) * w + pixel % ow) * stride * c;
    }
    panel.segment = kw * c;
    panel.image_row = w * c;
    panel.p0 = p0;
    return panel;
  }
};

// Whether op(A) = A^T is worth packing: a row-major A never is, but reading A^T in place
// touches one stored row per depth step, a new page each step once rows are 4 KiB long (TLB
// misses), and again for each of the n / NR column panels. Measured on conv2's dW (lda 288, 4
// panels) in-place reads win by 5%; on dense dW (lda 784 or 9216, 8-32 panels) packing wins.
bool PackA(Trans trans_a, std::size_t lda, std::size_t n, std::size_t NR) {
  return trans_a == Trans::Yes && (lda >= 1024 || n > 4 * NR);
}

// acc += the kMR x NR product of `depth` steps of a panel of op(A) and the packed panel b of B.
// Per step: two loads of B, six broadcasts of A, 12 multiply-adds into 12 accumulators (with
// those, 15 of AVX2's 16 registers). The accumulators are named locals during the loop: GCC
// keeps an array of them in memory when the caller loops over runs (a store per step).
template <class PanelA>
HWY_INLINE void Accumulate(D d, std::size_t depth, const PanelA& a, const float* HWY_RESTRICT b,
                           V (&acc)[kMR][2]) {
  static_assert(kMR == 6, "the micro-kernel is written out for 6 rows");
  const std::size_t N = hn::Lanes(d);
  V c00 = acc[0][0], c01 = acc[0][1], c10 = acc[1][0], c11 = acc[1][1];
  V c20 = acc[2][0], c21 = acc[2][1], c30 = acc[3][0], c31 = acc[3][1];
  V c40 = acc[4][0], c41 = acc[4][1], c50 = acc[5][0], c51 = acc[5][1];
  for (std::size_t p = 0; p < depth; ++p, b += 2 * N) {
    const V b0 = hn::Load(d, b);
    const V b1 = hn::Load(d, b + N);
    V a_value = hn::Set(d, a.at(0, p));
    c00 = hn::MulAdd(a_value, b0, c00);
    c01 = hn::MulAdd(a_value, b1, c01);
    a_value = hn::Set(d, a.at(1, p));
    c10 = hn::MulAdd(a_value, b0, c10);
    c11 = hn::MulAdd(a_value, b1, c11);
    a_value = hn::Set(d, a.at(2, p));
    c20 = hn::MulAdd(a_value, b0, c20);
    c21 = hn::MulAdd(a_value, b1, c21);
    a_value = hn::Set(d, a.at(3, p));
    c30 = hn::MulAdd(a_value, b0, c30);
    c31 = hn::MulAdd(a_value, b1, c31);
    a_value = hn::Set(d, a.at(4, p));
    c40 = hn::MulAdd(a_value, b0, c40);
    c41 = hn::MulAdd(a_value, b1, c41);
    a_value = hn::Set(d, a.at(5, p));
    c50 = hn::MulAdd(a_value, b0, c50);
    c51 = hn::MulAdd(a_value, b1, c51);
  }
  acc[0][0] = c00, acc[0][1] = c01, acc[1][0] = c10, acc[1][1] = c11;
  acc[2][0] = c20, acc[2][1] = c21, acc[3][0] = c30, acc[3][1] = c31;
  acc[4][0] = c40, acc[4][1] = c41, acc[5][0] = c50, acc[5][1] = c51;
}

// The same over a convolution's patches: one contiguous run per kernel row (segment).
HWY_INLINE void Accumulate(D d, std::size_t depth, const ImageA& a, const float* HWY_RESTRICT b,
                           V (&acc)[kMR][2]) {
  const std::size_t N = hn::Lanes(d);
  for (std::size_t p = a.p0, end = a.p0 + depth; p < end;) {
    const std::size_t offset = p % a.segment;
    const std::size_t length = std::min(a.segment - offset, end - p);
    InPlaceA rows;
    for (std::size_t r = 0; r < kMR; ++r)
      rows.row[r] = a.first[r] + p / a.segment * a.image_row + offset;
    Accumulate(d, length, rows, b, acc);
    b += length * 2 * N;
    p += length;
  }
}

// The kMR x NR tile of op(A) op(B) over `depth` steps, written to `out`. `b` is a packed
// panel of B.
template <class PanelA>
HWY_INLINE void MicroKernel(D d, std::size_t depth, const PanelA& a, const float* HWY_RESTRICT b,
                            const TileOutput& out) {
  V acc[kMR][2];
  for (std::size_t r = 0; r < kMR; ++r) acc[r][0] = acc[r][1] = hn::Zero(d);
  Accumulate(d, depth, a, b, acc);
  float* c_row = out.c;
  for (std::size_t r = 0; r < out.rows; ++r, c_row += out.ldc)
    StoreTileRow(d, acc[r][0], acc[r][1], c_row, out);
}

// Block length for splitting `total` into blocks of at most `max_block` (a multiple of
// `granule`) as evenly as possible: 288 deep becomes 2 x 144, not 256 + 32.
std::size_t BlockLength(std::size_t total, std::size_t max_block, std::size_t granule) {
  const std::size_t blocks = (total + max_block - 1) / max_block;
  const std::size_t even = (total + blocks - 1) / blocks;
  return (even + granule - 1) / granule * granule;
}

// The depth steps of a few-rows product that contribute: those where some row of A is not
// zero. A zero step adds nothing (but for 0 x inf or NaN in B), and batch-1 inputs are full of
// them: about 80 % of an MNIST image's pixels, about half of a ReLU layer's outputs. Skipping
// them cuts what the bandwidth-bound product streams: the MLP reads about 1 MB of its 2.7 MB
// of weights per image. Steps are listed per block of at most kStepBlock depths.
constexpr std::size_t kStepBlock = 4096;

template <std::size_t kRows>
std::size_t ListContributingSteps(std::size_t p0, std::size_t depth, const float* a,
                                  std::size_t a_row_step, std::size_t a_depth_step,
                                  std::uint32_t* HWY_RESTRICT steps) {
  std::size_t count = 0, p = 0;
  if (a_depth_step == 1) {
    const D d;
    const hn::RebindToSigned<D> di;
    const std::size_t N = hn::Lanes(d);
    // The steps' numbers, kept in a register (Iota at each step goes through the stack), and
    // compressed in registers, then stored: a compressing store to memory is slow on some CPUs
    // (AMD Zen 4: this loop took 4 % of an MLP training step).
    auto numbers = hn::Iota(di, std::int32_t(p0));
    const auto next = hn::Set(di, std::int32_t(N));
    for (; p + N <= depth; p += N, numbers = hn::Add(numbers, next)) {
      auto nonzero = hn::Ne(hn::LoadU(d, a + p0 + p), hn::Zero(d));
      for (std::size_t r = 1; r < kRows; ++r)
        nonzero = hn::Or(nonzero, hn::Ne(hn::LoadU(d, a + r * a_row_step + p0 + p), hn::Zero(d)));
      const auto mask = hn::RebindMask(di, nonzero);
      // Room for a whole vector past `count`: steps holds kStepBlock + N entries.
      hn::StoreU(hn::Compress(numbers, mask), di, reinterpret_cast<std::int32_t*>(steps + count));
      count += hn::CountTrue(di, mask);
    }
  } else if (a_row_step == 1) {
    // op(A) = A^T: the rows' values of a step lie side by side, one short vector (dW of a
    // Dense layer over pixels: 4 neighbouring pixels of each image).
    const hn::CappedTag<float, kRows> dr;
    if constexpr (hn::MaxLanes(dr) == kRows) {
      for (; p < depth; ++p) {
        const auto values = hn::LoadU(dr, a + (p0 + p) * a_depth_step);
        steps[count] = std::uint32_t(p0 + p);
        count += !hn::AllFalse(dr, hn::Ne(values, hn::Zero(dr)));
      }
    }
  }
  for (; p < depth; ++p) {
    bool nonzero = false;
    for (std::size_t r = 0; r < kRows; ++r)
      nonzero |= a[r * a_row_step + (p0 + p) * a_depth_step] != 0.0f;
    steps[count] = std::uint32_t(p0 + p);
    count += nonzero;
  }
  return count;
}

// kRows rows x kVecs vectors of C, from B read in place (not transposed): no packing, for
// products with few rows where each element of B is used only kRows times. The depth steps are
// those listed in `steps`. Narrow tiles keep kChains partial sums per accumulator (steps dealt
// out in turn), so that at least 8 independent multiply-adds are in flight: one chain would wait
// on the adder's latency at every step (the 10-column output layer of the MLP, K = 512).
template <std::size_t kRows, std::size_t kVecs, class DC>
HWY_INLINE void FewRowsTile(DC d, const std::uint32_t* steps, std::size_t count, const float* a,
                            std::size_t a_row_step, std::size_t a_depth_step, const float* b,
                            std::size_t ldb, float beta, float* c, std::size_t ldc,
                            const float* bias) {
  constexpr std::size_t kChains = kRows * kVecs >= 8 ? 1 : 8 / (kRows * kVecs);
  const std::size_t N = hn::Lanes(d);
  hn::Vec<DC> acc[kChains][kRows][kVecs];
  for (std::size_t s = 0; s < kChains; ++s)
    for (std::size_t r = 0; r < kRows; ++r)
      for (std::size_t v = 0; v < kVecs; ++v) acc[s][r][v] = hn::Zero(d);
  const auto step = [&](std::size_t s, std::size_t p) {
    hn::Vec<DC> b_row[kVecs];
    for (std::size_t v = 0; v < kVecs; ++v) b_row[v] = hn::LoadU(d, b + p * ldb + v * N);
    for (std::size_t r = 0; r < kRows; ++r) {
      const auto a_value = hn::Set(d, a[r * a_row_step + p * a_depth_step]);
      for (std::size_t v = 0; v < kVecs; ++v)
        acc[s][r][v] = hn::MulAdd(a_value, b_row[v], acc[s][r][v]);
    }
  };
  std::size_t i = 0;
  for (; i + kChains <= count; i += kChains)
    for (std::size_t s = 0; s < kChains; ++s) step(s, steps[i + s]);
  for (std::size_t s = 0; i < count; ++i, ++s) step(s, steps[i]);
  for (std::size_t s = 1; s < kChains; ++s)
    for (std::size_t r = 0; r < kRows; ++r)
      for (std::size_t v = 0; v < kVecs; ++v) acc[0][r][v] = hn::Add(acc[0][r][v], acc[s][r][v]);
  for (std::size_t r = 0; r < kRows; ++r)
    for (std::size_t v = 0; v < kVecs; ++v) {
      float* c_vec = c + r * ldc + v * N;
      auto result = acc[0][r][v];
      if (bias) result = hn::Add(result, hn::LoadU(d, bias + v * N));
      if (beta != 0.0f) result = hn::MulAdd(hn::Set(d, beta), hn::LoadU(d, c_vec), result);
      hn::StoreU(result, d, c_vec);
    }
}

// Rows [i0, i0 + kRows) of C, one block of contributing depth steps at a time (the first
// applies beta and the bias, the later ones accumulate), each swept left to right: the widest
// tiles that fit (halving from kMaxVecs vectors down to one), then the last columns with ever
// narrower vectors (8, 4, 2, 1 lanes). A tile reads each row of B it covers as one contiguous
// run, which is what the bandwidth-bound batch-1 product needs (measured on M=1 N=128 K=9216,
// AVX2: 8 vectors 98 us, 16 vectors 65 us); with 16-lane vectors, a 128-column B takes one
// 8-vector tile, not eight one-vector passes that stride down it (AVX-512: 559 us -> see
// bench_kernels).
// kMaxVecs: the widest tile.
template <std::size_t kRows, std::size_t kMaxVecs>
void FewRows(std::size_t i0, std::size_t n, std::size_t k, const float* a, std::size_t a_row_step,
             std::size_t a_depth_step, const float* b, std::size_t ldb, float beta, float* c,
             std::size_t ldc, const float* bias) {
  const float* a_rows = a + i0 * a_row_step;
  float* c_rows = c + i0 * ldc;
  std::uint32_t steps[kStepBlock + hn::MaxLanes(D())];
  const std::size_t block = BlockLength(k, kStepBlock, 1);
  for (std::size_t p0 = 0; p0 < k; p0 += block) {
    const std::size_t count = ListContributingSteps<kRows>(p0, std::min(block, k - p0), a_rows,
                                                           a_row_step, a_depth_step, steps);
    const bool first = p0 == 0;
    const float block_beta = first ? beta : 1.0f;
    const float* block_bias = first ? bias : nullptr;
    std::size_t j = 0;
    const auto sweep = [&](auto d, auto vecs) {
      constexpr std::size_t kVecs = decltype(vecs)::value;
      if constexpr (kVecs <= kMaxVecs) {
        const std::size_t width = kVecs * hn::Lanes(d);
        for (; j + width <= n; j += width)
          FewRowsTile<kRows, kVecs>(d, steps, count, a_rows, a_row_step, a_depth_step, b + j, ldb,
                                    block_beta, c_rows + j, ldc,
                                    block_bias ? block_bias + j : nullptr);
      }
    };
    using One = std::integral_constant<std::size_t, 1>;
    sweep(D(), std::integral_constant<std::size_t, 16>());
    sweep(D(), std::integral_constant<std::size_t, 8>());
    sweep(D(), std::integral_constant<std::size_t, 4>());
    sweep(D(), std::integral_constant<std::size_t, 2>());
    sweep(D(), One());
    sweep(hn::CappedTag<float, 8>(), One());
    sweep(hn::CappedTag<float, 4>(), One());
    sweep(hn::CappedTag<float, 2>(), One());
    sweep(hn::CappedTag<float, 1>(), One());
  }
}

// C = beta C + bias: a product with nothing to sum (k == 0), where A and B may be empty.
void ScaleAndAddBias(std::size_t m, std::size_t n, float beta, float* c, std::size_t ldc,
                     const float* bias) {
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      float& out = c[i * ldc + j];
      out = (bias ? bias[j] : 0.0f) + (beta != 0.0f ? beta * out : 0.0f);
    }
}

// Products with at most this many rows stream B in place (GemmFewRows), as do products with
// more whose A is mostly zeros, this many rows at a time.
constexpr std::size_t kFewRows = 4;

// Whether a product with more than kFewRows rows is faster streamed in place, kFewRows rows at
// a time, than packed: when at most kMaxContributing of the depth steps of a group of kFewRows
// rows of op(A) contribute, in a sample of up to kSampledGroups groups spread over the rows
// (at most about kSampledFloats values read; the first group whatever its size). Batch 128 of
// MNIST pixels (784 -> 512, AVX3): 38 % of a group's steps contribute (18 % of one image's);
// in place 2.2x faster forward, 2.6x for dW (the A^T of 4 neighbouring pixels: 27 %).
constexpr double kMaxContributing = 0.5;
constexpr std::size_t kSampledGroups = 8;
constexpr std::size_t kSampledFloats = 32768;

bool MostlyZero(Trans trans_a, std::size_t m, std::size_t k, const float* a, std::size_t lda) {
  const std::size_t a_row_step = trans_a == Trans::No ? lda : 1;
  const std::size_t a_depth_step = trans_a == Trans::No ? 1 : lda;
  const std::size_t groups = m / kFewRows;
  const std::size_t sampled =
      std::max<std::size_t>(1, std::min({groups, kSampledGroups, kSampledFloats / (kFewRows * k)}));
  std::uint32_t steps[kStepBlock + hn::MaxLanes(D())];
  std::size_t contributing = 0;
  for (std::size_t group = 0; group < sampled; ++group) {
    const float* rows = a + group * groups / sampled * kFewRows * a_row_step;
    for (std::size_t p0 = 0; p0 < k; p0 += kStepBlock)
      contributing += ListContributingSteps<kFewRows>(p0, std::min(kStepBlock, k - p0), rows,
                                                      a_row_step, a_depth_step, steps);
  }
  return double(contributing) <= kMaxContributing * double(sampled * k);
}

// Rows [i0, i0 + kRows) of C streamed in place. The tiles of a batch-1 product are the widest
// that 16 accumulators allow (B read in long runs); those of a product with many rows are
// kManyRowsVecs vectors whatever the rows, so that each column of C is summed the same way
// whatever range of columns, starting at a multiple of kGemmColumnGranule, a call covers.
constexpr std::size_t kManyRowsVecs = 4;
static_assert(kGemmColumnGranule % (kManyRowsVecs * hn::MaxLanes(D())) == 0,
              "the widest tile of a product with many rows must divide the column granule");

template <std::size_t kRows>
void RowGroup(bool many_rows, std::size_t i0, std::size_t n, std::size_t k, const float* a,
              std::size_t a_row_step, std::size_t a_depth_step, const float* b, std::size_t ldb,
              float beta, float* c, std::size_t ldc, const float* bias) {
  constexpr std::size_t kBatch1Vecs = kRows == 1 ? 16 : kRows == 2 ? 8 : 4;
  if (many_rows)
    FewRows<kRows, kManyRowsVecs>(i0, n, k, a, a_row_step, a_depth_step, b, ldb, beta, c, ldc,
                                  bias);
  else
    FewRows<kRows, kBatch1Vecs>(i0, n, k, a, a_row_step, a_depth_step, b, ldb, beta, c, ldc, bias);
}

void GemmFewRows(Trans trans_a, std::size_t m, std::size_t n, std::size_t k, const float* a,
                 std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
                 std::size_t ldc, const float* bias) {
  const std::size_t a_row_step = trans_a == Trans::No ? lda : 1;
  const std::size_t a_depth_step = trans_a == Trans::No ? 1 : lda;
  const bool many = m > kFewRows;
  for (std::size_t i0 = 0; i0 < m; i0 += kFewRows) {
    switch (std::min(kFewRows, m - i0)) {
      case 1:
        RowGroup<1>(many, i0, n, k, a, a_row_step, a_depth_step, b, ldb, beta, c, ldc, bias);
        break;
      case 2:
        RowGroup<2>(many, i0, n, k, a, a_row_step, a_depth_step, b, ldb, beta, c, ldc, bias);
        break;
      case 3:
        RowGroup<3>(many, i0, n, k, a, a_row_step, a_depth_step, b, ldb, beta, c, ldc, bias);
        break;
      default:
        RowGroup<4>(many, i0, n, k, a, a_row_step, a_depth_step, b, ldb, beta, c, ldc, bias);
        break;
    }
  }
}

// The Goto/BLIS loops over blocks of C, B packed block by block, rows of op(A) from `rows`.
template <class Rows>
void GemmBlocked(const Rows& rows, Trans trans_b, std::size_t m, std::size_t n, std::size_t k,
                 const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc,
                 const float* bias) {
  const D d;
  const std::size_t NR = 2 * hn::Lanes(d);
  gb::PackingBuffers& buffers = gb::packing_buffers();
  const std::size_t nc_max = BlockLength(n, gb::kNC, NR);
  const std::size_t kc_max = BlockLength(k, gb::kKC, 1);
  const std::size_t mc_max = BlockLength(m, gb::kMC, kMR);
  for (std::size_t jc = 0; jc < n; jc += nc_max) {
    const std::size_t nc = std::min(nc_max, n - jc);
    for (std::size_t pc = 0; pc < k; pc += kc_max) {
      const std::size_t kc = std::min(kc_max, k - pc);
      // The first depth block applies beta and the bias; the later ones accumulate.
      const bool first = pc == 0;
      PackB(d, trans_b, b, ldb, pc, kc, jc, nc, buffers.b);
      for (std::size_t ic = 0; ic < m; ic += mc_max) {
        const std::size_t mc = std::min(mc_max, m - ic);
        if (rows.pack) rows.pack_block(ic, mc, pc, kc, buffers.a);
        for (std::size_t jr = 0; jr < nc; jr += NR) {
          for (std::size_t ir = 0; ir < mc; ir += kMR) {
            const TileOutput out{c + (ic + ir) * ldc + jc + jr,
                                 ldc,
                                 std::min(kMR, mc - ir),
                                 std::min(NR, nc - jr),
                                 first && bias ? bias + jc + jr : nullptr,
                                 first ? beta : 1.0f,
                                 !first || beta != 0.0f};
            const float* b_panel = buffers.b + jr * kc;
            if (rows.pack) {
              MicroKernel(d, kc, PackedA{buffers.a + ir * kc}, b_panel, out);
            } else {
              MicroKernel(d, kc, rows.panel(ic + ir, out.rows, pc), b_panel, out);
            }
          }
        }
      }
    }
  }
}

}  // namespace

void Gemm(Trans trans_a, Trans trans_b, std::size_t m, std::size_t n, std::size_t k, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc,
          const float* bias) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    ScaleAndAddBias(m, n, beta, c, ldc, bias);
    return;
  }
  if (trans_b == Trans::No && (m <= kFewRows || MostlyZero(trans_a, m, k, a, lda))) {
    GemmFewRows(trans_a, m, n, k, a, lda, b, ldb, beta, c, ldc, bias);
    return;
  }
  const std::size_t NR = 2 * hn::Lanes(D());
  GemmBlocked(MatrixRows{trans_a, a, lda, PackA(trans_a, lda, n, NR)}, trans_b, m, n, k, b, ldb,
              beta, c, ldc, bias);
}

namespace {

// A convolution whose patches have at most kMaxDirectDepth values (a 3x3 kernel on one channel:
// conv1) is computed directly, its kernel's taps held in registers (kMaxDirectDepth x 2
// vectors), kDirectPixels output pixels at a time. Through the GEMM, each 6-pixel tile of 9 steps
// spent more on finding its patches in the image than on its 108 multiply-adds. Each output is
// the GEMM's: the products added from zero in depth order, then the bias (StoreTileRow).
constexpr std::size_t kMaxDirectDepth = 9;
constexpr std::size_t kDirectPixels = 4;

template <std::size_t kDepth, std::size_t kPixels>
HWY_INLINE void DirectPixels(D d, const V (&taps)[kDepth][2], const std::size_t (&offsets)[kDepth],
                             const float* HWY_RESTRICT corner, std::size_t step, float* y,
                             std::size_t filters, const TileOutput& tile) {
  V acc[kPixels][2];
  for (std::size_t i = 0; i < kPixels; ++i) acc[i][0] = acc[i][1] = hn::Zero(d);
  for (std::size_t p = 0; p < kDepth; ++p)
    for (std::size_t i = 0; i < kPixels; ++i) {
      const V value = hn::Set(d, corner[i * step + offsets[p]]);
      acc[i][0] = hn::MulAdd(value, taps[p][0], acc[i][0]);
      acc[i][1] = hn::MulAdd(value, taps[p][1], acc[i][1]);
    }
  for (std::size_t i = 0; i < kPixels; ++i)
    StoreTileRow(d, acc[i][0], acc[i][1], y + i * filters, tile);
}

template <std::size_t kDepth>
void DirectConv(const float* image, std::size_t w, std::size_t c, std::size_t kw,
                std::size_t stride, std::size_t ow, std::size_t first_pixel, std::size_t end_pixel,
                const float* kernel, std::size_t filters, const float* bias, float* out) {
  const D d;
  const std::size_t N = hn::Lanes(d);
  // Where patch value p = (ky * kw + kx) * c + ch lies from its window's corner.
  std::size_t offsets[kDepth];
  for (std::size_t p = 0; p < kDepth; ++p) offsets[p] = (p / (kw * c) * w + p / c % kw) * c + p % c;
  for (std::size_t j0 = 0; j0 < filters; j0 += 2 * N) {
    const std::size_t cols = std::min(2 * N, filters - j0);
    V taps[kDepth][2];
    for (std::size_t p = 0; p < kDepth; ++p) {
      // The last filters through a buffer, zeros after them: nothing past the kernel is read.
      HWY_ALIGN float lanes[2 * hn::MaxLanes(d)] = {};
      std::copy_n(kernel + p * filters + j0, cols, lanes);
      taps[p][0] = hn::Load(d, lanes);
      taps[p][1] = hn::Load(d, lanes + N);
    }
    const TileOutput tile{nullptr, filters, 1, cols, bias ? bias + j0 : nullptr, 0.0f, false};
    // Output row by output row: the pixels of a row have their windows `stride * c` floats apart.
    for (std::size_t pixel = first_pixel; pixel < end_pixel;) {
      const std::size_t oy = pixel / ow, ox = pixel % ow;
      const std::size_t run = std::min(ow - ox, end_pixel - pixel);
      const float* corner = image + (oy * w + ox) * stride * c;
      float* y = out + pixel * filters + j0;
      const std::size_t step = stride * c;
      std::size_t i = 0;
      for (; i + kDirectPixels <= run; i += kDirectPixels)
        DirectPixels<kDepth, kDirectPixels>(d, taps, offsets, corner + i * step, step,
                                            y + i * filters, filters, tile);
      for (; i < run; ++i)
        DirectPixels<kDepth, 1>(d, taps, offsets, corner + i * step, step, y + i * filters, filters,
                                tile);
      pixel += run;
    }
  }
}

using DirectConvFunction = void (*)(const float*, std::size_t, std::size_t, std::size_t,
                                    std::size_t, std::size_t, std::size_t, std::size_t,
                                    const float*, std::size_t, const float*, float*);
template <std::size_t... kDepth>
constexpr std::array<DirectConvFunction, sizeof...(kDepth)> DirectConvTable(
    std::index_sequence<kDepth...>) {
  return {&DirectConv<kDepth + 1>...};
}
// kDirectConvs[depth - 1]
constexpr auto kDirectConvs = DirectConvTable(std::make_index_sequence<kMaxDirectDepth>());

}  // namespace

void ConvForward(const float* image, std::size_t w, std::size_t c, std::size_t kh, std::size_t kw,
                 std::size_t stride, std::size_t ow, std::size_t first_pixel, std::size_t end_pixel,
                 const float* kernel, std::size_t filters, const float* bias, float* out) {
  if (first_pixel >= end_pixel || filters == 0) return;
  const std::size_t depth = kh * kw * c;
  if (depth != 0 && depth <= kMaxDirectDepth)
    return kDirectConvs[depth - 1](image, w, c, kw, stride, ow, first_pixel, end_pixel, kernel,
                                   filters, bias, out);
  GemmBlocked(PatchRows{image, w, c, kw, stride, ow, first_pixel}, Trans::No,
              end_pixel - first_pixel, filters, kh * kw * c, kernel, filters, 0.0f,
              out + first_pixel * filters, filters, bias);
}

// The target this code was compiled for, for simd_target_name().
std::int64_t CompiledTarget() { return HWY_TARGET; }

}  // namespace typenet::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace typenet::kernels {

HWY_EXPORT(Gemm);
HWY_EXPORT(ConvForward);
HWY_EXPORT(CompiledTarget);

void gemm(Trans trans_a, Trans trans_b, std::size_t m, std::size_t n, std::size_t k, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc,
          const float* bias) noexcept {
  HWY_DYNAMIC_DISPATCH(Gemm)(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc, bias);
}

void conv_forward(const float* image, std::size_t w, std::size_t c, std::size_t kh, std::size_t kw,
                  std::size_t stride, std::size_t ow, std::size_t first_pixel,
                  std::size_t end_pixel, const float* kernel, std::size_t filters,
                  const float* bias, float* out) noexcept {
  HWY_DYNAMIC_DISPATCH(ConvForward)
  (image, w, c, kh, kw, stride, ow, first_pixel, end_pixel, kernel, filters, bias, out);
}

const char* simd_target_name() noexcept {
  return hwy::TargetName(HWY_DYNAMIC_DISPATCH(CompiledTarget)());
}

}  // namespace typenet::kernels
#endif  // HWY_ONCE
