// Chains of bound layers: each layer bound to the output shape of the one before it, and the
// compile-time plan of the chain (parameter, output and cache offsets, scratch size). A Net is
// a chain after its Input; each branch of a residual block (layers/residual.hpp) is one too.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

#include "typenet/activations.hpp"
#include "typenet/layer_info.hpp"
#include "typenet/layers/input.hpp"
#include "typenet/random.hpp"
#include "typenet/layers/layer.hpp"

namespace typenet {

namespace detail {

// Binds each layer to the output shape of the one before it. When a layer rejects its input,
// the compiler's instantiation trace reads "BindChain<2, Shape<26, 26, 8>, Dense<10>>": the
// layer's position in the Net (Input is 0), its input shape and its type. A bound layer that
// lacks a member of the layer contract (layers/layer.hpp) is told which one, there.
template <std::size_t Index, class In, class... Layers>
struct BindChain {
  using type = std::tuple<>;
};
template <std::size_t Index, class In, class Layer, class... Rest>
struct BindChain<Index, In, Layer, Rest...> {
  using bound = typename Layer::template bind<In>;
  static_assert(satisfies_layer_contract<bound>(),
                "typenet: this layer does not meet the layer contract (the member is named above)");
  using type = decltype(std::tuple_cat(
      std::declval<std::tuple<bound>>(),
      std::declval<typename BindChain<Index + 1, typename bound::output_shape, Rest...>::type>()));
};

template <class T>
inline constexpr bool is_input = false;

template <class Bound>
concept SaysTeamSplit = requires {
  { Bound::team_split } -> std::convertible_to<bool>;
};
template <class Bound>
concept SaysTeamSplitsOutputs = requires {
  { Bound::team_splits_outputs } -> std::convertible_to<bool>;
};
// Whether a bound layer computes parts of its output in a team (see layers/layer.hpp).
template <class Bound>
concept SplitsInTeam = SaysTeamSplit<Bound> && Bound::team_split;
// Whether a team can train a bound layer on a whole batch: it works alone (cheap: below the
// split threshold), or it splits by outputs, which holds for any batch size.
template <class Bound>
concept TrainsInTeam = !SplitsInTeam<Bound> ||
                       (SaysTeamSplitsOutputs<Bound> && Bound::team_splits_outputs);
// The passes the Net may save for a bound layer (see layers/layer.hpp).
template <class Bound>
concept ForwardIsCopy = requires {
  { Bound::forward_is_copy } -> std::convertible_to<bool>;
}
&&Bound::forward_is_copy;
template <class Bound>
concept InferenceIsIdentity = requires {
  { Bound::inference_is_identity } -> std::convertible_to<bool>;
}
&&Bound::inference_is_identity;
template <class Bound>
concept ImagesIndependent = requires {
  { Bound::images_independent } -> std::convertible_to<bool>;
}
&&Bound::images_independent;
template <class Bound>
concept BackwardReadsInput = !requires {
  { Bound::backward_reads_input } -> std::convertible_to<bool>;
}
|| Bound::backward_reads_input;
template <std::size_t... E>
inline constexpr bool is_input<Input<E...>> = true;

// A bound layer's optional members for batch statistics and state kept for after_step (see
// layers/layer.hpp); 0 when it has none.
template <class Bound>
constexpr std::size_t batch_statistics_doubles_of() {
  if constexpr (requires { Bound::batch_statistics_doubles; })
    return Bound::batch_statistics_doubles;
  else return 0;
}
template <class Bound>
constexpr std::size_t step_state_floats_of() {
  if constexpr (requires { Bound::step_state_floats; }) return Bound::step_state_floats;
  else return 0;
}

// The compile-time plan of a layer list.
template <class In, class... Bound>
struct PlanOf {
  static constexpr std::size_t layer_count = sizeof...(Bound);
  static constexpr std::array<std::size_t, layer_count> param_counts{Bound::param_count...};
  static constexpr std::array<std::size_t, layer_count> output_sizes{Bound::output_shape::size...};
  static constexpr std::array<std::size_t, layer_count> cache_sizes{Bound::cache_words...};
  static constexpr std::array<std::size_t, layer_count> saved_sizes{layer_saved_floats<Bound>()...};
  static constexpr std::array<std::size_t, layer_count> step_state_sizes{
      step_state_floats_of<Bound>()...};
  static constexpr std::array<std::size_t, layer_count> packed_weight_sizes{
      layer_packed_weight_words<Bound>()...};
  static constexpr std::array<std::size_t, layer_count> predict_weight_sizes{
      layer_predict_weight_words<Bound>()...};
  // The parameters that the predictions' forms are made from.
  static constexpr std::array<std::size_t, layer_count> predict_source_sizes{
      (layer_predict_weight_words<Bound>() > 0 ? Bound::param_count : 0)...};
  // What the Net keeps of each layer's output before an activation that needs its input: none
  // for an activation used as a layer (forward_is_copy), whose input is that.
  static constexpr std::array<std::size_t, layer_count> pre_activation_sizes{
      (Bound::activation::needs_input && !ForwardIsCopy<Bound> ? Bound::output_shape::size : 0)...};

  // The bytes a Net's training keeps per image of the signs of a ReLU's outputs, a bit each, so
  // that backward reads those rather than the outputs, which have left the cache by then: for
  // a layer with a Relu option (as a layer, a Relu's backward is a copy that reads its input).
  static constexpr std::array<std::size_t, layer_count> relu_sign_sizes{
      (Bound::activation::kind == ActivationKind::Relu && !ForwardIsCopy<Bound>
           ? (Bound::output_shape::size + 7) / 8
           : 0)...};

  static constexpr auto exclusive_sums(const std::array<std::size_t, layer_count>& sizes) {
    std::array<std::size_t, layer_count + 1> offsets{};
    for (std::size_t i = 0; i < layer_count; ++i) offsets[i + 1] = offsets[i] + sizes[i];
    return offsets;
  }
  static constexpr auto param_offsets = exclusive_sums(param_counts);
  static constexpr auto output_offsets = exclusive_sums(output_sizes);
  static constexpr auto cache_offsets = exclusive_sums(cache_sizes);
  static constexpr auto saved_offsets = exclusive_sums(saved_sizes);
  static constexpr auto pre_activation_offsets = exclusive_sums(pre_activation_sizes);
  static constexpr auto relu_sign_offsets = exclusive_sums(relu_sign_sizes);
  static constexpr auto step_state_offsets = exclusive_sums(step_state_sizes);
  static constexpr auto packed_weight_offsets = exclusive_sums(packed_weight_sizes);
  static constexpr auto predict_weight_offsets = exclusive_sums(predict_weight_sizes);
  static constexpr auto predict_source_offsets = exclusive_sums(predict_source_sizes);

  // In training, an activation used as a layer (forward_is_copy) whose backward reads only its
  // output works in place on the layer before it when that layer's activation is Linear: that
  // output is then read by nobody else (a layer's backward reads its input, not its output). It
  // shares that layer's output floats, and its backward turns the gradient in place.
  static constexpr std::array<bool, layer_count> trains_in_place = [] {
    constexpr std::array<bool, layer_count> copies{ForwardIsCopy<Bound>...};
    constexpr std::array<bool, layer_count> reads_input{Bound::activation::needs_input...};
    constexpr std::array<bool, layer_count> linear{
        (Bound::activation::kind == ActivationKind::Linear)...};
    std::array<bool, layer_count> in_place{};
    for (std::size_t i = 1; i < layer_count; ++i)
      in_place[i] = copies[i] && !reads_input[i] && linear[i - 1];
    return in_place;
  }();
  // In inference, a layer whose forward is then the identity (inference_is_identity) has the
  // floats of the layer before it as its output (the Net's input, for a first layer, is not in
  // the buffers: that one copies).
  static constexpr std::array<bool, layer_count> infers_in_place = [] {
    constexpr std::array<bool, layer_count> identity{InferenceIsIdentity<Bound>...};
    std::array<bool, layer_count> in_place{};
    for (std::size_t i = 1; i < layer_count; ++i) in_place[i] = identity[i];
    return in_place;
  }();
  // The leading layers that, in inference, compute each image alone (images_independent, an
  // activation used as a layer, or nothing at all: infers_in_place): the Net passes an image
  // through all of them before the next image.
  static constexpr std::size_t image_prefix(const std::array<bool, layer_count>& in_place) {
    constexpr std::array<bool, layer_count> alone{
        (ImagesIndependent<Bound> || ForwardIsCopy<Bound>)...};
    std::size_t count = 0;
    while (count < layer_count && (alone[count] || in_place[count])) ++count;
    return count;
  }
  static constexpr std::size_t inference_image_prefix = image_prefix(infers_in_place);
  // ... and in training (forward and backward; layers that train in place are activations).
  static constexpr std::size_t training_image_prefix = image_prefix(trains_in_place);
  // Where each layer's output starts in buffers whose layers in_place share their
  // predecessor's floats, and the floats of all of them (the last entry).
  static constexpr auto shared_output_offsets(const std::array<bool, layer_count>& in_place) {
    std::array<std::size_t, layer_count + 1> offsets{};
    std::size_t end = 0;
    for (std::size_t i = 0; i < layer_count; ++i) {
      offsets[i] = in_place[i] ? offsets[i - 1] : end;
      if (!in_place[i]) end += output_sizes[i];
    }
    offsets[layer_count] = end;
    return offsets;
  }
  static constexpr auto training_output_offsets = shared_output_offsets(trains_in_place);
  static constexpr auto inference_output_offsets = shared_output_offsets(infers_in_place);

  static constexpr std::size_t param_count = param_offsets[layer_count];
  static constexpr std::size_t activation_floats = output_offsets[layer_count];  // per image
  static constexpr std::size_t cache_words = cache_offsets[layer_count];         // per image
  static constexpr std::size_t saved_floats = saved_offsets[layer_count];  // per image, training
  static constexpr std::size_t pre_activation_floats = pre_activation_offsets[layer_count];
  static constexpr std::size_t relu_sign_bytes = relu_sign_offsets[layer_count];  // per image
  static constexpr std::size_t step_state_floats = step_state_offsets[layer_count];
  static constexpr std::size_t packed_weight_words = packed_weight_offsets[layer_count];
  static constexpr std::size_t predict_weight_words = predict_weight_offsets[layer_count];
  static constexpr std::size_t predict_source_floats = predict_source_offsets[layer_count];
  // The largest partial statistics a layer exchanges; 0 when no layer needs batch statistics.
  static constexpr std::size_t batch_statistics_doubles =
      std::max({std::size_t{0}, batch_statistics_doubles_of<Bound>()...});
  static constexpr std::size_t largest_tensor = std::max({In::size, Bound::output_shape::size...});
  static constexpr std::size_t scratch_floats =
      std::max({std::size_t{1}, Bound::scratch_floats...});
  static constexpr std::size_t flops = (Bound::flops + ... + 0);
  static constexpr bool trains = (layer_trains<Bound>() && ...);
  static constexpr bool trains_in_team = (TrainsInTeam<Bound> && ...) &&
                                         (SplitsInTeam<Bound> || ...);
  // In training, a layer in the image prefix (image by image) whose output backward never reads
  // writes every image's output to the same floats, which the next layer then reads while they
  // are in cache: no image's output goes out to memory and back. Its activation's derivative
  // needs no output (Linear; ReLU, from the signs it keeps: relu_sign_sizes), the next layer, also
  // in the prefix, does not read its input (BackwardReadsInput), and neither works on another's
  // floats (forward_is_copy, plan::trains_in_place). Not where a team trains the whole batch
  // layer by layer.
  static constexpr std::array<bool, layer_count> trains_reusing_output = [] {
    constexpr std::array<bool, layer_count> reads_input{BackwardReadsInput<Bound>...};
    constexpr std::array<bool, layer_count> copies{ForwardIsCopy<Bound>...};
    constexpr std::array<bool, layer_count> linear{
        (Bound::activation::kind == ActivationKind::Linear)...};
    std::array<bool, layer_count> reusing{};
    for (std::size_t i = 0; i + 1 < training_image_prefix; ++i)
      reusing[i] = !trains_in_team && (linear[i] || relu_sign_sizes[i] > 0) && !copies[i] &&
                   !reads_input[i + 1] && !trains_in_place[i + 1];
    return reusing;
  }();

  static constexpr auto layer_infos() {
    std::array<LayerInfo, layer_count + 1> infos{};
    infos[0].type = "Input";
    infos[0].class_name = "InputLayer";
    infos[0].in = infos[0].out = In::dims;
    write_cpp_extents(infos[0].cpp << "Input<", In::dims);
    infos[0].cpp << ">";
    std::size_t i = 0;
    ((infos[i + 1] = Bound::info(), infos[i + 1].param_offset = param_offsets[i], ++i), ...);
    return infos;
  }
};

template <class In, class Tuple>
struct PlanFromTuple;
template <class In, class... Bound>
struct PlanFromTuple<In, std::tuple<Bound...>> {
  using type = PlanOf<In, Bound...>;
};

}  // namespace detail

namespace detail {

// The output shape of a tuple of bound layers that reads In; an empty chain passes In on.
template <class In, class Tuple>
struct ChainOutput {
  using type = In;
};
template <class In, class First, class... Rest>
struct ChainOutput<In, std::tuple<First, Rest...>> {
  using type =
      typename std::tuple_element_t<sizeof...(Rest), std::tuple<First, Rest...>>::output_shape;
};

// A chain of layers bound one after the other from the shape In, used inside a layer (a branch
// of a residual block): its plan, and a forward pass over one image on the calling thread.
// BindChain's trace names the layers by their position in the chain from FirstIndex.
template <std::size_t FirstIndex, class In, class... Layers>
struct Chain {
  using input_shape = In;
  using bound_layers = typename BindChain<FirstIndex, In, Layers...>::type;
  using plan = typename PlanFromTuple<In, bound_layers>::type;
  static constexpr std::size_t layer_count = sizeof...(Layers);
  template <std::size_t I>
  using layer = std::tuple_element_t<I, bound_layers>;
  using output_shape = typename ChainOutput<In, bound_layers>::type;
  // The floats of one image's outputs but the last layer's, which goes to the caller's buffer.
  static constexpr std::size_t hidden_floats =
      layer_count == 0 ? 0 : plan::output_offsets[layer_count - 1];

  // One image through the chain, alone: layer i writes its output (activated) to hidden +
  // plan::output_offsets[i], the last one to `out`; `cache` holds the chain's plan::cache_words
  // for this image, `scratch` plan::scratch_floats. Returns the chain's output: `out`, or `in`
  // for an empty chain.
  static void init(float* params, Rng& rng) noexcept {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (layer<I>::init(params + plan::param_offsets[I], rng), ...);
    }
    (std::make_index_sequence<layer_count>{});
  }

  static const float* forward_one(const float* params, const float* in, float* out, float* hidden,
                                  std::uint32_t* cache, float* scratch) noexcept {
    if constexpr (layer_count == 0) {
      return in;
    } else {
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (forward_layer<I>(params, in, out, hidden, cache, scratch), ...);
      }
      (std::make_index_sequence<layer_count>{});
      return out;
    }
  }

  // Training. The chain keeps, for n images, every layer's output (activated), the
  // pre-activations of the layers whose activation needs them and the layers' own saved
  // floats: training_floats per image, in `kept`; `cache` holds plan::cache_words per image.
  static constexpr std::size_t training_floats = plan::activation_floats +
                                                 plan::pre_activation_floats + plan::saved_floats;

  // n images through the chain in training mode, layer by layer (so that a layer sees the whole
  // call's images, as the Net's own layers do: a BatchNorm's batch statistics). Inner layer I runs
  // with ctx.layer_index = stream + I (its dropout stream) and its part of ctx.step_state (the
  // chain's plan::step_state_floats). Returns the chain's output (in kept), or `in` for an empty
  // chain.
  static const float* forward_training(const float* params, const float* in, std::size_t n,
                                       float* kept, std::uint32_t* cache, float* scratch,
                                       Context ctx, std::size_t stream) noexcept {
    const float* x = in;
    for_each_layer([&](auto i) {
      using L = layer<i>;
      float* y = output_in(kept, n, i);
      L::forward(params + plan::param_offsets[i], x, y, n,
                 inner_context<i>(ctx, n, kept, cache, scratch, stream));
      if constexpr (plan::pre_activation_sizes[i] > 0)
        std::copy_n(y, n * L::output_shape::size, pre_activation_in(kept, n, i));
      L::activation::forward(y, n * L::output_shape::size, L::output_shape::last_extent);
      x = y;
    });
    return x;
  }

  // Each layer's after_step (layers/layer.hpp), the chain's step state at `state`.
  static void after_step(float* params, const float* state) noexcept {
    for_each_layer([&](auto i) {
      if constexpr (plan::step_state_sizes[i] > 0)
        layer<i>::after_step(params + plan::param_offsets[i], state + plan::step_state_offsets[i]);
    });
  }

  // Backward after forward_training over the same n images: dout holds the gradient w.r.t. the
  // chain's output and spare as many floats; both n * largest_tensor floats, overwritten.
  // Assigns din (the gradient w.r.t. `in`; skipped when null) and accumulates into dparams (or
  // assigns them, ctx.assign_grads).
  static void backward_training(const float* params, const float* in, std::size_t n, float* kept,
                                std::uint32_t* cache, float* scratch, float* dout, float* spare,
                                float* din, float* dparams, Context ctx,
                                std::size_t stream) noexcept {
    for_each_layer_reversed([&](auto i) {
      using L = layer<i>;
      constexpr std::size_t size = L::output_shape::size;
      const float* x = in;
      if constexpr (i > 0) x = output_in(kept, n, i - 1);
      // From the activation's output, or its input where it needs that: the layer's own input
      // for an activation used as a layer.
      const float* activation_from = !L::activation::needs_input ? output_in(kept, n, i)
                                     : detail::ForwardIsCopy<L>  ? x
                                                                 : pre_activation_in(kept, n, i);
      L::activation::backward(activation_from, dout, n * size, L::output_shape::last_extent);
      L::backward(params + plan::param_offsets[i], x, dout, i == 0 ? din : spare,
                  dparams + plan::param_offsets[i], n,
                  inner_context<i>(ctx, n, kept, cache, scratch, stream));
      std::swap(dout, spare);
    });
  }

 private:
  template <class F>
  static void for_each_layer(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f(std::integral_constant<std::size_t, I>{}), ...);
    }
    (std::make_index_sequence<layer_count>{});
  }
  template <class F>
  static void for_each_layer_reversed(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f(std::integral_constant<std::size_t, layer_count - 1 - I>{}), ...);
    }
    (std::make_index_sequence<layer_count>{});
  }
  // Where forward_training keeps layer i's output, pre-activation and saved floats, n images.
  static float* output_in(float* kept, std::size_t n, std::size_t i) noexcept {
    return kept + n * plan::output_offsets[i];
  }
  static float* pre_activation_in(float* kept, std::size_t n, std::size_t i) noexcept {
    return kept + n * (plan::activation_floats + plan::pre_activation_offsets[i]);
  }
  template <std::size_t I>
  static Context inner_context(Context ctx, std::size_t n, float* kept, std::uint32_t* cache,
                               float* scratch, std::size_t stream) noexcept {
    ctx.cache = cache + n * plan::cache_offsets[I];
    ctx.saved =
        kept + n * (plan::activation_floats + plan::pre_activation_floats + plan::saved_offsets[I]);
    ctx.scratch = scratch;
    ctx.layer_index = stream + I;
    ctx.team = Team{};
    ctx.packed_weights = nullptr;  // the branch's layers pack per call
    if constexpr (plan::step_state_floats > 0) ctx.step_state += plan::step_state_offsets[I];
    return ctx;
  }

  template <std::size_t I>
  static void forward_layer(const float* params, const float* in, float* out, float* hidden,
                            std::uint32_t* cache, float* scratch) noexcept {
    using L = layer<I>;
    const float* x = in;
    if constexpr (I > 0) x = hidden + plan::output_offsets[I - 1];
    float* y = I + 1 == layer_count ? out : hidden + plan::output_offsets[I];
    Context ctx;
    ctx.scratch = scratch;
    ctx.cache = cache + plan::cache_offsets[I];
    ctx.layer_index = I;
    L::forward(params + plan::param_offsets[I], x, y, 1, ctx);
    L::activation::forward(y, L::output_shape::size, L::output_shape::last_extent);
  }
};

}  // namespace detail

}  // namespace typenet
