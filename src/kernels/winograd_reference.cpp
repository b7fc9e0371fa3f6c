// Scalar reference of the Winograd F(4x4, 3x3) kernels (typenet/kernels/winograd.hpp): the same
// transforms and products, tile by tile, in double with the exact matrices, each result rounded
// to float once. The oracle of the SIMD kernels; clarity over speed.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "src/kernels/winograd_matrices.h"
#include "typenet/kernels/kernels.hpp"
#include "typenet/kernels/winograd.hpp"

namespace typenet::kernels::reference {

namespace {

namespace wm = winograd_matrices;
using winograd::kPoints;
using winograd::kTile;
using winograd::kWindow;

// out = L in L^T, L P x Q, in Q x Q (row-major, double).
template <std::size_t P, std::size_t Q>
std::vector<double> sandwich(const double (&L)[P][Q], const std::vector<double>& in) {
  std::vector<double> out(P * P, 0.0);
  for (std::size_t i = 0; i < P; ++i)
    for (std::size_t j = 0; j < P; ++j)
      for (std::size_t k = 0; k < Q; ++k)
        for (std::size_t l = 0; l < Q; ++l) out[i * P + j] += L[i][k] * in[k * Q + l] * L[j][l];
  return out;
}

// V of the window at (y0, x0) of one channel: zeros past `rows` x `cols`.
std::vector<double> window_points(const float* image, std::size_t w, std::size_t c, std::size_t ch,
                                  std::size_t y0, std::size_t x0, std::size_t rows,
                                  std::size_t cols) {
  std::vector<double> d(kPoints, 0.0);
  for (std::size_t r = 0; r < kWindow; ++r)
    for (std::size_t s = 0; s < kWindow; ++s)
      if (y0 + r < rows && x0 + s < cols)
        d[r * kWindow + s] = image[((y0 + r) * w + x0 + s) * c + ch];
  return sandwich(wm::kBT, d);
}

}  // namespace

void winograd_kernel_transform(const float* kernel, std::size_t c, std::size_t filters,
                               bool transposed, float* out) noexcept {
  const std::size_t plane = winograd::point_stride(c * filters);  // points apart
  for (std::size_t ci = 0; ci < c; ++ci)
    for (std::size_t co = 0; co < filters; ++co) {
      std::vector<double> g(9);
      for (std::size_t k = 0; k < 9; ++k) g[k] = kernel[(k * c + ci) * filters + co];
      const std::vector<double> u = sandwich(wm::kG, g);
      for (std::size_t p = 0; p < kPoints; ++p)
        out[p * plane + (transposed ? co * c + ci : ci * filters + co)] = float(u[p]);
    }
}

void winograd_conv_forward(const float* image, std::size_t w, std::size_t c, std::size_t oh,
                           std::size_t ow, std::size_t first_tile_row, std::size_t end_tile_row,
                           const float* u, std::size_t filters, const float* bias, float* out,
                           float*, const KernelTeam& team) noexcept {
  const std::size_t plane = winograd::point_stride(c * filters);  // points apart
  const auto [first_filter, end_filter] = team.part(filters, kWinogradFilterGranule);
  for (std::size_t ty = first_tile_row; ty < end_tile_row; ++ty)
    for (std::size_t tx = 0; tx < winograd::tiles(ow); ++tx) {
      std::vector<std::vector<double>> v(c);
      for (std::size_t ch = 0; ch < c; ++ch)
        v[ch] = window_points(image, w, c, ch, ty * kTile, tx * kTile, oh + 2, ow + 2);
      for (std::size_t co = first_filter; co < end_filter; ++co) {
        std::vector<double> m(kPoints, 0.0);
        for (std::size_t p = 0; p < kPoints; ++p)
          for (std::size_t ch = 0; ch < c; ++ch)
            m[p] += v[ch][p] * double(u[p * plane + ch * filters + co]);
        const std::vector<double> y = sandwich(wm::kAT, m);
        for (std::size_t r = 0; r < kTile && ty * kTile + r < oh; ++r)
          for (std::size_t s = 0; s < kTile && tx * kTile + s < ow; ++s)
            out[((ty * kTile + r) * ow + tx * kTile + s) * filters + co] =
                float(y[r * kTile + s] + (bias ? double(bias[co]) : 0.0));
      }
    }
}

void winograd_conv_backward(const float* image, std::size_t w, std::size_t c, std::size_t oh,
                            std::size_t ow, const float* dy, const float* ut, std::size_t filters,
                            bool accumulate, float* du_out, float* dimage, float*) noexcept {
  const std::size_t plane = winograd::point_stride(c * filters);  // points apart
  std::vector<double> du(winograd::kernel_floats(c, filters), 0.0);
  std::vector<double> dx(dimage ? (oh + 2) * w * c : 0, 0.0);
  for (std::size_t ty = 0; ty < winograd::tiles(oh); ++ty)
    for (std::size_t tx = 0; tx < winograd::tiles(ow); ++tx) {
      std::vector<std::vector<double>> dm(filters);
      for (std::size_t co = 0; co < filters; ++co) {
        std::vector<double> g(kTile * kTile, 0.0);
        for (std::size_t r = 0; r < kTile; ++r)
          for (std::size_t s = 0; s < kTile; ++s)
            if (ty * kTile + r < oh && tx * kTile + s < ow)
              g[r * kTile + s] = dy[((ty * kTile + r) * ow + tx * kTile + s) * filters + co];
        dm[co] = sandwich(wm::kA.at, g);
      }
      for (std::size_t ch = 0; ch < c; ++ch) {
        const std::vector<double> v =
            window_points(image, w, c, ch, ty * kTile, tx * kTile, oh + 2, ow + 2);
        for (std::size_t p = 0; p < kPoints; ++p)
          for (std::size_t co = 0; co < filters; ++co)
            du[p * plane + ch * filters + co] += v[p] * dm[co][p];
        if (!dimage) continue;
        std::vector<double> dv(kPoints, 0.0);
        for (std::size_t p = 0; p < kPoints; ++p)
          for (std::size_t co = 0; co < filters; ++co)
            dv[p] += dm[co][p] * double(ut[p * plane + co * c + ch]);
        const std::vector<double> window = sandwich(wm::kB.at, dv);
        for (std::size_t r = 0; r < kWindow; ++r)
          for (std::size_t s = 0; s < kWindow; ++s) {
            const std::size_t y = ty * kTile + r, x = tx * kTile + s;
            if (y < oh + 2 && x < ow + 2) dx[(y * w + x) * c + ch] += window[r * kWindow + s];
          }
      }
    }
  for (std::size_t i = 0; i < dx.size(); ++i) dimage[i] += float(dx[i]);
  for (std::size_t i = 0; i < du.size(); ++i)
    du_out[i] = float(du[i] + (accumulate ? double(du_out[i]) : 0.0));
}

void winograd_kernel_gradient(const float* du, std::size_t c, std::size_t filters, float beta,
                              float* dkernel) noexcept {
  const std::size_t plane = winograd::point_stride(c * filters);  // points apart
  for (std::size_t ch = 0; ch < c; ++ch)
    for (std::size_t co = 0; co < filters; ++co) {
      std::vector<double> m(kPoints);
      for (std::size_t p = 0; p < kPoints; ++p) m[p] = du[p * plane + ch * filters + co];
      const std::vector<double> g = sandwich(wm::kGT.at, m);
      for (std::size_t k = 0; k < 9; ++k) {
        float& at = dkernel[(k * c + ch) * filters + co];
        at = float(g[k] + (beta == 0.0f ? 0.0 : double(at)));
      }
    }
}

}  // namespace typenet::kernels::reference
