// The arithmetic of a Model's Conv and Dense products, as Keras' dtype policies name it:
//
//   Float32        float products and sums (Keras' default policy "float32").
//   MixedBfloat16  both factors rounded to bfloat16 (8 significant bits, nearest even), exact
//                  products summed in float; weights, activations, gradients and the optimizer
//                  stay float ("mixed_bfloat16", PyTorch's CPU autocast). A product's relative
//                  error is then at most about 2^-8 of the sum of its terms' magnitudes.
//   Auto           MixedBfloat16 where it is faster than float: on CPUs with AMX tiles, and
//                  on AMD Zen 4, whose AVX512_BF16 dot products do twice the multiply-adds of
//                  its float FMAs; Float32 elsewhere (Sapphire Rapids without its tiles runs
//                  them on one port against two FMA ports). The seed CNN's 8-seed mean test
//                  accuracy stays at 99.0 % either way (docs/performance.md).
//
// How a Model computes the products of its 3x3, stride-1 Conv layers with 8 or more channels
// and filters (ModelOptions::convolution; kernels/winograd.hpp):
//
//   Auto    Winograd's F(4x4, 3x3) in float: 4 times fewer multiplies than the direct product
//           (less where tiles are clipped), forward and, in layers of 16 tiles or more,
//           backward; each output within about 1e-6 of the magnitude of its terms, where the
//           direct product's error is some 1e-7 (docs/performance.md). In Float32; and in
//           MixedBfloat16 on CPUs without AMX tiles, where these float products beat the bf16
//           ones (a layer's precision is then float's, finer than bfloat16's 2^-8).
//   Direct  the patches times the kernel, as Keras' CPU kernels compute them.
//
// Net::predict, and a Model's predict of fewer images than threads, are always direct.
//
// ModelOptions::precision (default Auto) governs what a Model computes: fit, evaluate,
// predict. Net::predict, the embedded and batch-1 path, is always Float32, and so is a Model's
// predict of fewer images than threads, which shares each image among the threads through it.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace typenet {

enum class Precision : std::uint8_t { Auto, Float32, MixedBfloat16 };
enum class ConvAlgorithm : std::uint8_t { Auto, Direct };

namespace kernels {
// Whether the bfloat16 kernels run faster than the float ones on this CPU: AMX tiles, or
// AVX512_BF16 dot products at twice the float FMA's rate (AMD Zen 4).
bool bf16_faster_than_float() noexcept;
// Whether they also beat Winograd's float products of 3x3 convolutions (AMX tiles).
bool bf16_faster_than_winograd() noexcept;
}  // namespace kernels

// Auto made concrete for this CPU; the others as they are.
inline Precision resolve(Precision precision) noexcept {
  if (precision != Precision::Auto) return precision;
  return kernels::bf16_faster_than_float() ? Precision::MixedBfloat16 : Precision::Float32;
}

// Keras' policy names: "float32", "mixed_bfloat16"; and "auto".
constexpr std::string_view to_string(Precision precision) noexcept {
  switch (precision) {
    case Precision::Float32: return "float32";
    case Precision::MixedBfloat16: return "mixed_bfloat16";
    case Precision::Auto: break;
  }
  return "auto";
}
// The inverse of to_string; throws std::invalid_argument naming the choices.
inline Precision parse_precision(std::string_view name) {
  for (const Precision precision : {Precision::Auto, Precision::Float32, Precision::MixedBfloat16})
    if (name == to_string(precision)) return precision;
  throw std::invalid_argument("typenet: unknown precision '" + std::string(name) +
                              "': auto, float32 or mixed_bfloat16");
}

// "auto", "direct", and back; parse_conv_algorithm throws std::invalid_argument naming the
// choices.
constexpr std::string_view to_string(ConvAlgorithm algorithm) noexcept {
  return algorithm == ConvAlgorithm::Direct ? "direct" : "auto";
}
inline ConvAlgorithm parse_conv_algorithm(std::string_view name) {
  for (const ConvAlgorithm algorithm : {ConvAlgorithm::Auto, ConvAlgorithm::Direct})
    if (name == to_string(algorithm)) return algorithm;
  throw std::invalid_argument("typenet: unknown convolution algorithm '" + std::string(name) +
                              "': auto or direct");
}

}  // namespace typenet
