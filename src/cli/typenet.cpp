// typenet: the whole MNIST job from one command line (the commands: typenet/cli/commands.hpp).
// The built-in architectures run here; a model file of another architecture runs in a predictor
// compiled for it (compiled_predictor.hpp).
#include <typenet/cli/commands.hpp>
#include <typenet/io/model_file.hpp>

#include "compiled_predictor.hpp"
#include "models.hpp"

using namespace typenet;
using namespace typenet::cli;

namespace {

// The Net type a typenet model file at `path` records; a file saved before files recorded it is
// refused, `more` saying what else was tried.
std::string recorded_net_type(const std::string& path, const io::ModelFile& file,
                              std::string_view more) {
  std::optional<std::string> type = io::net_type(file, path);
  if (!type)
    throw std::runtime_error(path +
                             ": the file does not record its Net's C++ type (saved by an older "
                             "typenet)" +
                             std::string(more));
  return std::move(*type);
}

// The type header of a typenet model file's architecture, for a compiled predictor.
std::string typenet_file_type_header(const Options& options, const io::ModelFile& file) {
  Options header = options;
  header.model_file = options.trained_file();
  header.type_name = "Model";
  return model_type_header(
      header, recorded_net_type(header.model_file, file,
                                " and its architecture is none of the built-in ones (--model)"));
}

// A command on a model file: on the built-in architecture --model names, or the file's own.
void run_on_file(Command command, const Options& options, char** argv) {
  const auto run_built_in = [&](auto tag) {
    run_on_model<typename decltype(tag)::type>(command, options);
  };
  if (options.model_given) return with_model(options.model, run_built_in);
  const std::string path = options.trained_file();
  if (path.empty())
    throw std::invalid_argument("this command needs trained weights: --weights FILE (typenet) "
                                "or --keras FILE (Keras .h5 or .keras)");
  if (is_typenet_file(path)) {
    const io::ModelFile file = io::read_model_file(path);
    if (!with_recorded_architecture(file.architecture, run_built_in))
      run_compiled_predictor(typenet_file_type_header(options, file), argv);
    return;
  }
  if (!with_keras_architecture(path, options.keras_options(), run_built_in))
    run_compiled_predictor(export_cpp_header(path, "Model", options.keras_options()), argv);
}

// export-cpp: the type alone needs no Net.
void export_type(const Options& options) {
  std::string header;
  if (is_typenet_file(options.model_file)) {
    const io::ModelFile file = io::read_model_file(options.model_file);
    header = model_type_header(options, recorded_net_type(options.model_file, file, ""));
  } else {
    header = model_type_header(options, {});
  }
  if (options.header_out.empty()) std::fputs(header.c_str(), stdout);
  else io::write_file_atomically(options.header_out, std::as_bytes(std::span(header)));
}

}  // namespace

int main(int argc, char** argv) {
  return run(argc, argv, model_names(), [&](Command command, const Options& options) {
    switch (command) {
      case Command::Train:
        with_model(options.model, [&](auto tag) { train<typename decltype(tag)::type>(options); });
        break;
      case Command::Summary:
        with_model(options.model, [](auto tag) { decltype(tag)::type::summary(); });
        break;
      case Command::Show: show(options); break;
      case Command::ExportCpp:
        if (options.embed_weights) run_on_file(command, options, argv);
        else export_type(options);
        break;
      case Command::Evaluate:
      case Command::Predict:
      case Command::Featuremaps:
      case Command::Quantize: run_on_file(command, options, argv); break;
    }
  });
}
