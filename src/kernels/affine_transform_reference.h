// The reference affine_transform (affine_transform.cpp) a few output pixels at a time: its SIMD
// version (affine_transform_simd.cpp) leaves to it the pixels that float lanes cannot compute
// exactly as it does.
#pragma once

#include <cstddef>

#include "typenet/kernels/kernels.hpp"

namespace typenet::kernels::reference {

// Beyond this distance from the image a coordinate reads nothing (kernels.hpp).
inline constexpr float kAffineFarOut = 0x1p40f;

// affine_transform's output pixels [first_x, end_x) of row `row`; the other pixels of out are
// left as they are.
void affine_transform_pixels(const float* in, std::size_t h, std::size_t w, std::size_t c,
                             const float* transform, Interpolation interpolation,
                             FillMode fill_mode, float fill_value, std::size_t row,
                             std::size_t first_x, std::size_t end_x, float* out) noexcept;

}  // namespace typenet::kernels::reference
