// Labelled images of Side x Side pixels in 2 channels for small CNN tests: class k is a bright
// blob in quadrant k of channel k % 2, with noise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <typenet/random.hpp>

namespace typenet::testing {

struct Images {
  std::vector<float> x;
  std::vector<std::uint8_t> y;
};

template <std::size_t Side>
Images blob_images(std::size_t count, std::uint64_t seed) {
  constexpr std::size_t size = Side * Side * 2, half = Side / 2;
  Images images{std::vector<float>(count * size), std::vector<std::uint8_t>(count)};
  Rng rng(seed);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t k = rng.below(4);
    images.y[i] = std::uint8_t(k);
    float* image = images.x.data() + i * size;
    for (std::size_t p = 0; p < size; ++p) {
      const std::size_t y = p / (2 * Side), x = (p / 2) % Side, channel = p % 2;
      const bool inside = (y / half) == k / 2 && (x / half) == k % 2 && channel == k % 2;
      image[p] = (inside ? 0.8f : 0.0f) + 0.3f * rng.uniform();
    }
  }
  return images;
}

}  // namespace typenet::testing
