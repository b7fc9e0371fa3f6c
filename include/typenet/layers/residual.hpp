// Residual<Main<Layers...>, Shortcut<Layers...>?>: a residual block, output = main(x) +
// shortcut(x), the shortcut being the input itself when there is none:
//
//   Residual<Main<Conv<16, 3, Relu, Same>, Conv<16, 3, Same>>>, Relu            // identity
//   Residual<Main<Conv<32, 3, Relu, Same, Stride<2>>, Conv<32, 3, Same>>,
//            Shortcut<Conv<32, 1, Stride<2>>>>, Relu                           // projection
//
// Each branch is a chain of any layers (detail::Chain), bound from the block's input; the two
// must produce the same shape. The block's parameters are the main branch's, then the
// shortcut's. Keras: the two paths of a functional model from a tensor to the Add that joins
// them (the main branch is the longer one); its info() lists the inner layers' records per
// branch (LayerInfo::main, shortcut) and maps itself to the Add.
// It trains when its branches do. The team splits no block (member 0 runs it).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "typenet/chain.hpp"
#include "typenet/keras_mapping.hpp"
#include "typenet/kernels/kernels.hpp"
#include "typenet/layers/layer.hpp"

namespace typenet {

// The layers of a residual block's branches.
template <class... Layers>
struct Main {};
template <class... Layers>
struct Shortcut {};

inline constexpr std::string_view add_keras_classes[] = {"Add"};

// How export-cpp spells a block from its branches' spellings (each a typenet layer, as
// KerasLayerClass::cpp_type writes it): "Residual<Main<A, B>>", "Residual<Main<A>, Shortcut<C>>".
inline std::string residual_cpp_type(std::span<const std::string> main,
                                     std::span<const std::string> shortcut) {
  const auto list = [](std::span<const std::string> layers) {
    std::string text;
    for (const std::string& layer : layers) text += (text.empty() ? "" : ", ") + layer;
    return text;
  };
  return "Residual<Main<" + list(main) + ">" +
         (shortcut.empty() ? "" : ", Shortcut<" + list(shortcut) + ">") + ">";
}

namespace detail {
template <class T>
inline constexpr bool always_false = false;

// Instantiated with both branches' output shapes, so that a mismatch's trace shows them.
template <class MainOut, class ShortcutOut>
constexpr bool branch_shapes_match() {
  static_assert(MainOut::dims == ShortcutOut::dims,
                "typenet: a Residual's main branch and shortcut must produce the same shape "
                "(the input's shape when there is no Shortcut), here MainOut and ShortcutOut of "
                "branch_shapes_match above; a block that downsamples needs a Shortcut "
                "that does too (e.g. Conv<C, 1, Stride<2>>)");
  return true;
}

// The records of a branch's layers for LayerInfo::main/shortcut: the plan's without the Input,
// parameter offsets moved by `base` (where the branch starts in the block's parameters).
template <class Chain, std::size_t Base>
constexpr auto branch_infos() {
  constexpr auto with_input = Chain::plan::layer_infos();
  std::array<LayerInfo, Chain::layer_count> infos{};
  for (std::size_t i = 0; i < infos.size(); ++i) {
    infos[i] = with_input[i + 1];
    infos[i].param_offset += Base;
  }
  return infos;
}
}  // namespace detail

template <class MainBranch, class ShortcutBranch = Shortcut<>>
struct Residual {
  static_assert(detail::always_false<MainBranch>,
                "typenet: a residual block is Residual<Main<Layers...>> (identity shortcut) or "
                "Residual<Main<Layers...>, Shortcut<Layers...>>");
};

template <class... MainLayers, class... ShortcutLayers>
struct Residual<Main<MainLayers...>, Shortcut<ShortcutLayers...>> {
  static_assert(sizeof...(MainLayers) > 0, "typenet: a Residual's Main<...> needs a layer");

  template <class In>
  struct bind {
    using main_chain = detail::Chain<1, In, MainLayers...>;
    using shortcut_chain = detail::Chain<1, In, ShortcutLayers...>;
    static_assert(detail::branch_shapes_match<typename main_chain::output_shape,
                                              typename shortcut_chain::output_shape>());
    static constexpr bool identity_shortcut = shortcut_chain::layer_count == 0;
    static constexpr std::size_t main_params = main_chain::plan::param_count;

    using input_shape = In;
    using output_shape = typename main_chain::output_shape;
    using activation = detail::Activation<ActivationKind::Linear>;
    static constexpr bool trains = main_chain::plan::trains && shortcut_chain::plan::trains;
    static constexpr std::size_t param_count = main_params + shortcut_chain::plan::param_count;
    static constexpr std::size_t cache_words = main_chain::plan::cache_words +
                                               shortcut_chain::plan::cache_words;
    static constexpr std::size_t flops = main_chain::plan::flops + shortcut_chain::plan::flops +
                                         output_shape::size;
    // Inference runs image by image, one image's inner outputs in the scratch (the main
    // branch's last layer writes the block's output directly): they are dead once the image is
    // added up.
    //   scratch: [main hidden | shortcut hidden | shortcut output | inner layers' scratch]
    static constexpr std::size_t shortcut_hidden_at = main_chain::hidden_floats;
    static constexpr std::size_t shortcut_output_at = shortcut_hidden_at +
                                                      shortcut_chain::hidden_floats;
    static constexpr std::size_t inner_scratch_at = shortcut_output_at +
                                                    (identity_shortcut ? 0 : output_shape::size);
    static constexpr std::size_t scratch_floats =
        inner_scratch_at +
        std::max(main_chain::plan::scratch_floats, shortcut_chain::plan::scratch_floats);
    // Training runs layer by layer over the call's images (a BatchNorm inside sees them all) and
    // keeps, per image, what backward reads: each branch's outputs (Chain::training_floats),
    // two gradients of the branches' largest tensor, and the shortcut's input gradient.
    //   saved: [main kept | shortcut kept | gradient | spare | shortcut input gradient]
    static constexpr std::size_t largest_tensor = std::max(
        {In::size, main_chain::plan::largest_tensor, shortcut_chain::plan::largest_tensor});
    // What the branches' layers exchange and keep for after_step (a BatchNorm's statistics).
    static constexpr std::size_t batch_statistics_doubles = std::max(
        main_chain::plan::batch_statistics_doubles, shortcut_chain::plan::batch_statistics_doubles);
    static constexpr std::size_t step_state_floats = main_chain::plan::step_state_floats +
                                                     shortcut_chain::plan::step_state_floats;
    static constexpr std::size_t saved_floats =
        main_chain::training_floats + shortcut_chain::training_floats + 2 * largest_tensor +
        (identity_shortcut ? 0 : In::size);

    static constexpr auto main_infos = detail::branch_infos<main_chain, 0>();
    static constexpr auto shortcut_infos = detail::branch_infos<shortcut_chain, main_params>();
    // Keras' Add has no settings to check and no weights; the branches' layers map themselves.
    static constexpr KerasMapping keras{add_keras_classes, detail::no_keras_settings,
                                        detail::no_keras_weights};
    static constexpr LayerInfo info() {
      LayerInfo layer = layer_info<bind>("Residual", "Add");
      layer.main = main_infos;
      layer.shortcut = shortcut_infos;
      layer.keras = &keras;
      return layer;
    }

    static void init(float* params, Rng& rng) noexcept {
      main_chain::init(params, rng);
      shortcut_chain::init(params + main_params, rng);
    }
    static void forward(const float* params, const float* in, float* out, std::size_t n,
                        const Context& ctx) noexcept {
      if (ctx.saved) return forward_training(params, in, out, n, ctx);
      float* scratch = ctx.scratch;
      for (std::size_t i = 0; i < n; ++i) {
        const float* x = in + i * In::size;
        float* y = out + i * output_shape::size;
        std::uint32_t* cache = ctx.cache + i * cache_words;
        main_chain::forward_one(params, x, y, scratch, cache, scratch + inner_scratch_at);
        const float* shortcut = shortcut_chain::forward_one(
            params + main_params, x, scratch + shortcut_output_at, scratch + shortcut_hidden_at,
            cache + main_chain::plan::cache_words, scratch + inner_scratch_at);
        kernels::add_to(y, shortcut, output_shape::size);
      }
    }
    static void after_step(float* params, const float* state) noexcept {
      main_chain::after_step(params, state);
      shortcut_chain::after_step(params + main_params, state + main_chain::plan::step_state_floats);
    }
    // d(main + shortcut) = d main + d shortcut: each branch's backward from the block's output
    // gradient, the two input gradients added.
    static void backward(const float* params, const float* in, float* dout, float* din,
                         float* dparams, std::size_t n, const Context& ctx) noexcept {
      const Places places(n, ctx);
      constexpr std::size_t out_size = output_shape::size;
      std::copy_n(dout, n * out_size, places.gradient);
      main_chain::backward_training(params, in, n, places.main_kept, places.main_cache,
                                    places.scratch, places.gradient, places.spare, din, dparams,
                                    ctx, places.main_stream);
      if constexpr (identity_shortcut) {
        if (din) kernels::add_to(din, dout, n * In::size);
      } else {
        std::copy_n(dout, n * out_size, places.gradient);
        float* shortcut_din = din ? places.shortcut_din : nullptr;
        shortcut_chain::backward_training(params + main_params, in, n, places.shortcut_kept,
                                          places.shortcut_cache, places.scratch, places.gradient,
                                          places.spare, shortcut_din, dparams + main_params,
                                          shortcut_context(ctx), places.shortcut_stream);
        if (din) kernels::add_to(din, shortcut_din, n * In::size);
      }
    }

   private:
    // Where the training pass of n images keeps what (see saved_floats), and the inner layers'
    // dropout streams: distinct from the Net's layers and from the other branch's.
    struct Places {
      Places(std::size_t n, const Context& ctx) noexcept
          : main_kept(ctx.saved), shortcut_kept(main_kept + n * main_chain::training_floats),
            gradient(shortcut_kept + n * shortcut_chain::training_floats),
            spare(gradient + n * largest_tensor), shortcut_din(spare + n * largest_tensor),
            main_cache(ctx.cache), shortcut_cache(ctx.cache + n * main_chain::plan::cache_words),
            scratch(ctx.scratch + inner_scratch_at), main_stream((ctx.layer_index + 1) << 16),
            shortcut_stream(main_stream + (std::size_t{1} << 15)) {}
      float *main_kept, *shortcut_kept, *gradient, *spare, *shortcut_din;
      std::uint32_t *main_cache, *shortcut_cache;
      float* scratch;
      std::size_t main_stream, shortcut_stream;
    };
    // The shortcut's layers keep their step state after the main branch's.
    static Context shortcut_context(Context ctx) noexcept {
      if constexpr (step_state_floats > 0) ctx.step_state += main_chain::plan::step_state_floats;
      return ctx;
    }
    static void forward_training(const float* params, const float* in, float* out, std::size_t n,
                                 const Context& ctx) noexcept {
      const Places places(n, ctx);
      const float* main = main_chain::forward_training(params, in, n, places.main_kept,
                                                       places.main_cache, places.scratch, ctx,
                                                       places.main_stream);
      const float* shortcut = shortcut_chain::forward_training(
          params + main_params, in, n, places.shortcut_kept, places.shortcut_cache, places.scratch,
          shortcut_context(ctx), places.shortcut_stream);
      std::copy_n(main, n * output_shape::size, out);
      kernels::add_to(out, shortcut, n * output_shape::size);
    }
  };
};

}  // namespace typenet
