// Shapes as types: Shape<N> (flat), Shape<T, F> (a sequence of T steps of F features) and
// Shape<H, W, C> (channels-last image), as Keras.
#pragma once

#include <cstddef>

#include "typenet/layer_info.hpp"

namespace typenet {

template <std::size_t... Extents>
struct Shape {
  static_assert(sizeof...(Extents) >= 1 && sizeof...(Extents) <= 3,
                "typenet: a Shape is flat <N>, a sequence <T, F> or an image <H, W, C>");
};

template <std::size_t N>
struct Shape<N> {
  static constexpr std::size_t rank = 1;
  static constexpr std::size_t size = N;
  static constexpr Dims dims{1, {N, 0, 0}};
  // Read as 1x1xN only so that a flat input given to an image layer reports that layer's one
  // static_assert instead of a cascade of errors.
  static constexpr std::size_t height = 1, width = 1, channels = N;
  static constexpr std::size_t last_extent = N;
};

template <std::size_t T, std::size_t F>
struct Shape<T, F> {
  static constexpr std::size_t rank = 2;
  static constexpr std::size_t steps = T, features = F;
  static constexpr std::size_t size = T * F;
  static constexpr Dims dims{2, {T, F, 0}};
  static constexpr std::size_t height = 1, width = 1, channels = size;  // as Shape<N>
  static constexpr std::size_t last_extent = F;
};

template <std::size_t H, std::size_t W, std::size_t C>
struct Shape<H, W, C> {
  static constexpr std::size_t rank = 3;
  static constexpr std::size_t height = H, width = W, channels = C;
  static constexpr std::size_t size = H * W * C;
  static constexpr Dims dims{3, {H, W, C}};
  static constexpr std::size_t last_extent = C;
};

// Shapes compare by value, so `static_assert(Net::output_shape == Shape<10>{})` reads naturally.
template <std::size_t... A, std::size_t... B>
constexpr bool operator==(Shape<A...>, Shape<B...>) {
  if constexpr (sizeof...(A) != sizeof...(B)) {
    return false;
  } else {
    return ((A == B) && ...);
  }
}

}  // namespace typenet
