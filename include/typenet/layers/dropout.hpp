// Dropout<Percent>: inverted dropout, as Keras. In training each value is zeroed with probability
// Percent/100 and the survivors are scaled by 1/(1 - Percent/100); at inference it is the identity.
// The mask comes from a counter-based stream (seed, step, layer, image), so it does not depend on
// how the batch is split across threads.
#pragma once

#include <cstddef>

#include "typenet/layers/layer.hpp"

namespace typenet {

template <std::size_t Percent>
struct Dropout {
  static_assert(Percent < 100, "typenet: Dropout<Percent> needs Percent < 100");

  template <class In>
  struct bind : IdentityLayer<In> {
    static constexpr std::size_t cache_words = In::size;  // keep flags of the training pass
    static constexpr float scale = 100.0f / float(100 - Percent);

    static constexpr LayerInfo info() {
      LayerInfo layer = IdentityLayer<In>::info(LayerKind::Dropout);
      layer.dropout_percent = Percent;
      return layer;
    }
    static void forward(const float* params, const float* in, float* out, std::size_t n,
                        const Context& ctx) noexcept {
      if (!ctx.training) return IdentityLayer<In>::forward(params, in, out, n, ctx);
      const std::uint64_t threshold = (std::uint64_t(Percent) << 32) / 100;  // P(drop) in 2^-32
      for (std::size_t i = 0; i < n; ++i) {
        Rng rng = Rng::stream(ctx.seed, ctx.layer_index, ctx.first_image + i);
        std::uint32_t* keep = ctx.cache + i * In::size;
        const float* x = in + i * In::size;
        float* y = out + i * In::size;
        for (std::size_t j = 0; j < In::size; ++j) {
          keep[j] = (rng.next() >> 32) >= threshold;
          y[j] = keep[j] ? x[j] * scale : 0.0f;
        }
      }
    }
    static void backward(const float*, const float*, float* dout, float* din, float*,
                         std::size_t n, const Context& ctx) noexcept {
      if (!din) return;
      for (std::size_t j = 0; j < n * In::size; ++j)
        din[j] = ctx.cache[j] ? dout[j] * scale : 0.0f;
    }
  };
};

}  // namespace typenet
