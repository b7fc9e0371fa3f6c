// Deterministic random numbers: the same seed gives the same weights, dropout masks and shuffles
// on every machine and standard library (std:: distributions are implementation-defined).
#pragma once

#include <cstdint>

namespace typenet {

// SplitMix64: tiny, fast, statistically good enough for initialisation and dropout, and cheap to
// derive independent streams from a counter (seed, step, image, layer).
class Rng {
 public:
  explicit constexpr Rng(std::uint64_t seed) noexcept : state_(seed) {}
  constexpr std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 24 bits, exactly representable as float.
  constexpr float uniform() noexcept { return float(next() >> 40) * 0x1.0p-24f; }
  constexpr float uniform(float low, float high) noexcept { return low + (high - low) * uniform(); }
  // Uniform integer in [0, bound), bound > 0 (Lemire's multiply-shift; bias < 2^-32 for our sizes).
  constexpr std::uint64_t below(std::uint64_t bound) noexcept {
    return std::uint64_t((unsigned __int128)(next()) * bound >> 64);
  }

  // An independent stream for a tuple of counters.
  static constexpr Rng stream(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0,
                              std::uint64_t c = 0) noexcept {
    Rng mix(seed);
    mix.state_ ^= Rng(a).next();
    mix.state_ ^= Rng(b ^ 0x5bd1e995ULL).next() * 3;
    mix.state_ ^= Rng(c ^ 0x27d4eb2fULL).next() * 5;
    return Rng(mix.next());
  }

 private:
  std::uint64_t state_;
};

}  // namespace typenet
