// export-cpp: the C++ type of a Keras model file's architecture, as a header that programs
// include to load the file's weights into a Net of that type (typenet-keras).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "typenet/io/keras.hpp"

namespace typenet {

// The text of a header declaring `using <name> = typenet::Net<...>;` at global scope for the
// Keras full model (.h5 saved by model.save, or .keras) at `keras_file`, each layer spelled by
// its typenet layer (layers/registry.hpp), the input as one sample (the file's batch size
// dropped; a channels-first (c, h, w) input becomes Input<h, w, c>: Nets are channels-last).
// Comments say the input the model expects. `typenet::load_keras(net, keras_file)` loads the
// file into a Net of that type. Throws std::invalid_argument when `name` is not a C++
// identifier, KerasError when the file cannot be read or holds what typenet cannot express
// (naming the layer, its class and the setting).
std::string export_cpp_header(const std::filesystem::path& keras_file,
                              std::string_view name = "KerasModel",
                              const KerasOptions& options = {});

}  // namespace typenet
