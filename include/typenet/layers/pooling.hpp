// MaxPool<Size, options...> (stride defaults to Size, as Keras) and GlobalAvgPool.
#pragma once

#include <cstddef>
#include <cstring>

#include "typenet/kernels/kernels.hpp"
#include "typenet/layers/layer.hpp"
#include "typenet/options.hpp"

namespace typenet {

template <std::size_t Size, class... Opts>
struct MaxPool {
  static_assert(Size > 0, "typenet: MaxPool<Size> needs Size > 0");
  using options = detail::Options</*activation*/ false, /*padding*/ true, Size, Opts...>;
  static_assert(options::padding == PaddingKind::Valid,
                "typenet: MaxPool supports Valid padding only (Keras' default)");

  template <class In>
  struct bind {
    static_assert(In::rank == 3, "typenet: MaxPool needs an HxWxC image input, not a flat one");
    static_assert(Size <= In::height && Size <= In::width,
                  "typenet: MaxPool window is larger than its input");
    static constexpr std::size_t height = In::height, width = In::width, channels = In::channels;
    static constexpr std::size_t stride = options::stride;
    static constexpr std::size_t out_height =
        detail::output_extent(height, Size, stride, PaddingKind::Valid);
    static constexpr std::size_t out_width =
        detail::output_extent(width, Size, stride, PaddingKind::Valid);

    using input_shape = In;
    using output_shape = Shape<out_height, out_width, channels>;
    using activation = detail::Activation<ActivationKind::Linear>;
    static constexpr std::size_t param_count = 0;
    static constexpr std::size_t scratch_floats = 0;
    static constexpr std::size_t cache_words = output_shape::size;  // argmax of each output
    static constexpr std::size_t flops = 0;

    static constexpr LayerInfo info() {
      LayerInfo layer;
      layer.kind = LayerKind::MaxPool;
      layer.kernel = Size;
      layer.stride = stride;
      layer.in = In::dims;
      layer.out = output_shape::dims;
      return layer;
    }
    static void init(float*, Rng&) noexcept {}
    static void forward(const float*, const float* in, float* out, std::size_t n,
                        const Context& ctx) noexcept {
      for (std::size_t i = 0; i < n; ++i)
        kernels::maxpool_forward(in + i * In::size, height, width, channels, Size, stride,
                                 out_height, out_width, out + i * output_shape::size,
                                 ctx.cache + i * cache_words);
    }
    static void backward(const float*, const float*, float* dout, float* din, float*,
                         std::size_t n, const Context& ctx) noexcept {
      if (!din) return;
      std::memset(din, 0, n * In::size * sizeof(float));
      for (std::size_t i = 0; i < n; ++i)
        kernels::maxpool_backward(dout + i * output_shape::size, ctx.cache + i * cache_words,
                                  output_shape::size, din + i * In::size);
    }
  };
};

struct GlobalAvgPool {
  template <class In>
  struct bind {
    static_assert(In::rank == 3,
                  "typenet: GlobalAvgPool needs an HxWxC image input, not a flat one");
    static constexpr std::size_t pixels = In::height * In::width, channels = In::channels;
    using input_shape = In;
    using output_shape = Shape<channels>;
    using activation = detail::Activation<ActivationKind::Linear>;
    static constexpr std::size_t param_count = 0;
    static constexpr std::size_t scratch_floats = 0;
    static constexpr std::size_t cache_words = 0;
    static constexpr std::size_t flops = 0;

    static constexpr LayerInfo info() {
      LayerInfo layer;
      layer.kind = LayerKind::GlobalAvgPool;
      layer.in = In::dims;
      layer.out = output_shape::dims;
      return layer;
    }
    static void init(float*, Rng&) noexcept {}
    static void forward(const float*, const float* in, float* out, std::size_t n,
                        const Context&) noexcept {
      for (std::size_t i = 0; i < n; ++i)
        kernels::global_avg_pool_forward(in + i * In::size, pixels, channels, out + i * channels);
    }
    static void backward(const float*, const float*, float* dout, float* din, float*,
                         std::size_t n, const Context&) noexcept {
      if (!din) return;
      for (std::size_t i = 0; i < n; ++i)
        kernels::global_avg_pool_backward(dout + i * channels, pixels, channels,
                                          din + i * In::size);
    }
  };
};

}  // namespace typenet
