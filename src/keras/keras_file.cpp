#include "keras_file.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "zip_archive.hpp"

namespace typenet::keras_detail {

namespace {

enum class Container { Hdf5, Zip };

Container identify(const std::filesystem::path& path, const std::string& source,
                   const KerasOptions& options) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (error || !std::filesystem::exists(status))
    fail(KerasProblem::CannotOpen, source, "no such file");
  if (!std::filesystem::is_regular_file(status))
    fail(KerasProblem::CannotOpen, source, "expected a Keras file, found a directory or device");
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) fail(KerasProblem::CannotOpen, source, "cannot read the size: " + error.message());
  if (size > options.max_bytes)
    fail(KerasProblem::TooLarge, source,
         "is " + std::to_string(size) + " bytes, over the limit of " +
             std::to_string(options.max_bytes) + " (KerasOptions::max_bytes)");

  std::array<unsigned char, 8> head{};
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(KerasProblem::CannotOpen, source, "cannot open it for reading");
  in.read(reinterpret_cast<char*>(head.data()), head.size());
  if (head[0] == 'P' && head[1] == 'K' && head[2] < 9 && head[3] < 9) return Container::Zip;
  // H5Fis_hdf5 also finds the signature after a user block (at 512, 1024, ... bytes).
  if (H5Fis_hdf5(path.c_str()) > 0) return Container::Hdf5;
  H5Eclear2(H5E_DEFAULT);
  std::string first_bytes;
  static constexpr char hex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < static_cast<std::size_t>(in.gcount()); ++i)
    first_bytes += std::string(i ? " " : "") + hex[head[i] >> 4] + hex[head[i] & 15];
  fail(KerasProblem::NotKerasFile, source,
       "expected a Keras HDF5 file (.h5) or a Keras 3 zip archive (.keras), the file starts with "
       "neither signature (first bytes: " +
           (first_bytes.empty() ? std::string("none, it is empty") : first_bytes) + ")");
}

// Keras 1 stored convolution kernels in another layout, and Theano kernels are flipped: refuse
// rather than load them wrongly.
void check_origin(const std::optional<std::string>& keras_version,
                  const std::optional<std::string>& backend, const std::string& source) {
  if (keras_version && keras_version->starts_with("1."))
    fail(KerasProblem::Unsupported, source,
         "written by Keras " + *keras_version + "; typenet reads files of Keras 2 and later");
  if (backend && *backend == "theano")
    fail(KerasProblem::Unsupported, source,
         "written with the Theano backend, whose kernels are flipped; typenet reads TensorFlow, "
         "JAX and PyTorch backend files");
}

std::string as_text(const std::vector<std::byte>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

KerasFile KerasFile::open(const std::filesystem::path& path, const KerasOptions& options) {
  std::string source = path.string();
  return identify(path, source, options) == Container::Zip
             ? open_zip(path, std::move(source), options)
             : open_hdf5(path, std::move(source), options);
}

KerasFile KerasFile::open_hdf5(const std::filesystem::path& path, std::string source,
                               const KerasOptions& options) {
  KerasFile file(source, Layout::Keras2);
  file.reader_.emplace(Hdf5Reader::open_file(path, source, options.max_bytes));
  const Hdf5Reader& reader = *file.reader_;
  Hdf5Id root(H5Gopen2(reader.root(), "/", H5P_DEFAULT), H5Gclose);
  if (!root.valid()) fail(KerasProblem::Corrupted, source, "cannot open the root group");

  check_origin(reader.string_attribute(root.get(), "keras_version"),
               reader.string_attribute(root.get(), "backend"), source);
  if (const auto config = reader.string_attribute(root.get(), "model_config")) {
    file.model_ = parse_model_config(*config, source);
    if (!reader.exists(root.get(), "model_weights"))
      fail(KerasProblem::NotKerasFile, source,
           "has a model_config but no model_weights group: a model saved without weights");
    file.weights_root_ = reader.open_group(root.get(), "model_weights");
  } else if (reader.has_attribute(root.get(), "layer_names") ||
             reader.has_attribute(root.get(), "layer_names0")) {
    file.weights_root_ = std::move(root);
  } else if (reader.exists(root.get(), "layers")) {
    fail(KerasProblem::Unsupported, source,
         "is a Keras 3 weights file (layers/<name>/vars), which does not record the layer "
         "order; load the .keras file it came with");
  } else {
    fail(KerasProblem::NotKerasFile, source,
         "is an HDF5 file but not a Keras one: expected a model_config or layer_names "
         "attribute on the root group");
  }
  const auto names = reader.string_list_attribute(file.weights_root_.get(), "layer_names");
  if (!names)
    fail(KerasProblem::Corrupted, source,
         "expected a layer_names attribute on the weights group, there is none");
  file.layer_names_ = *names;
  return file;
}

KerasFile KerasFile::open_zip(const std::filesystem::path& path, std::string source,
                              const KerasOptions& options) {
  KerasFile file(source, Layout::Keras3);
  const ZipArchive archive(path, source);
  if (!archive.contains("config.json") || !archive.contains("model.weights.h5"))
    fail(KerasProblem::NotKerasFile, source,
         "is a zip archive but not a Keras 3 model: expected entries config.json and "
         "model.weights.h5");
  if (archive.contains("metadata.json")) {
    const auto metadata =
        nlohmann::json::parse(as_text(archive.read("metadata.json", options.max_bytes)), nullptr,
                              /*allow_exceptions*/ false);
    if (metadata.is_object() && metadata.contains("keras_version") &&
        metadata["keras_version"].is_string())
      check_origin(metadata["keras_version"].get<std::string>(), std::nullopt, source);
  }
  file.model_ = parse_model_config(as_text(archive.read("config.json", options.max_bytes)),
                                   source + " (config.json)");
  file.reader_.emplace(Hdf5Reader::open_image(archive.read("model.weights.h5", options.max_bytes),
                                              source + " (model.weights.h5)", options.max_bytes));
  Hdf5Id root(H5Gopen2(file.reader_->root(), "/", H5P_DEFAULT), H5Gclose);
  if (!root.valid()) fail(KerasProblem::Corrupted, source, "cannot open the weights' root group");
  file.weights_root_ = file.reader_->open_group(root.get(), "layers");
  return file;
}

std::vector<std::string> KerasFile::weighted_layer_names() const {
  std::vector<std::string> weighted;
  for (const std::string& name : layer_names_)
    if (!weights_of(name, "layer '" + name + "'").paths.empty()) weighted.push_back(name);
  return weighted;
}

LayerWeights KerasFile::weights_of(const KerasLayer& layer, const std::string& where) const {
  return weights_of(layout_ == Layout::Keras3 ? layer.keras3_path : layer.name, where);
}

LayerWeights KerasFile::weights_of(const std::string& name, const std::string& where) const {
  const Hdf5Reader& reader = *reader_;
  LayerWeights weights;
  if (layout_ == Layout::Keras2) {
    // Layer order and membership come from layer_names, never from the groups present (later
    // Keras versions add groups that are not layers).
    if (std::ranges::find(layer_names_, name) == layer_names_.end() ||
        !reader.exists(weights_root_.get(), name))
      fail(KerasProblem::Corrupted, source_,
           where + ": the weights have no layer '" + name + "' (not in layer_names)");
    weights.group = reader.open_group(weights_root_.get(), name);
    const auto paths = reader.string_list_attribute(weights.group.get(), "weight_names");
    if (!paths)
      fail(KerasProblem::Corrupted, source_,
           where + ": the layer's group has no weight_names attribute");
    weights.paths = *paths;
    return weights;
  }

  const std::string vars = name + "/vars";
  if (!reader.exists(weights_root_.get(), vars))
    fail(KerasProblem::Corrupted, source_,
         where + ": expected its weights at layers/" + vars + ", the file has none");
  weights.group = reader.open_group(weights_root_.get(), vars);
  // Variables are named 0, 1, ...: sort them as numbers ("10" after "9").
  std::vector<std::pair<std::size_t, std::string>> numbered;
  for (std::string& member : reader.member_names(weights.group.get())) {
    std::size_t number = 0;
    const auto [end, error] = std::from_chars(member.data(), member.data() + member.size(), number);
    if (error != std::errc() || end != member.data() + member.size())
      fail(KerasProblem::Corrupted, source_,
           where + ": expected variables named 0, 1, ... in layers/" + vars + ", found '" +
               member + "'");
    numbered.emplace_back(number, std::move(member));
  }
  std::ranges::sort(numbered);
  for (auto& entry : numbered) weights.paths.push_back(std::move(entry.second));
  return weights;
}

}  // namespace typenet::keras_detail
