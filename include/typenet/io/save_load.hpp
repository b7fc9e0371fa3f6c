// Saving and loading a network's parameters, and training checkpoints, in typenet's own format
// (model_file.hpp).
//
//   typenet::save(net, "mnist.tnet");            // parameters only, for inference
//   typenet::load(net, "mnist.tnet");
//   typenet::save_checkpoint("run.ckpt", net, extras);  // parameters + optimizer state + progress
//   typenet::load_checkpoint("run.ckpt", net, extras);
//   typenet::save(quantized, "mnist.int8.tnet");  // a Quantized<Net> (quantized.hpp)
//   auto quantized = typenet::load_quantized<Net>("mnist.int8.tnet");
//
// Loading checks the whole file against the destination first (intact, right kind, same
// architecture layer by layer, every section present with the right size) and only then copies:
// after an exception the net and the extras are exactly as they were.
//
// The functions are in the typenet-io library: a program that calls them, as Model's fit and
// checkpoints do, links it.
#pragma once

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <vector>

#include "typenet/io/model_file.hpp"
#include "typenet/layer_info.hpp"
#include "typenet/quantization.hpp"

namespace typenet {

// One named buffer of optimizer state, as large as the parameter block for the usual optimizers:
// Adam's "m" and "v", RMSprop's "v", SGD with momentum's "velocity". It points into the trainer's
// own storage: save reads it, load_checkpoint fills it.
struct OptimizerSlot {
  std::string name;
  std::span<float> values;
};

// Everything besides the parameters that training needs to resume where it stopped. Every member
// has a default so that designated initializers can name only what a trainer has.
struct CheckpointExtras {
  std::string optimizer{};             // "adam", "rmsprop", "sgd"...: loading checks it matches
  std::vector<OptimizerSlot> slots{};  // loading checks the file has exactly these names and sizes
  std::uint64_t step = 0;   // optimizer updates done (Adam's bias correction); set by loading
  std::uint64_t epoch = 0;  // epochs completed; set by loading
  std::string text{};       // opaque to typenet, e.g. the History as JSON; set by loading
  // The optimizer's learning rate when it is a constant (callbacks may change it); nullopt for a
  // schedule. Set by loading: nullopt for files without it (before typenet stored it).
  std::optional<float> learning_rate{};
};

template <class NetT>
class Quantized;  // quantized.hpp

namespace io {

// The section of model files and checkpoints holding the saved Net's C++ type (cpp_type of its
// layers), so that a tool can spell a file's architecture without knowing it at compile time.
// Files of typenet before it lack the section; loads ignore it (the architecture lines are what
// they compare), as they ignore any section they do not read.
inline constexpr std::string_view net_type_section = "net_type";
// The file's net_type; nullopt when it has none (an older file, or a Net with a layer that does
// not spell itself). Throws ModelFileError (SectionMismatch, naming `source`) when the section
// is not a text.
std::optional<std::string> net_type(const ModelFile& file, const std::string& source);

// The non-template core of the functions below. Layer records go through describe(), whose
// canonical text is what the file stores and compares.
std::vector<std::string> describe_architecture(std::span<const LayerInfo> layers);
void save_parameters(const std::filesystem::path& path, std::span<const LayerInfo> layers,
                     std::span<const float> parameters);
void load_parameters(const std::filesystem::path& path, std::span<const LayerInfo> layers,
                     std::span<float> parameters);
void save_checkpoint(const std::filesystem::path& path, std::span<const LayerInfo> layers,
                     std::span<const float> parameters, const CheckpointExtras& extras);
void load_checkpoint(const std::filesystem::path& path, std::span<const LayerInfo> layers,
                     std::span<float> parameters, CheckpointExtras& extras);

// The size of the file that save(net) writes, without writing it.
std::uint64_t parameters_file_size(std::span<const LayerInfo> layers,
                                   std::span<const float> parameters);

// What a quantized net's file holds besides its architecture: each layer's 8-bit path
// (Quantized::path_words, which the loader compares: a build that runs a layer another way
// cannot use the file), its int8 weights (Quantized::stored_weights), channel floats, the float parameters of its
// layers without an 8-bit kernel, and every tensor's quantization (scale, inverse scale, zero
// point).
struct QuantizedSections {
  std::string paths;
  std::span<const std::int8_t> weights;
  std::span<const float> channel, float_parameters, quantizations;
};
// The same to fill, every span of the size the architecture gives.
struct QuantizedDestination {
  std::string paths;
  std::span<std::int8_t> weights;
  std::span<float> channel, float_parameters, quantizations;
};
void save_quantized(const std::filesystem::path& path, std::span<const LayerInfo> layers,
                    const QuantizedSections& sections);
void load_quantized(const std::filesystem::path& path, std::span<const LayerInfo> layers,
                    const QuantizedDestination& destination);

}  // namespace io

// Parameters only. Throws std::system_error when the file cannot be written; a previous file is
// then left untouched.
template <NetLike N>
void save(const N& net, const std::filesystem::path& path) {
  io::save_parameters(path, N::layer_infos, net.parameters());
}

// Throws ModelFileError (see ModelFileProblem) or std::system_error; the net is then unchanged.
template <NetLike N>
void load(N& net, const std::filesystem::path& path) {
  io::load_parameters(path, N::layer_infos, net.parameters());
}

template <NetLike N>
void save_checkpoint(const std::filesystem::path& path, const N& net,
                     const CheckpointExtras& extras) {
  io::save_checkpoint(path, N::layer_infos, net.parameters(), extras);
}

// Fills the net, the slots' buffers, step, epoch and text; on error none of them changes.
template <NetLike N>
void load_checkpoint(const std::filesystem::path& path, N& net, CheckpointExtras& extras) {
  io::load_checkpoint(path, N::layer_infos, net.parameters(), extras);
}

// A quantized net (quantized.hpp): about a quarter of its float file. Throws std::system_error
// when the file cannot be written; a previous file is then left untouched.
template <class NetT>
void save(const Quantized<NetT>& net, const std::filesystem::path& path) {
  std::vector<float> quantizations;
  for (const auto& q : net.quantizations())
    quantizations.insert(quantizations.end(), {q.scale, q.inverse_scale, q.zero_point});
  io::save_quantized(path, NetT::layer_infos,
                     {Quantized<NetT>::path_words(), net.stored_weights(), net.channel(),
                      net.float_parameters(), quantizations});
}

// The quantized net of a file that save(quantized) wrote for NetT. Throws ModelFileError (a
// parameters file or checkpoint gets WrongKind) or std::system_error.
template <class NetT>
Quantized<NetT> load_quantized(const std::filesystem::path& path) {
  using Q = Quantized<NetT>;
  std::vector<std::int8_t> weights(Q::stored_weight_bytes);
  std::vector<float> channel(Q::channel_floats), float_parameters(Q::float_param_count);
  std::vector<float> quantization_floats(3 * Q::boundary_count);
  io::load_quantized(path, NetT::layer_infos,
                     {Q::path_words(), weights, channel, float_parameters, quantization_floats});
  std::vector<Quantization> quantizations(Q::boundary_count);
  for (std::size_t b = 0; b < quantizations.size(); ++b)
    quantizations[b] = {quantization_floats[3 * b], quantization_floats[3 * b + 1],
                        quantization_floats[3 * b + 2]};
  return Q(weights, channel, float_parameters, quantizations);
}

}  // namespace typenet
