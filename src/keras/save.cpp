// save_keras_weights_from: a Keras 2 HDF5 weights file, laid out as tf_keras' save_weights
// writes it, so that Keras' load_weights (by topological order) reads it into the same model.
#include <map>
#include <system_error>

#include "architecture.hpp"
#include "hdf5.hpp"
#include "keras_model.hpp"
#include "net_layout.hpp"
#include "typenet/io/atomic_write.hpp"

namespace typenet {

namespace keras_detail {
namespace {

// The Keras version whose load_weights was checked to read these files (tests/golden/gen);
// Keras reads a file without a version as Keras 1 and converts its kernels.
constexpr const char* written_keras_version = "2.18.0";

}  // namespace
}  // namespace keras_detail

void save_keras_weights_from(std::span<const LayerInfo> net_layers, std::span<const float> params,
                             const std::filesystem::path& path) {
  using namespace keras_detail;
  check_net_layout(net_layers, params.size(), "save_keras_weights_from");
  // Keras' functional model lists a block's main branch, its shortcut and the Add as layers
  // (the order of a model built main branch first, which Keras' load_weights follows).
  const std::vector<LayerInfo> layers = flat_layers(net_layers);
  const Hdf5Quiet quiet;
  const std::string source = path.string();
  Hdf5Writer writer(source);
  // Keras' automatic names, "conv2d", "conv2d_1", ...; the Input record has no group.
  std::vector<std::string> names;
  for (std::size_t i = 1; i < layers.size(); ++i) names.push_back(keras_layer_name(layers, i));
  writer.write_string_list_attribute(writer.root(), "layer_names", names);
  writer.write_string_attribute(writer.root(), "backend", "tensorflow");
  writer.write_string_attribute(writer.root(), "keras_version", written_keras_version);

  for (std::size_t i = 1; i < layers.size(); ++i) {
    const LayerInfo& layer = layers[i];
    const std::string& name = names[i - 1];
    const Hdf5Id group = writer.create_group(writer.root(), name);
    // Datasets sit at <layer>/<layer>/kernel:0, and weight_names holds those relative paths.
    const std::span<const KerasWeight> weights = all_weights(layer);
    std::vector<std::string> weight_names;
    for (const KerasWeight& weight : weights)
      weight_names.push_back(name + "/" + std::string(weight.name) + ":0");
    writer.write_string_list_attribute(group.get(), "weight_names", weight_names);
    if (weights.empty()) continue;
    const Hdf5Id variables = writer.create_group(group.get(), name);
    const std::span<const float> values = params.subspan(layer.param_offset, layer.param_count);
    for (const KerasWeight& weight : weights)
      writer.write_floats(variables.get(), std::string(weight.name) + ":0",
                          std::span(weight.shape).first(weight.rank),
                          values.subspan(weight.offset, weight.size()));
  }

  const std::vector<std::byte> bytes = writer.image();
  try {
    io::write_file_atomically(path, bytes);
  } catch (const std::system_error& error) {
    fail(KerasProblem::CannotOpen, source,
         std::string("cannot write the file (") + error.what() + ")");
  }
}

}  // namespace typenet
