// export_cpp_header: the file's model config, each layer spelled by the typenet layer that reads
// its Keras class (layers/registry.hpp). This file knows no layer kind.
#include "typenet/io/export_cpp.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "architecture.hpp"
#include "json_config.hpp"
#include "keras_error.hpp"
#include "keras_file.hpp"
#include "typenet/layers/registry.hpp"

namespace typenet {

namespace keras_detail {
namespace {

std::string extents_text(const std::vector<std::size_t>& extents) {
  std::string text;
  for (std::size_t extent : extents) text += (text.empty() ? "" : ", ") + std::to_string(extent);
  return text;
}

struct InputSpelling {
  std::string type;         // "Input<28, 28, 1>"
  std::string description;  // the comment's words
};

// The Net's Input for the file's input shape (without its batch dimension).
InputSpelling spell_input(const KerasModel& model, bool channels_first, const std::string& source) {
  if (model.input_shape.empty())
    fail(KerasProblem::Unsupported, source,
         "input: the model config does not say its input shape; a Net's input has fixed sizes");
  std::vector<std::size_t> extents;
  std::string keras_shape = "(";
  for (const auto& extent : model.input_shape) {
    keras_shape += (extents.empty() ? "" : ", ") + (extent ? std::to_string(*extent) : "None");
    if (!extent)
      fail(KerasProblem::Unsupported, source,
           "input: shape " + keras_shape +
               (extents.size() + 1 < model.input_shape.size() ? ", ...)" : ")") +
               " has a free size (None); a Net's input has fixed sizes");
    extents.push_back(*extent);
  }
  keras_shape += extents.size() == 1 ? ",)" : ")";
  switch (extents.size()) {
    case 1:
      return {"Input<" + extents_text(extents) + ">", "a vector of Keras shape " + keras_shape};
    case 2:
      return {"Input<" + extents_text(extents) + ">",
              "a sequence of Keras shape " + keras_shape + " (steps, features)"};
    case 3:
      if (channels_first)
        return {"Input<" + extents_text({extents[1], extents[2], extents[0]}) + ">",
                "an image of Keras shape " + keras_shape +
                    " channels first (C, H, W); the Net takes it channels last (H, W, C)"};
      return {"Input<" + extents_text(extents) + ">",
              "an image of Keras shape " + keras_shape + " channels last (H, W, C)"};
    default:
      fail(KerasProblem::Unsupported, source,
           "input: shape " + keras_shape + " has " + std::to_string(extents.size()) +
               " dimensions; a Net's input has 1 to 3");
  }
}

// What the model does to its input before its first computing layer, for the header's comment.
std::string input_scaling(const KerasModel& model) {
  if (model.layers.empty() || model.layers[0].class_name != "Rescaling")
    return "the model does not rescale its input (no Rescaling layer first): scale it as the "
           "training data was";
  const nlohmann::json& config = model.layers[0].config;
  return "the model rescales its own input (a first Rescaling layer: scale " +
         config.value("scale", nlohmann::json(1.0)).dump() + ", offset " +
         config.value("offset", nlohmann::json(0.0)).dump() + "): feed raw values";
}

// The typenet spelling of a file's layer named `where`: its typenet layer's own, or for a
// residual block (an Add with its branches) the block of its branches' spellings.
std::string spell_layer(const KerasLayer& file_layer, const std::string& where,
                        const std::string& source, bool channels_first) {
  const JsonConfig config(file_layer, where, source, "", channels_first, file_layer.built_input);
  if (file_layer.class_name == "Add") {
    const auto spell_branch = [&](const std::vector<KerasLayer>& branch, std::string_view name) {
      std::vector<std::string> spellings;
      for (std::size_t i = 0; i < branch.size(); ++i)
        spellings.push_back(spell_layer(branch[i],
                                        where + " " + std::string(name) + " layer " +
                                            std::to_string(i + 1) + " (" + branch[i].name + ")",
                                        source, channels_first));
      return spellings;
    };
    return residual_cpp_type(spell_branch(file_layer.main, "main branch"),
                             spell_branch(file_layer.shortcut, "shortcut"));
  }
  const KerasLayerClass* layer = keras_layer_class(config.class_name());
  if (!layer)
    config.unsupported("Keras layer class " + std::string(config.class_name()) +
                       " has no typenet equivalent");
  return layer->cpp_type(config);
}

}  // namespace
}  // namespace keras_detail

std::string export_cpp_header(const std::filesystem::path& keras_file, std::string_view name,
                              const KerasOptions& options) {
  using namespace keras_detail;
  check_cpp_identifier(name);
  const KerasFile file = KerasFile::open(keras_file, options);
  if (!file.model())
    fail(KerasProblem::Unsupported, file.source(),
         "is a weights-only file, which holds no architecture; export-cpp reads a full model "
         "(saved by model.save as .h5 or .keras)");
  const KerasModel& model = *file.model();
  const bool channels_first = model_channels_first(model, options.channels_first, file.source());

  const InputSpelling input = spell_input(model, channels_first, file.source());
  std::string layers = "typenet::" + input.type;
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const KerasLayer& layer = model.layers[i];
    layers += ", " + qualified_cpp(spell_layer(
                         layer, "layer " + std::to_string(i + 1) + " (" + layer.name + ")",
                         file.source(), channels_first));
  }

  const std::string file_name = keras_file.filename().string();
  const std::string type_name(name);
  return "// " + type_name + ": the architecture of the Keras model " + file_name +
         ", written by `typenet export-cpp`.\n"
         "// Input: one sample, " +
         input.description + ", " + type_name +
         "::input_size floats;\n"
         "// " +
         input_scaling(model) +
         ".\n"
         "// Load the weights with typenet::load_keras(net, \"" +
         file_name + "\"" +
         (options.channels_first ? ", typenet::KerasOptions{.channels_first = true}" : "") +
         ") (link typenet-keras).\n"
         "#pragma once\n\n"
         "#include \"typenet/io/keras.hpp\"\n"
         "#include \"typenet/typenet.hpp\"\n\n"
         "using " +
         type_name + " = typenet::Net<" + layers + ">;\n";
}

}  // namespace typenet
