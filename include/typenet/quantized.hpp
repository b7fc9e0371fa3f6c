// Quantized<NetT>: 8-bit inference for a Net type, made by quantize().
//
//   auto net = std::make_unique<Cnn>();  load(*net, "mnist.tnet");
//   Quantized<Cnn> q = quantize(*net, first_500_training_images);
//   auto probabilities = q.predict(image);
//   q.summary();  // each layer's path: int8, or float where it has no 8-bit kernel
//
// Weights are int8 with one symmetric scale per output channel; activations are uint8 codes
// with one scale and zero point per tensor, calibrated on the images given to quantize (the
// range of each tensor over them: min/max, or percentiles); products sum exactly in int32, and
// the requantization, bias and ReLU are fused into the GEMM's epilogue (kernels/int8.hpp).
//
// The machinery here knows no layer kind: each bound layer says in its own header how it runs on
// codes, through an optional member `int8` (layers/layer.hpp, "8-bit inference"). A layer without
// one runs in float, with its float parameters kept here: its input arrives dequantized, its
// output is quantized for the next 8-bit layer. The Net's output is always float: a last GEMM
// layer writes floats (a Softmax then runs in float), and any layer that feeds a float one does
// too, rather than codes that would only be dequantized again.
//
// Calibration details. A tensor feeding a run of layers that keep their input's quantization
// (MaxPool, ReLU, and those passing codes on: Flatten, Dropout) is quantized with the range of
// the run's last output: they are monotone maps that commute with clamping, so the narrower
// range loses nothing, and a Dense<512> followed by a Relu layer gets ReLU's range, the ReLU
// fused into its epilogue as with Dense<512, Relu>. A range always holds 0, at an integer zero
// point, so that zero padding and ReLU are exact. MNIST pixels k / 255 (range [0, 1]) become the
// codes k exactly.
//
// Like the Net, everything is sized at compile time from NetT's bound layers: packed weights,
// per-channel scales and offsets, codes buffers (rows padded to kernels::int8_depth), im2col
// scratch. They are fixed arrays, allocated once when the net is quantized (or loaded); predict
// allocates nothing, and the forward pass is noexcept. As a Net, it serves one predict at a time
// (its workspaces are its own). Images go through in chunks of `chunk`
// (a GEMM layer multiplies a whole chunk at once), each thread of a batch predict with its own
// workspace.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "typenet/kernels/int8.hpp"
#include "typenet/layer_info.hpp"
#include "typenet/net.hpp"
#include "typenet/quantization.hpp"
#include "typenet/share.hpp"
#include "typenet/thread_pool.hpp"

namespace typenet {

enum class CalibrationMethod { MinMax, Percentile };

struct QuantizeOptions {
  CalibrationMethod method = CalibrationMethod::MinMax;
  // Percentile: a tensor's range runs from its (100 - percentile)-th to its percentile-th
  // percentile over the calibration images, clipping rare outliers.
  double percentile = 99.99;
};

// How Quantized runs a layer.
enum class Int8Path : std::uint8_t {
  PassThrough,  // its output is its input's codes (int8 role PassThrough)
  Int8,         // on codes, by its int8 member
  Float,        // no int8 member: in float, on dequantized input
};

namespace detail {

template <class L>
concept HasInt8 = requires {
  typename L::int8;
};
template <class L>
concept Int8CodesForward = requires(const Int8Call& call, const std::uint8_t* in, std::uint8_t* out,
                                    std::size_t n) {
  L::int8::forward(call, in, out, n);
};
template <class L>
concept Int8FloatForward = requires(const Int8Call& call, const std::uint8_t* in, float* out,
                                    std::size_t n) {
  L::int8::forward(call, in, out, n);
};

// A layer's int8 member that keeps its weights in model files otherwise than as they run.
template <class L>
concept StoresWeights = requires(const std::int8_t* from, std::int8_t* to) {
  { L::int8::stored_weight_bytes } -> std::convertible_to<std::size_t>;
  L::int8::store_weights(from, to);
  L::int8::restore_weights(from, to);
};

template <class L>
constexpr Int8Path int8_path() {
  if constexpr (!HasInt8<L>) {
    return Int8Path::Float;
  } else {
    static_assert(
        L::int8::role == Int8Role::PassThrough || !L::int8::codes_out || Int8CodesForward<L>,
        "typenet: an int8 member with codes_out needs static void forward(const "
        "Int8Call&, const std::uint8_t*, std::uint8_t*, std::size_t)");
    static_assert(
        L::int8::role == Int8Role::PassThrough || L::int8::codes_out || Int8FloatForward<L>,
        "typenet: an int8 member without codes_out needs static void forward(const "
        "Int8Call&, const std::uint8_t*, float*, std::size_t)");
    static_assert(L::int8::role != Int8Role::SameQuantization || L::int8::codes_out,
                  "typenet: an int8 member with role SameQuantization writes codes (codes_out)");
    return L::int8::role == Int8Role::PassThrough ? Int8Path::PassThrough : Int8Path::Int8;
  }
}

// What the layout needs to know of a bound layer.
struct Int8LayerFacts {
  Int8Path path = Int8Path::Float;
  bool same_quantization = false;  // role SameQuantization
  bool codes_out = false;          // writes codes (activation applied)
  bool float_out = false;          // writes floats before the activation
  std::size_t out_size = 0;
};

template <class L>
constexpr Int8LayerFacts int8_layer_facts() {
  Int8LayerFacts facts;
  facts.path = int8_path<L>();
  facts.out_size = L::output_shape::size;
  if constexpr (HasInt8<L>) {
    facts.same_quantization = L::int8::role == Int8Role::SameQuantization;
    facts.codes_out = L::int8::codes_out;
    facts.float_out = Int8FloatForward<L>;
  }
  return facts;
}

// Where a Quantized net keeps its tensors. Boundary b is the input of layer b: 0 is the Net's
// input, b + 1 the output of layer b.
template <std::size_t N>
struct Int8Layout {
  static constexpr std::size_t boundaries = N + 1;
  // A chunk's tensors fit in about 1 MiB (L2), up to 256 images: a GEMM over many rows reuses
  // each weight tile loaded (the MLP's batch-1000 throughput is 2.5x that of 64-image chunks).
  static constexpr std::size_t chunk_bytes = std::size_t{1} << 20;
  static constexpr std::size_t max_chunk = 256;

  std::array<Int8LayerFacts, N> layers{};
  std::array<std::size_t, boundaries> size{};
  // Whether boundary b holds codes: when the first layer from b on that does not pass codes
  // through runs on codes. Otherwise floats (the Net's output among them).
  std::array<bool, boundaries> codes{};
  // The boundary whose buffer b is: pass-through outputs are their input. Home 0 holding floats
  // is the caller's input.
  std::array<std::size_t, boundaries> home{};
  // The boundary whose calibrated range quantizes b (see quantized.hpp's header).
  std::array<std::size_t, boundaries> range_source{};
  std::array<std::size_t, boundaries> stride{};  // elements from one image to the next
  // Whether layer i writes floats to the staging area to be quantized, or codes to be
  // dequantized.
  std::array<bool, N> stages_floats{}, stages_codes{};
  std::size_t chunk = 1;
  // Offsets of the home boundaries' buffers for a chunk, in the workspace's codes or floats.
  std::array<std::size_t, boundaries> offset{};
  std::size_t codes_bytes = 0, floats = 0, staging_floats = 0, staging_codes = 0;

  constexpr std::size_t consumer(std::size_t b) const {
    while (b < N && layers[b].path == Int8Path::PassThrough) ++b;
    return b;
  }
};

constexpr std::size_t round_up(std::size_t value, std::size_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

template <std::size_t N>
constexpr Int8Layout<N> make_int8_layout(const std::array<Int8LayerFacts, N>& layers,
                                         std::size_t input_size) {
  Int8Layout<N> layout;
  layout.layers = layers;
  layout.size[0] = input_size;
  for (std::size_t i = 0; i < N; ++i) layout.size[i + 1] = layers[i].out_size;
  for (std::size_t b = 0; b <= N; ++b) {
    const std::size_t consumer = layout.consumer(b);
    layout.codes[b] = consumer < N && layers[consumer].path == Int8Path::Int8;
    layout.home[b] = b > 0 && layers[b - 1].path == Int8Path::PassThrough ? layout.home[b - 1] : b;
    std::size_t source = b;
    while (source < N &&
           (layers[source].path == Int8Path::PassThrough ||
            (layers[source].path == Int8Path::Int8 && layers[source].same_quantization)))
      ++source;
    layout.range_source[b] = source;
    layout.stride[b] = layout.codes[b] ? kernels::int8_depth(layout.size[b]) : layout.size[b];
  }
  // Per image: the home buffers and the staging areas.
  std::size_t image_bytes = 0, staging_floats = 0, staging_codes = 0;
  for (std::size_t b = 0; b <= N; ++b) {
    if (layout.home[b] != b || (b == 0 && !layout.codes[0])) continue;
    image_bytes += layout.codes[b] ? layout.stride[b] : layout.stride[b] * sizeof(float);
  }
  for (std::size_t i = 0; i < N; ++i) {
    const Int8LayerFacts& layer = layers[i];
    const bool out_codes = layout.codes[i + 1];
    layout.stages_floats[i] = out_codes && (layer.path == Int8Path::Float ||
                                            (layer.path == Int8Path::Int8 && !layer.codes_out));
    layout.stages_codes[i] = !out_codes && layer.path == Int8Path::Int8 && !layer.float_out;
    if (layout.stages_floats[i]) staging_floats = std::max(staging_floats, layout.size[i + 1]);
    if (layout.stages_codes[i]) staging_codes = std::max(staging_codes, layout.stride[i + 1]);
  }
  image_bytes += staging_floats * sizeof(float) + staging_codes;
  layout.chunk =
      std::clamp<std::size_t>(Int8Layout<N>::chunk_bytes / std::max<std::size_t>(image_bytes, 1), 1,
                              Int8Layout<N>::max_chunk);
  for (std::size_t b = 0; b <= N; ++b) {
    if (layout.home[b] != b || (b == 0 && !layout.codes[0])) continue;
    if (layout.codes[b]) {
      layout.offset[b] = layout.codes_bytes;
      layout.codes_bytes += round_up(layout.chunk * layout.stride[b], 64);
    } else {
      layout.offset[b] = layout.floats;
      layout.floats += round_up(layout.chunk * layout.stride[b], 16);
    }
  }
  layout.staging_floats = layout.chunk * staging_floats;
  layout.staging_codes = layout.chunk * staging_codes;
  return layout;
}

// The compile-time plan of Quantized<NetT>.
template <class NetT, class Indices = std::make_index_sequence<NetT::layer_count>>
struct Int8Plan;
template <class NetT, std::size_t... I>
struct Int8Plan<NetT, std::index_sequence<I...>> {
  template <std::size_t J>
  using layer = typename NetT::template layer<J>;
  static constexpr std::size_t layer_count = NetT::layer_count;

  template <class L>
  static constexpr std::size_t weight_bytes_of() {
    if constexpr (int8_path<L>() == Int8Path::Int8) return L::int8::weight_bytes;
    else return 0;
  }
  template <class L>
  static constexpr std::size_t stored_weight_bytes_of() {
    if constexpr (StoresWeights<L>) return L::int8::stored_weight_bytes;
    else return weight_bytes_of<L>();
  }
  template <class L>
  static constexpr std::size_t channel_floats_of() {
    if constexpr (int8_path<L>() == Int8Path::Int8) return L::int8::channel_floats;
    else return 0;
  }
  template <class L>
  static constexpr std::size_t scratch_bytes_of() {
    if constexpr (int8_path<L>() == Int8Path::Int8) return L::int8::scratch_bytes;
    else return 0;
  }
  template <class L>
  static constexpr bool is_float = int8_path<L>() == Int8Path::Float;

  static constexpr Int8Layout<layer_count> layout =
      make_int8_layout<layer_count>({int8_layer_facts<layer<I>>()...}, NetT::input_size);
  static constexpr std::size_t chunk = layout.chunk;
  static constexpr std::array<Int8Path, layer_count> paths{int8_path<layer<I>>()...};

  static constexpr auto weight_offsets =
      NetT::plan::exclusive_sums({round_up(weight_bytes_of<layer<I>>(), 64)...});
  static constexpr auto channel_offsets =
      NetT::plan::exclusive_sums({round_up(channel_floats_of<layer<I>>(), 16)...});
  // The float parameters of the layers without an 8-bit kernel, in the Net's layout otherwise.
  static constexpr auto float_param_offsets =
      NetT::plan::exclusive_sums({(is_float<layer<I>> ? layer<I>::param_count : 0)...});
  static constexpr auto stored_weight_offsets =
      NetT::plan::exclusive_sums({stored_weight_bytes_of<layer<I>>()...});
  static constexpr std::size_t weight_bytes = weight_offsets[layer_count];
  static constexpr std::size_t stored_weight_bytes = stored_weight_offsets[layer_count];
  static constexpr std::size_t channel_floats = channel_offsets[layer_count];
  static constexpr std::size_t float_param_count = float_param_offsets[layer_count];
  static constexpr std::size_t scratch_bytes =
      std::max({std::size_t{0}, scratch_bytes_of<layer<I>>()...});
  static constexpr std::size_t float_scratch =
      std::max({std::size_t{0}, (is_float<layer<I>> ? layer<I>::scratch_floats : 0)...});
  static constexpr std::size_t cache_words =
      chunk * std::max({std::size_t{0}, (is_float<layer<I>> ? layer<I>::cache_words : 0)...});
};

// A tensor's range over the calibration images.
struct Int8Range {
  float low = 0, high = 0;
};

// The calibrated range of every boundary (0: the images, i + 1: layer i's activated output),
// from NetT's float forward pass over the images.
template <class NetT>
std::vector<Int8Range> calibrate(const NetT& net, std::span<const float> images,
                                 const QuantizeOptions& options) {
  constexpr std::size_t boundaries = NetT::layer_count + 1;
  const std::size_t count = images.size() / NetT::input_size;
  NetT::check_input_size(images.size(), count, "quantize (calibration images)");
  if (options.method == CalibrationMethod::Percentile &&
      !(options.percentile > 50 && options.percentile <= 100))
    throw std::invalid_argument("typenet: quantize's percentile must be in (50, 100], got " +
                                std::to_string(options.percentile));
  auto buffers = std::make_unique<Buffers<NetT, 1, false>>();
  // Calls visit(b, values) for every boundary of every image.
  auto over_images = [&](auto&& visit) {
    for (std::size_t i = 0; i < count; ++i) {
      const float* image = images.data() + i * NetT::input_size;
      NetT::forward(net.parameters().data(), image, 1, *buffers, Context{});
      visit(0, std::span(image, NetT::input_size));
      for (std::size_t b = 1; b < boundaries; ++b)
        visit(b,
              std::span<const float>(buffers->output_of(b - 1), NetT::plan::output_sizes[b - 1]));
    }
  };
  std::vector<Int8Range> ranges(boundaries, {INFINITY, -INFINITY});
  over_images([&](std::size_t b, std::span<const float> values) {
    for (const float v : values) {
      ranges[b].low = std::min(ranges[b].low, v);
      ranges[b].high = std::max(ranges[b].high, v);
    }
  });
  if (options.method == CalibrationMethod::Percentile) {
    constexpr std::size_t bins = 4096;
    std::vector<std::uint64_t> histograms(boundaries * bins, 0);
    over_images([&](std::size_t b, std::span<const float> values) {
      const float low = ranges[b].low, width = (ranges[b].high - low) / float(bins);
      if (!(width > 0) || !std::isfinite(width)) return;
      for (const float v : values)
        if (!std::isnan(v))  // left out of the ranges too
          ++histograms[b * bins + std::min(bins - 1, std::size_t((v - low) / width))];
    });
    const double tail = 1.0 - options.percentile / 100.0;
    for (std::size_t b = 0; b < boundaries; ++b) {
      const std::span<const std::uint64_t> histogram(histograms.data() + b * bins, bins);
      const float low = ranges[b].low, width = (ranges[b].high - low) / float(bins);
      if (!(width > 0) || !std::isfinite(width)) continue;
      const double total = double(count) *
                           double(b == 0 ? NetT::input_size : NetT::plan::output_sizes[b - 1]);
      const double cut = tail * total;
      std::size_t first = 0, last = bins - 1;
      for (double below = 0; first < bins - 1 && below + double(histogram[first]) <= cut; ++first)
        below += double(histogram[first]);
      for (double above = 0; last > first && above + double(histogram[last]) <= cut; --last)
        above += double(histogram[last]);
      ranges[b] = {low + float(first) * width, low + float(last + 1) * width};
    }
  }
  return ranges;
}

// "(None, 26, 26, 32)", as Keras' summary.
inline std::string int8_keras_shape(const Dims& dims) {
  std::string text = "(None";
  for (std::size_t i = 0; i < dims.rank; ++i) text += ", " + std::to_string(dims.extent[i]);
  return text + ")";
}

// The table of Quantized::summary(): per layer its name, output shape and 8-bit path.
inline std::string int8_summary_table(std::span<const LayerInfo> layers,
                                      std::span<const std::string> paths, std::size_t weight_bytes,
                                      std::size_t float_params, std::size_t chunk) {
  auto padded = [](std::string text, std::size_t width) {
    if (text.size() < width) text.append(width - text.size(), ' ');
    return text + " ";
  };
  const std::string rule(96, '_'), double_rule(96, '=');
  std::string out = "Model: \"quantized\"\n" + rule + "\n";
  out += padded(" Layer (type)", 28) + padded("Output Shape", 20) + "8-bit path\n";
  out += double_rule + "\n";
  for (std::size_t i = 1; i < layers.size(); ++i) {
    const std::string name = " " + keras_layer_name(layers, i) + " (" +
                             std::string(layers[i].class_name) + ")";
    out += padded(name, 28) + padded(int8_keras_shape(layers[i].out), 20) + paths[i - 1] + "\n";
    if (i + 1 < layers.size()) out += "\n";
  }
  out += double_rule + "\n";
  out += "Int8 weights: " + std::to_string(weight_bytes) +
         " bytes (packed, one scale per output channel)\n";
  out += "Float parameters: " + std::to_string(float_params) +
         " (layers without an 8-bit kernel)\n";
  out += "Activations: uint8, one scale and zero point per tensor; " + std::to_string(chunk) +
         " images per chunk\n" + rule + "\n";
  return out;
}

}  // namespace detail

template <class NetT>
class Quantized;

// NetT quantized with ranges calibrated on `calibration_images` (whole inputs of NetT; a few
// hundred training images suffice). Throws std::invalid_argument when they are not whole inputs.
template <class NetT>
Quantized<NetT> quantize(const NetT& net, std::span<const float> calibration_images,
                         const QuantizeOptions& options = {});

template <class NetT>
class Quantized {
 public:
  using net_type = NetT;
  using plan = detail::Int8Plan<NetT>;
  static constexpr std::size_t layer_count = NetT::layer_count;
  static constexpr std::size_t input_size = NetT::input_size;
  static constexpr std::size_t output_size = NetT::output_size;
  static constexpr std::size_t chunk = plan::chunk;  // images a forward pass takes at once
  static constexpr std::size_t weight_bytes = plan::weight_bytes;  // as they run (packed)
  static constexpr std::size_t stored_weight_bytes = plan::stored_weight_bytes;  // in files
  static constexpr std::size_t channel_floats = plan::channel_floats;
  static constexpr std::size_t float_param_count = plan::float_param_count;
  static constexpr std::size_t boundary_count = layer_count + 1;
  static constexpr std::array<Int8Path, layer_count> paths = plan::paths;
  static constexpr auto layer_infos = NetT::layer_infos;

  // A quantized net from its parts as save() writes them (stored_weights() and the accessors
  // below; io/save_load.hpp). Throws std::invalid_argument when a part has another size or a
  // quantization is not valid (is_valid).
  Quantized(std::span<const std::int8_t> stored_weights, std::span<const float> channel,
            std::span<const float> float_parameters, std::span<const Quantization> quantizations)
      : storage_(std::make_unique<Storage>()) {
    check_part("stored int8 weights", stored_weights.size(), stored_weight_bytes);
    check_part("channel floats", channel.size(), channel_floats);
    check_part("float parameters", float_parameters.size(), float_param_count);
    check_part("quantizations", quantizations.size(), boundary_count);
    if (!std::ranges::all_of(quantizations, [](const Quantization& q) { return is_valid(q); }))
      throw std::invalid_argument("typenet: a quantization with a scale that is not positive or "
                                  "a zero point that is not an integer in [0, 255]");
    for_each_layer([&]<std::size_t I>() {
      const std::int8_t* stored = stored_weights.data() + plan::stored_weight_offsets[I];
      std::int8_t* weights = storage_->weights.data() + plan::weight_offsets[I];
      if constexpr (detail::StoresWeights<layer<I>>)
        layer<I>::int8::restore_weights(stored, weights);
      else
        std::copy_n(stored, plan::stored_weight_offsets[I + 1] - plan::stored_weight_offsets[I],
                    weights);
    });
    std::ranges::copy(channel, storage_->channel.begin());
    std::ranges::copy(float_parameters, storage_->float_params.begin());
    std::ranges::copy(quantizations, storage_->quantization.begin());
  }
  Quantized(const Quantized& other) : storage_(std::make_unique<Storage>(*other.storage_)) {}
  Quantized& operator=(const Quantized& other) {
    if (this != &other) storage_ = std::make_unique<Storage>(*other.storage_);
    return *this;
  }
  Quantized(Quantized&&) noexcept = default;
  Quantized& operator=(Quantized&&) noexcept = default;

  // Output for one image (input_size floats, as Net::predict takes it).
  std::array<float, output_size> predict(std::span<const float> image) {
    NetT::check_input_size(image.size(), 1, "predict");
    std::array<float, output_size> result;
    std::copy_n(forward(image.data(), 1, storage_->workspaces[0], Team{}), output_size,
                result.begin());
    return result;
  }
  // The same by a team of min(pool.size(), kMaxTeam) threads, each computing its part of the
  // large layers. Integer sums do not depend on the split: the result is the one-thread
  // predict's, bit for bit. Allocates nothing.
  std::array<float, output_size> predict(std::span<const float> image, ThreadPool& pool) {
    NetT::check_input_size(image.size(), 1, "predict");
    const std::size_t members = std::min(pool.size(), kMaxTeam);
    std::array<float, output_size> result;
    auto member_job = [&](std::size_t member) {
      if (member >= members) return;
      const float* out =
          forward(image.data(), 1, storage_->workspaces[0], Team{&pool, member, members});
      if (member == 0) std::copy_n(out, output_size, result.begin());
    };
    pool.run(member_job);
    return result;
  }
  // Outputs for images.size() / input_size images, written to outputs (output_size each), in
  // chunks on this thread.
  void predict(std::span<const float> images, std::span<float> outputs) {
    const std::size_t count = NetT::check_batch(images.size(), outputs.size());
    predict_range(images.data(), outputs.data(), 0, count, storage_->workspaces[0]);
  }
  // The same on min(pool.size(), kMaxTeam) threads, each taking a contiguous share of the
  // images with a workspace of its own (as Model::predict); fewer images than threads are
  // predicted one by one by the team. Same results as on one thread; allocates nothing.
  void predict(std::span<const float> images, std::span<float> outputs, ThreadPool& pool) {
    const std::size_t count = NetT::check_batch(images.size(), outputs.size());
    const std::size_t members = std::min(pool.size(), kMaxTeam);
    if (count < members) {
      for (std::size_t i = 0; i < count; ++i) {
        const auto output = predict(images.subspan(i * input_size, input_size), pool);
        std::ranges::copy(output, outputs.begin() + std::ptrdiff_t(i * output_size));
      }
      return;
    }
    auto member_job = [&](std::size_t member) {
      if (member >= members) return;
      const auto [first, end] = share_of(count, member, members);
      predict_range(images.data(), outputs.data(), first, end, storage_->workspaces[member]);
    };
    pool.run(member_job);
  }

  // Each layer's 8-bit path, as summary() shows it.
  static std::string path_of(std::size_t layer) {
    if (layer >= layer_count)
      throw std::out_of_range("typenet: path_of(" + std::to_string(layer) + ") of a net with " +
                              std::to_string(layer_count) + " layers");
    return path_texts()[layer];
  }
  // The paths as words, "int8 int8 pass float", as files record them.
  static std::string path_words() {
    std::string words;
    for (const Int8Path path : paths)
      words += std::string(words.empty() ? "" : " ") + (path == Int8Path::Int8    ? "int8"
                                                        : path == Int8Path::Float ? "float"
                                                                                  : "pass");
    return words;
  }
  // The Keras-like table of the layers with their 8-bit paths.
  static void summary(std::ostream& out = std::cout) { out << summary_string(); }
  static std::string summary_string() {
    const std::array<std::string, layer_count> texts = path_texts();
    return detail::int8_summary_table(NetT::layer_infos, texts, weight_bytes, float_param_count,
                                      chunk);
  }

  // The parts (what save() writes). The int8 weights as they run: packed, each layer's 64-byte
  // aligned.
  std::span<const std::int8_t> int8_weights() const noexcept { return storage_->weights; }
  // As model files keep them: each layer's stored_weight_bytes, one after the other.
  std::vector<std::int8_t> stored_weights() const {
    std::vector<std::int8_t> stored(stored_weight_bytes);
    for_each_layer([&]<std::size_t I>() {
      std::int8_t* to = stored.data() + plan::stored_weight_offsets[I];
      const std::int8_t* weights = storage_->weights.data() + plan::weight_offsets[I];
      if constexpr (detail::StoresWeights<layer<I>>) layer<I>::int8::store_weights(weights, to);
      else
        std::copy_n(weights, plan::stored_weight_offsets[I + 1] - plan::stored_weight_offsets[I],
                    to);
    });
    return stored;
  }
  std::span<const float> channel() const noexcept { return storage_->channel; }
  std::span<const float> float_parameters() const noexcept { return storage_->float_params; }
  // Boundary 0 is the input, i + 1 the output of layer i (0 = first layer after Input).
  std::span<const Quantization> quantizations() const noexcept { return storage_->quantization; }

 private:
  friend Quantized quantize<NetT>(const NetT&, std::span<const float>, const QuantizeOptions&);

  static constexpr auto& layout = plan::layout;
  template <std::size_t I>
  using layer = typename NetT::template layer<I>;

  // What one thread's forward pass writes, for up to `chunk` images.
  struct Workspace {
    alignas(64) std::array<std::uint8_t, layout.codes_bytes> codes{};
    alignas(64) std::array<float, layout.floats> floats{};
    alignas(64) std::array<float, layout.staging_floats> staging_floats{};
    alignas(64) std::array<std::uint8_t, layout.staging_codes> staging_codes{};
    alignas(64) std::array<std::uint8_t, plan::scratch_bytes> scratch{};
    alignas(64) std::array<float, plan::float_scratch> float_scratch{};
    alignas(64) std::array<std::uint32_t, plan::cache_words> cache{};
  };
  struct Storage {
    alignas(64) std::array<std::int8_t, weight_bytes> weights{};
    alignas(64) std::array<float, channel_floats> channel{};
    alignas(64) std::array<float, float_param_count> float_params{};
    std::array<Quantization, boundary_count> quantization{};
    std::array<Workspace, kMaxTeam> workspaces{};
  };

  Quantized() : storage_(std::make_unique<Storage>()) {}

  static void check_part(const char* what, std::size_t size, std::size_t expected) {
    if (size != expected)
      throw std::invalid_argument(
          std::string("typenet: a quantized net of this architecture has ") +
          std::to_string(expected) + " " + what + ", got " + std::to_string(size));
  }

  // Calibration, then each layer's 8-bit state (or its float parameters).
  void quantize_from(const NetT& net, std::span<const float> images,
                     const QuantizeOptions& options) {
    const std::vector<detail::Int8Range> ranges = detail::calibrate(net, images, options);
    for (std::size_t b = 0; b < boundary_count; ++b) {
      const detail::Int8Range& range = ranges[layout.range_source[b]];
      storage_->quantization[b] = quantization_of_range(range.low, range.high);
    }
    for_each_layer([&]<std::size_t I>() {
      using L = layer<I>;
      const float* params = net.parameters().data() + NetT::plan::param_offsets[I];
      if constexpr (plan::paths[I] == Int8Path::Int8) {
        L::int8::quantize({params, storage_->quantization[I],
                           storage_->weights.data() + plan::weight_offsets[I],
                           storage_->channel.data() + plan::channel_offsets[I]});
      } else if constexpr (plan::paths[I] == Int8Path::Float) {
        std::copy_n(params, L::param_count,
                    storage_->float_params.data() + plan::float_param_offsets[I]);
      }
    });
  }

  template <class F>
  static void for_each_layer(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (f.template operator()<I>(), ...); }
    (std::make_index_sequence<layer_count>{});
  }

  void predict_range(const float* images, float* outputs, std::size_t first, std::size_t end,
                     Workspace& workspace) noexcept {
    for (std::size_t i = first; i < end; i += chunk) {
      const std::size_t n = std::min(chunk, end - i);
      std::copy_n(forward(images + i * input_size, n, workspace, Team{}), n * output_size,
                  outputs + i * output_size);
    }
  }

  std::uint8_t* codes_of(std::size_t b, Workspace& w) const noexcept {
    return w.codes.data() + layout.offset[layout.home[b]];
  }
  const float* floats_of(std::size_t b, Workspace& w, const float* input) const noexcept {
    return layout.home[b] == 0 ? input : w.floats.data() + layout.offset[layout.home[b]];
  }

  // n <= chunk images through the layers; returns their outputs (output_size floats each).
  // In a team every member calls it: split layers compute their parts, the others run on
  // member 0, and the team syncs between layers.
  const float* forward(const float* input, std::size_t n, Workspace& w,
                       const Team& team) const noexcept {
    if constexpr (layout.codes[0]) {
      if (team.member == 0) quantize_images(input, n, input_size, codes_of(0, w), 0);
      team.sync();
    }
    for_each_layer([&]<std::size_t I>() { run_layer<I>(input, n, w, team); });
    return floats_of(layer_count, w, input);
  }

  // n tensors of `size` floats, `from_stride` apart, to codes of boundary b.
  void quantize_images(const float* from, std::size_t n, std::size_t from_stride, std::uint8_t* to,
                       std::size_t b) const noexcept {
    const Quantization& q = storage_->quantization[b];
    const std::size_t size = layout.size[b], stride = layout.stride[b];
    if (from_stride == size && stride == size)
      return kernels::quantize_u8(from, n * size, q.inverse_scale, q.zero_point, to);
    for (std::size_t i = 0; i < n; ++i)
      kernels::quantize_u8(from + i * from_stride, size, q.inverse_scale, q.zero_point,
                           to + i * stride);
  }

  template <std::size_t I>
  void run_layer(const float* input, std::size_t n, Workspace& w, const Team& team) const noexcept {
    using L = layer<I>;
    constexpr std::size_t in = I, out = I + 1;
    constexpr std::size_t size = L::output_shape::size, channels = L::output_shape::last_extent;
    if constexpr (plan::paths[I] == Int8Path::Float) {
      float* result = layout.stages_floats[I] ? w.staging_floats.data()
                                              : w.floats.data() + layout.offset[out];
      if (team.member == 0) {
        Context ctx;
        ctx.scratch = w.float_scratch.data();
        ctx.cache = w.cache.data();
        ctx.layer_index = I;
        L::forward(storage_->float_params.data() + plan::float_param_offsets[I],
                   floats_of(in, w, input), result, n, ctx);
        L::activation::forward(result, n * size, channels);
        if constexpr (layout.codes[out]) quantize_images(result, n, size, codes_of(out, w), out);
      }
      team.sync();
    } else if constexpr (plan::paths[I] == Int8Path::Int8) {
      Int8Call call;
      call.weights = storage_->weights.data() + plan::weight_offsets[I];
      call.channel = storage_->channel.data() + plan::channel_offsets[I];
      call.in = storage_->quantization[in];
      call.out = storage_->quantization[out];
      call.in_stride = layout.stride[in];
      call.out_stride = layout.stride[out];
      call.scratch = w.scratch.data();
      const std::uint8_t* x = codes_of(in, w);
      // Runs the layer's forward into y: on every member when it splits, else on member 0.
      constexpr bool split = L::int8::team_split;
      auto compute = [&](auto* y) {
        if (split) {
          call.team = team;
          L::int8::forward(call, x, y, n);
        } else if (team.member == 0) {
          L::int8::forward(call, x, y, n);
        }
      };
      // What member 0 does once every part is there.
      auto finish = [&](auto&& then) {
        if (split) team.sync();
        if (team.member == 0) then();
      };
      if constexpr (layout.codes[out] && !layout.stages_floats[I]) {
        compute(codes_of(out, w));
      } else if constexpr (layout.codes[out]) {  // floats, activated, then quantized
        call.out_stride = size;
        float* y = w.staging_floats.data();
        compute(y);
        finish([&] {
          L::activation::forward(y, n * size, channels);
          quantize_images(y, n, size, codes_of(out, w), out);
        });
      } else if constexpr (!layout.stages_codes[I]) {  // floats out
        float* y = w.floats.data() + layout.offset[out];
        compute(y);
        finish([&] { L::activation::forward(y, n * size, channels); });
      } else {  // codes, dequantized
        std::uint8_t* y = w.staging_codes.data();
        compute(y);
        finish([&] {
          const Quantization& q = storage_->quantization[out];
          for (std::size_t i = 0; i < n; ++i)
            kernels::dequantize_u8(y + i * layout.stride[out], size, q.scale, q.zero_point,
                                   w.floats.data() + layout.offset[out] + i * size);
        });
      }
      team.sync();
    }
  }

  static std::array<std::string, layer_count> path_texts() {
    std::array<std::string, layer_count> texts;
    for_each_layer([&]<std::size_t I>() {
      using L = layer<I>;
      const bool out_codes = layout.codes[I + 1];
      const std::string activation(to_string(L::activation::kind));
      const std::string in_float =
          L::activation::kind == ActivationKind::Linear ? "" : ", " + activation + " in float";
      std::string& text = texts[I];
      if constexpr (plan::paths[I] == Int8Path::PassThrough) {
        text = "int8 (passes codes on)";
      } else if constexpr (plan::paths[I] == Int8Path::Int8) {
        if (out_codes && !layout.stages_floats[I]) text = "int8";
        else if (out_codes) text = "int8 in, float out" + in_float + ", requantized";
        else if (!layout.stages_codes[I]) text = "int8 in, float out" + in_float;
        else text = "int8, dequantized out";
      } else {
        const std::size_t producer = layout.home[I];  // the boundary the input comes from
        const bool from_int8 = producer > 0 && plan::paths[producer - 1] == Int8Path::Int8;
        std::string how;
        if (from_int8) how = "dequantized in";
        if (out_codes) how += (how.empty() ? "" : ", ") + std::string("requantized out");
        text = "float (no 8-bit kernel" + (how.empty() ? "" : ": " + how) + ")";
      }
    });
    return texts;
  }

  std::unique_ptr<Storage> storage_;
};

template <class NetT>
Quantized<NetT> quantize(const NetT& net, std::span<const float> calibration_images,
                         const QuantizeOptions& options) {
  Quantized<NetT> quantized;
  quantized.quantize_from(net, calibration_images, options);
  return quantized;
}

}  // namespace typenet
