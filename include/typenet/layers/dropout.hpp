// Dropout<Percent>: inverted dropout, as Keras. In training each value is zeroed with probability
// Percent/100 and the survivors are scaled by 1/(1 - Percent/100); at inference it is the identity.
// The mask is a counter-based hash of (seed, step, layer, image) and the element's index, so it
// does not depend on how the batch is split across threads (kernels::dropout_forward).
// 8-bit: the identity, passing its input's codes on.
// Keras: Dropout (rate; checked though it has no effect on inference).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "typenet/keras_mapping.hpp"
#include "typenet/kernels/kernels.hpp"
#include "typenet/layers/layer.hpp"
#include "typenet/quantization.hpp"

namespace typenet {

namespace detail {
// "0.5", "0.25": a rate as Keras users write it.
inline std::string rate_text(double rate) {
  std::string text = std::to_string(rate);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text += '0';
  return text;
}
}  // namespace detail

inline constexpr std::string_view dropout_keras_classes[] = {"Dropout"};

namespace detail {
// Keras' rate, which typenet holds in whole percent (inference ignores it).
inline std::size_t dropout_percent(const KerasConfig& config) {
  const std::optional<double> rate = config.number("rate");
  if (!rate || *rate < 0 || *rate >= 1)
    config.corrupted("expected 'rate' to be a number in [0, 1)");
  return std::min<std::size_t>(99, std::size_t(std::lround(*rate * 100)));
}
}  // namespace detail

inline constexpr KerasLayerClass dropout_keras_layer{
    dropout_keras_classes, [](const KerasConfig& config) {
      return "Dropout<" + std::to_string(detail::dropout_percent(config)) + ">";
    }};

template <std::size_t Percent>
struct Dropout {
  static_assert(Percent < 100, "typenet: Dropout<Percent> needs Percent < 100");

  template <class In>
  struct bind : IdentityLayer<In> {
    static constexpr bool inference_is_identity = true;
    static constexpr bool backward_reads_input = false;  // the mask alone
    static constexpr bool images_independent = true;     // each image's mask its own
    static constexpr float scale = 100.0f / float(100 - Percent);
    // P(drop) in units of 2^-32.
    static constexpr auto threshold = std::uint32_t((std::uint64_t(Percent) << 32) / 100);
    struct int8 : Int8Member {
      static constexpr Int8Role role = Int8Role::PassThrough;
    };

    static void check_keras(const KerasConfig& config) {
      if (detail::dropout_percent(config) != Percent)
        config.mismatch("expected Dropout with rate " + detail::rate_text(Percent / 100.0) +
                        ", file has " + detail::rate_text(*config.number("rate")));
    }
    static constexpr KerasMapping keras{dropout_keras_classes, check_keras,
                                        detail::no_keras_weights};
    static constexpr LayerInfo info() {
      LayerInfo layer = layer_info<bind>("Dropout", "Dropout");
      layer.arguments << "(" << Percent << "%)";
      layer.cpp << "Dropout<" << Percent << ">";
      layer.keras = &keras;
      return layer;
    }
    // Image i's mask, the same in forward and backward: backward makes it again rather than
    // keeping it (no memory traffic for it).
    static std::uint64_t mask_seed(const Context& ctx, std::size_t i) noexcept {
      return Rng::stream(ctx.seed, ctx.layer_index, ctx.first_image + i).next();
    }
    static void forward(const float* params, const float* in, float* out, std::size_t n,
                        const Context& ctx) noexcept {
      if (!ctx.training) return IdentityLayer<In>::forward(params, in, out, n, ctx);
      for (std::size_t i = 0; i < n; ++i)
        kernels::dropout_forward(in + i * In::size, out + i * In::size, In::size, mask_seed(ctx, i),
                                 threshold, scale);
    }
    static void backward(const float*, const float*, float* dout, float* din, float*, std::size_t n,
                         const Context& ctx) noexcept {
      if (!din) return;
      for (std::size_t i = 0; i < n; ++i)
        kernels::dropout_backward(dout + i * In::size, din + i * In::size, In::size,
                                  mask_seed(ctx, i), threshold, scale);
    }
  };
};

}  // namespace typenet
