// FoldBatchNorm<NetT> and fold_batch_norm(net): a BatchNorm that directly follows a Conv or Dense
// with a Linear activation is an affine map per output channel, so it folds into that layer's
// kernel and bias, and prediction saves the BatchNorm's pass over the activations.
//
// The folded net is another type: NetT's layer list without the folded BatchNorms. A BatchNorm
// folds where the layer before it in the folded list is a linear Conv or Dense, so BatchNorms in a
// row after one all fold into it (the composition is affine too). Any other BatchNorm stays: after
// an activation or another layer, first in the Net, inside a Residual's branches.
//
// For y = BN(conv(x) + b) with a = gamma / sqrt(variance + epsilon) per output channel c:
//   kernel'[..., c] = kernel[..., c] a[c],  bias'[c] = (b[c] - mean[c]) a[c] + beta[c];
// several BatchNorms compose their scales and shifts, in double, rounded to float once.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "typenet/activations.hpp"
#include "typenet/layers/batch_norm.hpp"
#include "typenet/layers/conv.hpp"
#include "typenet/layers/dense.hpp"
#include "typenet/net.hpp"

namespace typenet {

namespace detail {

template <class Layer>
inline constexpr bool is_batch_norm = false;
template <class Eps>
inline constexpr bool is_batch_norm<BatchNorm<Eps>> = true;

// Whether a (not yet bound) layer is a Conv or Dense with a Linear activation: its output channels
// are each an affine function of its kernel column and bias.
template <class Layer>
inline constexpr bool absorbs_batch_norm = false;
template <std::size_t Filters, std::size_t Kernel, class... Opts>
inline constexpr bool absorbs_batch_norm<Conv<Filters, Kernel, Opts...>> =
    Conv<Filters, Kernel, Opts...>::options::activation::kind == ActivationKind::Linear;
template <std::size_t Units, class... Opts>
inline constexpr bool absorbs_batch_norm<Dense<Units, Opts...>> =
    Dense<Units, Opts...>::options::activation::kind == ActivationKind::Linear;

// Which layers of a list fold away: a BatchNorm whose last kept predecessor absorbs it.
template <class... Layers>
constexpr std::array<bool, sizeof...(Layers)> folded_layers() {
  constexpr std::array<bool, sizeof...(Layers)> batch_norm{is_batch_norm<Layers>...};
  constexpr std::array<bool, sizeof...(Layers)> absorbs{absorbs_batch_norm<Layers>...};
  std::array<bool, sizeof...(Layers)> folded{};
  bool after_absorber = false;  // the last kept layer absorbs BatchNorms
  for (std::size_t i = 0; i < sizeof...(Layers); ++i) {
    folded[i] = batch_norm[i] && after_absorber;
    if (!folded[i]) after_absorber = absorbs[i];
  }
  return folded;
}

template <class NetT>
struct FoldBatchNormOf;
template <std::size_t... InputExtents, class... Layers>
struct FoldBatchNormOf<Net<Input<InputExtents...>, Layers...>> {
  static constexpr std::size_t layer_count = sizeof...(Layers);
  static constexpr std::array<bool, layer_count> folded = folded_layers<Layers...>();
  // Each kept layer's index in the folded net.
  static constexpr std::array<std::size_t, layer_count> kept_index = [] {
    std::array<std::size_t, layer_count> index{};
    for (std::size_t i = 0, kept = 0; i < layer_count; ++i) {
      index[i] = kept;
      kept += !folded[i];
    }
    return index;
  }();
  // How many BatchNorms right after layer I fold into it.
  template <std::size_t I>
  static constexpr std::size_t absorbed = [] {
    std::size_t count = 0;
    while (I + 1 + count < layer_count && folded[I + 1 + count]) ++count;
    return count;
  }();

  template <std::size_t I>
  using kept_layer = std::conditional_t<folded[I], std::tuple<>,
                                        std::tuple<std::tuple_element_t<I, std::tuple<Layers...>>>>;
  template <std::size_t... I>
  static auto kept_layers(std::index_sequence<I...>)
      -> decltype(std::tuple_cat(std::declval<kept_layer<I>>()...));
  template <class... Kept>
  static Net<Input<InputExtents...>, Kept...> as_net(std::tuple<Kept...>*);
  using type = decltype(as_net(
      static_cast<decltype(kept_layers(std::index_sequence_for<Layers...>{}))*>(nullptr)));
};

// Writes layer Absorber's kernel and bias with the BatchNorms after it folded in to `to`, from
// `params`, NetT's parameters.
template <class NetT, std::size_t Absorber, std::size_t... Next>
void fold_into(const float* params, float* to, std::index_sequence<Next...>) {
  using L = typename NetT::template layer<Absorber>;
  const float* from = params + NetT::plan::param_offsets[Absorber];
  constexpr std::size_t channels = L::output_shape::last_extent;
  // The folded output of channel c: scale[c] * (the kernel's product) + shift[c], starting from
  // the layer's own bias.
  const float* bias = from + L::kernel_count;
  std::vector<double> scale(channels, 1.0), shift(bias, bias + channels);
  auto compose = [&]<std::size_t J>(std::integral_constant<std::size_t, J>) {
    using BN = typename NetT::template layer<J>;
    static_assert(BN::channels == channels);
    const float* gamma = params + NetT::plan::param_offsets[J];
    const float *beta = gamma + channels, *mean = gamma + 2 * channels,
                *variance = gamma + 3 * channels;
    for (std::size_t c = 0; c < channels; ++c) {
      const double a = gamma[c] / std::sqrt(double(variance[c]) + double(BN::epsilon));
      scale[c] *= a;
      shift[c] = (shift[c] - mean[c]) * a + beta[c];
    }
  };
  (compose(std::integral_constant<std::size_t, Absorber + 1 + Next>{}), ...);
  // Kernels (kh, kw, cin, cout) and (in, out): the output channel is the last index.
  for (std::size_t k = 0; k < L::kernel_count; ++k) to[k] = float(from[k] * scale[k % channels]);
  for (std::size_t c = 0; c < channels; ++c) to[L::kernel_count + c] = float(shift[c]);
}

}  // namespace detail

template <class NetT>
using FoldBatchNorm = typename detail::FoldBatchNormOf<NetT>::type;

// A copy of `net` as its FoldBatchNorm type, with the folded parameters (the other layers'
// unchanged). On the heap: nets can be large.
template <class NetT>
std::unique_ptr<FoldBatchNorm<NetT>> fold_batch_norm(const NetT& net) {
  using Folded = FoldBatchNorm<NetT>;
  using Fold = detail::FoldBatchNormOf<NetT>;
  auto result = std::make_unique<Folded>();
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    auto keep = [&]<std::size_t J>(std::integral_constant<std::size_t, J>) {
      if constexpr (!Fold::folded[J]) {
        const float* params = net.parameters().data();
        float* to = result->parameters().data() + Folded::plan::param_offsets[Fold::kept_index[J]];
        constexpr std::size_t absorbed = Fold::template absorbed<J>;
        if constexpr (absorbed > 0)
          detail::fold_into<NetT, J>(params, to, std::make_index_sequence<absorbed>{});
        else
          std::copy_n(params + NetT::plan::param_offsets[J], NetT::template layer<J>::param_count,
                      to);
      }
    };
    (keep(std::integral_constant<std::size_t, I>{}), ...);
  }
  (std::make_index_sequence<NetT::layer_count>{});
  return result;
}

}  // namespace typenet
