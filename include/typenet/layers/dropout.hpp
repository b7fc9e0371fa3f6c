// Dropout<Percent>: inverted dropout, as Keras. In training each value is zeroed with probability
// Percent/100 and the survivors are scaled by 1/(1 - Percent/100); at inference it is the identity.
// The mask is a counter-based hash of (seed, step, layer, image) and the element's index, so it
// does not depend on how the batch is split across threads (kernels::dropout_forward).
#pragma once

#include <cstddef>
#include <cstdint>

#include "typenet/kernels/kernels.hpp"
#include "typenet/layers/layer.hpp"

namespace typenet {

template <std::size_t Percent>
struct Dropout {
  static_assert(Percent < 100, "typenet: Dropout<Percent> needs Percent < 100");

  template <class In>
  struct bind : IdentityLayer<In> {
    static constexpr std::size_t cache_words = In::size;  // keep flags of the training pass
    static constexpr float scale = 100.0f / float(100 - Percent);
    // P(drop) in units of 2^-32.
    static constexpr auto threshold = std::uint32_t((std::uint64_t(Percent) << 32) / 100);

    static constexpr LayerInfo info() {
      LayerInfo layer = IdentityLayer<In>::info(LayerKind::Dropout);
      layer.dropout_percent = Percent;
      return layer;
    }
    static void forward(const float* params, const float* in, float* out, std::size_t n,
                        const Context& ctx) noexcept {
      if (!ctx.training) return IdentityLayer<In>::forward(params, in, out, n, ctx);
      for (std::size_t i = 0; i < n; ++i)
        kernels::dropout_forward(
            in + i * In::size, out + i * In::size, ctx.cache + i * In::size, In::size,
            Rng::stream(ctx.seed, ctx.layer_index, ctx.first_image + i).next(), threshold, scale);
    }
    static void backward(const float*, const float*, float* dout, float* din, float*,
                         std::size_t n, const Context& ctx) noexcept {
      if (din) kernels::dropout_backward(dout, ctx.cache, din, n * In::size, scale);
    }
  };
};

}  // namespace typenet
