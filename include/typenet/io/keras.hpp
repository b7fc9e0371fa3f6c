// Keras model files: import of trained weights into a Net, and export of a Net's weights.
//
// Read:
//   - Keras 2.x HDF5 full models (`model.save("m.h5")`): the architecture in the root attribute
//     `model_config` is checked against the Net layer by layer, then the weights under
//     `/model_weights` are loaded;
//   - Keras 2.x HDF5 weights-only files (`model.save_weights("w.h5")`): no architecture in the
//     file, so the order, kind (Dense or Conv2D) and shape of the weighted layers are checked,
//     and every layer's class as its name in `layer_names` tells when it is Keras' default name;
//   - Keras 3 `.keras` archives (a zip of `config.json` and `model.weights.h5`).
// Written: a Keras 2 HDF5 weights-only file, which Keras' `model.load_weights` reads.
//
// The Net's parameter layout is Keras' own (Dense kernel (in, out) then bias, Conv2D kernel
// (kh, kw, cin, cout) then bias), so weights are copied, never transposed, except for old
// channels-first models (see KerasOptions).
//
// Everything lives in namespace typenet (not typenet::io) so that `load_keras(net, path)` is
// found by argument-dependent lookup on the Net.
#pragma once

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>

#include "typenet/layer_info.hpp"

namespace typenet {

struct KerasOptions {
  // The model was built with Keras' channels-first ('th') image ordering; for files whose layers
  // do not say their data_format (a file that says decides, and one that says channels_last
  // contradicts this option: refused). Kernels are stored
  // (kh, kw, in, out) either way; what changes is the order in which Flatten emits features:
  // (C, H, W) instead of typenet's (H, W, C) when the file's Flatten has no `data_format` (Keras
  // before 2.1.6) or says channels_last. The rows of the Dense kernel after Flatten are then
  // permuted. The Net itself stays channels-last: feed it H x W x C images.
  bool channels_first = false;
  // Larger files (and larger zip entries, JSON configs, HDF5 attributes) are refused before
  // anything is read from them.
  std::uint64_t max_bytes = std::uint64_t{1} << 30;
  // libhdf5, which is not hardened against damaged or hostile files, parses every HDF5 image
  // (a .h5 file, the weights inside a .keras archive) in a helper program of its own,
  // typenet-hdf5-reader, under memory, CPU time and system-call limits: a crash, a hang or a
  // runaway allocation there becomes a KerasError, never a signal or an exhausted process here.
  // True parses in this process instead, a few milliseconds quicker a load: for trusted files
  // only, since a hostile one can then crash or exhaust the caller.
  bool parse_in_process = false;
  // The helper is killed, and the load fails, when its parse takes longer than this.
  std::uint32_t parse_timeout_seconds = 60;
};

// Why a Keras file was rejected, so that callers and tests can react without parsing messages.
enum class KerasProblem {
  CannotOpen,            // missing, unreadable, a directory
  NotKerasFile,          // neither HDF5 nor zip, or HDF5/zip without Keras content
  Corrupted,             // truncated or damaged HDF5/zip, invalid JSON, malformed attributes
  TooLarge,              // over KerasOptions::max_bytes
  Unsupported,           // a Keras feature typenet has no equivalent for (layer class, dilation)
  ArchitectureMismatch,  // the file's model is not the Net's (layer kind, units, kernel, ...)
  ShapeMismatch,         // a weight's shape is not what the Net's layer needs
  NonFinite,             // a weight is NaN or infinite (a diverged model)
};

// what() is "<file>: <detail>", e.g. "m.h5: layer 3 (conv2d_1): expected Conv2D with 32 filters,
// file has 36".
class KerasError : public std::runtime_error {
 public:
  KerasError(KerasProblem problem, const std::string& source, const std::string& detail);
  KerasProblem problem() const noexcept { return problem_; }

 private:
  KerasProblem problem_;
};

// Loads the weights of the Keras file at `path` into `params`, the flat parameter block that
// `layers` (a Net's layer_infos, Input first) index into. Strong guarantee: on any error `params`
// is left untouched. Throws KerasError for a bad file, std::invalid_argument when `layers` and
// `params` disagree.
void load_keras_into(std::span<const LayerInfo> layers, std::span<float> params,
                     const std::filesystem::path& path, const KerasOptions& options = {});

// Writes `params` as a Keras 2 HDF5 weights file (layer groups named as Keras 2 names them:
// conv2d, conv2d_1, dense, ...), replacing `path` atomically. Throws KerasError on failure.
void save_keras_weights_from(std::span<const LayerInfo> layers, std::span<const float> params,
                             const std::filesystem::path& path);

template <NetLike NetT>
void load_keras(NetT& net, const std::filesystem::path& path, const KerasOptions& options = {}) {
  load_keras_into(NetT::layer_infos, net.parameters(), path, options);
}

template <NetLike NetT>
void save_keras_weights(const NetT& net, const std::filesystem::path& path) {
  save_keras_weights_from(NetT::layer_infos, net.parameters(), path);
}

}  // namespace typenet
