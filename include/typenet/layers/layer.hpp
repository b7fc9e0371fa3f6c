// The layer concept.
//
// A layer *descriptor* is the type a user writes (`Conv<32, 3, Relu>`). Given the shape of its
// input, `Desc::bind<In>` is the *bound layer*: a stateless type whose static members say what the
// layer produces and how to compute it (the concept BoundLayer below; BindChain checks each
// member and names the one missing). The Net chains bound layers and owns all memory:
//
//   using input_shape, output_shape;      // Shape<...>
//   using activation;                     // applied by the Net in place on the output
//                                         // (activations.hpp)
//   static constexpr size_t param_count;  // floats in the layer's slice of the parameter block
//   static constexpr size_t scratch_floats; // shared per-call scratch (e.g. one image's im2col)
//   static constexpr size_t cache_words;  // per-image training memory (dropout mask, pool argmax)
//   static constexpr size_t flops;        // forward multiply-adds x 2, per image
//   static constexpr LayerInfo info();    // its description: type, arguments, C++ spelling,
//                                         // Keras class and mapping (offsets filled in by the Net)
//   static void init(float* params, Rng&);
//   static void forward(const float* params, const float* in, float* out, size_t n, const Context&);
//   static void backward(const float* params, const float* in, float* dout, float* din,
//                        float* dparams, size_t n, const Context&);
//
// Contract (as dlib's): `forward` assigns `out` (n images). `backward` receives `dout`, the
// gradient w.r.t. the layer's pre-activation output (the Net has already differentiated the
// activation), which it may overwrite; it *assigns* `din` (skipped when din is null, for the first
// layer) and *accumulates* into `dparams`, or assigns them when ctx.assign_grads (the first
// images of a step: the trainer then needs no pass zeroing the gradients). All of them are
// noexcept and allocate nothing.
//
// Saved floats: a layer that keeps floats from a training forward pass for its backward pass
// (a residual block its inner layers' outputs) says `static constexpr std::size_t saved_floats`
// (per image); the Net then gives it ctx.saved, that many floats per image for the n images of
// the call, in training passes only.
//
// Passes the Net saves (optional; false when absent):
//   static constexpr bool forward_is_copy;  // forward copies in to out, backward dout to din (an
//                                           // activation used as a layer, Flatten, Reshape):
//                                           // the Net copies and applies the activation in one
//                                           // cache-sized pass; in training, after a Linear
//                                           // layer, in place (plan::trains_in_place)
//   static constexpr bool inference_is_identity;  // in inference its output is its input's
//                                           // floats (Flatten, Reshape, Dropout): the Net
//                                           // gives it the floats of the layer before it and
//                                           // does not call its forward (plan::infers_in_place)
//   static constexpr bool images_independent;  // forward and backward compute each image on its
//                                           // own (a convolution, a pooling): the Net calls them
//                                           // an image at a time (ctx.first_image, cache, saved
//                                           // and assign_grads set for that image), applies the
//                                           // activation to each image while it is still in
//                                           // cache, and passes an image through a Net's leading
//                                           // run of such layers before the next image
//                                           // (plan::training_image_prefix and
//                                           // inference_image_prefix)
//   static constexpr bool backward_reads_input = true;  // false: backward needs no input
//                                           // (a pooling's winners, a dropout's mask do): in
//                                           // training, the layer before it in the image prefix,
//                                           // when its activation is Linear or a ReLU that keeps
//                                           // its signs, writes every image to the same floats
//                                           // (plan::trains_reusing_output)
//
// Weights packed once (Conv, Dense): a layer whose products would convert and pack the same
// weights for every image or chunk of a step (the bf16 products' layout, Winograd's transformed
// kernel) says
//   static constexpr std::size_t packed_weight_words;  // its weights in its products' layouts
//   static void pack_weights(const float* params, std::uint32_t* packed,
//                            const PackRequest& request) noexcept;
// Before each data-parallel training step and each evaluation or prediction, the trainer has
// every worker call Net::pack_weights, and each layer packs its part (request.part of
// request.parts) of the forms the pass needs (request.backward: the input gradient's too) into
// `packed`, for the products of request.precision (the 3x3 convolutions' Winograd forms
// instead, in float, when request.winograd says: ConvAlgorithm::Auto). The passes then get
// ctx.packed_weights, that storage, or null where nothing was packed (a team's share of a
// product, a direct call): the bf16 products then pack per call, with the same bits, and
// Winograd's layers compute directly.
// A layer whose single-image predictions compute from such forms too (Winograd's transformed
// kernel) also says
//   static constexpr std::size_t predict_weight_words;  // the words pack_weights writes for
//                                                       // {Float32, winograd}, forward only
// and a Net keeps them with its one-image buffers (Net::predict, Frozen), made again at the first
// prediction after the layer's parameters change.
//
// Inference-only layers: a layer whose backward is not written yet says `static constexpr bool
// trains = false;` (its backward then only has to compile): Model::fit and train_on_batch of a Net
// with such a layer fail to compile, saying so.
//
// Batch statistics (BatchNorm in training): a layer whose training forward needs statistics of
// the whole batch says `static constexpr std::size_t batch_statistics_doubles;`, the size of its
// partial statistics. A data-parallel step (train/step_engine.hpp) gives each worker its part of
// the batch, in one pass (one chunk: the trainer refuses a batch whose parts do not fit): the
// layer computes its partial statistics over its images and exchanges them through
// ctx.batch_peers (BatchPeers below), which every worker of the step reaches the same number of
// times; every worker merges all of them in worker order, so all get the same bits. Alone (one
// thread, a team's member 0, a direct call) the call's n images are the whole batch. The
// trainer builds no exchange for a Net without such a layer.
//
// State updated after each step (BatchNorm's moving statistics): a layer whose parameters
// include values that are not trained but follow the batches says
//   static constexpr std::size_t step_state_floats;  // what a training forward keeps for it
//   static void after_step(float* params, const float* step_state) noexcept;
// Its training forward writes ctx.step_state (step_state_floats floats, kept in the Buffers
// until the next forward; its backward may read them). After each optimizer step the trainer
// calls after_step once with the committed parameters and the step's state (worker 0's: every
// worker computes the same). The gradients of those parameters must stay zero (assigned 0 when
// ctx.assign_grads, otherwise left alone), so that the optimizers leave them exactly as they
// are: Adam, RMSprop and SGD move no parameter whose gradient has always been 0.
//
// Teams: Net::predict(image, pool) runs one forward pass on several threads. A layer whose
// bound type says `team_split = true` is then called on every member with ctx.team set and
// computes the part team_share(member, size) of its output (a contiguous range of floats); it
// may sync() the team inside. Other layers run on member 0 alone. The Net applies the
// activation to each member's part and syncs the team between layers.
//
// 8-bit inference: Quantized<Net> (quantized.hpp) runs a bound layer on uint8 codes when it has
// a member type `int8`, best derived from Int8Member (quantization.hpp), whose defaults it
// overrides; a layer without one runs in float there (dequantized input, quantized output).
//
//   static constexpr Int8Role role;          // PassThrough: its output is its input's codes
//                                            // (nothing else is needed); SameQuantization:
//                                            // codes in its input's quantization by a monotone
//                                            // map that commutes with clamping (max pooling,
//                                            // ReLU); Requantizes (default): the output has a
//                                            // calibrated quantization of its own
//   static constexpr size_t weight_bytes;    // its int8 state (packed weights) ...
//   static constexpr size_t channel_floats;  // ... and float state (scales, offsets)
//   static constexpr size_t scratch_bytes;   // per call, shared like scratch_floats
//   static constexpr bool codes_out;         // whether it can write codes (below)
//   static constexpr bool team_split;        // whether a team shares its forward
//   static void quantize(const Int8Quantize&);  // fills its state from its float parameters
//                                               // and its input's quantization
//   static void forward(const Int8Call&, const uint8_t* in, uint8_t* out, size_t n);  // codes
//   static void forward(const Int8Call&, const uint8_t* in, float* out, size_t n);    // floats
//   static constexpr size_t stored_weight_bytes;  // optional, with the two below: how model
//   static void store_weights(const int8_t* weights, int8_t* stored);    // files keep its int8
//   static void restore_weights(const int8_t* stored, int8_t* weights);  // state (else as is;
//                                                 // Int8GemmWeights: without packing padding)
//
// `forward` reads the codes of n images (call.in_stride apart) and writes either codes of
// call.out, its activation applied (needed when codes_out), or floats before the activation,
// which Quantized then applies in float (optional; a Softmax head, or what feeds a float layer).
// Quantized picks: codes where the next layer runs on codes, floats where it runs in float and
// for the Net's output. With team_split, every member of a team is called with call.team set and
// computes its part; the results must not depend on the split. Both are noexcept and allocate
// nothing.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "typenet/kernels/products.hpp"
#include "typenet/layer_info.hpp"
#include "typenet/precision.hpp"
#include "typenet/random.hpp"
#include "typenet/shape.hpp"
#include "typenet/share.hpp"

namespace typenet {

namespace detail {
template <ActivationKind Kind, std::size_t AlphaNum = 0, std::size_t AlphaDen = 1>
struct Activation;  // activations.hpp
}

class ThreadPool;

// The most threads that share one forward pass (Net::predict with a pool): layers size their
// team scratch for it. The MNIST nets gain nothing beyond a few.
inline constexpr std::size_t kMaxTeam = 8;
// A layer splits its forward pass across a team from this many FLOPs per image: below, one
// thread is done before a barrier would be.
inline constexpr std::size_t kTeamSplitFlops = std::size_t{1} << 17;

// This thread's place in the team computing a forward pass; size 1 when it works alone.
struct Team {
  ThreadPool* pool = nullptr;
  std::size_t member = 0;
  std::size_t size = 1;
  // Waits until every member has reached this point.
  void sync() const noexcept;
  // This member's part of `count` items (see share_of).
  constexpr std::pair<std::size_t, std::size_t> part(std::size_t count,
                                                     std::size_t granule = 1) const noexcept {
    return share_of(count, member, size, granule);
  }
  // The team as a kernel that it calls together sees it.
  KernelTeam for_kernels() const noexcept {
    return {member, size, [](const void* team) { static_cast<const Team*>(team)->sync(); }, this};
  }
};

// The workers of a data-parallel training step as a layer that needs statistics of the whole
// batch sees them (see "Batch statistics" above). The default is a worker alone: this call's
// images are the whole batch.
struct BatchPeers {
  ThreadPool* pool = nullptr;  // null: alone
  std::size_t worker = 0;
  std::size_t workers = 1;
  double* slots = nullptr;  // two rounds (alternating) of `workers` slots of `stride` doubles
  std::size_t stride = 0;
  std::uint32_t* exchanges = nullptr;  // this worker's exchanges so far in this step
  // Publishes this worker's `count` <= stride doubles and waits until every worker has
  // published its own at this exchange; returns them all, worker w's at w * stride (alone:
  // `partial` itself). Alternating rounds let a worker publish the next exchange's partial while
  // another still reads this one's.
  const double* all_gather(const double* partial, std::size_t count) const noexcept;
};

// What a layer may use besides its parameters and its input/output buffers.
struct Context {
  bool training = false;
  float* scratch = nullptr;        // Net::scratch_floats floats, shared by all layers
  std::uint32_t* cache = nullptr;  // this layer's cache_words per image, for the n images
  float* saved = nullptr;          // training: this layer's saved_floats per image, n images
  std::uint64_t seed = 0;          // stream seed for this step (dropout)
  std::size_t first_image = 0;     // global index of image 0 of this call within the step
  std::size_t layer_index = 0;
  bool assign_grads = false;  // backward assigns dparams instead of adding to them
  Team team{};
  float* step_state = nullptr;  // this layer's step_state_floats (see above), set by the Net
  BatchPeers batch_peers{};
  Precision precision = Precision::Float32;  // of Conv's and Dense's products; never Auto
  bool winograd = false;  // 3x3 convolutions by Winograd's float products (PackRequest::winograd)
  // This layer's packed_weight_words, packed for this pass (see above); null: not packed.
  const std::uint32_t* packed_weights = nullptr;
  // Whether the Net's packed_weights are a single-image prediction's kept forms
  // (predict_weight_words, see above) rather than a pass's.
  bool predict_forms = false;
};

// What Net::pack_weights asks of each layer that packs its weights (see above).
struct PackRequest {
  Precision precision = Precision::Float32;  // of the pass's products; never Auto
  bool backward = false;                     // the input gradient's form too
  // The 3x3 convolutions' Winograd forms (ConvAlgorithm::Auto; in Float32, and in
  // MixedBfloat16 on CPUs without AMX tiles).
  bool winograd = false;
  std::size_t part = 0, parts = 1;  // this worker's share of the blocks
  // The request of the layer's next packed matrix: its blocks start at the next worker, so that
  // matrices of one block each spread over the workers.
  constexpr PackRequest next() const noexcept {
    PackRequest following = *this;
    following.part = (part + 1) % parts;
    return following;
  }
};

// The record every bound layer L starts its info() from: its words and its shapes.
template <class L>
constexpr LayerInfo layer_info(std::string_view type, std::string_view class_name) {
  LayerInfo layer;
  layer.type = type;
  layer.class_name = class_name;
  layer.in = L::input_shape::dims;
  layer.out = L::output_shape::dims;
  layer.param_count = L::param_count;
  return layer;
}

// Common base of layers that only move data (Flatten, inference-time Dropout, activations).
template <class In, class Out = In>
struct IdentityLayer {
  using input_shape = In;
  using output_shape = Out;
  using activation = detail::Activation<ActivationKind::Linear>;
  static constexpr std::size_t param_count = 0;
  static constexpr std::size_t scratch_floats = 0;
  static constexpr std::size_t cache_words = 0;
  static constexpr std::size_t flops = 0;

  static void init(float*, Rng&) noexcept {}
  static void forward(const float*, const float* in, float* out, std::size_t n,
                      const Context&) noexcept {
    std::memcpy(out, in, n * In::size * sizeof(float));
  }
  static void backward(const float*, const float*, float* dout, float* din, float*, std::size_t n,
                       const Context&) noexcept {
    if (din) std::memcpy(din, dout, n * In::size * sizeof(float));
  }
};

// The layer contract, one concept per member so that a missing one is named.
namespace contract {
template <class L>
concept Shapes = requires {
  typename L::input_shape;
  typename L::output_shape;
  { L::output_shape::size } -> std::convertible_to<std::size_t>;
};
template <class L>
concept Activation = requires {
  { L::activation::kind } -> std::convertible_to<ActivationKind>;
};
template <class L>
concept ParamCount = requires {
  { L::param_count } -> std::convertible_to<std::size_t>;
};
template <class L>
concept ScratchFloats = requires {
  { L::scratch_floats } -> std::convertible_to<std::size_t>;
};
template <class L>
concept CacheWords = requires {
  { L::cache_words } -> std::convertible_to<std::size_t>;
};
template <class L>
concept Flops = requires {
  { L::flops } -> std::convertible_to<std::size_t>;
};
template <class L>
concept Info = requires {
  { L::info() } -> std::same_as<LayerInfo>;
};
template <class L>
concept Init = requires(float* params, Rng& rng) {
  L::init(params, rng);
};
template <class L>
concept Forward = requires(const float* params, const float* in, float* out, std::size_t n,
                           const Context& ctx) {
  L::forward(params, in, out, n, ctx);
};
template <class L>
concept Backward = requires(const float* params, const float* in, float* dout, float* din,
                            float* dparams, std::size_t n, const Context& ctx) {
  L::backward(params, in, dout, din, dparams, n, ctx);
};
}  // namespace contract

template <class L>
concept BoundLayer = contract::Shapes<L> && contract::Activation<L> && contract::ParamCount<L> &&
    contract::ScratchFloats<L> && contract::CacheWords<L> && contract::Flops<L> &&
    contract::Info<L> && contract::Init<L> && contract::Forward<L> && contract::Backward<L>;

// Asserts each member of the contract on its own, so that the error names what is missing.
template <class L>
constexpr bool satisfies_layer_contract() {
  static_assert(contract::Shapes<L>,
                "typenet: a layer's bind<In> needs `using input_shape` and `using output_shape`");
  static_assert(contract::Activation<L>,
                "typenet: a layer's bind<In> needs `using activation` (e.g. the Linear tag)");
  static_assert(contract::ParamCount<L>,
                "typenet: a layer's bind<In> needs `static constexpr std::size_t param_count`");
  static_assert(contract::ScratchFloats<L>,
                "typenet: a layer's bind<In> needs `static constexpr std::size_t scratch_floats`");
  static_assert(contract::CacheWords<L>,
                "typenet: a layer's bind<In> needs `static constexpr std::size_t cache_words`");
  static_assert(contract::Flops<L>,
                "typenet: a layer's bind<In> needs `static constexpr std::size_t flops`");
  static_assert(contract::Info<L>,
                "typenet: a layer's bind<In> needs `static constexpr LayerInfo info()`");
  static_assert(contract::Init<L>,
                "typenet: a layer's bind<In> needs `static void init(float* params, Rng&)`");
  static_assert(contract::Forward<L>,
                "typenet: a layer's bind<In> needs `static void forward(const float* params, "
                "const float* in, float* out, std::size_t n, const Context&)`");
  static_assert(contract::Backward<L>,
                "typenet: a layer's bind<In> needs `static void backward(const float* params, "
                "const float* in, float* dout, float* din, float* dparams, std::size_t n, "
                "const Context&)`");
  return BoundLayer<L>;
}

// Whether a bound layer can train (see "Inference-only layers" above).
template <class L>
constexpr bool layer_trains() {
  if constexpr (requires { L::trains; }) return bool(L::trains);
  else return true;
}

// The floats a bound layer keeps per image from a training forward pass to its backward pass
// (see "Saved floats" above).
template <class L>
constexpr std::size_t layer_saved_floats() {
  if constexpr (requires { L::saved_floats; }) return std::size_t(L::saved_floats);
  else return 0;
}

// A Depth x Columns kernel (Conv's patch x filters, Dense's inputs x units) packed for the bf16
// products (see "Weights packed once" above): as the forward's B, then transposed as the input
// gradient's; a kernel too shallow for bf16 products (kernels::layer_precision) has none.
template <std::size_t Depth, std::size_t Columns>
struct PackedKernel {
  static constexpr bool packs = kernels::layer_precision(Precision::MixedBfloat16, Depth) ==
                                Precision::MixedBfloat16;
  static constexpr std::size_t forward_words = packs ? kernels::packed_words(Depth, Columns) : 0;
  static constexpr std::size_t words = packs ? forward_words + kernels::packed_words(Columns, Depth)
                                             : 0;
  static void pack(const float* kernel, std::uint32_t* packed,
                   const PackRequest& request) noexcept {
    if (!packs || request.precision != Precision::MixedBfloat16) return;
    kernels::pack_bf16(kernels::Trans::No, Depth, Columns, kernel, Columns, packed, request.part,
                       request.parts);
    const PackRequest transposed = request.next();
    if (request.backward)
      kernels::pack_bf16(kernels::Trans::Yes, Columns, Depth, kernel, Columns,
                         packed + forward_words, transposed.part, transposed.parts);
  }
  // The forward's B in a layer's packed weights, and the input gradient's (null: not packed).
  static const std::uint32_t* forward(const std::uint32_t* packed) noexcept { return packed; }
  static const std::uint32_t* transposed(const std::uint32_t* packed) noexcept {
    return packed ? packed + forward_words : nullptr;
  }
};

// The 32-bit words of a bound layer's packed weights, and of those that single-image
// predictions keep (see "Weights packed once" above).
template <class L>
constexpr std::size_t layer_packed_weight_words() {
  if constexpr (requires { L::packed_weight_words; }) return std::size_t(L::packed_weight_words);
  else return 0;
}
template <class L>
constexpr std::size_t layer_predict_weight_words() {
  if constexpr (requires { L::predict_weight_words; }) return std::size_t(L::predict_weight_words);
  else return 0;
}

// Glorot-uniform kernel and zero bias, as Keras initialises Dense and Conv2D.
inline void glorot_uniform_init(float* params, std::size_t kernel_count, std::size_t bias_count,
                                std::size_t fan_in, std::size_t fan_out, Rng& rng) noexcept {
  const float limit = __builtin_sqrtf(6.0f / float(fan_in + fan_out));
  for (std::size_t i = 0; i < kernel_count; ++i) params[i] = rng.uniform(-limit, limit);
  for (std::size_t i = 0; i < bias_count; ++i) params[kernel_count + i] = 0.0f;
}

}  // namespace typenet
