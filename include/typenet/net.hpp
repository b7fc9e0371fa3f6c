// Net<Input<...>, Layers...>: a network whose architecture is a type.
//
// Everything about the architecture is computed at compile time from the layer list (the *plan*):
// each layer's input and output shape, its parameter count and offset in one flat parameter
// block, the sizes of the activation, cache and scratch buffers. A wrong architecture fails to
// compile, and the error names the layer (its index and type) and its input shape.
//
// Memory: a Net holds its parameters and the buffers for one image (with the transformed kernels
// its 3x3 convolutions' predictions compute from), so `predict` never allocates and a whole net
// can live in static storage. Training uses `Buffers<Net, Chunk, true>`, which
// adds gradient buffers (see train/model.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <boost/hana.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>

#include "typenet/activations.hpp"
#include "typenet/chain.hpp"
#include "typenet/kernels/kernels.hpp"
#include "typenet/layer_info.hpp"
#include "typenet/layers/input.hpp"
#include "typenet/layers/layer.hpp"
#include "typenet/random.hpp"
#include "typenet/shape.hpp"
#include "typenet/thread_pool.hpp"

namespace typenet {

namespace hana = boost::hana;

// The buffers one forward (and, when Training, backward) pass needs for up to Chunk images.
// Fixed-size: sized at compile time from the Net's plan.
template <class NetT, std::size_t Chunk, bool Training>
struct Buffers {
  using plan = typename NetT::plan;
  static constexpr std::size_t chunk = Chunk;
  // Each layer's output: training or inference offsets (some layers in place).
  static constexpr const auto& output_offsets = Training ? plan::training_output_offsets
                                                         : plan::inference_output_offsets;
  alignas(64) std::array<float, Chunk * output_offsets.back()> activations{};
  alignas(64) std::array<std::uint32_t, Chunk * plan::cache_words> cache{};
  alignas(64) std::array<float, plan::scratch_floats> scratch{};
  // What the last training forward kept for backward and after_step (batch statistics).
  std::array<float, plan::step_state_floats> step_state{};
  // Gradients w.r.t. layer outputs, ping-ponged from the head down to the input.
  alignas(64) std::array<float, Training ? Chunk * plan::largest_tensor : 0> grad_a{}, grad_b{};
  // The outputs before the activation of the layers whose activation needs its input (Gelu,
  // Swish), for backward.
  alignas(
      64) std::array<float, Training ? Chunk * plan::pre_activation_floats : 0> pre_activations{};
  // The signs of the ReLU layers' outputs (plan::relu_sign_sizes) from the last training
  // forward, for backward.
  alignas(64) std::array<std::uint8_t, Training ? Chunk * plan::relu_sign_bytes : 0> relu_signs{};
  // What layers keep from forward to backward besides their outputs (layers/layer.hpp).
  alignas(64) std::array<float, Training ? Chunk * plan::saved_floats : 0> saved{};
  // One image's predictions (Net::predict, Frozen): the forms of the weights they compute from
  // (Winograd's transformed kernels: layers/layer.hpp, predict_weight_words), the parameters
  // they were made from, and each team member's finding that those have changed.
  static constexpr bool keeps_predict_forms = Chunk == 1 && !Training &&
                                              plan::predict_weight_words > 0;
  struct PredictForms {
    alignas(64) std::array<std::uint32_t, plan::predict_weight_words> words{};
    std::array<float, plan::predict_source_floats> source{};
    bool made = false;
    std::array<bool, kMaxTeam> stale{};
  };
  struct NoPredictForms {};
  [[no_unique_address]] std::conditional_t<keeps_predict_forms, PredictForms, NoPredictForms>
      predict_forms{};

  float* output_of(std::size_t layer) { return activations.data() + Chunk * output_offsets[layer]; }
  const float* output_of(std::size_t layer) const {
    return activations.data() + Chunk * output_offsets[layer];
  }
  float* pre_activation_of(std::size_t layer) {
    return pre_activations.data() + Chunk * plan::pre_activation_offsets[layer];
  }
  std::uint8_t* relu_signs_of(std::size_t layer, std::size_t image) {
    return relu_signs.data() + Chunk * plan::relu_sign_offsets[layer] +
           image * plan::relu_sign_sizes[layer];
  }
  float* saved_of(std::size_t layer) {
    if constexpr (Training) return saved.data() + Chunk * plan::saved_offsets[layer];
    else return nullptr;
  }
  float* step_state_of(std::size_t layer) {
    return step_state.data() + plan::step_state_offsets[layer];
  }
};

template <class... Layers>
class Net {
  static_assert(
      sizeof...(Layers) != sizeof...(Layers),
      "typenet: the first layer of a Net must be Input<H, W, C>, Input<T, F> or Input<N>");
};

template <std::size_t... InputExtents, class... Layers>
class Net<Input<InputExtents...>, Layers...> {
  static_assert(sizeof...(Layers) > 0, "typenet: a Net needs at least one layer after Input");
  static_assert((!detail::is_input<Layers> && ...),
                "typenet: Input may only be the first layer of a Net");

 public:
  using input_shape_type = typename Input<InputExtents...>::shape;
  using bound_layers = typename detail::BindChain<1, input_shape_type, Layers...>::type;
  using plan = typename detail::PlanFromTuple<input_shape_type, bound_layers>::type;
  template <std::size_t I>
  using layer = std::tuple_element_t<I, bound_layers>;  // 0 = first layer after Input
  static constexpr std::size_t layer_count = sizeof...(Layers);
  using output_shape_type = typename layer<layer_count - 1>::output_shape;
  using last_activation = typename layer<layer_count - 1>::activation;

  static constexpr input_shape_type input_shape{};
  static constexpr output_shape_type output_shape{};
  static constexpr std::size_t input_size = input_shape_type::size;
  static constexpr std::size_t output_size = output_shape_type::size;
  static constexpr std::size_t param_count = plan::param_count;
  static constexpr std::size_t param_bytes = param_count * sizeof(float);
  // Per image: every layer's output (what training keeps) and the largest single tensor.
  static constexpr std::size_t activation_floats = plan::activation_floats;
  static constexpr std::size_t activation_bytes = activation_floats * sizeof(float);
  static constexpr std::size_t flops = plan::flops;  // forward, per image
  // Whether a team of threads can share a training step's whole batch (each member its part of
  // every split layer's outputs) rather than split the batch (see train/model.hpp).
  static constexpr bool trains_in_team = plan::trains_in_team;
  // Whether every layer can train (some are inference-only: layers/layer.hpp).
  static constexpr bool trains = plan::trains;
  // Whether a layer normalises over the whole batch in training (BatchNorm): a data-parallel
  // step then exchanges statistics between its workers (layers/layer.hpp).
  static constexpr bool needs_batch_statistics = plan::batch_statistics_doubles > 0;
  // Whether a layer updates parameters after each optimizer step (after_step: layers/layer.hpp).
  static constexpr bool updates_after_step = plan::step_state_floats > 0;
  // The words of every layer's weights packed for the bf16 products (pack_weights).
  static constexpr std::size_t packed_weight_words = plan::packed_weight_words;
  // Input first, then one record per layer.
  static constexpr std::array<LayerInfo, layer_count + 1> layer_infos = plan::layer_infos();
  template <std::size_t I>
  static constexpr auto shape_at = typename layer<I>::output_shape{};
  template <std::size_t I>
  static constexpr std::size_t param_count_at = layer<I>::param_count;

  explicit Net(std::uint64_t seed = 1) noexcept { initialize(seed); }
  Net(const Net&) = default;
  Net& operator=(const Net&) = default;

  // Glorot-uniform kernels and zero biases, as Keras, from a seed.
  void initialize(std::uint64_t seed) noexcept {
    Rng rng(seed);
    for_each_layer([&](auto i) { layer<i>::init(params_.data() + plan::param_offsets[i], rng); });
  }

  std::span<float> parameters() noexcept { return params_; }
  std::span<const float> parameters() const noexcept { return params_; }

  // Output for one image (H*W*C floats, channels last). For a Softmax head: class probabilities.
  std::array<float, output_size> predict(std::span<const float> image) {
    check_input_size(image.size(), 1, "predict");
    std::array<float, output_size> result;
    const float* out =
        forward(params_.data(), image.data(), 1, inference_, predict_context(params_, inference_));
    std::copy_n(out, output_size, result.begin());
    return result;
  }
  // The same, computed by a team of min(pool.size(), kMaxTeam) threads: lower latency where one
  // core's caches and bandwidth bound it (the sums run in another order: results may differ
  // from the one-thread predict in the last bits). Allocates nothing.
  std::array<float, output_size> predict(std::span<const float> image, ThreadPool& pool) {
    check_input_size(image.size(), 1, "predict");
    const std::size_t members = std::min(pool.size(), kMaxTeam);
    std::array<float, output_size> result;
    auto member_job = [&](std::size_t member) {
      if (member >= members) return;
      const Context ctx = predict_context(params_, inference_, Team{&pool, member, members});
      const float* out = forward(params_.data(), image.data(), 1, inference_, ctx);
      if (member == 0) std::copy_n(out, output_size, result.begin());
    };
    pool.run(member_job);
    return result;
  }
  // Outputs for images.size() / input_size images, written to outputs (output_size each).
  void predict(std::span<const float> images, std::span<float> outputs) {
    const std::size_t count = check_batch(images.size(), outputs.size());
    const Context ctx = predict_context(params_, inference_);
    for (std::size_t i = 0; i < count; ++i) {
      const float* out =
          forward(params_.data(), images.data() + i * input_size, 1, inference_, ctx);
      std::copy_n(out, output_size, outputs.data() + i * output_size);
    }
  }
  // The output of layer `index` (0 = first layer after Input) for the last image given to
  // predict: feature maps.
  std::span<const float> layer_output(std::size_t index) const {
    if (index >= layer_count)
      throw std::out_of_range("typenet: layer_output(" + std::to_string(index) +
                              ") of a Net with " + std::to_string(layer_count) + " layers");
    return {inference_.output_of(index), plan::output_sizes[index]};
  }

  // Throws std::invalid_argument unless `floats` is `images` whole inputs (and not zero).
  static void check_input_size(std::size_t floats, std::size_t images, const char* what) {
    if (floats == 0 || floats != images * input_size)
      throw std::invalid_argument(std::string("typenet: ") + what + " expects a multiple of " +
                                  std::to_string(input_size) + " floats (" +
                                  to_string(input_shape_type::dims) + " per image), got " +
                                  std::to_string(floats));
  }

  // The number of images in a batch predict of `floats` input floats into `outputs` output
  // floats; throws std::invalid_argument unless both are whole and agree.
  static std::size_t check_batch(std::size_t floats, std::size_t outputs) {
    const std::size_t count = floats / input_size;
    check_input_size(floats, count, "predict");
    if (outputs != count * output_size)
      throw std::invalid_argument("typenet: predict of " + std::to_string(count) +
                                  " images needs room for " + std::to_string(count * output_size) +
                                  " outputs, got " + std::to_string(outputs));
    return count;
  }

  // The Keras model summary table.
  static void summary(std::ostream& out = std::cout) { out << summary_string(); }
  static std::string summary_string() { return typenet::summary_table(layer_infos); }

  // One forward pass over n <= Chunk images. Returns the last layer's outputs. With ctx.team of
  // several members (one image, or n images where trains_in_team), every member calls it: layers
  // that split their work compute their parts, the others run on member 0, and the team syncs
  // between layers.
  template <std::size_t Chunk, bool Training>
  static const float* forward(const float* params, const float* input, std::size_t n,
                              Buffers<Net, Chunk, Training>& buffers, Context ctx) noexcept {
    const Team team = ctx.team;
    const std::uint32_t* packed = ctx.packed_weights;  // every layer's (pack_weights)
    // Layer i on the `count` images from `first` on.
    auto pass = [&](auto i, std::size_t first, std::size_t count) {
      using L = layer<i>;
      constexpr std::size_t channels = L::output_shape::last_extent;
      constexpr std::size_t in_size = L::input_shape::size, out_size = L::output_shape::size;
      constexpr std::size_t in_stride = input_stride<i, Training>(),
                            out_stride = output_stride<i, Training>();
      const float* in = i == 0 ? input : buffers.output_of(i - 1);
      float* out = buffers.output_of(i);
      ctx.packed_weights = ctx.predict_forms ? predict_forms_of<i>(packed)
                                             : packed_weights_of<i>(packed);
      ctx.cache = buffers.cache.data() + Chunk * plan::cache_offsets[i];
      ctx.saved = buffers.saved_of(i);
      ctx.scratch = buffers.scratch.data();
      ctx.layer_index = i;
      if constexpr (updates_after_step) ctx.step_state = buffers.step_state_of(i);
      // The layer on `images` images from `image` on, each activated where it was computed.
      auto run = [&](std::size_t image, std::size_t images) {
        Context call = ctx;
        call.first_image = ctx.first_image + image;
        call.cache += image * L::cache_words;
        if (call.saved) call.saved += image * layer_saved_floats<L>();
        float* y = out + image * out_stride;
        auto activate = [&](std::size_t first_value, std::size_t values) {
          if constexpr (Training && L::activation::needs_input)
            std::copy_n(y + first_value, values,
                        buffers.pre_activation_of(i) + image * out_size + first_value);
          // Whole images (not a team member's part) keep their signs, each image its own bytes.
          if constexpr (Training && plan::relu_sign_sizes[i] > 0) {
            if (ctx.training && first_value % out_size == 0 && values % out_size == 0) {
              for (std::size_t k = 0; k < values / out_size; ++k) {
                const std::size_t at = first_value / out_size + k;
                kernels::relu_forward_signs(y + at * out_size, out_size,
                                            buffers.relu_signs_of(i, image + at));
              }
              return;
            }
          }
          L::activation::forward(y + first_value, values, channels);
        };
        if constexpr (splits_in_team<L>) {
          L::forward(params + plan::param_offsets[i], in + image * in_stride, y, images, call);
          activate_in_team<L>(team, images, activate);
        } else if (team.member == 0) {
          call.team = Team{};
          L::forward(params + plan::param_offsets[i], in + image * in_stride, y, images, call);
          activate(0, images * out_size);
        }
      };
      if constexpr (Training && plan::trains_in_place[i]) {
        if (team.member == 0)
          L::activation::forward(out + first * out_size, count * out_size, channels);
      } else if constexpr (!Training && plan::infers_in_place[i]) {
        // Its output is its input's floats already.
      } else if constexpr (detail::ForwardIsCopy<L>) {
        // The input is the activation's input: backward reads it there.
        if (team.member == 0)
          copy_activated<L>(in + first * in_size, out + first * out_size, count * out_size);
      } else if constexpr (detail::ImagesIndependent<L>) {
        for (std::size_t image = first; image < first + count; ++image) run(image, 1);
      } else {
        run(first, count);
      }
    };
    constexpr std::size_t prefix = Training ? plan::training_image_prefix
                                            : plan::inference_image_prefix;
    if constexpr (prefix > 1) {
      if (team.size == 1 && n > 1) {
        // Image by image through the leading layers that compute each image alone (a CNN's
        // convolutions and poolings): an image's feature maps are still in cache when the next
        // layer reads them. Then the rest, all images at once. Each layer sees its images in
        // order, as layer by layer.
        for (std::size_t image = 0; image < n; ++image)
          for_each_layer([&](auto i) {
            if constexpr (i < prefix) pass(i, image, 1);
          });
        for_each_layer([&](auto i) {
          if constexpr (i >= prefix) pass(i, 0, n);
        });
        return buffers.output_of(layer_count - 1);
      }
    }
    for_each_layer([&](auto i) {
      pass(i, 0, n);
      team.sync();
    });
    return buffers.output_of(layer_count - 1);
  }

  // What backward works on besides the buffers and the context.
  struct BackwardArgs {
    const float* params = nullptr;
    const float* input = nullptr;  // the n images forward was given
    std::size_t n = 0;
    float* dparams = nullptr;  // accumulated into (assigned when ctx.assign_grads)
    // Whether buffers.grad_a holds the gradient w.r.t. the last layer's pre-activation (softmax
    // fused with cross-entropy) rather than w.r.t. the Net's output.
    bool head_gradient_is_pre_activation = false;
    float* input_grad = nullptr;  // the gradient w.r.t. the input, written when not null
  };
  // Backward pass after forward over the same args.n images, from the gradient in
  // buffers.grad_a. With ctx.team of several members (where trains_in_team), every member calls
  // it, as forward.
  template <std::size_t Chunk>
  static void backward(const BackwardArgs& args, Buffers<Net, Chunk, true>& buffers,
                       Context ctx) noexcept {
    const Team team = ctx.team;
    const std::uint32_t* packed = ctx.packed_weights;  // every layer's (pack_weights)
    // Layer i on the `count` images from `first` on, from their gradient in dout (image `first`
    // first), writing their input's gradient to spare (likewise).
    auto pass = [&](auto i, std::size_t first, std::size_t count, float* dout, float* spare) {
      using L = layer<i>;
      // The first layer's input gradient is not packed (pack_weights).
      ctx.packed_weights = i == 0 ? nullptr : packed_weights_of<i>(packed);
      constexpr std::size_t channels = L::output_shape::last_extent;
      constexpr std::size_t in_size = L::input_shape::size, out_size = L::output_shape::size;
      const float* out = buffers.output_of(i);
      const float* in = i == 0 ? args.input : buffers.output_of(i - 1);
      float* input_grad = args.input_grad ? args.input_grad + first * in_size : nullptr;
      float* din = i == 0 ? input_grad : spare;
      float* dparams = args.dparams + plan::param_offsets[i];
      ctx.cache = buffers.cache.data() + Chunk * plan::cache_offsets[i];
      ctx.saved = buffers.saved_of(i);
      ctx.scratch = buffers.scratch.data();
      ctx.layer_index = i;
      if constexpr (updates_after_step) ctx.step_state = buffers.step_state_of(i);
      const bool activation_applies =
          !(i == layer_count - 1 && args.head_gradient_is_pre_activation);
      // From the activation's output, or from its input where it needs that.
      const float* activation_from = L::activation::needs_input ? buffers.pre_activation_of(i)
                                                                : out;
      // The layer on `images` images from `image` on, each differentiated where it is used.
      auto run = [&](std::size_t image, std::size_t images) {
        Context call = ctx;
        call.first_image = ctx.first_image + image;
        call.cache += image * L::cache_words;
        if (call.saved) call.saved += image * layer_saved_floats<L>();
        call.assign_grads = ctx.assign_grads && image == 0;
        float* dy = dout + (image - first) * out_size;
        float* dx = din ? din + (image - first) * in_size : nullptr;
        const float* x = in + image * input_stride<i, true>();
        auto differentiate = [&](std::size_t first_value, std::size_t values) {
          // From the signs that forward kept for these whole images.
          if constexpr (plan::relu_sign_sizes[i] > 0) {
            if (first_value % out_size == 0 && values % out_size == 0) {
              for (std::size_t k = 0; k < values / out_size; ++k) {
                const std::size_t at = first_value / out_size + k;
                kernels::relu_backward_signs(buffers.relu_signs_of(i, image + at),
                                             dy + at * out_size, out_size);
              }
              return;
            }
          }
          L::activation::backward(activation_from + image * out_size + first_value,
                                  dy + first_value, values, channels);
        };
        if constexpr (splits_in_team<L>) {
          // Each member's share of dout is what the layer's backward reads before it syncs.
          if (activation_applies) activate_in_team<L>(team, images, differentiate);
          L::backward(args.params + plan::param_offsets[i], x, dy, dx, dparams, images, call);
        } else if (team.member == 0) {
          call.team = Team{};
          if (activation_applies) differentiate(0, images * out_size);
          L::backward(args.params + plan::param_offsets[i], x, dy, dx, dparams, images, call);
        }
      };
      if constexpr (plan::trains_in_place[i]) {
        if (team.member == 0 && activation_applies)
          L::activation::backward(out + first * out_size, dout, count * out_size, channels);
      } else if constexpr (detail::ForwardIsCopy<L>) {
        const float* from = L::activation::needs_input ? in : out;
        if (team.member == 0 && din)
          copy_differentiated<L>(activation_applies ? from + first * out_size : nullptr, dout, din,
                                 count * out_size);
      } else if constexpr (detail::ImagesIndependent<L>) {
        for (std::size_t image = first; image < first + count; ++image) run(image, 1);
      } else {
        run(first, count);
      }
    };
    float* dout = buffers.grad_a.data();
    float* spare = buffers.grad_b.data();
    constexpr std::size_t prefix = plan::training_image_prefix;
    const bool image_by_image = prefix > 1 && team.size == 1 && args.n > 1;
    // The layers after the leading per-image ones, all images at once; then, image by image,
    // the leading ones (a CNN's poolings and convolutions), so that an image's gradients are
    // still in cache when the layer below reads them. Each layer sees its images in order: the
    // same sums.
    for_each_layer_reversed([&](auto i) {
      if (image_by_image && i < prefix) return;
      pass(i, 0, args.n, dout, spare);
      team.sync();
      if constexpr (!plan::trains_in_place[i]) std::swap(dout, spare);
    });
    if constexpr (prefix > 1) {
      if (!image_by_image) return;
      // An image's gradients below the batched layers take turns in two image-sized slots of
      // spare (n > 1: it holds at least two), leaving the batched gradient in dout whole.
      constexpr std::size_t top_size = layer<prefix - 1>::output_shape::size;
      float* const slots[2] = {spare, spare + plan::largest_tensor};
      for (std::size_t image = 0; image < args.n; ++image) {
        float* image_dout = dout + image * top_size;
        std::size_t slot = 0;
        for_each_layer_reversed([&](auto i) {
          if constexpr (i < prefix) {
            pass(i, image, 1, image_dout, slots[slot]);
            if constexpr (!plan::trains_in_place[i]) {
              image_dout = slots[slot];
              slot ^= 1;
            }
          }
        });
      }
    }
  }

  // This worker's share (request.part of request.parts) of the layers' weights packed for the
  // bf16 products of a pass (layers/layer.hpp, "Weights packed once"), into packed_weight_words
  // words; forward and backward then read them when given them as ctx.packed_weights. The first
  // layer's input gradient (rarely asked for) packs per call.
  static void pack_weights(const float* params, std::uint32_t* packed,
                           const PackRequest& request) noexcept {
    PackRequest layer_request = request;
    for_each_layer([&](auto i) {
      if constexpr (plan::packed_weight_sizes[i] > 0) {
        layer_request.backward = request.backward && i > 0;
        layer<i>::pack_weights(params + plan::param_offsets[i],
                               packed + plan::packed_weight_offsets[i], layer_request);
        layer_request = layer_request.next().next();
      }
    });
  }

  // The context of a prediction of one image through `buffers` (Net::predict, Frozen) by `team`:
  // the 3x3 convolutions by Winograd's products from the forms that `buffers` keeps, made again
  // first when `params` differ from the parameters they were made from (the team compares and
  // makes its parts). Every member calls it.
  static Context predict_context(std::span<const float, param_count> params,
                                 Buffers<Net, 1, false>& buffers, const Team& team = {}) noexcept {
    Context ctx;
    ctx.team = team;
    if constexpr (Buffers<Net, 1, false>::keeps_predict_forms) {
      auto& forms = buffers.predict_forms;
      bool stale = !forms.made;
      for_each_layer([&](auto i) {
        if constexpr (plan::predict_source_sizes[i] > 0) {
          const auto [first, end] = team.part(plan::predict_source_sizes[i]);
          stale = stale ||
                  std::memcmp(params.data() + plan::param_offsets[i] + first,
                              forms.source.data() + plan::predict_source_offsets[i] + first,
                              (end - first) * sizeof(float)) != 0;
        }
      });
      if (team.size > 1) {
        forms.stale[team.member] = stale;
        team.sync();
        stale = std::any_of(forms.stale.begin(), forms.stale.begin() + team.size,
                            [](bool changed) { return changed; });
      }
      if (stale) {
        PackRequest request{.winograd = true, .part = team.member, .parts = team.size};
        for_each_layer([&](auto i) {
          if constexpr (plan::predict_source_sizes[i] > 0) {
            const float* layer_params = params.data() + plan::param_offsets[i];
            layer<i>::pack_weights(layer_params,
                                   forms.words.data() + plan::predict_weight_offsets[i], request);
            request = request.next();
            const auto [first, end] = team.part(plan::predict_source_sizes[i]);
            std::copy(layer_params + first, layer_params + end,
                      forms.source.data() + plan::predict_source_offsets[i] + first);
          }
        });
        team.sync();
        if (team.member == 0) forms.made = true;
      }
      ctx.winograd = true;
      ctx.packed_weights = forms.words.data();
      ctx.predict_forms = true;
    }
    return ctx;
  }

  // After an optimizer step that was given the batch of the last training forward through
  // `buffers`: each layer's after_step on its committed parameters (layers/layer.hpp).
  template <std::size_t Chunk, bool Training>
  static void after_step(float* params, const Buffers<Net, Chunk, Training>& buffers) noexcept {
    for_each_layer([&](auto i) {
      if constexpr (plan::step_state_sizes[i] > 0)
        layer<i>::after_step(params + plan::param_offsets[i],
                             buffers.step_state.data() + plan::step_state_offsets[i]);
    });
  }

 private:
  // Layer I's part of the packed weights of every layer (null: none packed).
  template <std::size_t I>
  static const std::uint32_t* packed_weights_of(const std::uint32_t* packed) noexcept {
    if constexpr (plan::packed_weight_sizes[I] == 0) return nullptr;
    else return packed ? packed + plan::packed_weight_offsets[I] : nullptr;
  }
  template <std::size_t I>
  static const std::uint32_t* predict_forms_of(const std::uint32_t* forms) noexcept {
    if constexpr (plan::predict_weight_sizes[I] == 0) return nullptr;
    else return forms + plan::predict_weight_offsets[I];
  }
  // Calls f(std::integral_constant<size_t, I>) for each layer index I, unrolled at compile time.
  template <class F>
  static void for_each_layer(F&& f) {
    hana::for_each(layer_indices(), [&](auto i) { f(as_index(i)); });
  }
  template <class F>
  static void for_each_layer_reversed(F&& f) {
    hana::for_each(hana::reverse(layer_indices()), [&](auto i) { f(as_index(i)); });
  }
  static constexpr auto layer_indices() {
    return hana::to_tuple(hana::make_range(hana::size_c<0>, hana::size_c<layer_count>));
  }
  template <class HanaIndex>
  static constexpr auto as_index(HanaIndex) {
    return std::integral_constant<std::size_t, HanaIndex::value>{};
  }
  template <class L>
  static constexpr bool splits_in_team = detail::SplitsInTeam<L>;
  // Floats from one image's input (output) of layer I to the next image's in a pass's buffers:
  // none where training reuses one image's floats for every image (plan::trains_reusing_output).
  template <std::size_t I, bool Training>
  static constexpr std::size_t output_stride() {
    return Training && plan::trains_reusing_output[I] ? 0 : layer<I>::output_shape::size;
  }
  template <std::size_t I, bool Training>
  static constexpr std::size_t input_stride() {
    if constexpr (I == 0) return input_size;
    else return output_stride<I - 1, Training>();
  }
  // The floats an activation pass takes at a time in the fused copies below: whole rows (softmax
  // needs them), within L1.
  template <class L>
  static constexpr std::size_t activation_block =
      L::output_shape::last_extent* std::max<std::size_t>(1, 2048 / L::output_shape::last_extent);
  // out = activation(in) for a layer whose forward is a copy: one pass instead of a copy and an
  // in-place pass.
  template <class L>
  static void copy_activated(const float* in, float* out, std::size_t count) noexcept {
    for (std::size_t first = 0; first < count; first += activation_block<L>) {
      const std::size_t length = std::min(activation_block<L>, count - first);
      std::copy_n(in + first, length, out + first);
      L::activation::forward(out + first, length, L::output_shape::last_extent);
    }
  }
  // din = dout differentiated through the activation (from its input or output, as it needs; no
  // differentiation when `from` is null) for a layer whose backward is a copy.
  template <class L>
  static void copy_differentiated(const float* from, const float* dout, float* din,
                                  std::size_t count) noexcept {
    for (std::size_t first = 0; first < count; first += activation_block<L>) {
      const std::size_t length = std::min(activation_block<L>, count - first);
      std::copy_n(dout + first, length, din + first);
      if (from)
        L::activation::backward(from + first, din + first, length, L::output_shape::last_extent);
    }
  }
  // Calls apply(first, count) on the floats of layer L's outputs for n images that this team
  // member activates (or differentiates): all of them when it works alone; for a softmax, which
  // needs whole rows, member 0 all of them once every member's part is there; otherwise its
  // share of every image.
  template <class L, class Apply>
  static void activate_in_team(const Team& team, std::size_t n, Apply&& apply) noexcept {
    constexpr std::size_t size = L::output_shape::size;
    if (team.size == 1) {
      apply(0, n * size);
    } else if constexpr (L::activation::kind == ActivationKind::Softmax) {
      team.sync();
      if (team.member == 0) apply(0, n * size);
      team.sync();
    } else {
      const auto [first, end] = L::team_share(team);
      for (std::size_t image = 0; image < n; ++image) apply(image * size + first, end - first);
    }
  }

  alignas(64) std::array<float, param_count> params_{};
  Buffers<Net, 1, false> inference_{};
};

}  // namespace typenet
