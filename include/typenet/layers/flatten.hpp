// Flatten: an HxWxC image to a vector in Keras' channels-last (h, w, c) order. Buffers are
// already stored in that order, so it is a copy.
#pragma once

#include "typenet/layers/layer.hpp"

namespace typenet {

struct Flatten {
  template <class In>
  struct bind : IdentityLayer<In, Shape<In::size>> {
    static constexpr LayerInfo info() {
      return IdentityLayer<In, Shape<In::size>>::info(LayerKind::Flatten);
    }
  };
};

}  // namespace typenet
