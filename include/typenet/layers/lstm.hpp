// LSTM<Units, options...>: Keras' LSTM over a sequence Shape<T, F>, forward only. Output: the last
// hidden state, Shape<Units>, or with ReturnSequences every step's, Shape<T, Units>. Options:
// ReturnSequences, HardSigmoid (Keras 2's hard_sigmoid recurrent activation, clip(0.2 x + 0.5,
// 0, 1), the default of Keras 2.0 to 2.2; otherwise sigmoid). The activation is tanh.
// Weights as Keras stores them, gate order i, f, c, o: kernel (F, 4U), recurrent_kernel (U, 4U),
// bias (4U; absent when use_bias = False).
// Forward, for a few sequences at a time: the input projection of all their steps is one GEMM
// (x W + b), then per step the recurrent GEMM (h U, added in place) and the cell's gates
// (kernels::lstm_cell). The hidden state lives in the output itself. Training keeps every step's
// activated gates, cell state, its tanh and hidden state (saved_floats) and backpropagates
// through time: per step, from the last, the gates' gradients and the recurrent product that
// carries the hidden state's gradient back; then the kernel, recurrent kernel, bias and input
// gradients over all steps as GEMMs.
// Keras: LSTM (units, return_sequences, activation tanh, recurrent_activation sigmoid or Keras 2's
// hard_sigmoid, use_bias; dropout and recurrent_dropout do nothing at inference; unroll changes
// nothing; go_backwards, stateful, time_major and return_state are refused).
//
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
    // rows. The scratch holds their gates for every step (backward: the gates' gradients), then
    // their cell states (backward: the hidden and cell states' gradients carried back a step).
    static constexpr std::size_t sequences_at_once = 4;
    static constexpr std::size_t scratch_floats = sequences_at_once * (steps * gates + 2 * Units);
    static constexpr std::size_t cache_words = 0;
    static constexpr std::size_t flops = 2 * steps * (features + Units) * gates;
    // Training keeps per step: the activated gates i, f, g, o, the cell state c, tanh(c) and the
    // hidden state h.
    static constexpr std::size_t kept_per_step = gates + 3 * Units;
    static constexpr std::size_t cell_at = gates, tanh_cell_at = gates + Units,
                                 hidden_at = gates + 2 * Units;
    static constexpr std::size_t saved_floats = steps * kept_per_step;

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
        if (ctx.saved) {
          forward_training(recurrent, z, count, ctx.saved + first * saved_floats, hidden);
          continue;
        }
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

    // With c_t = f c_{t-1} + i g and h_t = o tanh(c_t), from the last step back: dh = the
    // output's gradient at t + the carried dz_{t+1} U^T; dc = the carried dc_{t+1} f_{t+1} +
    // dh o (1 - tanh^2 c_t); then dz of each gate through its activation.
    static void backward(const float* params, const float* in, float* dout, float* din,
                         float* dparams, std::size_t n, const Context& ctx) noexcept {
      using kernels::Trans;
      const float* kernel = params;
      const float* recurrent = params + kernel_count;
      float* kernel_grad = dparams;
      float* recurrent_grad = dparams + kernel_count;
      float* bias_grad = recurrent_grad + recurrent_count;
      if (ctx.assign_grads) std::fill(dparams, dparams + param_count, 0.0f);
      float* dz = ctx.scratch;
      float* carried_hidden = dz + sequences_at_once * steps * gates;
      float* carried_cell = carried_hidden + sequences_at_once * Units;
      for (std::size_t first = 0; first < n; first += sequences_at_once) {
        const std::size_t count = std::min(sequences_at_once, n - first);
        const float* kept = ctx.saved + first * saved_floats;
        std::fill(carried_hidden, carried_hidden + count * Units, 0.0f);
        std::fill(carried_cell, carried_cell + count * Units, 0.0f);
        for (std::size_t t = steps; t-- > 0;) {
          for (std::size_t r = 0; r < count; ++r) {
            const float* step = kept + r * saved_floats + t * kept_per_step;
            const float* previous_cell = t > 0 ? step - kept_per_step + cell_at : nullptr;
            const float* output_grad = nullptr;
            if (return_sequences) output_grad = dout + (first + r) * output_shape::size + t * Units;
            else if (t + 1 == steps) output_grad = dout + (first + r) * output_shape::size;
            step_backward(step, previous_cell, output_grad, carried_hidden + r * Units,
                          carried_cell + r * Units, dz + (r * steps + t) * gates);
          }
          if (t > 0)  // dh_{t-1} = dz_t U^T
            kernels::gemm(Trans::No, Trans::Yes, count, Units, gates, dz + t * gates, steps * gates,
                          recurrent, gates, 0.0f, carried_hidden, Units, nullptr);
        }
        const std::size_t rows = count * steps;
        kernels::gemm(Trans::Yes, Trans::No, features, gates, rows, in + first * In::size, features,
                      dz, gates, 1.0f, kernel_grad, gates, nullptr);
        kernels::add_column_sums(dz, rows, gates, gates, bias_grad);
        for (std::size_t r = 0; r < count && steps > 1; ++r)  // dU += h_{t-1}^T dz_t, t >= 1
          kernels::gemm(Trans::Yes, Trans::No, Units, gates, steps - 1,
                        kept + r * saved_floats + hidden_at, kept_per_step,
                        dz + (r * steps + 1) * gates, gates, 1.0f, recurrent_grad, gates, nullptr);
        if (din)
          kernels::gemm(Trans::No, Trans::Yes, rows, features, gates, dz, gates, kernel, gates,
                        0.0f, din + first * In::size, features, nullptr);
      }
    }

   private:
    static float recurrent_activation(float x) noexcept {
      if constexpr (hard_sigmoid) return std::clamp(0.2f * x + 0.5f, 0.0f, 1.0f);
      else return 1.0f / (1.0f + std::exp(-x));
    }
    // Its slope, from its output a.
    static float recurrent_slope(float a) noexcept {
      if constexpr (hard_sigmoid) return a > 0.0f && a < 1.0f ? 0.2f : 0.0f;
      else return a * (1.0f - a);
    }
    // The training forward of `count` sequences whose input projections z holds (row r of step
    // t at z + (r * steps + t) * gates): keeps each step (kept + r * saved_floats + t *
    // kept_per_step) and writes the hidden states to the output.
    static void forward_training(const float* recurrent, float* z, std::size_t count, float* kept,
                                 float* hidden) noexcept {
      using kernels::Trans;
      constexpr std::size_t hidden_stride = output_shape::size;
      for (std::size_t t = 0; t < steps; ++t) {
        float* z_t = z + t * gates;
        if (t > 0)
          kernels::gemm(Trans::No, Trans::No, count, gates, Units,
                        kept + (t - 1) * kept_per_step + hidden_at, saved_floats, recurrent, gates,
                        1.0f, z_t, steps * gates, nullptr);
        for (std::size_t r = 0; r < count; ++r) {
          const float* z_r = z_t + r * steps * gates;
          float* step = kept + r * saved_floats + t * kept_per_step;
          const float* previous_cell = t > 0 ? step - kept_per_step + cell_at : nullptr;
          for (std::size_t u = 0; u < Units; ++u) {
            const float i = recurrent_activation(z_r[u]);
            const float f = recurrent_activation(z_r[Units + u]);
            const float g = std::tanh(z_r[2 * Units + u]);
            const float o = recurrent_activation(z_r[3 * Units + u]);
            const float c = (previous_cell ? f * previous_cell[u] : 0.0f) + i * g;
            const float tanh_c = std::tanh(c);
            step[u] = i;
            step[Units + u] = f;
            step[2 * Units + u] = g;
            step[3 * Units + u] = o;
            step[cell_at + u] = c;
            step[tanh_cell_at + u] = tanh_c;
            step[hidden_at + u] = o * tanh_c;
          }
          if (return_sequences || t + 1 == steps)
            std::copy_n(step + hidden_at, Units,
                        hidden + r * hidden_stride + (return_sequences ? t * Units : 0));
        }
      }
    }
    // One sequence's step t backward: carried_hidden holds dz_{t+1} U^T (zeros at the last
    // step) and carried_cell dc_{t+1} f_{t+1}, which it replaces by dc_t f_t; writes dz_t.
    static void step_backward(const float* step, const float* previous_cell,
                              const float* output_grad, const float* carried_hidden,
                              float* carried_cell, float* dz) noexcept {
      for (std::size_t u = 0; u < Units; ++u) {
        const float i = step[u], f = step[Units + u], g = step[2 * Units + u],
                    o = step[3 * Units + u], tanh_c = step[tanh_cell_at + u];
        const float dh = carried_hidden[u] + (output_grad ? output_grad[u] : 0.0f);
        const float dc = carried_cell[u] + dh * o * (1.0f - tanh_c * tanh_c);
        dz[u] = dc * g * recurrent_slope(i);
        dz[Units + u] = previous_cell ? dc * previous_cell[u] * recurrent_slope(f) : 0.0f;
        dz[2 * Units + u] = dc * i * (1.0f - g * g);
        dz[3 * Units + u] = dh * tanh_c * recurrent_slope(o);
        carried_cell[u] = dc * f;
      }
    }
  };
};

}  // namespace typenet
