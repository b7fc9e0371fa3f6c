// Winograd F(4x4, 3x3) convolution (typenet/kernels/winograd.hpp), compiled once per Highway
// target and dispatched at run time.
//
// Every transform is a "sandwich" out = L in L^T of a tile of channel vectors by one of the
// constant matrices of winograd_matrices.h, unrolled at compile time so that zero coefficients
// vanish and +-1 cost an addition; the channels ride in the vector lanes (channels last), so a
// tile needs no transposition. The 36 products of a block of tiles are small GEMMs whose A is
// read in place (any strides: the weight gradient reads V transposed) and whose C stays in
// registers for the whole depth.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/kernels/winograd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstddef>

#include "src/kernels/winograd_matrices.h"
#include "typenet/kernels/kernels.hpp"
#include "typenet/kernels/winograd.hpp"

HWY_BEFORE_NAMESPACE();
namespace typenet::kernels::HWY_NAMESPACE {
namespace {

namespace hn = hwy::HWY_NAMESPACE;
namespace wm = winograd_matrices;
using winograd::kPoints;
using winograd::kTile;
using winograd::kWindow;

using D = hn::CappedTag<float, 16>;
using D1 = hn::CappedTag<float, 1>;  // the channels past the last whole vector, one at a time

// sum += coefficient * x, where the coefficient is a compile-time constant once inlined and
// unrolled: zeros vanish, +-1 are an addition. `started` says whether sum holds a term yet.
template <class DV, class V>
HWY_INLINE void AddTerm(DV d, float coefficient, V x, V& sum, bool& started) {
  if (coefficient == 0.0f) return;
  if (!started) {
    sum = coefficient == 1.0f    ? x
          : coefficient == -1.0f ? hn::Neg(x)
                                 : hn::Mul(hn::Set(d, coefficient), x);
    started = true;
  } else if (coefficient == 1.0f) {
    sum = hn::Add(sum, x);
  } else if (coefficient == -1.0f) {
    sum = hn::Sub(sum, x);
  } else {
    sum = hn::MulAdd(hn::Set(d, coefficient), x, sum);
  }
}

// out = L in L^T for a P x Q matrix L and a Q x Q tile of vectors, the tile read by in(k, l)
// and the result written by out(i, j, value): L's rows down each column of the tile as it is
// read, then along the rows. Unrolled whole, so that the tile goes from memory to registers
// once, without a copy of it in memory.
template <std::size_t P, std::size_t Q, class DV, class In, class Out>
HWY_INLINE void Sandwich(DV d, const double (&L)[P][Q], const In& in, const Out& out) {
  using V = hn::Vec<DV>;
  V half[P][Q];
#pragma GCC unroll 8
  for (std::size_t l = 0; l < Q; ++l) {
    V column[Q];
#pragma GCC unroll 8
    for (std::size_t k = 0; k < Q; ++k) column[k] = in(k, l);
#pragma GCC unroll 8
    for (std::size_t i = 0; i < P; ++i) {
      V sum = hn::Zero(d);
      bool started = false;
#pragma GCC unroll 8
      for (std::size_t k = 0; k < Q; ++k) AddTerm(d, float(L[i][k]), column[k], sum, started);
      half[i][l] = sum;
    }
  }
#pragma GCC unroll 8
  for (std::size_t i = 0; i < P; ++i) {
#pragma GCC unroll 8
    for (std::size_t j = 0; j < P; ++j) {
      V sum = hn::Zero(d);
      bool started = false;
#pragma GCC unroll 8
      for (std::size_t l = 0; l < Q; ++l) AddTerm(d, float(L[j][l]), half[i][l], sum, started);
      out(i, j, sum);
    }
  }
}

// Calls body(d, channel) for each vector of channels [first, end): whole vectors of D, then the
// rest one channel at a time (the same lane arithmetic).
template <class Body>
HWY_INLINE void ForChannelVectors(std::size_t first, std::size_t end, const Body& body) {
  const D d;
  const std::size_t N = hn::Lanes(d);
  std::size_t ch = first;
  for (; ch + N <= end; ch += N) body(d, ch);
  for (; ch < end; ++ch) body(D1(), ch);
}
template <class Body>
HWY_INLINE void ForChannelVectors(std::size_t count, const Body& body) {
  ForChannelVectors(0, count, body);
}

// A window of the input (or a tile of dy) at (y0, x0), clipped to the extent rows x cols.
struct Window {
  std::size_t y0, x0, rows, cols;  // the window's corner; the input's extent
  bool inside(std::size_t r, std::size_t s) const { return y0 + r < rows && x0 + s < cols; }
};

// V of one window, the channels from ch on: point p's at v + p * point_stride.
template <class DV>
HWY_INLINE void TransformWindow(DV d, const float* image, std::size_t w, std::size_t c,
                                const Window& window, std::size_t ch, float* v,
                                std::size_t point_stride) {
  Sandwich(
      d, wm::kBT,
      [&](std::size_t r, std::size_t s) {
        return window.inside(r, s)
                   ? hn::LoadU(d, image + ((window.y0 + r) * w + window.x0 + s) * c + ch)
                   : hn::Zero(d);
      },
      [&](std::size_t r, std::size_t s, auto value) {
        hn::StoreU(value, d, v + (r * kWindow + s) * point_stride + ch);
      });
}

// Tile rows [first, end).
struct TileRows {
  std::size_t first, end;
  std::size_t count() const { return end - first; }
};

// V of the tiles of tile rows `rows` of the block `block`: v[point][tile][channel], the block's
// tiles in order, its points winograd::point_stride apart.
void TransformInputRows(const float* image, std::size_t w, std::size_t c, std::size_t oh,
                        std::size_t ow, TileRows block, TileRows rows, float* v) {
  const std::size_t tiles_x = winograd::tiles(ow);
  const std::size_t point_stride = winograd::point_stride(block.count() * tiles_x * c);
  for (std::size_t ty = rows.first; ty < rows.end; ++ty)
    for (std::size_t tx = 0; tx < tiles_x; ++tx) {
      const Window window{ty * kTile, tx * kTile, oh + 2, ow + 2};
      float* tile = v + ((ty - block.first) * tiles_x + tx) * c;
      ForChannelVectors(c, [&](auto d, std::size_t ch) {
        TransformWindow(d, image, w, c, window, ch, tile, point_stride);
      });
    }
}

// C (m x n, ldc) = [C +] A B over depth k: A's element (i, p) at a[i * a_row + p * a_step], B
// k x n (ldb). One R x NV-vector tile of C, summed in registers over the whole depth.
template <std::size_t R, std::size_t NV, class DV>
HWY_INLINE void ProductTile(DV d, std::size_t k, const float* a, std::size_t a_row,
                            std::size_t a_step, const float* b, std::size_t ldb, float* c,
                            std::size_t ldc, bool accumulate) {
  using V = hn::Vec<DV>;
  const std::size_t N = hn::Lanes(d);
  V sum[R][NV];
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t v = 0; v < NV; ++v) sum[r][v] = hn::Zero(d);
  for (std::size_t p = 0; p < k; ++p) {
    V bv[NV];
    for (std::size_t v = 0; v < NV; ++v) bv[v] = hn::LoadU(d, b + p * ldb + v * N);
    for (std::size_t r = 0; r < R; ++r) {
      const V av = hn::Set(d, a[r * a_row + p * a_step]);
      for (std::size_t v = 0; v < NV; ++v) sum[r][v] = hn::MulAdd(av, bv[v], sum[r][v]);
    }
  }
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t v = 0; v < NV; ++v) {
      float* out = c + r * ldc + v * N;
      hn::StoreU(accumulate ? hn::Add(hn::LoadU(d, out), sum[r][v]) : sum[r][v], d, out);
    }
}

constexpr std::size_t kRows = 6;  // rows of a product tile: 12 accumulators of 2 vectors

template <std::size_t NV, class DV>
HWY_INLINE void ProductColumns(DV d, std::size_t m, std::size_t k, const float* a,
                               std::size_t a_row, std::size_t a_step, const float* b,
                               std::size_t ldb, float* c, std::size_t ldc, bool accumulate) {
  std::size_t i = 0;
  for (; i + kRows <= m; i += kRows)
    ProductTile<kRows, NV>(d, k, a + i * a_row, a_row, a_step, b, ldb, c + i * ldc, ldc,
                           accumulate);
  const float* ai = a + i * a_row;
  float* ci = c + i * ldc;
  switch (m - i) {
    case 5: ProductTile<5, NV>(d, k, ai, a_row, a_step, b, ldb, ci, ldc, accumulate); break;
    case 4: ProductTile<4, NV>(d, k, ai, a_row, a_step, b, ldb, ci, ldc, accumulate); break;
    case 3: ProductTile<3, NV>(d, k, ai, a_row, a_step, b, ldb, ci, ldc, accumulate); break;
    case 2: ProductTile<2, NV>(d, k, ai, a_row, a_step, b, ldb, ci, ldc, accumulate); break;
    case 1: ProductTile<1, NV>(d, k, ai, a_row, a_step, b, ldb, ci, ldc, accumulate); break;
    default: break;
  }
}

void Product(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t a_row,
             std::size_t a_step, const float* b, std::size_t ldb, float* c, std::size_t ldc,
             bool accumulate) {
  const D d;
  const std::size_t N = hn::Lanes(d);
  std::size_t j = 0;
  for (; j + 2 * N <= n; j += 2 * N)
    ProductColumns<2>(d, m, k, a, a_row, a_step, b + j, ldb, c + j, ldc, accumulate);
  for (; j + N <= n; j += N)
    ProductColumns<1>(d, m, k, a, a_row, a_step, b + j, ldb, c + j, ldc, accumulate);
  for (; j < n; ++j)
    ProductColumns<1>(D1(), m, k, a, a_row, a_step, b + j, ldb, c + j, ldc, accumulate);
}

}  // namespace

void WinogradKernelTransform(const float* kernel, std::size_t c, std::size_t filters,
                             bool transposed, float* out) {
  // U's points for channel ci, filters as the vector: then scattered (ut) or stored (u).
  const std::size_t plane = winograd::point_stride(c * filters);
  for (std::size_t ci = 0; ci < c; ++ci) {
    ForChannelVectors(filters, [&](auto d, std::size_t co) {
      Sandwich(
          d, wm::kG,
          [&](std::size_t y, std::size_t x) {
            return hn::LoadU(d, kernel + ((y * 3 + x) * c + ci) * filters + co);
          },
          [&](std::size_t r, std::size_t s, auto value) {
            float* point = out + (r * kWindow + s) * plane;
            if (!transposed) {
              hn::StoreU(value, d, point + ci * filters + co);
            } else {
              HWY_ALIGN float lanes[16];  // D's most lanes
              hn::Store(value, d, lanes);
              for (std::size_t lane = 0; lane < hn::Lanes(d); ++lane)
                point[(co + lane) * c + ci] = lanes[lane];
            }
          });
    });
  }
}

void WinogradConvForward(const float* image, std::size_t w, std::size_t c, std::size_t oh,
                         std::size_t ow, std::size_t first_tile_row, std::size_t end_tile_row,
                         const float* u, std::size_t filters, const float* bias, float* out,
                         float* scratch, const KernelTeam& team) {
  const std::size_t tiles_x = winograd::tiles(ow);
  // A team's members each transform their part of a block's windows, then, once all are
  // there, compute their part of the filters' products and outputs.
  const auto [first_filter, end_filter] = team.part(filters, kWinogradFilterGranule);
  for (std::size_t first = first_tile_row; first < end_tile_row;
       first += winograd::block_rows(ow)) {
    const TileRows block{first, std::min(end_tile_row, first + winograd::block_rows(ow))};
    const std::size_t tiles = block.count() * tiles_x;
    const std::size_t v_points = winograd::point_stride(tiles * c);
    const std::size_t m_points = winograd::point_stride(tiles * filters);
    const std::size_t u_points = winograd::point_stride(c * filters);
    float* v = scratch;                        // [point][tile][c]
    float* products = v + kPoints * v_points;  // [point][tile][filters]
    const auto [first_row, end_row] = team.part(block.count());
    TransformInputRows(image, w, c, oh, ow, block, {first + first_row, first + end_row}, v);
    team.sync();
    for (std::size_t p = 0; p < kPoints; ++p)
      Product(tiles, end_filter - first_filter, c, v + p * v_points, c, 1,
              u + p * u_points + first_filter, filters, products + p * m_points + first_filter,
              filters, false);
    for (std::size_t t = 0; t < tiles; ++t) {
      const std::size_t y0 = (first + t / tiles_x) * kTile, x0 = (t % tiles_x) * kTile;
      const std::size_t rows = std::min(kTile, oh - y0), cols = std::min(kTile, ow - x0);
      ForChannelVectors(first_filter, end_filter, [&](auto d, std::size_t co) {
        const auto b = bias ? hn::LoadU(d, bias + co) : hn::Zero(d);
        Sandwich(
            d, wm::kAT,
            [&](std::size_t r, std::size_t s) {
              return hn::LoadU(d, products + (r * kWindow + s) * m_points + t * filters + co);
            },
            [&](std::size_t r, std::size_t s, auto value) {
              if (r < rows && s < cols)
                hn::StoreU(hn::Add(value, b), d, out + ((y0 + r) * ow + x0 + s) * filters + co);
            });
      });
    }
    team.sync();  // the block's scratch is free again, its outputs whole
  }
}

void WinogradConvBackward(const float* image, std::size_t w, std::size_t c, std::size_t oh,
                          std::size_t ow, const float* dy, const float* ut, std::size_t filters,
                          bool accumulate, float* du, float* dimage, float* scratch) {
  const std::size_t tiles_x = winograd::tiles(ow), tiles_y = winograd::tiles(oh);
  for (std::size_t first = 0; first < tiles_y; first += winograd::block_rows(ow)) {
    const std::size_t end = std::min(tiles_y, first + winograd::block_rows(ow));
    const std::size_t tiles = (end - first) * tiles_x;
    const std::size_t v_points = winograd::point_stride(tiles * c);
    const std::size_t m_points = winograd::point_stride(tiles * filters);
    const std::size_t u_points = winograd::point_stride(c * filters);
    float* v = scratch;                   // [point][tile][c]
    float* dm = v + kPoints * v_points;   // [point][tile][filters]
    float* dv = dm + kPoints * m_points;  // [point][tile][c]
    // The products' gradients: dM = A dY A^T, dY's tile zero past the output's edges.
    for (std::size_t t = 0; t < tiles; ++t) {
      const Window tile{(first + t / tiles_x) * kTile, (t % tiles_x) * kTile, oh, ow};
      ForChannelVectors(filters, [&](auto d, std::size_t co) {
        Sandwich(
            d, wm::kA.at,
            [&](std::size_t r, std::size_t s) {
              return tile.inside(r, s)
                         ? hn::LoadU(d, dy + ((tile.y0 + r) * ow + tile.x0 + s) * filters + co)
                         : hn::Zero(d);
            },
            [&](std::size_t r, std::size_t s, auto value) {
              hn::StoreU(value, d, dm + (r * kWindow + s) * m_points + t * filters + co);
            });
      });
    }
    TransformInputRows(image, w, c, oh, ow, {first, end}, {first, end}, v);
    // dU += V^T dM, point by point.
    for (std::size_t p = 0; p < kPoints; ++p)
      Product(c, filters, tiles, v + p * v_points, 1, c, dm + p * m_points, filters,
              du + p * u_points, filters, accumulate || first != 0);
    if (!dimage) continue;
    // dV = dM U^T, then the windows' gradients B dV B^T added into the image's.
    for (std::size_t p = 0; p < kPoints; ++p)
      Product(tiles, c, filters, dm + p * m_points, filters, 1, ut + p * u_points, c,
              dv + p * v_points, c, false);
    for (std::size_t t = 0; t < tiles; ++t) {
      const Window window{(first + t / tiles_x) * kTile, (t % tiles_x) * kTile, oh + 2, ow + 2};
      ForChannelVectors(c, [&](auto d, std::size_t ch) {
        Sandwich(
            d, wm::kB.at,
            [&](std::size_t r, std::size_t s) {
              return hn::LoadU(d, dv + (r * kWindow + s) * v_points + t * c + ch);
            },
            [&](std::size_t r, std::size_t s, auto value) {
              if (!window.inside(r, s)) return;
              float* at = dimage + ((window.y0 + r) * w + window.x0 + s) * c + ch;
              hn::StoreU(hn::Add(hn::LoadU(d, at), value), d, at);
            });
      });
    }
  }
}

void WinogradKernelGradient(const float* du, std::size_t c, std::size_t filters, float beta,
                            float* dkernel) {
  const std::size_t plane = winograd::point_stride(c * filters);
  for (std::size_t ci = 0; ci < c; ++ci) {
    ForChannelVectors(filters, [&](auto d, std::size_t co) {
      Sandwich(
          d, wm::kGT.at,
          [&](std::size_t r, std::size_t s) {
            return hn::LoadU(d, du + (r * kWindow + s) * plane + ci * filters + co);
          },
          [&](std::size_t y, std::size_t x, auto value) {
            float* at = dkernel + ((y * 3 + x) * c + ci) * filters + co;
            hn::StoreU(beta == 0.0f ? value : hn::Add(hn::LoadU(d, at), value), d, at);
          });
    });
  }
}

}  // namespace typenet::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace typenet::kernels {

HWY_EXPORT(WinogradKernelTransform);
HWY_EXPORT(WinogradConvForward);
HWY_EXPORT(WinogradConvBackward);
HWY_EXPORT(WinogradKernelGradient);

void winograd_kernel_transform(const float* kernel, std::size_t c, std::size_t filters,
                               bool transposed, float* out) noexcept {
  HWY_DYNAMIC_DISPATCH(WinogradKernelTransform)(kernel, c, filters, transposed, out);
}

void winograd_conv_forward(const float* image, std::size_t w, std::size_t c, std::size_t oh,
                           std::size_t ow, std::size_t first_tile_row, std::size_t end_tile_row,
                           const float* u, std::size_t filters, const float* bias, float* out,
                           float* scratch, const KernelTeam& team) noexcept {
  HWY_DYNAMIC_DISPATCH(WinogradConvForward)
  (image, w, c, oh, ow, first_tile_row, end_tile_row, u, filters, bias, out, scratch, team);
}

void winograd_conv_backward(const float* image, std::size_t w, std::size_t c, std::size_t oh,
                            std::size_t ow, const float* dy, const float* ut, std::size_t filters,
                            bool accumulate, float* du, float* dimage, float* scratch) noexcept {
  HWY_DYNAMIC_DISPATCH(WinogradConvBackward)
  (image, w, c, oh, ow, dy, ut, filters, accumulate, du, dimage, scratch);
}

void winograd_kernel_gradient(const float* du, std::size_t c, std::size_t filters, float beta,
                              float* dkernel) noexcept {
  HWY_DYNAMIC_DISPATCH(WinogradKernelGradient)(du, c, filters, beta, dkernel);
}

}  // namespace typenet::kernels
#endif  // HWY_ONCE
