// gemm_bf16 and conv_forward_bf16: gemm and conv_forward with their operands rounded to
// bfloat16 and the products summed in float (see kernels.hpp). Three ways to the sums:
// - AMX (CPUs with AMX-BF16, tile state granted by Linux): tdpbf16ps on a 2 x 2 block of
//   16 x 16 float tiles of C, for the rows of op(A) in whole tiles of 16 counted from the first;
//   the last m % 16 rows go through AVX512_BF16;
// - AVX512_BF16 (AVX-512 target, CPUs with it: Intel since Cooper Lake, AMD Zen 4): vdpbf16ps
//   adds a column's two products of a depth pair to one float lane, 6 rows x 4 vectors of 16
//   columns a micro-tile, A's pairs broadcast; a pair that is zero in all 6 rows is left out
//   against a finite block of B;
// - Highway, every target: the bf16 values widened back to floats, two multiply-adds a pair.
// All three read the same packed blocks, converted from float while packing (round to nearest
// even: in software on the Highway path, by vcvtne2ps2bf16 on the others): op(B) in panels of 64 columns of depth
// pairs, [pair][column][2] (AMX's B-tile layout), op(A) as rows of bf16 (AMX's A-tile layout),
// both zero-padded to whole tiles of depth. An element's sum depends only on its row and column
// of the operands, the depth blocking (a function of k) and its path (a function of its row's
// index in the call): column ranges and row ranges split at multiples of 16 give the same bits.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/kernels/gemm_bf16.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "src/kernels/gemm_bf16_blocking.h"
#include "src/kernels/path_choice.h"
#include "src/kernels/x86_features.h"
#include "typenet/kernels/kernel_paths.hpp"
#include "typenet/kernels/kernels.hpp"

#if HWY_ARCH_X86
#include <immintrin.h>
#endif

HWY_BEFORE_NAMESPACE();
namespace typenet::kernels::HWY_NAMESPACE {
namespace {

namespace hn = hwy::HWY_NAMESPACE;
namespace bb = bf16_blocking;
using bb::kPanel;
using bb::kTile;
using bb::kTileDepth;
using detail::Bf16Path;
using std::size_t;
using std::uint16_t;
using std::uint32_t;

// Vectors of at most 16 floats: a panel (64 columns) holds whole vectors on every target.
using DF = hn::CappedTag<float, 16>;
using DU = hn::RebindToUnsigned<DF>;

// The bf16 bits of x, rounded to nearest even, in the low half of each lane; a NaN stays a
// quiet NaN (the rounding carry would turn some into inf).
template <class D>
HWY_INLINE hn::Vec<hn::RebindToUnsigned<D>> Bf16Bits(D /*d*/, hn::Vec<D> x) {
  const hn::RebindToUnsigned<D> du;
  const auto bits = hn::BitCast(du, x);
  const auto rounded = hn::Add(
      bits, hn::Add(hn::Set(du, 0x7FFFu), hn::And(hn::ShiftRight<16>(bits), hn::Set(du, 1u))));
  const auto quiet_nan = hn::Or(bits, hn::Set(du, 0x00400000u));
  return hn::ShiftRight<16>(hn::IfThenElse(hn::RebindMask(du, hn::IsNaN(x)), quiet_nan, rounded));
}

HWY_INLINE uint16_t Bf16Of(float x) {
  const hn::CappedTag<float, 1> d1;
  return uint16_t(hn::GetLane(Bf16Bits(d1, hn::Set(d1, x))));
}

constexpr size_t RoundUp(size_t value, size_t granule) {
  return bf16_packing::round_up(value, granule);
}

// The two conversions packing is made of, in software (here, every target) or with
// vcvtne2ps2bf16 (AVX512_BF16, which takes float denormals for zeros, as the hardware paths'
// products do anyway).
struct Converter {
  // dst[i] = bf16 of src[i], i < count.
  void (*run)(const float* src, size_t count, uint16_t* dst);
  // The (bf16, bf16) pairs (even[j], odd[j]) (odd null: zeros), j < count, column j at
  // dst[j / kPanel * panel_stride + j % kPanel] (panel_stride kPanel: side by side).
  void (*pairs)(const float* even, const float* odd, size_t count, uint32_t* dst,
                size_t panel_stride);
};

void SoftwareRun(const float* HWY_RESTRICT src, size_t count, uint16_t* HWY_RESTRICT dst) {
  const DF df;
  const hn::Rebind<uint16_t, DF> d16;
  const size_t N = hn::Lanes(df);
  size_t i = 0;
  for (; i + N <= count; i += N)
    hn::StoreU(hn::TruncateTo(d16, Bf16Bits(df, hn::LoadU(df, src + i))), d16, dst + i);
  for (; i < count; ++i) dst[i] = Bf16Of(src[i]);
}

void SoftwarePairs(const float* HWY_RESTRICT even, const float* HWY_RESTRICT odd, size_t count,
                   uint32_t* HWY_RESTRICT dst, size_t panel_stride) {
  const DF df;
  const DU du;
  const size_t N = hn::Lanes(df);
  for (size_t j0 = 0; j0 < count; j0 += kPanel, dst += panel_stride) {
    const size_t width = std::min(kPanel, count - j0);
    size_t j = 0;
    for (; j + N <= width; j += N) {
      const auto high = odd ? hn::ShiftLeft<16>(Bf16Bits(df, hn::LoadU(df, odd + j0 + j)))
                            : hn::Zero(du);
      hn::StoreU(hn::Or(Bf16Bits(df, hn::LoadU(df, even + j0 + j)), high), du, dst + j);
    }
    for (; j < width; ++j)
      dst[j] = uint32_t{Bf16Of(even[j0 + j])} | (odd ? uint32_t{Bf16Of(odd[j0 + j])} << 16 : 0u);
  }
}

constexpr Converter kSoftware{&SoftwareRun, &SoftwarePairs};

// A 16 x 16 block of 32-bit values transposed: dst row r (r < rows) = column r of src (16 rows
// src_stride apart).
void Transpose16(const uint32_t* HWY_RESTRICT src, size_t src_stride, uint32_t* HWY_RESTRICT dst,
                 size_t dst_stride, size_t rows) {
#if HWY_TARGET == HWY_AVX3
// GCC 12's unpack intrinsics start from an "undefined" vector it then warns about.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
  __m512i v[16], t[16];
  for (size_t i = 0; i < 16; ++i) v[i] = _mm512_loadu_si512(src + i * src_stride);
  // Pairs of rows interleaved by 32 bits, then by 64, then 128-bit lanes gathered in two rounds.
  for (size_t i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(v[i], v[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(v[i], v[i + 1]);
  }
  for (size_t i = 0; i < 16; i += 4) {
    v[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    v[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    v[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    v[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  // v[4 g + e], lane L: element 4 L + e of rows 4 g .. 4 g + 3.
  for (size_t e = 0; e < 4; ++e) {
    t[e] = _mm512_shuffle_i32x4(v[e], v[4 + e], 0x88);
    t[4 + e] = _mm512_shuffle_i32x4(v[e], v[4 + e], 0xDD);
    t[8 + e] = _mm512_shuffle_i32x4(v[8 + e], v[12 + e], 0x88);
    t[12 + e] = _mm512_shuffle_i32x4(v[8 + e], v[12 + e], 0xDD);
  }
  for (size_t e = 0; e < 4; ++e) {
    v[e] = _mm512_shuffle_i32x4(t[e], t[8 + e], 0x88);
    v[8 + e] = _mm512_shuffle_i32x4(t[e], t[8 + e], 0xDD);
    v[4 + e] = _mm512_shuffle_i32x4(t[4 + e], t[12 + e], 0x88);
    v[12 + e] = _mm512_shuffle_i32x4(t[4 + e], t[12 + e], 0xDD);
  }
  for (size_t r = 0; r < rows; ++r) _mm512_storeu_si512(dst + r * dst_stride, v[r]);
#pragma GCC diagnostic pop
#else
  for (size_t r = 0; r < rows; ++r)
    for (size_t q = 0; q < 16; ++q) dst[r * dst_stride + q] = src[q * src_stride + r];
#endif
}

// Depths [p0, p0 + depth) of columns [j0, j0 + cols) of op(B), packed into panels of kPanel
// columns, each `pairs` (depth / 2 rounded up to whole tiles) rows of kPanel (bf16, bf16)
// pairs: pair q of column j holds depths 2q (low half) and 2q + 1. Past the depth and the
// columns: zeros.
void PackB(const Converter& convert, Trans trans_b, const float* b, size_t ldb, size_t p0,
           size_t depth, size_t j0, size_t cols, uint32_t* HWY_RESTRICT out) {
  const size_t pairs = RoundUp(depth, kTileDepth) / 2;
  const size_t panel_size = pairs * kPanel;
  const size_t padded_cols = RoundUp(cols, kPanel);
  if (trans_b == Trans::No) {
    // Two rows of B make a row of pairs.
    for (size_t q = 0; 2 * q < depth; ++q) {
      const float* even = b + (p0 + 2 * q) * ldb + j0;
      convert.pairs(even, 2 * q + 1 < depth ? even + ldb : nullptr, cols, out + q * kPanel,
                    panel_size);
    }
  } else {
    // A row of B^T is a column of pairs: 16 rows converted, then transposed 16 x 16.
    alignas(64) uint16_t rows[16][bb::kKC];
    const size_t width = 2 * pairs;
    for (size_t c0 = 0; c0 < cols; c0 += 16) {
      for (size_t t = 0; t < 16; ++t) {
        if (c0 + t < cols) convert.run(b + (j0 + c0 + t) * ldb + p0, depth, rows[t]);
        std::fill(rows[t] + (c0 + t < cols ? depth : 0), rows[t] + width, uint16_t{0});
      }
      uint32_t* column = out + c0 / kPanel * panel_size + c0 % kPanel;
      for (size_t q0 = 0; q0 < pairs; q0 += 16) {
        alignas(64) uint32_t block[16][16];
        for (size_t t = 0; t < 16; ++t) std::memcpy(block[t], rows[t] + 2 * q0, sizeof block[t]);
        Transpose16(block[0], 16, column + q0 * kPanel, kPanel, 16);
      }
    }
  }
  // Zeros past the depth (pairs of rows B does not have) and past the columns.
  for (size_t panel = 0; panel < padded_cols; panel += kPanel) {
    uint32_t* start = out + panel / kPanel * panel_size;
    const size_t first_zero_pair = trans_b == Trans::No ? (depth + 1) / 2 : pairs;
    std::fill(start + first_zero_pair * kPanel, start + panel_size, 0u);
    const size_t panel_cols = std::min(kPanel, cols - std::min(cols, panel));
    const size_t written = trans_b == Trans::No ? panel_cols : RoundUp(panel_cols, 16);
    for (size_t q = 0; q < pairs; ++q)
      std::fill(start + q * kPanel + written, start + (q + 1) * kPanel, 0u);
  }
}

// Rows [0, rows) of op(A), depths [0, depth), packed as bf16 rows `stride` apart (depth rounded
// up to whole tiles, the rest zeros) from a source that gives op(A) a depth at a time (A^T's
// rows): depth_pairs(p, dst) writes the (bf16, bf16) pairs of depths p and p + 1 (zeros for
// p + 1 == depth) of the rows side by side to dst. 16 depth pairs are gathered, then transposed
// 16 x 16 into the rows.
template <class DepthPairs>
void PackDepthMajor(size_t rows, size_t depth, size_t stride, uint16_t* HWY_RESTRICT out,
                    const DepthPairs& depth_pairs) {
  alignas(64) uint32_t pairs[16][bb::kMC];
  for (size_t q0 = 0; 2 * q0 < stride; q0 += 16) {
    for (size_t t = 0; t < 16; ++t) {
      const size_t p = 2 * (q0 + t);
      if (p < depth) depth_pairs(p, pairs[t]);
      else std::fill(pairs[t], pairs[t] + rows, 0u);
    }
    for (size_t r0 = 0; r0 < rows; r0 += 16) {
      alignas(64) uint32_t transposed[16][16];
      Transpose16(pairs[0] + r0, bb::kMC, transposed[0], 16, 16);
      for (size_t r = 0; r < 16 && r0 + r < rows; ++r)
        std::memcpy(out + (r0 + r) * stride + 2 * q0, transposed[r], sizeof transposed[r]);
    }
  }
}

// Where the rows of op(A) come from: a matrix ...
struct MatrixRows {
  Trans trans;
  const float* a;
  size_t lda;
  // Rows [i0, i0 + rows), depths [p0, p0 + depth) as bf16 rows `stride` apart (depth rounded up
  // to whole tiles, the rest zeros).
  void pack(const Converter& convert, size_t i0, size_t rows, size_t p0, size_t depth,
            size_t stride, uint16_t* HWY_RESTRICT out) const {
    if (trans == Trans::No) {
      for (size_t r = 0; r < rows; ++r) {
        uint16_t* row = out + r * stride;
        convert.run(a + (i0 + r) * lda + p0, depth, row);
        std::fill(row + depth, row + stride, uint16_t{0});
      }
      return;
    }
    // Two rows of A (depths) make a row of pairs for every row of op(A).
    PackDepthMajor(rows, depth, stride, out, [&](size_t p, uint32_t* dst) {
      const float* even = a + (p0 + p) * lda + i0;
      convert.pairs(even, p + 1 < depth ? even + lda : nullptr, rows, dst, kPanel);
    });
  }
};

// The (bf16, bf16) pairs (even[j], odd[j]) (odd null: zeros) of values already bf16, j < count.
void InterleaveBf16(const uint16_t* HWY_RESTRICT even, const uint16_t* HWY_RESTRICT odd,
                    size_t count, uint32_t* HWY_RESTRICT dst) {
  const DU du;
  const hn::Rebind<uint16_t, DU> d16;
  const size_t N = hn::Lanes(du);
  size_t j = 0;
  for (; j + N <= count; j += N) {
    const auto high = odd ? hn::ShiftLeft<16>(hn::PromoteTo(du, hn::LoadU(d16, odd + j)))
                          : hn::Zero(du);
    hn::StoreU(hn::Or(hn::PromoteTo(du, hn::LoadU(d16, even + j)), high), du, dst + j);
  }
  for (; j < count; ++j) dst[j] = uint32_t{even[j]} | (odd ? uint32_t{odd[j]} << 16 : 0u);
}

// A run of `count` patch values to bf16 (dst[i]) or to (bf16, bf16) pairs (dst[j]), from the
// float image (converted here) or from its bf16 copy (converted once per call).
void CopyRun(const Converter& convert, const float* src, size_t count, uint16_t* dst) {
  convert.run(src, count, dst);
}
void CopyRun(const Converter& /*convert*/, const uint16_t* HWY_RESTRICT src, size_t count,
             uint16_t* HWY_RESTRICT dst) {
  // Inline: runs are short (a kernel row of a patch), a call to memcpy costs as much.
  const hn::CappedTag<uint16_t, 32> d16;
  const size_t N = hn::Lanes(d16);
  size_t i = 0;
  for (; i + N <= count; i += N) hn::StoreU(hn::LoadU(d16, src + i), d16, dst + i);
  for (; i < count; ++i) dst[i] = src[i];
}
void PairRun(const Converter& convert, const float* even, const float* odd, size_t count,
             uint32_t* dst) {
  convert.pairs(even, odd, count, dst, kPanel);
}
void PairRun(const Converter& /*convert*/, const uint16_t* even, const uint16_t* odd, size_t count,
             uint32_t* dst) {
  InterleaveBf16(even, odd, count, dst);
}

// A convolution's patches in a channels-last image (already padded) of floats or of their bf16
// values, from image row `first_row` on: the depth p = (ky * kw + kx) * c + ch of a pixel's
// patch lies at its window's corner + (p / segment) * image_row + p % segment, segment = kw * c
// values (a kernel row, contiguous in the image) and image_row = w * c.
template <class T>
struct Patches {
  const T* image;
  size_t w, c, kw, stride, ow, first_row;
  size_t segment() const { return kw * c; }
  size_t image_row() const { return w * c; }
  const T* corner(size_t pixel) const {
    return image + ((pixel / ow * stride - first_row) * w + pixel % ow * stride) * c;
  }
  // Calls run(offset, length, first) for the runs of patch depths [p0, p0 + depth) that are
  // contiguous in the image: `length` depths from `first`, at `offset` from a window's corner.
  template <class Run>
  void for_each_run(size_t p0, size_t depth, const Run& run) const {
    const size_t segment_length = segment();
    for (size_t p = p0, end = p0 + depth; p < end;) {
      const size_t offset = p % segment_length;
      const size_t length = std::min(segment_length - offset, end - p);
      run(p / segment_length * image_row() + offset, length, p);
      p += length;
    }
  }
};

// ... or the patches of a convolution's output pixels [first_pixel, ...) (conv_forward) ...
template <class T>
struct PatchRows {
  Patches<T> patches;
  size_t first_pixel;
  void pack(const Converter& convert, size_t i0, size_t rows, size_t p0, size_t depth,
            size_t out_stride, uint16_t* HWY_RESTRICT out) const {
    for (size_t r = 0; r < rows; ++r) {
      const T* corner = patches.corner(first_pixel + i0 + r);
      uint16_t* row = out + r * out_stride;
      patches.for_each_run(p0, depth, [&](size_t offset, size_t length, size_t first) {
        CopyRun(convert, corner + offset, length, row + (first - p0));
      });
      std::fill(row + depth, row + out_stride, uint16_t{0});
    }
  }
};

// ... or their transpose, a row per patch depth and a depth per pixel (the kernel's gradient).
template <class T>
struct PatchColumns {
  Patches<T> patches;
  void pack(const Converter& convert, size_t i0, size_t rows, size_t p0, size_t depth,
            size_t stride, uint16_t* HWY_RESTRICT out) const {
    PackDepthMajor(rows, depth, stride, out, [&](size_t p, uint32_t* dst) {
      const T* even = patches.corner(p0 + p);
      const T* odd = p + 1 < depth ? patches.corner(p0 + p + 1) : nullptr;
      patches.for_each_run(i0, rows, [&](size_t offset, size_t length, size_t first) {
        PairRun(convert, even + offset, odd ? odd + offset : nullptr, length, dst + (first - i0));
      });
    });
  }
};

// A packed block and where its product goes: rows x cols of C at c, from `depth` (its packed
// rows rounded up to whole tiles: a_stride) depth steps. Each element starts from bias[j] (when
// bias is non-null) plus C's element (when read_c) and adds its products.
struct Block {
  const uint16_t* a;
  size_t a_stride;
  const uint32_t* b;  // panels of kPanel columns, a_stride / 2 pairs each
  size_t rows, cols, depth;
  float* c;
  size_t ldc;
  const float* bias;
  bool read_c;
  // Whether a depth pair whose A values are zeros in every row of a micro-tile may be left out:
  // B's block holds no inf or NaN, so its products would be zeros, which leave a float sum as it
  // is (an MLP's input images: their blank borders).
  bool skips_zero_pairs;

  size_t pairs() const { return (depth + 1) / 2; }
  const uint32_t* panel(size_t j0) const { return b + j0 / kPanel * (a_stride / 2) * kPanel; }
  // Rows [r0, r0 + count).
  Block rows_from(size_t r0, size_t count) const {
    Block part = *this;
    part.a += r0 * a_stride;
    part.c += r0 * ldc;
    part.rows = count;
    return part;
  }
};

// The Highway path: kRows rows x one vector of columns at a time, each depth pair's two bf16
// values of A and of B widened to floats (a bf16 is a float's top half) and multiply-added.
template <size_t kRows>
void HighwayRows(const Block& blk) {
  const DF df;
  const DU du;
  const size_t N = hn::Lanes(df);
  const auto high_halves = hn::Set(du, 0xFFFF0000u);
  for (size_t j0 = 0; j0 < blk.cols; j0 += N) {
    const size_t width = std::min(N, blk.cols - j0);
    const uint32_t* b = blk.panel(j0) + j0 % kPanel;
    hn::Vec<DF> acc[kRows];
    HWY_ALIGN float lanes[hn::MaxLanes(df)];
    for (size_t r = 0; r < kRows; ++r) {
      for (size_t j = 0; j < N; ++j)
        lanes[j] = j >= width ? 0.0f
                              : (blk.bias ? blk.bias[j0 + j] : 0.0f) +
                                    (blk.read_c ? blk.c[r * blk.ldc + j0 + j] : 0.0f);
      acc[r] = hn::Load(df, lanes);
    }
    const size_t pairs = blk.pairs();
    for (size_t q = 0; q < pairs; ++q, b += kPanel) {
      const auto b_pairs = hn::LoadU(du, b);
      const auto b_even = hn::BitCast(df, hn::ShiftLeft<16>(b_pairs));
      const auto b_odd = hn::BitCast(df, hn::And(b_pairs, high_halves));
      for (size_t r = 0; r < kRows; ++r) {
        uint32_t a_pair;
        std::memcpy(&a_pair, blk.a + r * blk.a_stride + 2 * q, sizeof a_pair);
        const auto a_pairs = hn::Set(du, a_pair);
        acc[r] = hn::MulAdd(hn::BitCast(df, hn::ShiftLeft<16>(a_pairs)), b_even, acc[r]);
        acc[r] = hn::MulAdd(hn::BitCast(df, hn::And(a_pairs, high_halves)), b_odd, acc[r]);
      }
    }
    for (size_t r = 0; r < kRows; ++r) {
      hn::Store(acc[r], df, lanes);
      std::copy_n(lanes, width, blk.c + r * blk.ldc + j0);
    }
  }
}

void HighwayBlock(const Block& blk) {
  constexpr size_t kRows = 4;
  size_t r0 = 0;
  for (; r0 + kRows <= blk.rows; r0 += kRows) HighwayRows<kRows>(blk.rows_from(r0, kRows));
  switch (blk.rows - r0) {
    case 1: return HighwayRows<1>(blk.rows_from(r0, 1));
    case 2: return HighwayRows<2>(blk.rows_from(r0, 2));
    case 3: return HighwayRows<3>(blk.rows_from(r0, 3));
    default: return;
  }
}

#if HWY_TARGET == HWY_AVX3
// AVX512_BF16 and AMX: intrinsics in functions that add their instruction sets to the AVX-512
// target's, called only when the CPU has them (x86::features()).
#define TYPENET_AVX512_BF16 __attribute__((target(HWY_TARGET_STR ",avx512bf16")))
#define TYPENET_AMX_BF16 __attribute__((target(HWY_TARGET_STR ",avx512bf16,amx-tile,amx-bf16")))

// The lanes of vector v of a micro-tile `width` columns wide.
HWY_INLINE __mmask16 VectorLanes(size_t width, size_t v) {
  const size_t lanes = std::min<size_t>(16, width - std::min(width, 16 * v));
  return __mmask16((1u << lanes) - 1);
}

// Whether `count` packed (bf16, bf16) pairs are all finite (no exponent of all ones).
TYPENET_AVX512_BF16 bool PairsFinite(const uint32_t* HWY_RESTRICT pairs, size_t count) {
  const __m512i exponents = _mm512_set1_epi32(0x7F807F80);
  __mmask32 special = 0;
  for (size_t i = 0; i < count; i += 16) {
    const __m512i words = _mm512_maskz_loadu_epi32(VectorLanes(count - i, 0), pairs + i);
    special |= _mm512_cmpeq_epi16_mask(_mm512_and_si512(words, exponents), exponents);
  }
  return special == 0;
}

TYPENET_AVX512_BF16 void HardwareRun(const float* HWY_RESTRICT src, size_t count,
                                     uint16_t* HWY_RESTRICT dst) {
  size_t i = 0;
  for (; i + 32 <= count; i += 32)
    _mm512_storeu_si512(dst + i, (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + i + 16),
                                                              _mm512_loadu_ps(src + i)));
  if (i == count) return;
  const __mmask32 lanes = (1u << (count - i)) - 1;
  const __m512bh last =
      _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(__mmask16(lanes >> 16), src + i + 16),
                          _mm512_maskz_loadu_ps(__mmask16(lanes), src + i));
  _mm512_mask_storeu_epi16(dst + i, lanes, (__m512i)last);
}

TYPENET_AVX512_BF16 void HardwarePairs(const float* HWY_RESTRICT even,
                                       const float* HWY_RESTRICT odd, size_t count,
                                       uint32_t* HWY_RESTRICT dst, size_t panel_stride) {
  // Word 2 j of the pairs is word j (even) of the conversion, word 2 j + 1 word 16 + j (odd).
  alignas(64) static constexpr std::uint16_t kInterleave[32] = {
      0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,  21, 6,  22, 7,  23,
      8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const __m512i interleave = _mm512_load_si512(kInterleave);
  for (size_t j0 = 0; j0 < count; j0 += kPanel, dst += panel_stride) {
    const size_t width = std::min(kPanel, count - j0);
    for (size_t j = 0; j < width; j += 16) {
      const __mmask16 lanes = VectorLanes(width - j, 0);
      const __m512 low = _mm512_maskz_loadu_ps(lanes, even + j0 + j);
      const __m512 high = odd ? _mm512_maskz_loadu_ps(lanes, odd + j0 + j) : _mm512_setzero_ps();
      const __m512i words = (__m512i)_mm512_cvtne2ps_pbh(high, low);
      _mm512_mask_storeu_epi32(dst + j, lanes, _mm512_permutexvar_epi16(interleave, words));
    }
  }
}

constexpr Converter kHardware{&HardwareRun, &HardwarePairs};

constexpr size_t kDpRows = 6;
constexpr size_t kDpVectors = kPanel / 16;  // 6 x 4 accumulators, 4 B vectors, 1 broadcast

// R rows x V vectors of 16 columns (the first `width` of them written), from panel `b`, over the
// depth pairs `steps` (in order).
template <size_t R, size_t V>
TYPENET_AVX512_BF16 void DpTile(const Block& blk, const uint32_t* b, size_t width, float* c,
                                const float* bias, const uint16_t* steps, size_t count) {
  __m512 acc[R][V];
#pragma GCC unroll 8
  for (size_t v = 0; v < V; ++v) {
    const __mmask16 lanes = VectorLanes(width, v);
    const __m512 start = bias ? _mm512_maskz_loadu_ps(lanes, bias + 16 * v) : _mm512_setzero_ps();
#pragma GCC unroll 8
    for (size_t r = 0; r < R; ++r)
      acc[r][v] = blk.read_c
                      ? _mm512_add_ps(start, _mm512_maskz_loadu_ps(lanes, c + r * blk.ldc + 16 * v))
                      : start;
  }
  for (size_t i = 0; i < count; ++i) {
    const size_t q = steps[i];
    __m512bh b_pairs[V];
#pragma GCC unroll 8
    for (size_t v = 0; v < V; ++v)
      b_pairs[v] = (__m512bh)_mm512_loadu_si512(b + q * kPanel + 16 * v);
#pragma GCC unroll 8
    for (size_t r = 0; r < R; ++r) {
      std::int32_t a_pair;
      std::memcpy(&a_pair, blk.a + r * blk.a_stride + 2 * q, sizeof a_pair);
      const __m512bh a_pairs = (__m512bh)_mm512_set1_epi32(a_pair);
#pragma GCC unroll 8
      for (size_t v = 0; v < V; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], a_pairs, b_pairs[v]);
    }
  }
#pragma GCC unroll 8
  for (size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (size_t v = 0; v < V; ++v)
      _mm512_mask_storeu_ps(c + r * blk.ldc + 16 * v, VectorLanes(width, v), acc[r][v]);
}

using DpTileFunction = void (*)(const Block&, const uint32_t*, size_t, float*, const float*,
                                const uint16_t*, size_t);

// kDpTiles[R - 1][V - 1]: the tile of R rows and V vectors.
template <size_t R, size_t... V>
constexpr std::array<DpTileFunction, sizeof...(V)> DpTileRow(std::index_sequence<V...>) {
  return {&DpTile<R, V + 1>...};
}
template <size_t... R>
constexpr std::array<std::array<DpTileFunction, kDpVectors>, sizeof...(R)> DpTileTable(
    std::index_sequence<R...>) {
  return {DpTileRow<R + 1>(std::make_index_sequence<kDpVectors>())...};
}
constexpr auto kDpTiles = DpTileTable(std::make_index_sequence<kDpRows>());

// The depth pairs of the block's rows (a micro-tile's), in order, that the tiles of those rows
// compute: where the block skips zero pairs, those that are not zero in every row (listed once
// for all the panels, branch-free: a branch per pair in the tile mispredicts on the edges of
// images' blank areas); else all. `steps` has room for pairs() rounded up to 16. Returns the count.
TYPENET_AVX512_BF16 size_t ListDpSteps(const Block& blk, uint16_t* HWY_RESTRICT steps) {
  const size_t pairs = blk.pairs();
  __m512i numbers = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i sixteen = _mm512_set1_epi32(16);
  size_t count = 0;
  for (size_t q = 0; q < pairs; q += 16, numbers = _mm512_add_epi32(numbers, sixteen)) {
    const __mmask16 lanes = VectorLanes(pairs - q, 0);
    __mmask16 listed = lanes;
    if (blk.skips_zero_pairs) {
      __m512i any = _mm512_setzero_si512();
      for (size_t r = 0; r < blk.rows; ++r)
        any =
            _mm512_or_si512(any, _mm512_maskz_loadu_epi32(lanes, blk.a + r * blk.a_stride + 2 * q));
      listed = _mm512_mask_test_epi32_mask(lanes, any, any);
    }
    // Compressed in a register, then stored whole: a compressing store to memory is slow on
    // Zen 4 (see gemm.cpp).
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(steps + count),
                        _mm512_cvtepi32_epi16(_mm512_maskz_compress_epi32(listed, numbers)));
    count += size_t(__builtin_popcount(listed));
  }
  return count;
}

// Panels outside, so that a panel (in L1) meets every row of the block (in L2). A block has at
// most kMC rows and kKC depths (GemmBlocked), which bound the lists of pairs on the stack.
TYPENET_AVX512_BF16 void DpBlock(const Block& blk) {
  constexpr size_t kTiles = (bb::kMC + kDpRows - 1) / kDpRows;
  constexpr size_t kStepRoom = bb::kKC / 2 + 16;
  uint16_t steps[kTiles][kStepRoom];
  size_t counts[kTiles];
  // Without skipping, every tile computes all pairs: one list serves.
  const size_t lists = blk.skips_zero_pairs ? (blk.rows + kDpRows - 1) / kDpRows : 1;
  for (size_t t = 0; t < lists; ++t) {
    const size_t r0 = t * kDpRows;
    counts[t] = ListDpSteps(blk.rows_from(r0, std::min(kDpRows, blk.rows - r0)), steps[t]);
  }
  for (size_t j0 = 0; j0 < blk.cols; j0 += kPanel) {
    const size_t width = std::min(kPanel, blk.cols - j0);
    const size_t vectors = (width + 15) / 16;
    for (size_t r0 = 0; r0 < blk.rows; r0 += kDpRows) {
      const size_t rows = std::min(kDpRows, blk.rows - r0);
      const size_t t = blk.skips_zero_pairs ? r0 / kDpRows : 0;
      kDpTiles[rows - 1][vectors - 1](blk.rows_from(r0, rows), blk.panel(j0), width,
                                      blk.c + r0 * blk.ldc + j0, blk.bias ? blk.bias + j0 : nullptr,
                                      steps[t], counts[t]);
    }
  }
}

// AMX: tiles 0-3 hold a 2 x 2 block of 16 x 16 float sums (C), 4-5 two 16-row slices of A 32
// deep, 6-7 two 16-column slices of B (16 depth pairs). Tile t of C is at rows 16 (t / 2) and
// columns 16 (t % 2) of the block.
constexpr size_t kTileRowBytes = 64;

// Where a C tile's starting values are (columns [j0, j0 + width) of rows [r0, r0 + 16) of the
// block, width <= 16): C itself, `buffer` (filled here) where they are not a whole tile of C,
// or nowhere (data null: zeros).
struct TileSource {
  const float* data;
  size_t stride_bytes;
};

TYPENET_AMX_BF16 HWY_INLINE TileSource StartValues(const Block& blk, size_t r0, size_t j0,
                                                   size_t width, float* HWY_RESTRICT buffer) {
  const float* c = blk.c + r0 * blk.ldc + j0;
  if (!blk.read_c && !blk.bias) return {nullptr, 0};
  if (width == kTile && !blk.bias) return {c, blk.ldc * sizeof(float)};
  const __mmask16 lanes = VectorLanes(width, 0);
  const __m512 bias = blk.bias ? _mm512_maskz_loadu_ps(lanes, blk.bias + j0) : _mm512_setzero_ps();
  for (size_t r = 0; r < kTile; ++r)
    _mm512_store_ps(
        buffer + r * kTile,
        blk.read_c ? _mm512_add_ps(bias, _mm512_maskz_loadu_ps(lanes, c + r * blk.ldc)) : bias);
  return {buffer, kTileRowBytes};
}

// The first `width` columns of a tile stored in `buffer` to C.
TYPENET_AMX_BF16 HWY_INLINE void CopyTileColumns(const Block& blk, size_t r0, size_t j0,
                                                 size_t width, const float* HWY_RESTRICT buffer) {
  const __mmask16 lanes = VectorLanes(width, 0);
  for (size_t r = 0; r < kTile; ++r)
    _mm512_mask_storeu_ps(blk.c + (r0 + r) * blk.ldc + j0, lanes,
                          _mm512_load_ps(buffer + r * kTile));
}

// The tile intrinsics take the tile's number as a literal.
#define TYPENET_START_TILE(tile, r0, j0, width)                           \
  do {                                                                    \
    const TileSource source = StartValues(blk, r0, j0, width, buffer);    \
    if (source.data) _tile_loadd(tile, source.data, source.stride_bytes); \
    else _tile_zero(tile);                                                \
  } while (false)
#define TYPENET_STORE_TILE(tile, r0, j0, width)                                 \
  do {                                                                          \
    if ((width) == kTile) {                                                     \
      _tile_stored(tile, blk.c + (r0)*blk.ldc + (j0), blk.ldc * sizeof(float)); \
    } else {                                                                    \
      _tile_stored(tile, buffer, kTileRowBytes);                                \
      CopyTileColumns(blk, r0, j0, width, buffer);                              \
    }                                                                           \
  } while (false)

// Rows [r0, r0 + 16 RT) x columns [j0, j0 + width) of the block (width <= 16 CT), over the
// whole packed depth (zeros past `depth`).
template <int RT, int CT>
TYPENET_AMX_BF16 void AmxTiles(const Block& blk, size_t r0, size_t j0, size_t width,
                               float* HWY_RESTRICT buffer) {
  const size_t right = CT == 2 ? width - kTile : 0;
  const size_t left = std::min(width, kTile);
  TYPENET_START_TILE(0, r0, j0, left);
  if constexpr (CT == 2) TYPENET_START_TILE(1, r0, j0 + kTile, right);
  if constexpr (RT == 2) TYPENET_START_TILE(2, r0 + kTile, j0, left);
  if constexpr (RT == 2 && CT == 2) TYPENET_START_TILE(3, r0 + kTile, j0 + kTile, right);
  const uint16_t* a = blk.a + r0 * blk.a_stride;
  const uint32_t* b = blk.panel(j0) + j0 % kPanel;
  const size_t a_bytes = blk.a_stride * sizeof(uint16_t);
  constexpr size_t kBBytes = kPanel * sizeof(uint32_t);
  constexpr size_t kPairsPerTile = kTileDepth / 2;
  const size_t steps = blk.a_stride / kTileDepth;
  for (size_t s = 0; s < steps; ++s, a += kTileDepth, b += kPairsPerTile * kPanel) {
    _tile_loadd(4, a, a_bytes);
    _tile_loadd(6, b, kBBytes);
    _tile_dpbf16ps(0, 4, 6);
    if constexpr (CT == 2) {
      _tile_loadd(7, b + kTile, kBBytes);
      _tile_dpbf16ps(1, 4, 7);
    }
    if constexpr (RT == 2) {
      _tile_loadd(5, a + kTile * blk.a_stride, a_bytes);
      _tile_dpbf16ps(2, 5, 6);
    }
    if constexpr (RT == 2 && CT == 2) _tile_dpbf16ps(3, 5, 7);
  }
  TYPENET_STORE_TILE(0, r0, j0, left);
  if constexpr (CT == 2) TYPENET_STORE_TILE(1, r0, j0 + kTile, right);
  if constexpr (RT == 2) TYPENET_STORE_TILE(2, r0 + kTile, j0, left);
  if constexpr (RT == 2 && CT == 2) TYPENET_STORE_TILE(3, r0 + kTile, j0 + kTile, right);
#undef TYPENET_START_TILE
#undef TYPENET_STORE_TILE
}

// The block's rows (a multiple of 16): 32-column slices outside, so that a slice of B (in L1)
// meets every row of the block (in L2).
TYPENET_AMX_BF16 void AmxBlock(const Block& blk) {
  static constexpr x86::TileConfig kConfig(8, kTile, kTileRowBytes);
  _tile_loadconfig(&kConfig);
  alignas(64) float buffer[kTile * kTile];
  for (size_t j0 = 0; j0 < blk.cols; j0 += 2 * kTile) {
    const size_t width = std::min(2 * kTile, blk.cols - j0);
    for (size_t r0 = 0; r0 < blk.rows; r0 += 2 * kTile) {
      const bool two_rows = blk.rows - r0 >= 2 * kTile;
      if (two_rows && width > kTile) AmxTiles<2, 2>(blk, r0, j0, width, buffer);
      else if (two_rows) AmxTiles<2, 1>(blk, r0, j0, width, buffer);
      else if (width > kTile) AmxTiles<1, 2>(blk, r0, j0, width, buffer);
      else AmxTiles<1, 1>(blk, r0, j0, width, buffer);
    }
  }
  _tile_release();  // back to the init state: context switches need not save the tiles
}
#undef TYPENET_AVX512_BF16
#undef TYPENET_AMX_BF16
#endif  // HWY_TARGET == HWY_AVX3

// The rows of a block on `path`: on AMX its whole tiles of rows before row `amx_end`, the
// others on the vector path (AVX512_BF16 beside AMX).
void ComputeBlock(Bf16Path path, const Block& blk, size_t amx_end) {
#if HWY_TARGET == HWY_AVX3
  if (path == Bf16Path::amx) {
    const size_t amx_rows = std::min(blk.rows, amx_end);
    if (amx_rows != 0) AmxBlock(blk.rows_from(0, amx_rows));
    if (amx_rows != blk.rows) DpBlock(blk.rows_from(amx_rows, blk.rows - amx_rows));
    return;
  }
  if (path == Bf16Path::avx512_bf16) return DpBlock(blk);
#else
  (void)path;
  (void)amx_end;
#endif
  HighwayBlock(blk);
}

// Whether the AVX512_BF16 tiles may leave out A's zero depth pairs against a B block of
// `words` packed pairs (see Block).
bool SkipsZeroPairs(Bf16Path path, const uint32_t* b_block, size_t words) {
#if HWY_TARGET == HWY_AVX3
  return path != Bf16Path::highway && PairsFinite(b_block, words);
#else
  (void)path;
  (void)b_block;
  (void)words;
  return false;
#endif
}

// C = beta C + bias: a product with nothing to sum (k == 0), where A and B may be empty.
void ScaleAndAddBias(size_t m, size_t n, float beta, float* c, size_t ldc, const float* bias) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      float& out = c[i * ldc + j];
      out = (bias ? bias[j] : 0.0f) + (beta != 0.0f ? beta * out : 0.0f);
    }
}

// The conversions of a path: the hardware paths' instruction, or Highway's in software.
const Converter& ConverterFor(Bf16Path path) {
#if HWY_TARGET == HWY_AVX3
  if (path != Bf16Path::highway) return kHardware;
#else
  (void)path;
#endif
  return kSoftware;
}

// op(B): the float matrix, packed here block by block, or packed whole beforehand (PackBf16).
struct BSource {
  Trans trans;
  const float* b;
  size_t ldb;
  const uint32_t* packed;  // null: pack b here
};

// The blocked loops: B packed block by block (kNC columns, kKC deep) or taken from a B packed
// whole, then the rows of op(A) kMC at a time.
template <class Rows>
void GemmBlocked(Bf16Path path, const Rows& rows, const BSource& source, size_t m, size_t n,
                 size_t k, float beta, float* c, size_t ldc, const float* bias) {
  bb::PackingBuffers& buffers = bb::packing_buffers();
  const bf16_packing::PackedLayout layout{k, n};
  const size_t nc_max = layout.column_block();
  const size_t kc_max = layout.depth_block();
  const size_t mc_max = bf16_packing::block_length(m, bb::kMC, 2 * kTile);
  // AMX takes the rows in whole tiles, counted from the first.
  const size_t amx_rows = path == Bf16Path::amx ? m / kTile * kTile : 0;
  const Converter& convert = ConverterFor(path);
  // An op(A) that is one block (a Dense layer's input gradient: 128 x 128 against 9216
  // columns) is packed once, not once per column block.
  const bool one_a_block = m <= mc_max && k <= kc_max;
  for (size_t jc = 0; jc < n; jc += nc_max) {
    const size_t nc = std::min(nc_max, n - jc);
    for (size_t pc = 0; pc < k; pc += kc_max) {
      const size_t kc = std::min(kc_max, k - pc);
      const size_t stride = RoundUp(kc, kTileDepth);
      // The first depth block starts from the bias and beta * C; the later ones from C.
      const bool first = pc == 0;
      const uint32_t* b_block = source.packed ? source.packed + layout.offset(jc, pc) : buffers.b;
      if (!source.packed)
        PackB(convert, source.trans, source.b, source.ldb, pc, kc, jc, nc, buffers.b);
      // B's check reads the block once: worth it against a whole A block of rows or more.
      const bool skips_zero_pairs = m >= bb::kMC &&
                                    SkipsZeroPairs(path, b_block, RoundUp(nc, kPanel) * stride / 2);
      for (size_t ic = 0; ic < m; ic += mc_max) {
        const size_t mc = std::min(mc_max, m - ic);
        if (!one_a_block || jc == 0) rows.pack(convert, ic, mc, pc, kc, stride, buffers.a);
        const Block blk{buffers.a,
                        stride,
                        b_block,
                        mc,
                        nc,
                        kc,
                        c + ic * ldc + jc,
                        ldc,
                        first && bias ? bias + jc : nullptr,
                        !first || beta != 0.0f,
                        skips_zero_pairs};
        ComputeBlock(path, blk, amx_rows - std::min(amx_rows, ic));
      }
    }
  }
}

}  // namespace

void PackBf16(Bf16Path path, Trans trans_b, size_t k, size_t n, const float* b, size_t ldb,
              uint32_t* packed, size_t part, size_t parts) {
  const bf16_packing::PackedLayout layout{k, n};
  const size_t nc_max = layout.column_block(), kc_max = layout.depth_block();
  // The blocks in turn to the parts: block i to part i % parts.
  size_t block = 0;
  for (size_t jc = 0; jc < n; jc += nc_max)
    for (size_t pc = 0; pc < k; pc += kc_max, ++block)
      if (block % parts == part)
        PackB(ConverterFor(path), trans_b, b, ldb, pc, std::min(kc_max, k - pc), jc,
              std::min(nc_max, n - jc), packed + layout.offset(jc, pc));
}

void GemmBf16(Bf16Path path, Trans trans_a, Trans trans_b, size_t m, size_t n, size_t k,
              const float* a, size_t lda, const float* b, size_t ldb, const uint32_t* packed_b,
              float beta, float* c, size_t ldc, const float* bias) {
  if (m == 0 || n == 0) return;
  if (k == 0) return ScaleAndAddBias(m, n, beta, c, ldc, bias);
  GemmBlocked(path, MatrixRows{trans_a, a, lda}, BSource{trans_b, b, ldb, packed_b}, m, n, k, beta,
              c, ldc, bias);
}

void ConvForwardBf16(Bf16Path path, const float* image, size_t w, size_t c, size_t kh, size_t kw,
                     size_t stride, size_t ow, size_t first_pixel, size_t end_pixel,
                     const float* kernel, const uint32_t* packed_kernel, size_t filters,
                     const float* bias, float* out) {
  if (first_pixel >= end_pixel || filters == 0) return;
  const size_t depth = kh * kw * c;
  float* rows_out = out + first_pixel * filters;
  const size_t m = end_pixel - first_pixel;
  if (depth == 0) return ScaleAndAddBias(m, filters, 0.0f, rows_out, filters, bias);
  const BSource source{Trans::No, kernel, filters, packed_kernel};
  // A 3 x 3 kernel reads each value 9 times: the rows the pixels' windows cover are converted
  // once, where they fit the buffer (the same bf16 values as converted one patch at a time).
  const size_t first_row = first_pixel / ow * stride;
  const size_t image_values = ((end_pixel - 1) / ow * stride + kh - first_row) * w * c;
  if (image_values > bb::kImageValues) {
    return GemmBlocked(path, PatchRows<float>{{image, w, c, kw, stride, ow, 0}, first_pixel},
                       source, m, filters, depth, 0.0f, rows_out, filters, bias);
  }
  uint16_t* bf16_image = bb::packing_buffers().image;
  ConverterFor(path).run(image + first_row * w * c, image_values, bf16_image);
  GemmBlocked(path, PatchRows<uint16_t>{{bf16_image, w, c, kw, stride, ow, first_row}, first_pixel},
              source, m, filters, depth, 0.0f, rows_out, filters, bias);
}

void ConvKernelGradBf16(Bf16Path path, const float* image, size_t w, size_t c, size_t kh, size_t kw,
                        size_t stride, size_t ow, size_t pixels, const float* dy, size_t filters,
                        float beta, float* dkernel) {
  const size_t depth = kh * kw * c;
  if (depth == 0 || filters == 0) return;
  if (pixels == 0) return ScaleAndAddBias(depth, filters, beta, dkernel, filters, nullptr);
  const BSource source{Trans::No, dy, filters, nullptr};
  // Each image value converted once, where the image fits the buffer (see ConvForwardBf16).
  const size_t image_values = ((pixels - 1) / ow * stride + kh) * w * c;
  if (image_values > bb::kImageValues) {
    return GemmBlocked(path, PatchColumns<float>{{image, w, c, kw, stride, ow, 0}}, source, depth,
                       filters, pixels, beta, dkernel, filters, nullptr);
  }
  uint16_t* bf16_image = bb::packing_buffers().image;
  ConverterFor(path).run(image, image_values, bf16_image);
  GemmBlocked(path, PatchColumns<uint16_t>{{bf16_image, w, c, kw, stride, ow, 0}}, source, depth,
              filters, pixels, beta, dkernel, filters, nullptr);
}

}  // namespace typenet::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace typenet::kernels {

HWY_EXPORT(PackBf16);
HWY_EXPORT(GemmBf16);
HWY_EXPORT(ConvForwardBf16);
HWY_EXPORT(ConvKernelGradBf16);

namespace {

using detail::Bf16Path;

PathChoice<Bf16Path> path_choice;

Bf16Path ChosenPath() {
  return path_choice.chosen([] {
    const x86::Features& cpu = x86::features();
    return cpu.amx_bf16      ? Bf16Path::amx
           : cpu.avx512_bf16 ? Bf16Path::avx512_bf16
                             : Bf16Path::highway;
  });
}

}  // namespace

namespace detail {

bool path_available(Bf16Path path) noexcept {
  switch (path) {
    case Bf16Path::avx512_bf16: return x86::features().avx512_bf16;
    case Bf16Path::amx: return x86::features().amx_bf16;
    default: return true;
  }
}

bool force_path(Bf16Path path) noexcept { return path_choice.force(path, path_available(path)); }

}  // namespace detail

// AMX and AVX512_BF16 live in the AVX-512 target's code, whatever target the dispatch chose
// (they are available only where it was compiled).
#if HWY_ARCH_X86 && (HWY_TARGETS & HWY_AVX3)
#define TYPENET_BF16_X86(path, function, ...)                                    \
  if ((path) != Bf16Path::highway) return N_AVX3::function((path), __VA_ARGS__); \
  HWY_DYNAMIC_DISPATCH(function)((path), __VA_ARGS__)
#else
#define TYPENET_BF16_X86(path, function, ...) HWY_DYNAMIC_DISPATCH(function)((path), __VA_ARGS__)
#endif

void gemm_bf16(Trans trans_a, Trans trans_b, std::size_t m, std::size_t n, std::size_t k,
               const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta,
               float* c, std::size_t ldc, const float* bias) noexcept {
  const Bf16Path path = ChosenPath();
  TYPENET_BF16_X86(path, GemmBf16, trans_a, trans_b, m, n, k, a, lda, b, ldb, nullptr, beta, c, ldc,
                   bias);
}

void pack_bf16(Trans trans_b, std::size_t k, std::size_t n, const float* b, std::size_t ldb,
               std::uint32_t* packed, std::size_t part, std::size_t parts) noexcept {
  const Bf16Path path = ChosenPath();
  TYPENET_BF16_X86(path, PackBf16, trans_b, k, n, b, ldb, packed, part, parts);
}

void gemm_bf16_packed(Trans trans_a, std::size_t m, std::size_t n, std::size_t k, const float* a,
                      std::size_t lda, const std::uint32_t* packed_b, float beta, float* c,
                      std::size_t ldc, const float* bias) noexcept {
  const Bf16Path path = ChosenPath();
  TYPENET_BF16_X86(path, GemmBf16, trans_a, Trans::No, m, n, k, a, lda, nullptr, 0, packed_b, beta,
                   c, ldc, bias);
}

void conv_forward_bf16(const float* image, std::size_t w, std::size_t c, std::size_t kh,
                       std::size_t kw, std::size_t stride, std::size_t ow, std::size_t first_pixel,
                       std::size_t end_pixel, const float* kernel, std::size_t filters,
                       const float* bias, float* out) noexcept {
  const Bf16Path path = ChosenPath();
  TYPENET_BF16_X86(path, ConvForwardBf16, image, w, c, kh, kw, stride, ow, first_pixel, end_pixel,
                   kernel, nullptr, filters, bias, out);
}

void conv_forward_bf16_packed(const float* image, std::size_t w, std::size_t c, std::size_t kh,
                              std::size_t kw, std::size_t stride, std::size_t ow,
                              std::size_t first_pixel, std::size_t end_pixel,
                              const std::uint32_t* packed_kernel, std::size_t filters,
                              const float* bias, float* out) noexcept {
  const Bf16Path path = ChosenPath();
  TYPENET_BF16_X86(path, ConvForwardBf16, image, w, c, kh, kw, stride, ow, first_pixel, end_pixel,
                   nullptr, packed_kernel, filters, bias, out);
}

void conv_kernel_grad_bf16(const float* image, std::size_t w, std::size_t c, std::size_t kh,
                           std::size_t kw, std::size_t stride, std::size_t ow, std::size_t pixels,
                           const float* dy, std::size_t filters, float beta,
                           float* dkernel) noexcept {
  const Bf16Path path = ChosenPath();
  TYPENET_BF16_X86(path, ConvKernelGradBf16, image, w, c, kh, kw, stride, ow, pixels, dy, filters,
                   beta, dkernel);
}
#undef TYPENET_BF16_X86

const char* bf16_kernel_path() noexcept {
  switch (ChosenPath()) {
    case Bf16Path::amx: return "amx";
    case Bf16Path::avx512_bf16: return "avx512_bf16";
    default: return simd_target_name();
  }
}

}  // namespace typenet::kernels
#endif  // HWY_ONCE
