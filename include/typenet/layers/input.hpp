// Input<H, W, C> (channels-last image), Input<T, F> (T steps of F features, as Keras' (28, 28)
// input) or Input<N> (flat vector): the first layer of every Net.
#pragma once

#include <cstddef>

#include "typenet/shape.hpp"

namespace typenet {

template <std::size_t... Extents>
struct Input {
  static_assert(sizeof...(Extents) >= 1 && sizeof...(Extents) <= 3,
                "typenet: Input takes <N> (flat), <T, F> (sequence) or <H, W, C> (channels-last "
                "image)");
  static_assert(((Extents > 0) && ...), "typenet: Input dimensions must be positive");
  using shape = Shape<Extents...>;
};

}  // namespace typenet
