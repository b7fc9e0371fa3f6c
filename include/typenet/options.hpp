// Trailing option tags of Conv, MaxPool and Dense, accepted in any order:
// an activation (default Linear), a padding Valid or Same (default Valid) and Stride<S>.
#pragma once

#include <cstddef>
#include <type_traits>

#include "typenet/activations.hpp"
#include "typenet/layer_info.hpp"

namespace typenet {

// Each spells itself (write_cpp) for LayerInfo::cpp.
struct Valid {
  static constexpr PaddingKind kind = PaddingKind::Valid;
  static constexpr void write_cpp(FixedText& text) { text << "Valid"; }
};
struct Same {
  static constexpr PaddingKind kind = PaddingKind::Same;
  static constexpr void write_cpp(FixedText& text) { text << "Same"; }
};
template <std::size_t S>
struct Stride {
  static_assert(S > 0, "typenet: Stride<S> needs S > 0");
  static constexpr std::size_t value = S;
  static constexpr void write_cpp(FixedText& text) { text << "Stride<" << S << ">"; }
};

namespace detail {
template <class T>
inline constexpr bool is_padding = std::is_same_v<T, Valid> || std::is_same_v<T, Same>;
template <class T>
inline constexpr bool is_stride = false;
template <std::size_t S>
inline constexpr bool is_stride<Stride<S>> = true;

template <class T>
constexpr bool is_known_option(bool allow_activation, bool allow_padding) {
  return (allow_activation && ActivationTag<T>) || (allow_padding && is_padding<T>) || is_stride<T>;
}

// The activation among the options (its detail::Activation), else Linear.
template <class... Rest>
struct FirstActivation {
  using type = Activation<ActivationKind::Linear>;
};
template <class First, class... Rest>
struct FirstActivation<First, Rest...> {
  using type = typename FirstActivation<Rest...>::type;
};
template <class First, class... Rest>
  requires ActivationTag<First>
struct FirstActivation<First, Rest...> {
  using type = Activation<First::kind, First::alpha_num, First::alpha_den>;
};

// The normalised options of one layer.
template <bool AllowActivation, bool AllowPadding, std::size_t DefaultStride, class... Opts>
struct Options {
  static_assert((is_known_option<Opts>(AllowActivation, AllowPadding) && ...),
                "typenet: unknown layer option: Conv takes an activation, Valid/Same and "
                "Stride<S>; MaxPool takes Valid/Same and Stride<S>; Dense takes an activation");
  static_assert((int(ActivationTag<Opts>) + ... + 0) <= 1,
                "typenet: more than one activation given to a layer");
  static_assert((int(is_padding<Opts>) + ... + 0) <= 1,
                "typenet: more than one padding given to a layer");
  static_assert((int(is_stride<Opts>) + ... + 0) <= 1,
                "typenet: more than one Stride given to a layer");

 private:
  template <class T>
  static constexpr std::size_t stride_of() {
    if constexpr (is_stride<T>) return T::value;
    else return 0;
  }

 public:
  static constexpr PaddingKind padding = ((std::is_same_v<Opts, Same>) || ...) ? PaddingKind::Same
                                                                               : PaddingKind::Valid;
  static constexpr std::size_t stride =
      (stride_of<Opts>() + ... + 0) == 0 ? DefaultStride : (stride_of<Opts>() + ... + 0);
  using activation = typename FirstActivation<Opts...>::type;
};

// Keras' output extent: Valid floor((in - k) / s) + 1, Same ceil(in / s).
constexpr std::size_t output_extent(std::size_t in, std::size_t kernel, std::size_t stride,
                                    PaddingKind padding) {
  if (padding == PaddingKind::Same) return (in + stride - 1) / stride;
  return in < kernel ? 0 : (in - kernel) / stride + 1;
}
// Padding before the first row/column for Same: the smaller half (extra pixel bottom/right).
constexpr std::size_t padding_before(std::size_t in, std::size_t out, std::size_t kernel,
                                     std::size_t stride, PaddingKind padding) {
  if (padding == PaddingKind::Valid) return 0;
  const std::size_t needed = (out - 1) * stride + kernel;
  return needed > in ? (needed - in) / 2 : 0;
}
}  // namespace detail

}  // namespace typenet
