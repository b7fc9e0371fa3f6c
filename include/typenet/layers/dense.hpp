// Dense<Units, Activation?>: y = x W + b, W stored (in, out) as Keras stores it.
// Keras: Dense (units, activation, use_bias; weights kernel (in, units) and bias).
// 8-bit: one int8 GEMM, ReLU fused into its epilogue; other activations run in float on its float
// output (a Softmax head).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "typenet/keras_mapping.hpp"
#include "typenet/kernels/products.hpp"
#include "typenet/layers/layer.hpp"
#include "typenet/options.hpp"
#include "typenet/quantization.hpp"

namespace typenet {

inline constexpr std::string_view dense_keras_classes[] = {"Dense"};
inline constexpr KerasLayerClass dense_keras_layer{
    dense_keras_classes, [](const KerasConfig& config) {
      return "Dense<" + std::to_string(config.required_positive("units")) +
             activation_option(config) + ">";
    }};

template <std::size_t Units, class... Opts>
struct Dense {
  static_assert(Units > 0, "typenet: Dense<Units> needs Units > 0");
  using options = detail::Options</*activation*/ true, /*padding*/ false, 1, Opts...>;

  template <class In>
  struct bind {
    static_assert(In::rank == 1,
                  "typenet: Dense needs a flat input but gets an HxWxC image: add Flatten (or "
                  "GlobalAvgPool) before it");
    static constexpr std::size_t inputs = In::size;
    using input_shape = In;
    using output_shape = Shape<Units>;
    using activation = typename options::activation;
    static constexpr std::size_t kernel_count = inputs * Units;
    static constexpr std::size_t param_count = kernel_count + Units;
    static constexpr std::size_t flops = 2 * kernel_count;
    // In a team, the bandwidth-bound batch-1 product wants each member to stream long runs of
    // W. Wide layers split by outputs: a member's columns of each row are 512 B or more, and it
    // is done without a reduction or its barrier (MLP on two threads, AVX3, interleaved runs:
    // median 16.5 -> 16.1 us a prediction).
    // Narrow ones (the seed CNN's 9216 x 128) split by inputs: a member sums over contiguous
    // whole rows into a partial output, then the members add the partials up, each over its
    // part of the outputs.
    static constexpr bool team_split = flops >= kTeamSplitFlops;
    static constexpr bool team_splits_outputs = Units >= 256;
    static constexpr std::size_t scratch_floats =
        team_split && !team_splits_outputs ? (kMaxTeam - 1) * Units : 0;
    static constexpr std::size_t cache_words = 0;
    // Whole granules of columns: a team's products are one thread's, bit for bit.
    static constexpr std::pair<std::size_t, std::size_t> team_share(const Team& team) noexcept {
      return team.part(Units, kernels::kGemmColumnGranule);
    }

    struct int8 : Int8Member, Int8GemmWeights<inputs, Units> {
      static constexpr std::size_t weight_bytes = kernels::int8_packed_size(inputs, Units);
      static constexpr std::size_t channel_floats = 2 * kernels::int8_padded_columns(Units);
      static constexpr bool codes_out = activation::kind == ActivationKind::Linear ||
                                        activation::kind == ActivationKind::Relu;
      // In a team, each member computes its bands of 16 columns for every image.
      static constexpr bool team_split = bind::team_split;
      static void quantize(const Int8Quantize& q) {
        detail::quantize_gemm_layer(q, q.params, q.params + kernel_count, inputs, Units);
      }
      template <class Out>  // std::uint8_t codes, or float before the activation
      static void forward(const Int8Call& call, const std::uint8_t* in, Out* out,
                          std::size_t n) noexcept {
        const auto [first, end] = call.team.part(Units, kernels::kInt8ColumnGroup);
        detail::int8_gemm_columns(call, n, inputs, Units, first, end, in, call.in_stride,
                                  activation::kind == ActivationKind::Relu, out + first,
                                  call.out_stride);
      }
    };

    static void check_keras(const KerasConfig& config) {
      config.expect("Dense with", Units, config.required_positive("units"), " units");
      config.expect_activation("Dense with activation",
                               KerasActivation{activation::kind, activation::alpha});
    }
    static constexpr KerasMapping keras{dense_keras_classes, check_keras,
                                        kernel_and_bias<Units, inputs, Units>};
    static constexpr LayerInfo info() {
      LayerInfo layer = layer_info<bind>("Dense", "Dense");
      layer.arguments << "(" << Units << ",";
      activation::write_name(layer.arguments);
      layer.arguments << ")";
      layer.cpp << "Dense<" << Units;
      write_cpp_options<Opts...>(layer.cpp);
      layer.cpp << ">";
      layer.keras = &keras;
      return layer;
    }
    static void init(float* params, Rng& rng) noexcept {
      glorot_uniform_init(params, kernel_count, Units, inputs, Units, rng);
    }
    // The kernel packed for the bf16 products, used alone (a team's share of the columns packs
    // per call).
    using packed_kernel = PackedKernel<inputs, Units>;
    static constexpr std::size_t packed_weight_words = packed_kernel::words;
    static void pack_weights(const float* params, std::uint32_t* packed,
                             const PackRequest& request) noexcept {
      packed_kernel::pack(params, packed, request);
    }
    static void forward(const float* params, const float* in, float* out, std::size_t n,
                        const Context& ctx) noexcept {
      using kernels::Trans;
      const Team& team = ctx.team;
      const Precision precision = kernels::layer_precision(ctx.precision, inputs);
      // This member's outputs: all of them when alone. A team splitting by inputs computes one
      // image (n == 1); one splitting by outputs, any n (a training step, see train/model.hpp).
      const auto [first, end] = team_share(team);
      if (team.size == 1 || team_splits_outputs) {
        kernels::gemm(precision, Trans::No, Trans::No, n, end - first, inputs, in, inputs,
                      params + first, Units,
                      team.size == 1 ? packed_kernel::forward(ctx.packed_weights) : nullptr, 0.0f,
                      out + first, Units, params + kernel_count + first);
        return;
      }
      const auto [first_input, end_input] = team.part(inputs, 16);
      float* partial = team.member == 0 ? out : ctx.scratch + (team.member - 1) * Units;
      kernels::gemm(precision, Trans::No, Trans::No, 1, Units, end_input - first_input,
                    in + first_input, inputs, params + first_input * Units, Units, 0.0f, partial,
                    Units, team.member == 0 ? params + kernel_count : nullptr);
      team.sync();
      for (std::size_t member = 1; member < team.size; ++member)
        kernels::add_to(out + first, ctx.scratch + (member - 1) * Units + first, end - first);
    }
    // Alone, or in a team splitting by outputs: the member's columns of dW and db (its part of
    // dout suffices), then, once every member's part of dout is final, its inputs' columns of din.
    static void backward(const float* params, const float* in, float* dout, float* din,
                         float* dparams, std::size_t n, const Context& ctx) noexcept {
      using kernels::Trans;
      const Team& team = ctx.team;
      const Precision precision = kernels::layer_precision(ctx.precision, inputs);
      const auto [first, end] = team_share(team);
      float* dbias = dparams + kernel_count;
      if (ctx.assign_grads) std::fill(dbias + first, dbias + end, 0.0f);
      kernels::add_column_sums(dout + first, n, end - first, Units, dbias + first);
      kernels::gemm(precision, Trans::Yes, Trans::No, inputs, end - first, n, in, inputs,
                    dout + first, Units, ctx.assign_grads ? 0.0f : 1.0f, dparams + first, Units,
                    nullptr);
      if (!din) return;
      team.sync();
      const auto [first_input, end_input] = team.part(inputs, 16);
      const std::uint32_t* packed_transposed =
          team.size == 1 ? packed_kernel::transposed(ctx.packed_weights) : nullptr;
      kernels::gemm(precision, Trans::No, Trans::Yes, n, end_input - first_input, Units, dout,
                    Units, params + first_input * Units, Units, packed_transposed, 0.0f,
                    din + first_input, inputs, nullptr);
    }
  };
};

}  // namespace typenet
