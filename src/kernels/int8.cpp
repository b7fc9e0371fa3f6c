// The dispatched 8-bit kernels (include/typenet/kernels/int8.hpp), bit-identical to the scalar
// references (int8_reference.cpp). Three ways to a GEMM's exact int32 sums:
// - Highway, every target: uint8 and int8 widened to int16, pairs of products summed into
//   int32 lanes (ReorderWidenMulAccumulate), register-blocked over rows and 16-column groups;
// - VNNI (AVX-512 target, CPUs with AVX512_VNNI): vpdpbusd adds a column's four u8 x s8
//   products to one int32 lane, a packed depth group of 16 columns being one 64-byte vector;
// - AMX (CPUs with AMX-INT8, tile state granted by Linux): tdpbusd on 16 x 16 int32 tiles, the
//   packed weights being AMX's B-tile layout already; the rows past the last whole tile of 16
//   go through VNNI.
// Every version ends in one epilogue per Highway target: vectorised where the target has a
// fused multiply-add, else the references' own scalar arithmetic (src/kernels/int8_scalar.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/kernels/int8.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "src/kernels/int8_scalar.h"
#include "src/kernels/path_choice.h"
#include "src/kernels/x86_features.h"
#include "typenet/kernels/int8.hpp"
#include "typenet/kernels/kernel_paths.hpp"
#include "typenet/kernels/kernels.hpp"

#if HWY_ARCH_X86
#include <immintrin.h>
#endif

HWY_BEFORE_NAMESPACE();
namespace typenet::kernels::HWY_NAMESPACE {
namespace {

namespace hn = hwy::HWY_NAMESPACE;
using std::int32_t;
using std::int8_t;
using std::size_t;
using std::uint8_t;

// Calls body(d, i) for i = 0, N, 2N, ... with full vectors of T, then for each remaining
// element with a one-lane tag.
template <typename T, class Body>
HWY_INLINE void ForEachVector(size_t count, const Body& body) {
  const hn::ScalableTag<T> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= count; i += N) body(d, i);
  for (; i < count; ++i) body(hn::CappedTag<T, 1>(), i);
}

#if HWY_NATIVE_FMA
// Stores the first `count` lanes of v at out (count == Lanes(d): all, with one store).
template <class D, typename T>
HWY_INLINE void StoreFirst(D d, hn::Vec<D> v, size_t count, T* HWY_RESTRICT out) {
  if (count == hn::Lanes(d)) return hn::StoreU(v, d, out);
  HWY_ALIGN T lanes[hn::MaxLanes(d)];
  hn::Store(v, d, lanes);
  std::copy_n(lanes, count, out);
}

// Stores the first `count` lanes of `codes` (at least 0) rounded to nearest as bytes at out,
// saturated at 255.
template <class DF>
HWY_INLINE void StoreCodes(DF df, hn::Vec<DF> codes, size_t count, uint8_t* HWY_RESTRICT out) {
#if HWY_TARGET == HWY_AVX3
  if constexpr (hn::MaxLanes(DF()) == 16) {
    // One conversion (an overflow gives 0x80000000, which saturates to 255 too) and a masked
    // narrowing store: Highway's conversions fix up overflows, its narrowing packs and permutes.
    const __mmask16 lanes = _cvtu32_mask16((1u << count) - 1);
    _mm512_mask_cvtusepi32_storeu_epi8(out, lanes, _mm512_maskz_cvtps_epi32(lanes, codes.raw));
    return;
  }
#endif
  const hn::Rebind<uint8_t, DF> du8;
  StoreFirst(du8, hn::DemoteTo(du8, hn::NearestInt(codes)), count, out);
}

// The float codes of outputs y, which StoreCodes rounds to nearest (its conversion) and
// narrows with saturation at 255: the reference's fma and clamp to [low, 255] (a clamp before
// the rounding gives the same, the bounds being integers), and the zero point for a NaN (for
// which Max would pick an arbitrary operand). Without NaNs in y (kMayBeNaN false), the test
// for them is left out.
template <class DF>
struct OutputCodes {
  OutputCodes(DF df, float inverse_scale_, float zero_point_, bool relu)
      : inverse_scale(hn::Set(df, inverse_scale_)), zero_point(hn::Set(df, zero_point_)),
        low(relu ? zero_point : hn::Zero(df)) {}
  hn::Vec<DF> inverse_scale, zero_point, low;

  template <bool kMayBeNaN>
  hn::Vec<DF> Of(hn::Vec<DF> y) const {
    const auto code = hn::Max(hn::MulAdd(y, inverse_scale, zero_point), low);
    if constexpr (kMayBeNaN) return hn::IfThenElse(hn::IsNaN(y), zero_point, code);
    return code;
  }
};
#endif

// The outputs of `rows` rows of `columns` consecutive columns from their int32 sums (a row
// every sums_stride, readable up to a whole number of vectors), epilogue.scale and .offset at
// the first of the columns. A column's scale and offset are loaded once for all rows.
template <typename Out>
void WriteRows(const int32_t* HWY_RESTRICT sums, size_t sums_stride, size_t rows, size_t columns,
               const Int8Epilogue& epilogue, Out* HWY_RESTRICT out, size_t ldc) {
#if HWY_NATIVE_FMA
  const hn::ScalableTag<float> df;
  const hn::RebindToSigned<decltype(df)> di;
  const size_t N = hn::Lanes(df);
  const OutputCodes<decltype(df)> codes(df, epilogue.output_inverse_scale,
                                        epilogue.output_zero_point, epilogue.relu);
  for (size_t j = 0; j < columns; j += N) {
    const size_t count = std::min(N, columns - j);
    const float* scale = epilogue.scale + j;
    const float* offset = epilogue.offset + j;
    HWY_ALIGN float scale_lanes[hn::MaxLanes(df)];
    HWY_ALIGN float offset_lanes[hn::MaxLanes(df)];
    if (count < N) {  // the last columns: no reading past the arrays
      std::fill(std::copy_n(scale, count, scale_lanes), scale_lanes + N, 0.0f);
      std::fill(std::copy_n(offset, count, offset_lanes), offset_lanes + N, 0.0f);
      scale = scale_lanes;
      offset = offset_lanes;
    }
    const auto scale_vector = hn::LoadU(df, scale), offset_vector = hn::LoadU(df, offset);
    const auto write = [&](auto may_be_nan) {
      for (size_t r = 0; r < rows; ++r) {
        const auto sum = hn::ConvertTo(df, hn::LoadU(di, sums + r * sums_stride + j));
        const auto y = hn::MulAdd(sum, scale_vector, offset_vector);
        if constexpr (std::is_same_v<Out, float>) StoreFirst(df, y, count, out + r * ldc + j);
        else
          StoreCodes(df, codes.template Of<decltype(may_be_nan)::value>(y), count,
                     out + r * ldc + j);
      }
    };
    // Finite scales and offsets make finite or infinite outputs, never NaNs.
    if (hn::AllTrue(df, hn::And(hn::IsFinite(scale_vector), hn::IsFinite(offset_vector))))
      write(std::false_type());
    else write(std::true_type());
  }
#else
  const float low = epilogue.relu ? epilogue.output_zero_point : 0.0f;
  for (size_t r = 0; r < rows; ++r)
    for (size_t j = 0; j < columns; ++j) {
      const float y = int8_scalar::epilogue_value(sums[r * sums_stride + j], epilogue.scale[j],
                                                  epilogue.offset[j]);
      if constexpr (std::is_same_v<Out, float>) out[r * ldc + j] = y;
      else
        out[r * ldc + j] =
            int8_scalar::to_code(y, epilogue.output_inverse_scale, epilogue.output_zero_point, low);
    }
#endif
}

#if HWY_TARGET == HWY_SCALAR || HWY_HAVE_SCALABLE
// One-lane or scalable vectors do not hold whole depth groups: the references' loops.
template <typename Out>
void HighwayGemm(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, const int8_t* packed_b,
                 size_t packed_columns, const Int8Epilogue& epilogue, Out* c, size_t ldc) {
  if constexpr (std::is_same_v<Out, float>)
    reference::int8_gemm_f32(m, n, k, a, lda, packed_b, packed_columns, epilogue, c, ldc);
  else reference::int8_gemm_u8(m, n, k, a, lda, packed_b, packed_columns, epilogue, c, ldc);
}
#else
// The epilogue of the columns from j on.
Int8Epilogue FromColumn(const Int8Epilogue& epilogue, size_t j) {
  Int8Epilogue shifted = epilogue;
  shifted.scale += j;
  shifted.offset += j;
  return shifted;
}

using D32 = hn::ScalableTag<int32_t>;
using D16 = hn::Repartition<int16_t, D32>;
constexpr size_t kLanes16 = hn::MaxLanes(D16());
constexpr size_t kLanes32 = kLanes16 / 2;
// int16 vectors of weights in one depth group of a 16-column group (64 bytes).
constexpr size_t kWeightVectors = kInt8DepthGroup * kInt8ColumnGroup / kLanes16;
// Rows of a micro-kernel: its kRows x kWeightVectors accumulators take half of the vector
// registers (32 with AVX-512, else 16).
constexpr size_t kAccumulators = kLanes16 >= 32 ? 16 : 8;
constexpr size_t kRows = std::max<size_t>(1, kAccumulators / kWeightVectors);

// A row's four bytes of depth group `a`, widened and repeated: a0 a1 a2 a3 a0 a1 ... as int16.
HWY_INLINE hn::Vec<D16> BroadcastGroup(const uint8_t* a) {
  const hn::Rebind<uint8_t, D16> du8;
  const hn::Repartition<uint32_t, decltype(du8)> du32;
  std::uint32_t group;
  std::memcpy(&group, a, sizeof group);
  return hn::PromoteTo(D16(), hn::BitCast(du8, hn::Set(du32, group)));
}

// Rows [0, R) of the product, 16 columns at a time. Lane q of the products of a row's group
// with weight vector t sums the products of int16 lanes 2q and 2q + 1: the first or second
// half of a column's group; even and odd lanes are added at the end.
template <size_t R, typename Out>
void HighwayRows(size_t n, size_t groups, const uint8_t* a, size_t lda, const int8_t* packed_b,
                 size_t stride, const Int8Epilogue& epilogue, Out* c, size_t ldc) {
  const D32 d32;
  const D16 d16;
  const hn::Rebind<int8_t, D16> d8;
  for (size_t j0 = 0; j0 < n; j0 += kInt8ColumnGroup) {
    // odd_sum: where a target keeps the odd lanes' products apart (not x86: madd sums pairs).
    hn::Vec<D32> sum[R][kWeightVectors], odd_sum[R][kWeightVectors];
    for (size_t r = 0; r < R; ++r)
      for (size_t t = 0; t < kWeightVectors; ++t) sum[r][t] = odd_sum[r][t] = hn::Zero(d32);
    const int8_t* b = packed_b + j0 * kInt8DepthGroup;
    for (size_t g = 0; g < groups; ++g, b += stride) {
      hn::Vec<D16> group[R];
      for (size_t r = 0; r < R; ++r) group[r] = BroadcastGroup(a + r * lda + g * kInt8DepthGroup);
      for (size_t t = 0; t < kWeightVectors; ++t) {
        const auto weights = hn::PromoteTo(d16, hn::LoadU(d8, b + t * kLanes16));
        for (size_t r = 0; r < R; ++r)
          sum[r][t] =
              hn::ReorderWidenMulAccumulate(d32, group[r], weights, sum[r][t], odd_sum[r][t]);
      }
    }
    HWY_ALIGN int32_t columns[R][kInt8ColumnGroup];
    for (size_t r = 0; r < R; ++r)
      for (size_t t = 0; t < kWeightVectors; t += 2) {
        const auto low = hn::RearrangeToOddPlusEven(sum[r][t], odd_sum[r][t]);
        const auto high = hn::RearrangeToOddPlusEven(sum[r][t + 1], odd_sum[r][t + 1]);
        hn::Store(hn::Add(hn::ConcatEven(d32, high, low), hn::ConcatOdd(d32, high, low)), d32,
                  columns[r] + t * kLanes32 / 2);
      }
    WriteRows(columns[0], kInt8ColumnGroup, R, std::min(kInt8ColumnGroup, n - j0),
              FromColumn(epilogue, j0), c + j0, ldc);
  }
}

// The last m < kRows rows.
template <size_t R, typename Out>
void HighwayLastRows(size_t m, size_t n, size_t groups, const uint8_t* a, size_t lda,
                     const int8_t* packed_b, size_t stride, const Int8Epilogue& epilogue, Out* c,
                     size_t ldc) {
  if constexpr (R > 0) {
    if (m == R) return HighwayRows<R>(n, groups, a, lda, packed_b, stride, epilogue, c, ldc);
    HighwayLastRows<R - 1>(m, n, groups, a, lda, packed_b, stride, epilogue, c, ldc);
  }
}

template <typename Out>
void HighwayGemm(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, const int8_t* packed_b,
                 size_t packed_columns, const Int8Epilogue& epilogue, Out* c, size_t ldc) {
  const size_t groups = int8_depth(k) / kInt8DepthGroup;
  const size_t stride = packed_columns * kInt8DepthGroup;
  size_t i = 0;
  for (; i + kRows <= m; i += kRows)
    HighwayRows<kRows>(n, groups, a + i * lda, lda, packed_b, stride, epilogue, c + i * ldc, ldc);
  HighwayLastRows<kRows - 1>(m - i, n, groups, a + i * lda, lda, packed_b, stride, epilogue,
                             c + i * ldc, ldc);
}
#endif

void GemmU8(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, const int8_t* packed_b,
            size_t packed_columns, const Int8Epilogue& epilogue, uint8_t* c, size_t ldc) {
  HighwayGemm(m, n, k, a, lda, packed_b, packed_columns, epilogue, c, ldc);
}

void GemmF32(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, const int8_t* packed_b,
             size_t packed_columns, const Int8Epilogue& epilogue, float* c, size_t ldc) {
  HighwayGemm(m, n, k, a, lda, packed_b, packed_columns, epilogue, c, ldc);
}

#if HWY_TARGET == HWY_AVX3
// VNNI and AMX: intrinsics in functions that add their instruction sets to the AVX-512
// target's, called only when the CPU has them (x86::features(), src/kernels/x86_features.h).
#define TYPENET_VNNI __attribute__((target(HWY_TARGET_STR ",avx512vnni")))
#define TYPENET_AMX __attribute__((target(HWY_TARGET_STR ",avx512vnni,amx-tile,amx-int8")))

constexpr size_t kGroupBytes = kInt8DepthGroup * kInt8ColumnGroup;  // a zmm, a tile row
constexpr size_t kVnniRows = 6;
constexpr size_t kVnniColumnGroups = 4;  // 6 x 4 accumulators, 4 weight vectors, 1 broadcast

// R rows x G column groups (the first `columns` of them written): each step broadcasts a row's
// depth group (4 bytes) to every lane and adds its products with the G weight vectors.
template <size_t R, size_t G, typename Out>
TYPENET_VNNI void VnniBlock(size_t groups, const uint8_t* a, size_t lda, const int8_t* b,
                            size_t stride, size_t columns, const Int8Epilogue& epilogue, Out* c,
                            size_t ldc) {
  __m512i sum[R][G];
#pragma GCC unroll 8
  for (size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (size_t g = 0; g < G; ++g) sum[r][g] = _mm512_setzero_si512();
  for (size_t p = 0; p < groups; ++p, b += stride) {
    __m512i weights[G];
#pragma GCC unroll 8
    for (size_t g = 0; g < G; ++g) weights[g] = _mm512_loadu_si512(b + g * kGroupBytes);
#pragma GCC unroll 8
    for (size_t r = 0; r < R; ++r) {
      std::int32_t group;
      std::memcpy(&group, a + r * lda + p * kInt8DepthGroup, sizeof group);
      const __m512i broadcast = _mm512_set1_epi32(group);
#pragma GCC unroll 8
      for (size_t g = 0; g < G; ++g)
        sum[r][g] = _mm512_dpbusd_epi32(sum[r][g], broadcast, weights[g]);
    }
  }
  // Through memory, all at once: indexing the accumulators in a loop would keep them there.
  alignas(64) int32_t rows[R][G * kInt8ColumnGroup];
#pragma GCC unroll 8
  for (size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (size_t g = 0; g < G; ++g) _mm512_store_si512(rows[r] + g * kInt8ColumnGroup, sum[r][g]);
  WriteRows(rows[0], G * kInt8ColumnGroup, R, columns, epilogue, c, ldc);
}

template <typename Out>
using VnniBlockFunction = void (*)(size_t, const uint8_t*, size_t, const int8_t*, size_t, size_t,
                                   const Int8Epilogue&, Out*, size_t);

// kVnniBlocks<Out>[R - 1][G - 1]: the block of R rows and G column groups.
template <typename Out, size_t R, size_t... G>
constexpr std::array<VnniBlockFunction<Out>, sizeof...(G)> VnniBlockRow(std::index_sequence<G...>) {
  return {&VnniBlock<R, G + 1, Out>...};
}
template <typename Out, size_t... R>
constexpr std::array<std::array<VnniBlockFunction<Out>, kVnniColumnGroups>, sizeof...(R)>
VnniBlockTable(std::index_sequence<R...>) {
  return {VnniBlockRow<Out, R + 1>(std::make_index_sequence<kVnniColumnGroups>())...};
}
template <typename Out>
constexpr auto kVnniBlocks = VnniBlockTable<Out>(std::make_index_sequence<kVnniRows>());

// Column blocks of kVnniColumnGroups groups outside, so that the block's weights stay in cache
// while the rows go by. (Batch 1 streams the weights at the cache's bandwidth already: more
// column groups a block, hence more independent sums, gain nothing.)
template <typename Out>
void VnniGemm(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda, const int8_t* packed_b,
              size_t packed_columns, const Int8Epilogue& epilogue, Out* c, size_t ldc) {
  const size_t groups = int8_depth(k) / kInt8DepthGroup;
  const size_t stride = packed_columns * kInt8DepthGroup;
  constexpr size_t kBlockColumns = kVnniColumnGroups * kInt8ColumnGroup;
  for (size_t j0 = 0; j0 < n; j0 += kBlockColumns) {
    const size_t columns = std::min(kBlockColumns, n - j0);
    const size_t column_groups = (columns + kInt8ColumnGroup - 1) / kInt8ColumnGroup;
    const Int8Epilogue block_epilogue = FromColumn(epilogue, j0);
    for (size_t i = 0; i < m; i += kVnniRows) {
      const size_t rows = std::min(kVnniRows, m - i);
      kVnniBlocks<Out>[rows - 1][column_groups - 1](groups, a + i * lda, lda,
                                                    packed_b + j0 * kInt8DepthGroup, stride,
                                                    columns, block_epilogue, c + i * ldc + j0, ldc);
    }
  }
}

// AMX: tiles 0-3 hold a 2 x 2 block of 16 x 16 int32 sums (C), 4-5 two 16-row slices of A
// 64 bytes deep, 6-7 two 16-column slices of B (16 depth groups, a tile row each: the packed
// layout, packed_columns * 4 bytes apart).
constexpr size_t kTile = 16;                // rows of every tile; columns of a C tile
constexpr size_t kTileDepth = kGroupBytes;  // depth bytes of an A tile
constexpr size_t kBlock = 2 * kTile;        // rows and columns of a C block

// Adds to the C tiles the products of the A tiles at a_tile (a_stride bytes a row) with the B
// tiles at b_tile.
template <int RT, int CT>
TYPENET_AMX HWY_INLINE void AmxMultiply(const uint8_t* a_tile, size_t a_stride,
                                        const int8_t* b_tile, size_t b_stride) {
  _tile_loadd(4, a_tile, a_stride);
  _tile_loadd(6, b_tile, b_stride);
  _tile_dpbusd(0, 4, 6);
  if constexpr (CT == 2) {
    _tile_loadd(7, b_tile + kGroupBytes, b_stride);
    _tile_dpbusd(1, 4, 7);
  }
  if constexpr (RT == 2) {
    _tile_loadd(5, a_tile + kTile * a_stride, a_stride);
    _tile_dpbusd(2, 5, 6);
  }
  if constexpr (RT == 2 && CT == 2) _tile_dpbusd(3, 5, 7);
}

// One C block of RT x CT tiles over the whole depth: `steps` A and B tiles in place, then when
// the depth is not a multiple of 64 one more pair: the last 64 depth bytes of B (tail_b) with
// the A tiles of `tail_a`, whose rows have zeros before the depth's last bytes (the depth
// before them is done). The sums go to `sums` (kBlock int32 a row).
template <int RT, int CT>
TYPENET_AMX HWY_INLINE void AmxBlock(const uint8_t* a, size_t lda, const int8_t* b, size_t stride,
                                     size_t steps, const uint8_t* tail_a, const int8_t* tail_b,
                                     int32_t* sums) {
  _tile_zero(0);
  if constexpr (CT == 2) _tile_zero(1);
  if constexpr (RT == 2) _tile_zero(2);
  if constexpr (RT == 2 && CT == 2) _tile_zero(3);
  for (size_t s = 0; s < steps; ++s)
    AmxMultiply<RT, CT>(a + s * kTileDepth, lda, b + s * (kTileDepth / kInt8DepthGroup) * stride,
                        stride);
  if (tail_a) AmxMultiply<RT, CT>(tail_a, kTileDepth, tail_b, stride);
  constexpr size_t kSumsStride = kBlock * sizeof(int32_t);
  _tile_stored(0, sums, kSumsStride);
  if constexpr (CT == 2) _tile_stored(1, sums + kTile, kSumsStride);
  if constexpr (RT == 2) _tile_stored(2, sums + kTile * kBlock, kSumsStride);
  if constexpr (RT == 2 && CT == 2) _tile_stored(3, sums + kTile * kBlock + kTile, kSumsStride);
}

// Rows [0, m) (m a multiple of 16), depth int8_depth(k) >= 64: C blocks of 32 x 32, row blocks
// outside (their A tiles stay in cache while the columns go by). Zero allocation: the block's
// sums and tail tiles live on the stack.
template <typename Out>
TYPENET_AMX void AmxGemm(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda,
                         const int8_t* packed_b, size_t packed_columns,
                         const Int8Epilogue& epilogue, Out* c, size_t ldc) {
  static constexpr x86::TileConfig kConfig(8, kTile, kTileDepth);
  _tile_loadconfig(&kConfig);
  const size_t depth = int8_depth(k);
  const size_t steps = depth / kTileDepth;
  const size_t tail = depth % kTileDepth;
  const size_t stride = packed_columns * kInt8DepthGroup;
  alignas(64) uint8_t tail_a[kBlock * kTileDepth];
  alignas(64) int32_t sums[kBlock * kBlock];
  for (size_t i0 = 0; i0 < m; i0 += kBlock) {
    const size_t rows = std::min(kBlock, m - i0);
    const uint8_t* a_block = a + i0 * lda;
    if (tail != 0) {
      // A row's last 64 depth bytes (depth >= 64), the first 64 - tail of them zeroed.
      const __mmask64 last_bytes = ~std::uint64_t{0} << (kTileDepth - tail);
      for (size_t r = 0; r < rows; ++r)
        _mm512_store_si512(
            tail_a + r * kTileDepth,
            _mm512_maskz_loadu_epi8(last_bytes, a_block + r * lda + depth - kTileDepth));
    }
    for (size_t j0 = 0; j0 < n; j0 += kBlock) {
      const size_t columns = std::min(kBlock, n - j0);
      const int8_t* b = packed_b + j0 * kInt8DepthGroup;
      const uint8_t* block_tail_a = tail != 0 ? tail_a : nullptr;
      const int8_t* tail_b = b + (depth - kTileDepth) / kInt8DepthGroup * stride;
      if (rows == kBlock && columns > kTile)
        AmxBlock<2, 2>(a_block, lda, b, stride, steps, block_tail_a, tail_b, sums);
      else if (rows == kBlock)
        AmxBlock<2, 1>(a_block, lda, b, stride, steps, block_tail_a, tail_b, sums);
      else if (columns > kTile)
        AmxBlock<1, 2>(a_block, lda, b, stride, steps, block_tail_a, tail_b, sums);
      else AmxBlock<1, 1>(a_block, lda, b, stride, steps, block_tail_a, tail_b, sums);
      WriteRows(sums, kBlock, rows, columns, FromColumn(epilogue, j0), c + i0 * ldc + j0, ldc);
    }
  }
  _tile_release();  // back to the init state: context switches need not save the tiles
}

// Entry points for the dispatch (HWY_ONCE below).
TYPENET_VNNI void VnniGemmU8(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda,
                             const int8_t* packed_b, size_t packed_columns,
                             const Int8Epilogue& epilogue, uint8_t* c, size_t ldc) {
  VnniGemm(m, n, k, a, lda, packed_b, packed_columns, epilogue, c, ldc);
}
TYPENET_VNNI void VnniGemmF32(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda,
                              const int8_t* packed_b, size_t packed_columns,
                              const Int8Epilogue& epilogue, float* c, size_t ldc) {
  VnniGemm(m, n, k, a, lda, packed_b, packed_columns, epilogue, c, ldc);
}
TYPENET_AMX void AmxGemmU8(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda,
                           const int8_t* packed_b, size_t packed_columns,
                           const Int8Epilogue& epilogue, uint8_t* c, size_t ldc) {
  AmxGemm(m, n, k, a, lda, packed_b, packed_columns, epilogue, c, ldc);
}
TYPENET_AMX void AmxGemmF32(size_t m, size_t n, size_t k, const uint8_t* a, size_t lda,
                            const int8_t* packed_b, size_t packed_columns,
                            const Int8Epilogue& epilogue, float* c, size_t ldc) {
  AmxGemm(m, n, k, a, lda, packed_b, packed_columns, epilogue, c, ldc);
}
#undef TYPENET_VNNI
#undef TYPENET_AMX
#endif  // HWY_TARGET == HWY_AVX3

// Copies (CopyBytes) or sets (FillBytes) `count` bytes in pieces of a whole vector, 16, 8, 4 or
// 1 byte(s), the last piece overlapping its predecessor: convolution patch rows are short (96
// bytes in MNIST's conv2, 3 in conv1), where a call to memcpy or memset would cost more than
// the copy.
template <class Piece>
HWY_INLINE void ForEachPiece(size_t count, const Piece& piece) {
  const hn::ScalableTag<uint8_t> d;
  const auto pieces = [&](auto size) {
    size_t i = 0;
    for (; i + size < count; i += size) piece(i, size);
    piece(count - size, size);
  };
  if (count >= hn::Lanes(d)) pieces(hn::Lanes(d));
  else if (count >= 16) pieces(std::integral_constant<size_t, 16>());
  else if (count >= 8) pieces(std::integral_constant<size_t, 8>());
  else if (count >= 4) pieces(std::integral_constant<size_t, 4>());
  else
    for (size_t i = 0; i < count; ++i) piece(i, std::integral_constant<size_t, 1>());
}

HWY_INLINE void CopyBytes(uint8_t* HWY_RESTRICT dst, const uint8_t* HWY_RESTRICT src,
                          size_t count) {
  ForEachPiece(count, [&](size_t i, auto size) {
    if constexpr (std::is_same_v<decltype(size), size_t>) {
      const hn::ScalableTag<uint8_t> d;
      hn::StoreU(hn::LoadU(d, src + i), d, dst + i);
    } else {
      std::memcpy(dst + i, src + i, size);
    }
  });
}

HWY_INLINE void FillBytes(uint8_t* HWY_RESTRICT dst, size_t count, uint8_t value) {
  ForEachPiece(count, [&](size_t i, auto size) {
    if constexpr (std::is_same_v<decltype(size), size_t>) {
      const hn::ScalableTag<uint8_t> d;
      hn::StoreU(hn::Set(d, value), d, dst + i);
    } else {
      std::memset(dst + i, value, size);
    }
  });
}

void Im2Col(const uint8_t* in, size_t h, size_t w, size_t c, size_t kh, size_t kw, size_t stride,
            size_t pad_top, size_t pad_left, size_t oh, size_t ow, uint8_t pad_value, uint8_t* col,
            size_t ldcol) {
  const size_t row_length = kw * c;  // one kernel row of a patch
  const size_t patch = kh * row_length;
  const auto width = std::ptrdiff_t(w);
  const auto kernel_width = std::ptrdiff_t(kw);
  for (size_t oy = 0; oy < oh; ++oy)
    for (size_t ox = 0; ox < ow; ++ox) {
      uint8_t* patch_row = col + (oy * ow + ox) * ldcol;
      const std::ptrdiff_t x0 = std::ptrdiff_t(ox * stride) - std::ptrdiff_t(pad_left);
      const std::ptrdiff_t y0 = std::ptrdiff_t(oy * stride) - std::ptrdiff_t(pad_top);
      if (x0 >= 0 && y0 >= 0 && x0 + kernel_width <= width &&
          y0 + std::ptrdiff_t(kh) <= std::ptrdiff_t(h)) {
        // The whole patch inside the image (the common case): no clipping to work out.
        const uint8_t* src = in + size_t(y0 * width + x0) * c;
        for (size_t ky = 0; ky < kh; ++ky)
          CopyBytes(patch_row + ky * row_length, src + ky * w * c, row_length);
        FillBytes(patch_row + patch, ldcol - patch, 0);
        continue;
      }
      // The kernel columns [kx_lo, kx_hi) fall inside the image; the others are padding.
      const std::ptrdiff_t kx_lo = std::clamp<std::ptrdiff_t>(-x0, 0, kernel_width);
      const std::ptrdiff_t kx_hi = std::clamp<std::ptrdiff_t>(width - x0, kx_lo, kernel_width);
      const size_t lo = size_t(kx_lo) * c, hi = size_t(kx_hi) * c;
      for (size_t ky = 0; ky < kh; ++ky) {
        uint8_t* dst = patch_row + ky * row_length;
        const std::ptrdiff_t y = y0 + std::ptrdiff_t(ky);
        if (y < 0 || y >= std::ptrdiff_t(h) || lo == hi) {
          FillBytes(dst, row_length, pad_value);
          continue;
        }
        FillBytes(dst, lo, pad_value);
        CopyBytes(dst + lo, in + size_t(y * width + x0 + kx_lo) * c, hi - lo);
        FillBytes(dst + hi, row_length - hi, pad_value);
      }
      FillBytes(patch_row + patch, ldcol - patch, 0);
    }
}

void MaxpoolU8(const uint8_t* in, size_t /*h*/, size_t w, size_t c, size_t pool, size_t stride,
               size_t oh, size_t ow, uint8_t* out) {
  for (size_t oy = 0; oy < oh; ++oy)
    for (size_t ox = 0; ox < ow; ++ox) {
      const uint8_t* window = in + (oy * stride * w + ox * stride) * c;
      uint8_t* dst = out + (oy * ow + ox) * c;
      ForEachVector<uint8_t>(c, [&](auto d, size_t ch) {
        auto best = hn::Zero(d);
        for (size_t py = 0; py < pool; ++py)
          for (size_t px = 0; px < pool; ++px)
            best = hn::Max(best, hn::LoadU(d, window + (py * w + px) * c + ch));
        hn::StoreU(best, d, dst + ch);
      });
    }
}

void QuantizeU8(const float* x, size_t count, float inverse_scale, float zero_point, uint8_t* q) {
#if HWY_NATIVE_FMA
  ForEachVector<float>(count, [&](auto df, size_t i) {
    const OutputCodes<decltype(df)> codes(df, inverse_scale, zero_point, false);
    StoreCodes(df, codes.template Of<true>(hn::LoadU(df, x + i)), hn::Lanes(df), q + i);
  });
#else
  for (size_t i = 0; i < count; ++i)
    q[i] = int8_scalar::to_code(x[i], inverse_scale, zero_point, 0.0f);
#endif
}

void DequantizeU8(const uint8_t* q, size_t count, float scale, float zero_point, float* x) {
  ForEachVector<float>(count, [&](auto df, size_t i) {
    const hn::Rebind<uint8_t, decltype(df)> du8;
    const hn::Rebind<int32_t, decltype(df)> di;
    const auto value = hn::ConvertTo(df, hn::PromoteTo(di, hn::LoadU(du8, q + i)));
    hn::StoreU(hn::Mul(hn::Sub(value, hn::Set(df, zero_point)), hn::Set(df, scale)), df, x + i);
  });
}

}  // namespace
}  // namespace typenet::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace typenet::kernels {

HWY_EXPORT(GemmU8);
HWY_EXPORT(GemmF32);
HWY_EXPORT(Im2Col);
HWY_EXPORT(MaxpoolU8);
HWY_EXPORT(QuantizeU8);
HWY_EXPORT(DequantizeU8);

namespace {

using detail::Int8Path;

// The AVX-512 target's code holds the VNNI and AMX kernels; without it (a build whose baseline
// excludes it), neither is available.
#if HWY_ARCH_X86 && (HWY_TARGETS & HWY_AVX3)
#define TYPENET_INT8_X86 1
#else
#define TYPENET_INT8_X86 0
#endif

PathChoice<Int8Path> path_choice;

Int8Path ChosenPath() {
  return path_choice.chosen([] {
    const x86::Features& cpu = x86::features();
    return cpu.amx_int8 ? Int8Path::amx : cpu.avx512_vnni ? Int8Path::vnni : Int8Path::highway;
  });
}

template <typename Out>
using GemmFunction = void (*)(std::size_t m, std::size_t n, std::size_t k, const std::uint8_t* a,
                              std::size_t lda, const std::int8_t* packed_b,
                              std::size_t packed_columns, const Int8Epilogue& epilogue, Out* c,
                              std::size_t ldc);

// The VNNI and AMX versions of a GEMM (none without the AVX-512 target).
template <typename Out>
struct X86Gemms {
  GemmFunction<Out> vnni = nullptr;
  GemmFunction<Out> amx = nullptr;
};
#if TYPENET_INT8_X86
constexpr X86Gemms<std::uint8_t> kGemmU8{&N_AVX3::VnniGemmU8, &N_AVX3::AmxGemmU8};
constexpr X86Gemms<float> kGemmF32{&N_AVX3::VnniGemmF32, &N_AVX3::AmxGemmF32};
#else
constexpr X86Gemms<std::uint8_t> kGemmU8;
constexpr X86Gemms<float> kGemmF32;
#endif

// AMX pays from a whole tile of rows and of depth.
constexpr std::size_t kAmxMinRows = 16;
constexpr std::size_t kAmxMinDepth = 64;

template <typename Out>
void DispatchGemm(const X86Gemms<Out>& x86, GemmFunction<Out> highway, std::size_t m, std::size_t n,
                  std::size_t k, const std::uint8_t* a, std::size_t lda,
                  const std::int8_t* packed_b, std::size_t packed_columns,
                  const Int8Epilogue& epilogue, Out* c, std::size_t ldc) {
  if (m == 0 || n == 0) return;
  switch (ChosenPath()) {
    case Int8Path::amx:
      if (m >= kAmxMinRows && int8_depth(k) >= kAmxMinDepth) {
        const std::size_t tiled = m / kAmxMinRows * kAmxMinRows;
        x86.amx(tiled, n, k, a, lda, packed_b, packed_columns, epilogue, c, ldc);
        if (tiled != m)
          x86.vnni(m - tiled, n, k, a + tiled * lda, lda, packed_b, packed_columns, epilogue,
                   c + tiled * ldc, ldc);
        return;
      }
      [[fallthrough]];
    case Int8Path::vnni:
      return x86.vnni(m, n, k, a, lda, packed_b, packed_columns, epilogue, c, ldc);
    default: return highway(m, n, k, a, lda, packed_b, packed_columns, epilogue, c, ldc);
  }
}

}  // namespace

namespace detail {

bool path_available(Int8Path path) noexcept {
  switch (path) {
    case Int8Path::vnni: return x86::features().avx512_vnni;
    case Int8Path::amx: return x86::features().amx_int8;
    default: return true;
  }
}

bool force_path(Int8Path path) noexcept { return path_choice.force(path, path_available(path)); }

}  // namespace detail

void int8_gemm_u8(std::size_t m, std::size_t n, std::size_t k, const std::uint8_t* a,
                  std::size_t lda, const std::int8_t* packed_b, std::size_t packed_columns,
                  const Int8Epilogue& epilogue, std::uint8_t* c, std::size_t ldc) noexcept {
  DispatchGemm(kGemmU8, HWY_DYNAMIC_DISPATCH(GemmU8), m, n, k, a, lda, packed_b, packed_columns,
               epilogue, c, ldc);
}

void int8_gemm_f32(std::size_t m, std::size_t n, std::size_t k, const std::uint8_t* a,
                   std::size_t lda, const std::int8_t* packed_b, std::size_t packed_columns,
                   const Int8Epilogue& epilogue, float* c, std::size_t ldc) noexcept {
  DispatchGemm(kGemmF32, HWY_DYNAMIC_DISPATCH(GemmF32), m, n, k, a, lda, packed_b, packed_columns,
               epilogue, c, ldc);
}

void int8_im2col(const std::uint8_t* in, std::size_t h, std::size_t w, std::size_t c,
                 std::size_t kh, std::size_t kw, std::size_t stride, std::size_t pad_top,
                 std::size_t pad_left, std::size_t oh, std::size_t ow, std::uint8_t pad_value,
                 std::uint8_t* col, std::size_t ldcol) noexcept {
  HWY_DYNAMIC_DISPATCH(Im2Col)
  (in, h, w, c, kh, kw, stride, pad_top, pad_left, oh, ow, pad_value, col, ldcol);
}

void int8_maxpool(const std::uint8_t* in, std::size_t h, std::size_t w, std::size_t c,
                  std::size_t pool, std::size_t stride, std::size_t oh, std::size_t ow,
                  std::uint8_t* out) noexcept {
  HWY_DYNAMIC_DISPATCH(MaxpoolU8)(in, h, w, c, pool, stride, oh, ow, out);
}

void quantize_u8(const float* x, std::size_t count, float inverse_scale, float zero_point,
                 std::uint8_t* q) noexcept {
  HWY_DYNAMIC_DISPATCH(QuantizeU8)(x, count, inverse_scale, zero_point, q);
}

void dequantize_u8(const std::uint8_t* q, std::size_t count, float scale, float zero_point,
                   float* x) noexcept {
  HWY_DYNAMIC_DISPATCH(DequantizeU8)(q, count, scale, zero_point, x);
}

const char* int8_kernel_path() noexcept {
  switch (ChosenPath()) {
    case Int8Path::amx: return "amx";
    case Int8Path::vnni: return "vnni";
    default: return simd_target_name();
  }
}

}  // namespace typenet::kernels
#endif  // HWY_ONCE
