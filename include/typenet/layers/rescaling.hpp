// Rescaling<ScaleNum, ScaleDen, OffsetNum = 0, OffsetDen = 1>: y = x * scale + offset with
// scale = ScaleNum / ScaleDen and offset = OffsetNum / OffsetDen, each rounded to float as Keras
// rounds its settings (float32 of the value): Rescaling<1, 255> is Keras' Rescaling(1 / 255),
// Rescaling<2, 255, -1> its Rescaling(1 / 127.5, offset=-1). Any input shape.
// Keras: Rescaling (scale, offset; one number each, not per channel).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "typenet/keras_mapping.hpp"
#include "typenet/kernels/kernels.hpp"
#include "typenet/layers/layer.hpp"

namespace typenet {

inline constexpr std::string_view rescaling_keras_classes[] = {"Rescaling"};

namespace detail {
// Rescaling's setting `key` (scale, or offset with `fallback` 0) as Keras computes with it.
inline float rescaling_setting(const KerasConfig& config, const char* key, double fallback) {
  if (config.json(key).starts_with("["))
    config.unsupported(std::string("Rescaling with a ") + key + " per channel (" +
                       config.json(key) + ") has no typenet equivalent");
  return float(config.number(key).value_or(fallback));
}
// A float with the digits that read back as it: "0.00392156886", "-1".
inline std::string float_text(float value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", double(value));
  return text;
}
// "1, 255" for a ratio; unsupported() when the value has none (see float_ratio).
inline std::string ratio_arguments(const KerasConfig& config, const char* key, float value) {
  const std::optional<Ratio> ratio = float_ratio(value);
  if (!ratio)
    config.unsupported(std::string("Rescaling with ") + key + " " + config.json(key) +
                       " has no typenet equivalent (a ratio of integers below 2^31)");
  return std::to_string(ratio->num) + ", " + std::to_string(ratio->den);
}
}  // namespace detail

inline constexpr KerasLayerClass rescaling_keras_layer{
    rescaling_keras_classes, [](const KerasConfig& config) {
      const float scale = detail::rescaling_setting(config, "scale", 1.0);
      const float offset = detail::rescaling_setting(config, "offset", 0.0);
      std::string type = "Rescaling<" + detail::ratio_arguments(config, "scale", scale);
      if (offset != 0) type += ", " + detail::ratio_arguments(config, "offset", offset);
      return type + ">";
    }};

template <std::int64_t ScaleNum, std::size_t ScaleDen, std::int64_t OffsetNum = 0,
          std::size_t OffsetDen = 1>
struct Rescaling {
  static_assert(ScaleDen > 0 && OffsetDen > 0, "typenet: Rescaling's ratios need denominators > 0");
  static constexpr float scale = float(double(ScaleNum) / double(ScaleDen));
  static constexpr float offset = float(double(OffsetNum) / double(OffsetDen));

  template <class In>
  struct bind : IdentityLayer<In> {
    static constexpr std::size_t flops = 2 * In::size;

    static void check_keras(const KerasConfig& config) {
      const float file_scale = detail::rescaling_setting(config, "scale", 1.0);
      const float file_offset = detail::rescaling_setting(config, "offset", 0.0);
      if (file_scale != scale || file_offset != offset)
        config.mismatch("expected Rescaling with scale " + detail::float_text(scale) +
                        " and offset " + detail::float_text(offset) + ", file has scale " +
                        config.json("scale") + " and offset " + config.json("offset"));
    }
    static constexpr KerasMapping keras{rescaling_keras_classes, check_keras,
                                        detail::no_keras_weights};
    static constexpr void write_signed(FixedText& text, std::int64_t value) {
      if (value < 0) text << "-";
      text << (value < 0 ? std::size_t(0) - std::size_t(value) : std::size_t(value));
    }
    static constexpr void write_ratio(FixedText& text, std::int64_t num, std::size_t den) {
      write_signed(text, num);
      text << "/" << den;
    }
    static constexpr LayerInfo info() {
      LayerInfo layer = layer_info<bind>("Rescaling", "Rescaling");
      layer.arguments << "(";
      write_ratio(layer.arguments, ScaleNum, ScaleDen);
      layer.arguments << ",";
      write_ratio(layer.arguments, OffsetNum, OffsetDen);
      layer.arguments << ")";
      // Defaulted arguments left out: Rescaling<1, 255>, Rescaling<2, 255, -1>.
      layer.cpp << "Rescaling<";
      write_signed(layer.cpp, ScaleNum);
      layer.cpp << ", " << ScaleDen;
      if constexpr (OffsetNum != 0 || OffsetDen != 1) {
        layer.cpp << ", ";
        write_signed(layer.cpp, OffsetNum);
      }
      if constexpr (OffsetDen != 1) layer.cpp << ", " << OffsetDen;
      layer.cpp << ">";
      layer.keras = &keras;
      return layer;
    }
    static void forward(const float*, const float* in, float* out, std::size_t n,
                        const Context&) noexcept {
      kernels::scale_shift(in, out, n * In::size, scale, offset);
    }
    static void backward(const float*, const float*, float* dout, float* din, float*, std::size_t n,
                         const Context&) noexcept {
      if (din) kernels::scale_shift(dout, din, n * In::size, scale, 0.0f);
    }
  };
};

}  // namespace typenet
