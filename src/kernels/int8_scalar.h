// The scalar arithmetic of the 8-bit kernels' epilogue (include/typenet/kernels/int8.hpp): the
// references use it, and so do the Highway targets without a fused multiply-add (SSSE3, SSE4,
// EMU128), whose separate multiply and add would round twice.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace typenet::kernels::int8_scalar {

// y = fma(float(sum), scale, offset): a column's output before any output quantization.
inline float epilogue_value(std::int32_t sum, float scale, float offset) {
  return std::fma(float(sum), scale, offset);
}

// clamp(nearest_even(fma(y, inverse_scale, zero_point)), low, 255); a NaN gives zero_point.
inline std::uint8_t to_code(float y, float inverse_scale, float zero_point, float low) {
  if (std::isnan(y)) return std::uint8_t(zero_point);
  const float code = std::nearbyint(std::fma(y, inverse_scale, zero_point));
  return std::uint8_t(std::clamp(code, low, 255.0f));
}

}  // namespace typenet::kernels::int8_scalar
