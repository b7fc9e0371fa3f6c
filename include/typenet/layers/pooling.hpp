// MaxPool<Size, options...> and AvgPool<Size, options...> (Valid or Same, Stride<S>; the stride
// defaults to Size, as Keras), and GlobalAvgPool.
// 8-bit: MaxPool on codes (they order as the values they stand for), keeping its input's
// quantization; GlobalAvgPool sums codes and gives float means, requantized by the quantized net.
// Keras: MaxPooling2D and AveragePooling2D (pool_size, strides, padding; Same averages only the
// pixels inside the image, as TensorFlow), GlobalAveragePooling2D (no keepdims).
#pragma once

#include <cstddef>
#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <string>

#include "typenet/keras_mapping.hpp"
#include "typenet/kernels/kernels.hpp"
#include "typenet/layers/layer.hpp"
#include "typenet/options.hpp"
#include "typenet/quantization.hpp"

namespace typenet {

inline constexpr std::string_view max_pool_keras_classes[] = {"MaxPooling2D", "MaxPool2D"};
inline constexpr std::string_view avg_pool_keras_classes[] = {"AveragePooling2D", "AvgPool2D"};
inline constexpr std::string_view global_avg_pool_keras_classes[] = {"GlobalAveragePooling2D",
                                                                     "GlobalAvgPool2D"};

namespace detail {
// A Keras pooling layer as `layer` ("MaxPool", "AvgPool") spells it: "MaxPool<2, Same, Stride<1>>".
inline std::string pool_cpp_type(std::string_view layer, const KerasConfig& config) {
  const std::size_t size = config.square("pool_size", 2);
  const std::size_t stride = config.square("strides", size);  // null strides: the pool size
  return std::string(layer) + "<" + std::to_string(size) +
         (config.padding() == PaddingKind::Same ? ", Same" : "") +
         (stride == size ? "" : ", Stride<" + std::to_string(stride) + ">") + ">";
}

// The window geometry of MaxPool and AvgPool over an image In.
template <class In, std::size_t Size, class Options>
struct PoolWindow {
  static constexpr PaddingKind padding = Options::padding;
  static constexpr std::size_t height = In::height, width = In::width, channels = In::channels;
  static constexpr std::size_t stride = Options::stride;
  static constexpr std::size_t out_height = output_extent(height, Size, stride, padding);
  static constexpr std::size_t out_width = output_extent(width, Size, stride, padding);
  // Same padding as Keras: ceil(in / stride) outputs, the extra row/column at the bottom/right.
  static constexpr std::size_t pad_top = padding_before(height, out_height, Size, stride, padding);
  static constexpr std::size_t pad_left = padding_before(width, out_width, Size, stride, padding);
  using output_shape = Shape<out_height, out_width, channels>;

  // The file's pool size, strides and padding against these.
  static void check_keras(const KerasConfig& config, std::string_view keras_class) {
    const auto window = config.size_pair("pool_size").value_or(std::array<std::size_t, 2>{2, 2});
    // null strides are the pool size
    config.expect_window(keras_class, "pool size", Size, stride, window,
                         config.size_pair("strides").value_or(window));
    config.expect_padding(std::string(keras_class) + " with padding", padding);
  }
};
}  // namespace detail

inline constexpr KerasLayerClass max_pool_keras_layer{
    max_pool_keras_classes,
    [](const KerasConfig& config) { return detail::pool_cpp_type("MaxPool", config); }};
inline constexpr KerasLayerClass avg_pool_keras_layer{
    avg_pool_keras_classes,
    [](const KerasConfig& config) { return detail::pool_cpp_type("AvgPool", config); }};
inline constexpr KerasLayerClass global_avg_pool_keras_layer{
    global_avg_pool_keras_classes, [](const KerasConfig& config) {
      if (config.boolean("keepdims").value_or(false))
        config.unsupported("GlobalAveragePooling2D with keepdims has no typenet equivalent");
      return std::string("GlobalAvgPool");
    }};

template <std::size_t Size, class... Opts>
struct MaxPool {
  static_assert(Size > 0, "typenet: MaxPool<Size> needs Size > 0");
  using options = detail::Options</*activation*/ false, /*padding*/ true, Size, Opts...>;

  template <class In>
  struct bind {
    static_assert(In::rank == 3, "typenet: MaxPool needs an HxWxC image input, not a flat one");
    using window = detail::PoolWindow<In, Size, options>;
    static constexpr PaddingKind padding = window::padding;
    static_assert(padding == PaddingKind::Same || (Size <= In::height && Size <= In::width),
                  "typenet: MaxPool window is larger than its input (Valid padding)");
    static constexpr std::size_t height = In::height, width = In::width, channels = In::channels;
    static constexpr std::size_t stride = window::stride;
    static constexpr std::size_t out_height = window::out_height, out_width = window::out_width;
    static constexpr std::size_t pad_top = window::pad_top, pad_left = window::pad_left;
    // Same padding pools a copy of the image framed by -infinity, which never wins a window.
    static constexpr std::size_t padded_height = std::max(height, (out_height - 1) * stride + Size);
    static constexpr std::size_t padded_width = std::max(width, (out_width - 1) * stride + Size);
    static constexpr bool padded = padding == PaddingKind::Same &&
                                   (padded_height != height || padded_width != width);
    static constexpr std::size_t padded_size = padded_height * padded_width * channels;

    using input_shape = In;
    using output_shape = Shape<out_height, out_width, channels>;
    using activation = detail::Activation<ActivationKind::Linear>;
    static constexpr std::size_t param_count = 0;
    static constexpr std::size_t scratch_floats = padded ? padded_size : 0;
    static constexpr std::size_t cache_words = output_shape::size;  // argmax of each output
    static constexpr std::size_t flops = 0;
    static constexpr bool images_independent = true;
    static constexpr bool backward_reads_input = false;  // the winners alone

    struct int8 : Int8Member {
      static constexpr Int8Role role = Int8Role::SameQuantization;
      // Same padding pools a copy framed by code 0, which wins no window over the image's codes
      // (a window of codes 0 gives 0 either way).
      static constexpr std::size_t scratch_bytes = padded ? padded_size : 0;
      static void forward(const Int8Call& call, const std::uint8_t* in, std::uint8_t* out,
                          std::size_t n) noexcept {
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint8_t* image = in + i * call.in_stride;
          if constexpr (padded) {
            std::fill_n(call.scratch, padded_size, std::uint8_t{0});
            for (std::size_t y = 0; y < height; ++y)
              std::memcpy(call.scratch + ((y + pad_top) * padded_width + pad_left) * channels,
                          image + y * width * channels, width * channels);
            image = call.scratch;
          }
          kernels::int8_maxpool(image, padded_height, padded_width, channels, Size, stride,
                                out_height, out_width, out + i * call.out_stride);
        }
      }
    };

    static void check_keras(const KerasConfig& config) {
      window::check_keras(config, "MaxPooling2D");
    }
    static constexpr KerasMapping keras{max_pool_keras_classes, check_keras,
                                        detail::no_keras_weights};
    static constexpr LayerInfo info() {
      LayerInfo layer = layer_info<bind>("MaxPool", "MaxPooling2D");
      layer.arguments << "(" << Size << ",s" << stride << ")";
      layer.cpp << "MaxPool<" << Size;
      write_cpp_options<Opts...>(layer.cpp);
      layer.cpp << ">";
      layer.keras = &keras;
      return layer;
    }
    static void init(float*, Rng&) noexcept {}
    static void forward(const float*, const float* in, float* out, std::size_t n,
                        const Context& ctx) noexcept {
      for (std::size_t i = 0; i < n; ++i) {
        const float* image = in + i * In::size;
        // The winners only where backward follows.
        std::uint32_t* argmax = ctx.training ? ctx.cache + i * cache_words : nullptr;
        if constexpr (padded) {
          std::fill_n(ctx.scratch, padded_size, -std::numeric_limits<float>::infinity());
          for (std::size_t y = 0; y < height; ++y)
            std::memcpy(ctx.scratch + ((y + pad_top) * padded_width + pad_left) * channels,
                        image + y * width * channels, width * channels * sizeof(float));
          image = ctx.scratch;
        }
        kernels::maxpool_forward(image, padded_height, padded_width, channels, Size, stride,
                                 out_height, out_width, out + i * output_shape::size, argmax);
        if (padded && argmax)  // winners as indices into the unpadded image
          for (std::size_t o = 0; o < output_shape::size; ++o) {
            const std::size_t pixel = argmax[o] / channels, channel = argmax[o] % channels;
            // Clamped: a window of -infinity inputs may elect a padding cell.
            const std::size_t y = std::clamp(pixel / padded_width, pad_top, pad_top + height - 1);
            const std::size_t x = std::clamp(pixel % padded_width, pad_left, pad_left + width - 1);
            argmax[o] = std::uint32_t(((y - pad_top) * width + x - pad_left) * channels + channel);
          }
      }
    }
    static void backward(const float*, const float*, float* dout, float* din, float*, std::size_t n,
                         const Context& ctx) noexcept {
      if (!din) return;
      for (std::size_t i = 0; i < n; ++i)
        kernels::maxpool_backward(dout + i * output_shape::size, ctx.cache + i * cache_words,
                                  height, width, channels, Size, stride, out_height, out_width,
                                  din + i * In::size);
    }
  };
};

template <std::size_t Size, class... Opts>
struct AvgPool {
  static_assert(Size > 0, "typenet: AvgPool<Size> needs Size > 0");
  using options = detail::Options</*activation*/ false, /*padding*/ true, Size, Opts...>;

  template <class In>
  struct bind {
    static_assert(In::rank == 3, "typenet: AvgPool needs an HxWxC image input, not a flat one");
    using window = detail::PoolWindow<In, Size, options>;
    static_assert(window::padding == PaddingKind::Same || (Size <= In::height && Size <= In::width),
                  "typenet: AvgPool window is larger than its input (Valid padding)");
    using input_shape = In;
    using output_shape = typename window::output_shape;
    using activation = detail::Activation<ActivationKind::Linear>;
    static constexpr std::size_t param_count = 0;
    static constexpr std::size_t scratch_floats = 0;
    static constexpr std::size_t cache_words = 0;
    static constexpr std::size_t flops = output_shape::size * Size * Size;
    static constexpr bool backward_reads_input = false;

    static void check_keras(const KerasConfig& config) {
      window::check_keras(config, "AveragePooling2D");
    }
    static constexpr KerasMapping keras{avg_pool_keras_classes, check_keras,
                                        detail::no_keras_weights};
    static constexpr LayerInfo info() {
      LayerInfo layer = layer_info<bind>("AvgPool", "AveragePooling2D");
      layer.arguments << "(" << Size << ",s" << window::stride << "," << to_string(window::padding)
                      << ")";
      layer.cpp << "AvgPool<" << Size;
      write_cpp_options<Opts...>(layer.cpp);
      layer.cpp << ">";
      layer.keras = &keras;
      return layer;
    }
    static void init(float*, Rng&) noexcept {}
    static void forward(const float*, const float* in, float* out, std::size_t n,
                        const Context&) noexcept {
      for (std::size_t i = 0; i < n; ++i)
        kernels::avg_pool_forward(in + i * In::size, In::height, In::width, In::channels, Size,
                                  window::stride, window::pad_top, window::pad_left,
                                  window::out_height, window::out_width,
                                  out + i * output_shape::size);
    }
    static void backward(const float*, const float*, float* dout, float* din, float*, std::size_t n,
                         const Context&) noexcept {
      if (!din) return;
      for (std::size_t i = 0; i < n; ++i) {
        std::memset(din + i * In::size, 0, In::size * sizeof(float));
        kernels::avg_pool_backward_add(dout + i * output_shape::size, In::height, In::width,
                                       In::channels, Size, window::stride, window::pad_top,
                                       window::pad_left, window::out_height, window::out_width,
                                       din + i * In::size);
      }
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
    static constexpr bool backward_reads_input = false;

    struct int8 : Int8Member {
      static constexpr bool codes_out = false;
      // The mean of each channel's codes as the float it stands for.
      static void forward(const Int8Call& call, const std::uint8_t* in, float* out,
                          std::size_t n) noexcept {
        const float scale = call.in.scale / float(pixels);
        const auto zero_sum = std::int64_t(pixels) * std::int64_t(call.in.zero_point);
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint8_t* image = in + i * call.in_stride;
          for (std::size_t c = 0; c < channels; ++c) {
            std::int64_t sum = 0;
            for (std::size_t p = 0; p < pixels; ++p) sum += image[p * channels + c];
            out[i * call.out_stride + c] = float(sum - zero_sum) * scale;
          }
        }
      }
    };

    static constexpr KerasMapping keras{
        global_avg_pool_keras_classes,
        [](const KerasConfig& config) { global_avg_pool_keras_layer.cpp_type(config); },
        detail::no_keras_weights};
    static constexpr LayerInfo info() {
      LayerInfo layer = layer_info<bind>("GlobalAvgPool", "GlobalAveragePooling2D");
      layer.cpp << "GlobalAvgPool";
      layer.keras = &keras;
      return layer;
    }
    static void init(float*, Rng&) noexcept {}
    static void forward(const float*, const float* in, float* out, std::size_t n,
                        const Context&) noexcept {
      for (std::size_t i = 0; i < n; ++i)
        kernels::global_avg_pool_forward(in + i * In::size, pixels, channels, out + i * channels);
    }
    static void backward(const float*, const float*, float* dout, float* din, float*, std::size_t n,
                         const Context&) noexcept {
      if (!din) return;
      for (std::size_t i = 0; i < n; ++i)
        kernels::global_avg_pool_backward(dout + i * channels, pixels, channels,
                                          din + i * In::size);
    }
  };
};

}  // namespace typenet
