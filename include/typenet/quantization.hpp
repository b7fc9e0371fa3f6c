// 8-bit inference, the layers' side: how a tensor's uint8 codes stand for floats (Quantization),
// what a bound layer's `int8` member works with (Int8Quantize when a net is quantized, Int8Call
// when it runs; the contract is in layers/layer.hpp), and the helpers Conv and Dense share (one
// symmetric int8 scale per output column, the GEMM with its fused epilogue). The machinery that
// quantizes and runs a whole net is quantized.hpp; the kernels are kernels/int8.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "typenet/kernels/int8.hpp"
#include "typenet/layers/layer.hpp"

namespace typenet {

// Codes q of a tensor stand for scale * (q - zero_point). The zero point is an integer in
// [0, 255]: 0 is exactly representable (Same padding pads with it, ReLU clamps at it).
struct Quantization {
  float scale = 1.0f;
  // Kept beside the scale rather than recomputed as 1 / scale: for the range [0, 1] of MNIST
  // pixels it is exactly 255, so that the codes of the pixels k / 255 are exactly k.
  float inverse_scale = 1.0f;
  float zero_point = 0.0f;

  friend bool operator==(const Quantization&, const Quantization&) = default;
};

// Whether q can be used: positive scales, an integer zero point in [0, 255].
inline bool is_valid(const Quantization& q) noexcept {
  return q.scale > 0 && q.inverse_scale > 0 && std::isfinite(q.scale) &&
         std::isfinite(q.inverse_scale) && q.zero_point >= 0 && q.zero_point <= 255 &&
         q.zero_point == std::nearbyint(q.zero_point);
}

// The quantization of values in [low, high], widened to hold 0: 255 steps over the range. An
// empty or non-finite range (a tensor that is always 0) gets scale 1, zero point 0.
inline Quantization quantization_of_range(float low, float high) noexcept {
  const double lo = std::min(double(low), 0.0), hi = std::max(double(high), 0.0);
  const double range = hi - lo;
  if (!(range > 0) || !std::isfinite(range)) return {};
  Quantization q;
  q.scale = float(range / 255.0);
  q.inverse_scale = float(255.0 / range);
  q.zero_point = float(std::clamp(std::nearbyint(-lo * 255.0 / range), 0.0, 255.0));
  return q;
}

// What a layer's int8::quantize gets: its float parameters (the Net's layout) and its input's
// quantization, and where its 8-bit state goes.
struct Int8Quantize {
  const float* params = nullptr;
  Quantization in;
  std::int8_t* weights = nullptr;  // int8::weight_bytes
  float* channel = nullptr;        // int8::channel_floats
};

// What a layer's int8::forward gets besides its input and output.
struct Int8Call {
  const std::int8_t* weights = nullptr;  // as int8::quantize left them
  const float* channel = nullptr;
  Quantization in;   // of the input codes
  Quantization out;  // of the output, when the layer writes codes
  // Elements from one image to the next: codes rows are padded to kernels::int8_depth (a GEMM
  // reads its rows in whole groups of four).
  std::size_t in_stride = 0, out_stride = 0;
  // int8::scratch_bytes; in a team the members share it, each writing only its part.
  std::uint8_t* scratch = nullptr;
  Team team{};
};

// How Quantized places a layer's output codes (layers/layer.hpp, "8-bit inference").
enum class Int8Role {
  PassThrough,       // the output is the input's codes, untouched (Flatten, Dropout)
  SameQuantization,  // codes in the input's quantization, by a monotone map (MaxPool, ReLU)
  Requantizes,       // the output has a quantization of its own, from calibration
};

// The defaults of an int8 member: a layer's `struct int8 : Int8Member` overrides what applies.
struct Int8Member {
  static constexpr Int8Role role = Int8Role::Requantizes;
  static constexpr std::size_t weight_bytes = 0;
  static constexpr std::size_t channel_floats = 0;
  static constexpr std::size_t scratch_bytes = 0;
  static constexpr bool codes_out = true;
  static constexpr bool team_split = false;
  static void quantize(const Int8Quantize&) {}
};

// How a GEMM layer's int8 member keeps its packed k x n weights in a model file: the k x n codes
// without the packing's padding (Dense<10>'s columns are padded to 16), packed again on loading.
template <std::size_t K, std::size_t N>
struct Int8GemmWeights {
  static constexpr std::size_t stored_weight_bytes = K * N;
  static void store_weights(const std::int8_t* packed, std::int8_t* stored) noexcept {
    using kernels::kInt8DepthGroup;
    const std::size_t columns = kernels::int8_padded_columns(N);
    for (std::size_t p = 0; p < K; ++p)
      for (std::size_t j = 0; j < N; ++j)
        stored[p * N + j] =
            packed[((p / kInt8DepthGroup) * columns + j) * kInt8DepthGroup + p % kInt8DepthGroup];
  }
  static void restore_weights(const std::int8_t* stored, std::int8_t* packed) noexcept {
    kernels::pack_int8_weights(stored, K, N, packed);
  }
};

namespace detail {

// A GEMM layer's int8 state: the k x n kernel (kernel[p * n + j], as Dense and Conv store
// theirs) with one symmetric scale per column, max |w| / 127 (1 for a zero column), packed
// (kernels::pack_int8_weights); its channel floats are the epilogue's scale of every padded
// column, then its offset: the bias, minus the input's zero point times the column's weights.
inline void quantize_gemm_layer(const Int8Quantize& q, const float* kernel, const float* bias,
                                std::size_t k, std::size_t n) {
  const std::size_t columns = kernels::int8_padded_columns(n);
  std::vector<std::int8_t> codes(k * n);
  std::fill_n(q.channel, 2 * columns, 0.0f);
  for (std::size_t j = 0; j < n; ++j) {
    float largest = 0;
    for (std::size_t p = 0; p < k; ++p) largest = std::max(largest, std::abs(kernel[p * n + j]));
    const float weight_scale = largest > 0 ? largest / 127.0f : 1.0f;
    std::int64_t column_sum = 0;
    for (std::size_t p = 0; p < k; ++p) {
      const float code =
          std::clamp(std::nearbyint(kernel[p * n + j] / weight_scale), -127.0f, 127.0f);
      codes[p * n + j] = std::int8_t(code);
      column_sum += std::int64_t(code);
    }
    const double scale = double(q.in.scale) * double(weight_scale);
    q.channel[j] = float(scale);
    q.channel[columns + j] = float(double(bias[j]) - double(q.in.zero_point) *
                                                         double(q.channel[j]) * double(column_sum));
  }
  kernels::pack_int8_weights(codes.data(), k, n, q.weights);
}

// Columns [first, end) of the GEMM of m rows of input codes (row i at a + i * lda) with a layer's
// packed k x n weights, written to c (row i at c + i * ldc, column first at c): as codes of
// call.out (ReLU fused when `relu`), or as floats before the activation. `first` is a multiple
// of kernels::kInt8ColumnGroup.
inline void int8_gemm_columns(const Int8Call& call, std::size_t m, std::size_t k, std::size_t n,
                              std::size_t first, std::size_t end, const std::uint8_t* a,
                              std::size_t lda, bool relu, std::uint8_t* c,
                              std::size_t ldc) noexcept {
  if (first >= end || m == 0) return;
  const std::size_t columns = kernels::int8_padded_columns(n);
  const kernels::Int8Epilogue epilogue{call.channel + first, call.channel + columns + first,
                                       call.out.inverse_scale, call.out.zero_point, relu};
  kernels::int8_gemm_u8(m, end - first, k, a, lda, call.weights + first * kernels::kInt8DepthGroup,
                        columns, epilogue, c, ldc);
}
inline void int8_gemm_columns(const Int8Call& call, std::size_t m, std::size_t k, std::size_t n,
                              std::size_t first, std::size_t end, const std::uint8_t* a,
                              std::size_t lda, bool, float* c, std::size_t ldc) noexcept {
  if (first >= end || m == 0) return;
  const std::size_t columns = kernels::int8_padded_columns(n);
  const kernels::Int8Epilogue epilogue{call.channel + first, call.channel + columns + first};
  kernels::int8_gemm_f32(m, end - first, k, a, lda, call.weights + first * kernels::kInt8DepthGroup,
                         columns, epilogue, c, ldc);
}

}  // namespace detail

}  // namespace typenet
