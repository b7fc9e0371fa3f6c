// Whether two float sequences are bit for bit the same (NaNs and the sign of zero included): the
// tests' check of "the same bits", where == would pass -0 for 0 and fail NaN for NaN.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <span>

namespace typenet::testing {

// By value, not memcmp: an empty span may hold a null pointer, which memcmp must not be given.
inline bool same_bits(std::span<const float> a, std::span<const float> b) {
  const auto bits = [](float value) { return std::bit_cast<std::uint32_t>(value); };
  return std::ranges::equal(a, b, {}, bits, bits);
}

}  // namespace typenet::testing
