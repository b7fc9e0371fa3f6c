// Whether two float sequences are bit for bit the same (NaNs and the sign of zero included): the
// tests' check of "the same bits", where == would pass -0 for 0 and fail NaN for NaN.
#pragma once

#include <cstring>
#include <span>

namespace typenet::testing {

inline bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}

}  // namespace typenet::testing
