// The transforms of Winograd's F(4x4, 3x3) (typenet/kernels/winograd.hpp), as Lavin and Gray give
// them (interpolation points 0, +-1, +-2, infinity), and their transposes: each transform is
// out = L in L^T for one of these L. In double, exactly (G's sixths are not floats); the SIMD
// kernels round them to float.
#pragma once

#include <cstddef>

namespace typenet::kernels::winograd_matrices {

template <std::size_t P, std::size_t Q>
struct Matrix {
  double at[P][Q];
};

template <std::size_t P, std::size_t Q>
constexpr Matrix<Q, P> transpose(const double (&m)[P][Q]) {
  Matrix<Q, P> t{};
  for (std::size_t i = 0; i < P; ++i)
    for (std::size_t j = 0; j < Q; ++j) t.at[j][i] = m[i][j];
  return t;
}

// V = B^T d B: a 6x6 window of input pixels to its 36 points.
inline constexpr double kBT[6][6] = {
    {4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
    {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1},
};
// U = G g G^T: a 3x3 kernel to its 36 points.
inline constexpr double kG[6][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
};
// Y = A^T M A: 36 points to a 4x4 tile of output pixels.
inline constexpr double kAT[4][6] = {
    {1, 1, 1, 1, 1, 0},
    {0, 1, -1, 2, -2, 0},
    {0, 1, 1, 4, 4, 0},
    {0, 1, -1, 8, -8, 1},
};
// The backward passes' transposes: dM = A dY A^T, dd = B dV B^T, dg = G^T dU G.
// (Matrix values: their `at` is the array.)
inline constexpr auto kA = transpose(kAT);
inline constexpr auto kB = transpose(kBT);
inline constexpr auto kGT = transpose(kG);

}  // namespace typenet::kernels::winograd_matrices
