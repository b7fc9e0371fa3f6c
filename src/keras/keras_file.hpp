// An opened Keras file, whatever its container: where its model config is and where each
// layer's weights are. Private to src/keras.
//
//   Keras 2 HDF5 full model   root attribute model_config (JSON); weights under /model_weights,
//                             layer order in its attribute layer_names; each layer group lists
//                             its datasets in weight_names (paths relative to the group).
//   Keras 2 HDF5 weights only no model_config; layer_names and the layer groups on the root.
//   Keras 3 .keras zip        config.json; model.weights.h5 with layers/<path>/vars/0, 1, ...
//                             where <path> comes from the layer's class (KerasLayer::keras3_path)
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hdf5_tree.hpp"
#include "keras_error.hpp"
#include "keras_model.hpp"

namespace typenet::keras_detail {

// The datasets of one layer: paths relative to `group`, in Keras' order (kernel, then bias).
struct LayerWeights {
  const Hdf5Node* group = nullptr;
  std::vector<std::string> paths;
};

class KerasFile {
 public:
  // Throws KerasError: CannotOpen, TooLarge, NotKerasFile, Corrupted, Unsupported.
  static KerasFile open(const std::filesystem::path& path, const KerasOptions& options);

  const std::string& source() const { return source_; }
  const Hdf5Tree& tree() const { return *tree_; }
  // The model config, when the file has one (not in weights-only files).
  const std::optional<KerasModel>& model() const { return model_; }
  // Keras 2 files: the names of all the model's layers, weightless ones too, in order.
  const std::vector<std::string>& layer_names() const { return layer_names_; }
  // Weights-only files: the names of the layers that have weights, in the model's order.
  std::vector<std::string> weighted_layer_names() const;
  // The weights of a layer of model(), or of the layer named `name` of a weights-only file;
  // `where` ("layer 3 (dense_1)") prefixes complaints.
  LayerWeights weights_of(const KerasLayer& layer, const std::string& where) const;
  LayerWeights weights_of(const std::string& name, const std::string& where) const;

 private:
  enum class Layout { Keras2, Keras3 };
  KerasFile(std::string source, Layout layout) : source_(std::move(source)), layout_(layout) {}
  static KerasFile open_hdf5(std::span<const std::byte> image, std::string source,
                             const KerasOptions& options);
  static KerasFile open_zip(std::span<const std::byte> image, std::string source,
                            const KerasOptions& options);

  std::string source_;
  Layout layout_;
  std::unique_ptr<Hdf5Tree> tree_;  // at a stable address: weights_root_ points into it
  std::optional<KerasModel> model_;
  const Hdf5Node* weights_root_ = nullptr;  // Keras 2: /model_weights or /; Keras 3: /layers
  std::vector<std::string> layer_names_;    // Keras 2 only
};

}  // namespace typenet::keras_detail
