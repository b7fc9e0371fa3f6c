// export-cpp: C++ headers that declare a trained model's architecture as a Net type, and, with
// the weights embedded, a ready predictor compiled into the program.
//
// Two routes to the type: a Keras model file's architecture (export_cpp_header, typenet-keras),
// or a Net of the program's own (export_cpp, typenet-io). Embedded weights (write_embedded_cpp)
// are a second file beside the header, NAME_parameters.cpp, holding every float's bit pattern as
// a hexadecimal float literal: exact, portable, no build rule beyond compiling it, and cheap for
// the compiler (the seed CNN's 1.2 M floats: see docs/embedding.md).
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "typenet/io/keras.hpp"
#include "typenet/layer_info.hpp"

namespace typenet {

// Throws std::invalid_argument unless `name` can name a type at global scope (letters, digits
// and _, not first a digit, not a keyword, not reserved).
void check_cpp_identifier(std::string_view name);

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

// The text of a header declaring `using <name> = <net_type>;` at global scope, `net_type` being
// a Net's spelling (cpp_type of its layer records); `about` is a comment line on where it comes
// from.
std::string net_type_header(std::string_view name, std::string_view net_type,
                            std::string_view about);

// Writes the header `header_path` and NAME_parameters.cpp beside it (NAME = `name`): the header
// is `type_header` (which declares the Net type `name`, as the functions above write it) followed
// by the declaration of `NAME_parameters`, the Net's parameters, and of
// `inline constexpr typenet::Frozen<NAME> NAME_net`, a predictor that reads them in place
// (frozen.hpp); the source defines NAME_parameters with `parameters`' exact bits. A program
// compiles the source and includes the header. Each file is replaced atomically. Throws
// std::invalid_argument for a name that is not an identifier or a parameter that is not finite,
// std::system_error when a file cannot be written.
void write_embedded_cpp(const std::filesystem::path& header_path, std::string_view name,
                        std::string_view type_header, std::span<const float> parameters);

// A Net with its trained parameters as the two files of write_embedded_cpp, the type spelled
// from its layer records.
template <NetLike NetT>
void export_cpp(const NetT& net, const std::filesystem::path& header_path, std::string_view name) {
  write_embedded_cpp(header_path, name,
                     net_type_header(name, cpp_type(NetT::layer_infos),
                                     "a typenet Net with its parameters, written by export_cpp"),
                     net.parameters());
}

}  // namespace typenet
