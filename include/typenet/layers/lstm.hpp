// LSTM<Units, options...>: Keras' LSTM over a sequence Shape<T, F>, forward only. Output: the last
// hidden state, Shape<Units>, or with ReturnSequences every step's, Shape<T, Units>. Options:
// ReturnSequences, HardSigmoid (Keras 2's hard_sigmoid recurrent activation, clip(0.2 x + 0.5,
// 0, 1), the default of Keras 2.0 to 2.2; otherwise sigmoid). The activation is tanh.
// Weights as Keras stores them, gate order i, f, c, o: kernel (F, 4U), recurrent_kernel (U, 4U),
// bias (4U; absent when use_bias = False).
// Forward, for a few sequences at a time: the input projection of all their steps is one GEMM
// (x W + b), then per step the recurrent GEMM (h U, added in place) and the cell's gates
// (kernels::lstm_cell). The hidden state lives in the output itself.
// Keras: LSTM (units, return_sequences, activation tanh, recurrent_activation sigmoid or Keras 2's
// hard_sigmoid, use_bias; dropout and recurrent_dropout do nothing at inference; unroll changes
// nothing; go_backwards, stateful, time_major and return_state are refused).
//
// Inference only (trains = false): Model::fit cannot compile with it, so backward is never called
// (it only has to exist for the layer contract) and computes nothing.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <type_traits>

#include "typenet/keras_mapping.hpp"
#include "typenet/kernels/kernels.hpp"
#include "typenet/layers/layer.hpp"

namespace typenet {

// LSTM options.
struct ReturnSequences {
  static constexpr void write_cpp(FixedText& text) { text << "ReturnSequences"; }
};
struct HardSigmoid {
  static constexpr void write_cpp(FixedText& text) { text << "HardSigmoid"; }
};

namespace detail {
// LSTM's settings that no LSTM can have, then whether its recurrent activation is Keras 2's
// hard_sigmoid (true) or sigmoid (false). Keras 3 redefined hard_sigmoid as relu6(x + 3) / 6:
// a file whose config does not show that it is Keras 2's (tf_keras and Keras 2 write
// "implementation"; Keras 3 writes dtype as an object) is refused.
inline bool lstm_hard_sigmoid(const KerasConfig& config) {
  for (const char* setting : {"go_backwards", "stateful", "time_major", "return_state"})
    if (config.boolean(setting).value_or(false))
      config.unsupported(std::string("LSTM with ") + setting + " has no typenet equivalent");
  const std::string activation = config.text("activation").value_or("tanh");
  if (activation != "tanh")
    config.unsupported("LSTM activation '" + activation +
                       "' has no typenet equivalent (LSTM computes tanh)");
  const std::optional<std::string> recurrent = config.text("recurrent_activation");
  if (!recurrent) config.corrupted("config has no 'recurrent_activation'");
  if (*recurrent == "sigmoid") return false;
  if (*recurrent != "hard_sigmoid")
    config.unsupported("LSTM recurrent_activation '" + *recurrent +
                       "' has no typenet equivalent (sigmoid, or Keras 2's hard_sigmoid)");
  if (config.json("dtype").starts_with("{"))
    config.unsupported("Keras 3's hard_sigmoid (relu6(x + 3) / 6) as LSTM recurrent_activation "
                       "has no typenet equivalent (Keras 2's clip(0.2 x + 0.5, 0, 1) has)");
  if (config.json("implementation") == "null")
    config.unsupported("LSTM recurrent_activation 'hard_sigmoid' of a config without "
                       "'implementation': cannot tell Keras 2's hard_sigmoid from Keras 3's");
  return true;
}
}  // namespace detail

inline constexpr std::string_view lstm_keras_classes[] = {"LSTM"};
inline constexpr KerasLayerClass lstm_keras_layer{
    lstm_keras_classes, [](const KerasConfig& config) {
      const bool hard_sigmoid = detail::lstm_hard_sigmoid(config);
      return "LSTM<" + std::to_string(config.required_positive("units")) +
             (config.boolean("return_sequences").value_or(false) ? ", ReturnSequences" : "") +
             (hard_sigmoid ? ", HardSigmoid" : "") + ">";
    }};

template <std::size_t Units, class... Opts>
struct LSTM {
  static_assert(Units > 0, "typenet: LSTM<Units> needs Units > 0");
  static_assert(((std::is_same_v<Opts, ReturnSequences> || std::is_same_v<Opts, HardSigmoid>)&&...),
                "typenet: unknown LSTM option: LSTM takes ReturnSequences and HardSigmoid");
  static constexpr bool return_sequences = (std::is_same_v<Opts, ReturnSequences> || ...);
  static constexpr bool hard_sigmoid = (std::is_same_v<Opts, HardSigmoid> || ...);

  template <class In>
  struct bind {
    static_assert(In::rank == 2,
                  "typenet: LSTM needs a sequence input Shape<T, F> (Input<T, F>, or an LSTM "
                  "with ReturnSequences before it)");
    static constexpr std::size_t steps = In::steps, features = In::features, gates = 4 * Units;
    using input_shape = In;
    using output_shape = std::conditional_t<return_sequences, Shape<steps, Units>, Shape<Units>>;
    using activation = detail::Activation<ActivationKind::Linear>;
    static constexpr std::size_t kernel_count = features * gates;
    static constexpr std::size_t recurrent_count = Units * gates;
    static constexpr std::size_t param_count = kernel_count + recurrent_count + gates;
    // Sequences computed together: their steps' recurrent products are one GEMM of this many
    // rows. The scratch holds their gates for every step, then their cell states.
    static constexpr std::size_t sequences_at_once = 4;
    static constexpr std::size_t scratch_floats = sequences_at_once * (steps * gates + Units);
    static constexpr std::size_t cache_words = 0;
    static constexpr std::size_t flops = 2 * steps * (features + Units) * gates;
    static constexpr bool trains = false;

    static void check_keras(const KerasConfig& config) {
      const bool file_hard_sigmoid = detail::lstm_hard_sigmoid(config);
      config.expect("LSTM with", Units, config.required_positive("units"), " units");
      const bool file_sequences = config.boolean("return_sequences").value_or(false);
      config.expect("LSTM with return_sequences", return_sequences ? "true" : "false",
                    file_sequences ? "true" : "false");
      config.expect("LSTM with recurrent_activation", hard_sigmoid ? "hard_sigmoid" : "sigmoid",
                    file_hard_sigmoid ? "hard_sigmoid" : "sigmoid");
    }
    static std::span<const KerasWeight> keras_weights(const KerasConfig* config) {
      static constexpr std::array<KerasWeight, 3> weights{
          KerasWeight{.name = "kernel", .shape = {features, gates}, .rank = 2},
          KerasWeight{.name = "recurrent_kernel",
                      .shape = {Units, gates},
                      .rank = 2,
                      .offset = kernel_count},
          KerasWeight{.name = "bias",
                      .shape = {gates},
                      .rank = 1,
                      .offset = kernel_count + recurrent_count,
                      .optional = true}};
      if (config && !config->use_bias()) return std::span(weights).first(2);
      return weights;
    }
    static constexpr KerasMapping keras{lstm_keras_classes, check_keras, keras_weights};
    static constexpr LayerInfo info() {
      LayerInfo layer = layer_info<bind>("LSTM", "LSTM");
      layer.arguments << "(" << Units;
      if (return_sequences) layer.arguments << ",sequences";
      if (hard_sigmoid) layer.arguments << ",hard_sigmoid";
      layer.arguments << ")";
      layer.cpp << "LSTM<" << Units;
      write_cpp_options<Opts...>(layer.cpp);
      layer.cpp << ">";
      layer.keras = &keras;
      return layer;
    }
    // As Keras: Glorot-uniform kernel, orthogonal recurrent kernel (its U rows orthonormal: here
    // uniform random rows, Gram-Schmidt orthonormalised), zero bias but 1 for the forget gate
    // (unit_forget_bias).
    static void init(float* params, Rng& rng) noexcept {
      glorot_uniform_init(params, kernel_count, 0, features, gates, rng);
      float* recurrent = params + kernel_count;
      for (std::size_t row = 0; row < Units; ++row) {
        float* r = recurrent + row * gates;
        for (std::size_t j = 0; j < gates; ++j) r[j] = rng.uniform(-1.0f, 1.0f);
        for (std::size_t other = 0; other < row; ++other) {
          const float* o = recurrent + other * gates;
          float dot = 0;
          for (std::size_t j = 0; j < gates; ++j) dot += r[j] * o[j];
          for (std::size_t j = 0; j < gates; ++j) r[j] -= dot * o[j];
        }
        float norm = 0;
        for (std::size_t j = 0; j < gates; ++j) norm += r[j] * r[j];
        const float inverse = 1.0f / std::sqrt(norm);
        for (std::size_t j = 0; j < gates; ++j) r[j] *= inverse;
      }
      float* bias = recurrent + recurrent_count;
      std::fill(bias, bias + gates, 0.0f);
      std::fill(bias + Units, bias + 2 * Units, 1.0f);
    }
    static void forward(const float* params, const float* in, float* out, std::size_t n,
                        const Context& ctx) noexcept {
      using kernels::Trans;
      const float* kernel = params;
      const float* recurrent = params + kernel_count;
      const float* bias = recurrent + recurrent_count;
      // Row r of the hidden states of step t: out + r * hidden_stride (+ t * Units).
      constexpr std::size_t hidden_stride = output_shape::size;
      float* z = ctx.scratch;
      float* cell = z + sequences_at_once * steps * gates;
      for (std::size_t first = 0; first < n; first += sequences_at_once) {
        const std::size_t count = std::min(sequences_at_once, n - first);
        float* hidden = out + first * hidden_stride;
        kernels::gemm(Trans::No, Trans::No, count * steps, gates, features, in + first * In::size,
                      features, kernel, gates, 0.0f, z, gates, bias);
        std::fill(cell, cell + count * Units, 0.0f);
        for (std::size_t t = 0; t < steps; ++t) {
          float* z_t = z + t * gates;
          const std::size_t step = return_sequences ? Units : 0;
          if (t > 0)
            kernels::gemm(Trans::No, Trans::No, count, gates, Units, hidden + (t - 1) * step,
                          hidden_stride, recurrent, gates, 1.0f, z_t, steps * gates, nullptr);
          kernels::lstm_cell(z_t, steps * gates, count, Units, hard_sigmoid, cell,
                             hidden + t * step, hidden_stride);
        }
      }
    }
    // Never called: Model::fit and train_on_batch do not compile with this layer (trains =
    // false). Backpropagation through time is not written yet.
    static void backward(const float*, const float*, float*, float*, float*, std::size_t,
                         const Context&) noexcept {}
  };
};

}  // namespace typenet
