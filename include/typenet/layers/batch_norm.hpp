// BatchNorm<Epsilon<N, D>?>: Keras' BatchNormalization, per channel of the last axis (an
// image's channels, a flat input's features, a sequence's features):
//   y = gamma (x - mean) / sqrt(variance + epsilon) + beta,
// with the moving statistics at inference (predict, evaluate, validation) and, in training, the
// mean and biased variance of the whole batch (over images x pixels), as Keras' training mode.
// Parameters in Keras' order: gamma, beta, moving_mean, moving_variance (C floats each).
// Keras: BatchNormalization (axis the channel axis, epsilon; center/scale False: beta/gamma absent
// from the file, then 0/1).
//
// epsilon is part of the type, as the integer ratio N/D (default 1/1000, Keras' 1e-3): it is a
// setting of the architecture, not a learned value, and Keras' weight layout has no room for it.
// The ratio is computed in double and rounded to float, as Keras adds float32(epsilon).
//
// Training: the batch statistics are exact over the whole batch however the trainer splits it
// (layers/layer.hpp, "Batch statistics"): each worker's count, mean and M2 (two passes, in double
// over short runs of rows summed in float), merged with Chan's formula in worker order. Backward
// goes through the statistics: dx = gamma / sqrt(var + eps) (dy - mean(dy) - xhat mean(dy xhat)),
// the means over the whole batch again; dgamma = sum(dy xhat), dbeta = sum(dy). The moving
// statistics are not trained (their gradients stay 0): after each optimizer step, moving =
// momentum moving + (1 - momentum) batch statistic, Keras' update with its default momentum 0.99
// (a file's other momentum is not kept: typenet trains with 0.99).
#pragma once

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <type_traits>

#include "typenet/keras_mapping.hpp"
#include "typenet/kernels/kernels.hpp"
#include "typenet/layers/layer.hpp"

namespace typenet {

template <std::size_t Numerator, std::size_t Denominator>
struct Epsilon {
  static_assert(Numerator > 0 && Denominator > 0, "typenet: Epsilon<N, D> needs N, D > 0");
  static constexpr std::size_t numerator = Numerator, denominator = Denominator;
  static constexpr float value = float(double(Numerator) / double(Denominator));
};

namespace detail {
template <class T>
inline constexpr bool is_epsilon = false;
template <std::size_t N, std::size_t D>
inline constexpr bool is_epsilon<Epsilon<N, D>> = true;

// The float epsilon of a BatchNormalization config (default 1e-3): Keras adds float32(epsilon).
inline float batch_norm_epsilon(const KerasConfig& config) {
  const double epsilon = config.number("epsilon").value_or(1e-3);
  if (!(epsilon > 0) || !std::isfinite(epsilon))
    config.corrupted("expected 'epsilon' to be a positive number, file has " +
                     config.json("epsilon"));
  return float(epsilon);
}

// BatchNormalization's settings that no BatchNorm can have, for an input of `rank` extents: the
// normalized axis must be typenet's channel axis, the last one (Keras counts the batch as axis
// 0: -1 or `rank`; channels-first images keep their channels at axis 1), and renorm (batch
// renormalization) changes what inference computes.
inline void refuse_batch_norm_extras(const KerasConfig& config, std::size_t rank) {
  if (config.boolean("renorm").value_or(false))
    config.unsupported("BatchNormalization with renorm has no typenet equivalent");
  // An int, or a list of one int (tf_keras writes [3]).
  std::string axis = config.json("axis");
  if (axis == "null") axis = "-1";
  if (axis.size() >= 2 && axis.front() == '[' && axis.back() == ']')
    axis = axis.substr(1, axis.size() - 2);
  long long value = 0;
  const auto [end, error] = std::from_chars(axis.data(), axis.data() + axis.size(), value);
  const bool is_integer = error == std::errc() && end == axis.data() + axis.size();
  const bool channels_first_image = rank == 3 && config.channels_first();
  const bool channel_axis =
      channels_first_image ? value == 1 : value == -1 || value == static_cast<long long>(rank);
  if (!is_integer || !channel_axis)
    config.unsupported("BatchNormalization over axis " + config.json("axis") +
                       " has no typenet equivalent: BatchNorm normalizes the channel axis (" +
                       (channels_first_image ? std::string("1") : "-1") + ")");
}
}  // namespace detail

inline constexpr std::string_view batch_norm_keras_classes[] = {"BatchNormalization"};
// "BatchNorm<>", or with the file's epsilon as the smallest ratio N / 10^k giving its float:
// "BatchNorm<Epsilon<1, 100000>>".
inline constexpr KerasLayerClass batch_norm_keras_layer{
    batch_norm_keras_classes, [](const KerasConfig& config) -> std::string {
      const float epsilon = detail::batch_norm_epsilon(config);
      if (epsilon == Epsilon<1, 1000>::value) return "BatchNorm<>";
      std::string spelling;
      std::size_t denominator = 1;
      for (int digits = 0; digits <= 15 && spelling.empty(); ++digits, denominator *= 10) {
        const double numerator = std::round(double(epsilon) * double(denominator));
        if (numerator >= 1 && float(numerator / double(denominator)) == epsilon)
          spelling = "BatchNorm<Epsilon<" + std::to_string(std::size_t(numerator)) + ", " +
                     std::to_string(denominator) + ">>";
      }
      if (spelling.empty())
        config.unsupported("BatchNormalization epsilon " + config.json("epsilon") +
                           " is no ratio N / 10^k with k <= 15");
      return spelling;
    }};

template <class Eps = Epsilon<1, 1000>>
struct BatchNorm {
  static_assert(detail::is_epsilon<Eps>, "typenet: BatchNorm takes Epsilon<N, D> (epsilon N/D)");
  template <class In>
  struct bind {
    static constexpr std::size_t channels = In::last_extent;
    static constexpr float epsilon = Eps::value;
    using input_shape = In;
    using output_shape = In;
    using activation = detail::Activation<ActivationKind::Linear>;
    static constexpr std::size_t param_count = 4 * channels;
    // The per-call scale and shift of each channel.
    static constexpr std::size_t scratch_floats = 2 * channels;
    static constexpr std::size_t cache_words = 0;
    static constexpr std::size_t flops = 2 * In::size;
    // A worker's row count and, per channel, two sums (layers/layer.hpp).
    static constexpr std::size_t batch_statistics_doubles = 1 + 2 * channels;
    // The batch's mean and variance, for backward and after_step.
    static constexpr std::size_t step_state_floats = 2 * channels;
    // Keras' default momentum; its complement rounded from double, as Keras computes it.
    static constexpr float momentum = 0.99f;
    static constexpr float momentum_complement = float(1.0 - 0.99);

    static void check_keras(const KerasConfig& config) {
      detail::refuse_batch_norm_extras(config, In::rank);
      const float file_epsilon = detail::batch_norm_epsilon(config);
      if (file_epsilon != epsilon)
        config.mismatch("expected BatchNormalization with epsilon " +
                        std::to_string(Eps::numerator) + "/" + std::to_string(Eps::denominator) +
                        ", file has " + config.json("epsilon"));
    }
    // Keras stores gamma unless scale = False and beta unless center = False; a weights-only
    // file does not say which it lacks, so there all four are required.
    static std::span<const KerasWeight> keras_weights(const KerasConfig* config) {
      static constexpr auto weight = [](std::string_view name, std::size_t index, float fill) {
        return KerasWeight{
            .name = name, .shape = {channels}, .rank = 1, .offset = index * channels, .fill = fill};
      };
      static constexpr KerasWeight gamma = weight("gamma", 0, 1.0f), beta = weight("beta", 1, 0.0f),
                                   mean = weight("moving_mean", 2, 0.0f),
                                   variance = weight("moving_variance", 3, 1.0f);
      static constexpr std::array all{gamma, beta, mean, variance};
      static constexpr std::array without_gamma{beta, mean, variance};
      static constexpr std::array without_beta{gamma, mean, variance};
      static constexpr std::array statistics{mean, variance};
      if (!config) return all;
      const bool scale = config->boolean("scale").value_or(true),
                 center = config->boolean("center").value_or(true);
      if (scale && center) return all;
      if (center) return without_gamma;
      if (scale) return without_beta;
      return statistics;
    }
    static constexpr KerasMapping keras{batch_norm_keras_classes, check_keras, keras_weights};
    static constexpr LayerInfo info() {
      LayerInfo layer = layer_info<bind>("BatchNorm", "BatchNormalization");
      layer.non_trainable_count = 2 * channels;  // the moving statistics
      if constexpr (!std::is_same_v<Eps, Epsilon<1, 1000>>)
        layer.arguments << "(eps" << Eps::numerator << "/" << Eps::denominator << ")";
      layer.cpp << "BatchNorm<";
      if constexpr (!std::is_same_v<Eps, Epsilon<1, 1000>>)
        layer.cpp << "Epsilon<" << Eps::numerator << ", " << Eps::denominator << ">";
      layer.cpp << ">";
      layer.keras = &keras;
      return layer;
    }
    // As Keras: gamma 1, beta 0, moving mean 0, moving variance 1.
    static void init(float* params, Rng&) noexcept {
      for (std::size_t c = 0; c < channels; ++c) {
        params[c] = 1.0f;
        params[channels + c] = 0.0f;
        params[2 * channels + c] = 0.0f;
        params[3 * channels + c] = 1.0f;
      }
    }
    // scale = gamma / sqrt(variance + epsilon) and shift = beta - mean scale (C values, computed
    // per call), then one pass of y = x scale + shift; in training, with the batch's mean and
    // variance, kept in ctx.step_state.
    static void forward(const float* params, const float* in, float* out, std::size_t n,
                        const Context& ctx) noexcept {
      const float* gamma = params;
      const float* beta = params + channels;
      const float* mean = params + 2 * channels;
      const float* variance = params + 3 * channels;
      if (ctx.training) {
        batch_moments(in, n, ctx, ctx.step_state, ctx.step_state + channels);
        mean = ctx.step_state;
        variance = ctx.step_state + channels;
      }
      float* scale = ctx.scratch;
      float* shift = ctx.scratch + channels;
      for (std::size_t c = 0; c < channels; ++c) {
        scale[c] = gamma[c] / std::sqrt(variance[c] + epsilon);
        shift[c] = beta[c] - mean[c] * scale[c];
      }
      kernels::scale_shift_channels(in, rows_of(n), channels, scale, shift, out);
    }
    // After a training forward over the same images: the sums of dy and dy xhat over the whole
    // batch, then dx; this worker's sums are its dbeta and dgamma.
    static void backward(const float* params, const float* in, float* dout, float* din,
                         float* dparams, std::size_t n, const Context& ctx) noexcept {
      const float* gamma = params;
      const float* mean = ctx.step_state;
      const float* variance = ctx.step_state + channels;
      const std::size_t rows = rows_of(n);
      std::array<float, channels> inv_std;
      for (std::size_t c = 0; c < channels; ++c)
        inv_std[c] = 1.0f / std::sqrt(variance[c] + epsilon);
      // This worker's rows, then per channel the sums of dy and of dy xhat.
      std::array<double, batch_statistics_doubles> part{};
      double* dy_sum = part.data() + 1;
      double* dy_xhat_sum = dy_sum + channels;
      part[0] = double(rows);
      kernels::add_batch_norm_grad_sums(in, dout, rows, channels, mean, inv_std.data(), dy_sum,
                                        dy_xhat_sum);
      float* dgamma = dparams;
      float* dbeta = dparams + channels;
      // The moving statistics' gradients stay 0.
      if (ctx.assign_grads) std::fill_n(dparams, param_count, 0.0f);
      for (std::size_t c = 0; c < channels; ++c) {
        dgamma[c] += float(dy_xhat_sum[c]);
        dbeta[c] += float(dy_sum[c]);
      }
      if (!din) return;
      const double* all = ctx.batch_peers.all_gather(part.data(), part.size());
      std::array<double, batch_statistics_doubles> total{};
      for (std::size_t w = 0; w < ctx.batch_peers.workers; ++w)
        for (std::size_t k = 0; k < total.size(); ++k)
          total[k] += all[w * ctx.batch_peers.stride + k];
      // dx = k (dy - a - xhat b), k = gamma / sqrt(var + eps), a = mean(dy), b = mean(dy xhat).
      std::array<float, channels> k, a, b;
      for (std::size_t c = 0; c < channels; ++c) {
        k[c] = gamma[c] * inv_std[c];
        a[c] = float(total[1 + c] / total[0]);
        b[c] = float(total[1 + channels + c] / total[0]);
      }
      kernels::batch_norm_input_grad(in, dout, rows, channels, mean, inv_std.data(), k.data(),
                                     a.data(), b.data(), din);
    }
    // moving = momentum moving + (1 - momentum) batch statistic, in float as Keras.
    static void after_step(float* params, const float* step_state) noexcept {
      float* moving = params + 2 * channels;  // moving_mean, then moving_variance
      for (std::size_t i = 0; i < 2 * channels; ++i)
        moving[i] = moving[i] * momentum + step_state[i] * momentum_complement;
    }

   private:
    // The rows of n images: one per pixel (or step), `channels` floats each.
    static constexpr std::size_t rows_of(std::size_t n) { return n * In::size / channels; }
    // The mean and biased variance of each channel over the whole batch: this worker's row
    // count, means and M2 (sums of squared deviations from its means), in double, merged with
    // every worker's in worker order (Chan et al.'s pairwise update).
    static void batch_moments(const float* in, std::size_t n, const Context& ctx, float* mean,
                              float* variance) noexcept {
      const std::size_t rows = rows_of(n);
      std::array<double, batch_statistics_doubles> part{};
      double* part_mean = part.data() + 1;
      double* part_m2 = part_mean + channels;
      part[0] = double(rows);
      kernels::add_channel_sums(in, rows, channels, part_mean);
      for (std::size_t c = 0; c < channels; ++c) part_mean[c] /= double(rows);
      kernels::add_channel_squared_deviations(in, rows, channels, part_mean, part_m2);
      const double* all = ctx.batch_peers.all_gather(part.data(), part.size());
      double count = 0;
      std::array<double, channels> merged_mean{}, merged_m2{};
      for (std::size_t w = 0; w < ctx.batch_peers.workers; ++w) {
        const double* other = all + w * ctx.batch_peers.stride;
        const double other_count = other[0];
        const double total = count + other_count;
        const double weight = other_count / total;
        for (std::size_t c = 0; c < channels; ++c) {
          const double delta = other[1 + c] - merged_mean[c];
          merged_mean[c] += delta * weight;
          merged_m2[c] += other[1 + channels + c] + delta * delta * count * weight;
        }
        count = total;
      }
      for (std::size_t c = 0; c < channels; ++c) {
        mean[c] = float(merged_mean[c]);
        variance[c] = float(merged_m2[c] / count);
      }
    }
  };
};

}  // namespace typenet
