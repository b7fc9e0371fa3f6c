// Dense<Units, Activation?>: y = x W + b, W stored (in, out) as Keras stores it.
#pragma once

#include <cstddef>

#include "typenet/kernels/kernels.hpp"
#include "typenet/layers/layer.hpp"
#include "typenet/options.hpp"

namespace typenet {

template <std::size_t Units, class... Opts>
struct Dense {
  static_assert(Units > 0, "typenet: Dense<Units> needs Units > 0");
  using options = detail::Options</*activation*/ true, /*padding*/ false, 1, Opts...>;

  template <class In>
  struct bind {
    static_assert(In::rank == 1,
                  "typenet: Dense needs a flat input but gets an HxWxC image: add Flatten (or "
                  "GlobalAvgPool) before it");
    static constexpr std::size_t inputs = In::size;
    using input_shape = In;
    using output_shape = Shape<Units>;
    using activation = typename options::activation;
    static constexpr std::size_t kernel_count = inputs * Units;
    static constexpr std::size_t param_count = kernel_count + Units;
    static constexpr std::size_t scratch_floats = 0;
    static constexpr std::size_t cache_words = 0;
    static constexpr std::size_t flops = 2 * kernel_count;

    static constexpr LayerInfo info() {
      LayerInfo layer;
      layer.kind = LayerKind::Dense;
      layer.activation = activation::kind;
      layer.units = Units;
      layer.in = In::dims;
      layer.out = output_shape::dims;
      layer.param_count = param_count;
      return layer;
    }
    static void init(float* params, Rng& rng) noexcept {
      glorot_uniform_init(params, kernel_count, Units, inputs, Units, rng);
    }
    static void forward(const float* params, const float* in, float* out, std::size_t n,
                        const Context&) noexcept {
      using kernels::Trans;
      kernels::gemm(Trans::No, Trans::No, n, Units, inputs, in, inputs, params, Units, 0.0f, out,
                    Units, params + kernel_count);
    }
    static void backward(const float* params, const float* in, float* dout, float* din,
                         float* dparams, std::size_t n, const Context&) noexcept {
      using kernels::Trans;
      kernels::add_column_sums(dout, n, Units, dparams + kernel_count);
      kernels::gemm(Trans::Yes, Trans::No, inputs, Units, n, in, inputs, dout, Units, 1.0f,
                    dparams, Units, nullptr);
      if (din)
        kernels::gemm(Trans::No, Trans::Yes, n, inputs, Units, dout, Units, params, Units, 0.0f,
                      din, inputs, nullptr);
    }
  };
};

}  // namespace typenet
