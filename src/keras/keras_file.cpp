#include "keras_file.hpp"

#include <algorithm>
#include <charconv>
#include <memory>
#include <nlohmann/json.hpp>
#include <system_error>

#include "hdf5.hpp"
#include "hdf5_isolation.hpp"
#include "typenet/io/atomic_write.hpp"
#include "zip_archive.hpp"

namespace typenet::keras_detail {

namespace {

enum class Container { Hdf5, Zip };

// The whole file, so that HDF5 and libzip parse exactly the bytes that were checked; the reader's
// errors as KerasErrors.
std::vector<std::byte> read_keras_file(const std::filesystem::path& path, const std::string& source,
                                       const KerasOptions& options) {
  try {
    return io::read_whole_file(path, options.max_bytes);
  } catch (const io::FileTooLarge& error) {
    fail(KerasProblem::TooLarge, source,
         "is " + std::to_string(error.size()) + " bytes, over the limit of " +
             std::to_string(error.limit()) + " (KerasOptions::max_bytes)");
  } catch (const std::system_error& error) {
    if (error.code() == std::errc::no_such_file_or_directory)
      fail(KerasProblem::CannotOpen, source, "no such file");
    if (error.code() == std::errc::is_a_directory || error.code() == std::errc::invalid_argument)
      fail(KerasProblem::CannotOpen, source, "expected a Keras file, found a directory or device");
    fail(KerasProblem::CannotOpen, source, std::string("cannot read it (") + error.what() + ")");
  }
}

Container identify(std::span<const std::byte> bytes, const std::string& source) {
  const auto byte = [&](std::size_t i) { return std::to_integer<unsigned>(bytes[i]); };
  if (bytes.size() >= 4 && byte(0) == 'P' && byte(1) == 'K' && byte(2) < 9 && byte(3) < 9)
    return Container::Zip;
  if (find_superblock(bytes)) return Container::Hdf5;
  std::string first_bytes;
  static constexpr char hex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 8); ++i)
    first_bytes += std::string(i ? " " : "") + hex[byte(i) >> 4] + hex[byte(i) & 15];
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

// The file's HDF5 image parsed by libhdf5 in the isolated reader (hdf5_isolation.hpp), as a tree
// at a stable address.
std::unique_ptr<Hdf5Tree> parse_hdf5(std::span<const std::byte> image, const std::string& source,
                                     const KerasOptions& options) {
  return std::make_unique<Hdf5Tree>(read_hdf5_tree(image, source, options), source);
}

std::string as_text(const std::vector<std::byte>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

KerasFile KerasFile::open(const std::filesystem::path& path, const KerasOptions& options) {
  std::string source = path.string();
  const std::vector<std::byte> image = read_keras_file(path, source, options);
  return identify(image, source) == Container::Zip ? open_zip(image, std::move(source), options)
                                                   : open_hdf5(image, std::move(source), options);
}

KerasFile KerasFile::open_hdf5(std::span<const std::byte> image, std::string source,
                               const KerasOptions& options) {
  KerasFile file(source, Layout::Keras2);
  file.tree_ = parse_hdf5(image, source, options);
  const Hdf5Tree& tree = *file.tree_;
  const Hdf5Node& root = tree.root();

  check_origin(tree.string_attribute(root, "keras_version"), tree.string_attribute(root, "backend"),
               source);
  if (const auto config = tree.string_attribute(root, "model_config")) {
    file.model_ = parse_model_config(*config, source);
    if (!root.find("model_weights"))
      fail(KerasProblem::NotKerasFile, source,
           "has a model_config but no model_weights group: a model saved without weights");
    file.weights_root_ = &tree.group(root, "model_weights");
  } else if (root.attribute("layer_names") || root.attribute("layer_names0")) {
    file.weights_root_ = &root;
  } else if (root.find("layers")) {
    fail(KerasProblem::Unsupported, source,
         "is a Keras 3 weights file (layers/<name>/vars), which does not record the layer "
         "order; load the .keras file it came with");
  } else {
    fail(KerasProblem::NotKerasFile, source,
         "is an HDF5 file but not a Keras one: expected a model_config or layer_names "
         "attribute on the root group");
  }
  const auto names = tree.string_list_attribute(*file.weights_root_, "layer_names");
  if (!names)
    fail(KerasProblem::Corrupted, source,
         "expected a layer_names attribute on the weights group, there is none");
  file.layer_names_ = *names;
  return file;
}

KerasFile KerasFile::open_zip(std::span<const std::byte> image, std::string source,
                              const KerasOptions& options) {
  KerasFile file(source, Layout::Keras3);
  const ZipArchive archive(image, source);
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
  file.tree_ = parse_hdf5(archive.read("model.weights.h5", options.max_bytes),
                          source + " (model.weights.h5)", options);
  file.weights_root_ = &file.tree_->group(file.tree_->root(), "layers");
  return file;
}

std::vector<std::string> KerasFile::weighted_layer_names() const {
  std::vector<std::string> weighted;
  for (const std::string& name : layer_names_)
    if (!weights_of(name, "layer '" + name + "'").paths.empty()) weighted.push_back(name);
  return weighted;
}

LayerWeights KerasFile::weights_of(const KerasLayer& layer, const std::string& where) const {
  if (layout_ == Layout::Keras3) return weights_of(layer.keras3_path, where);
  if (layer.keras2_group.empty()) return weights_of(layer.name, where);
  // A nested model's group lists the weights of all its layers: keep this layer's.
  LayerWeights weights = weights_of(layer.keras2_group, where);
  std::erase_if(weights.paths,
                [&](const std::string& path) { return !path.starts_with(layer.name + "/"); });
  return weights;
}

LayerWeights KerasFile::weights_of(const std::string& name, const std::string& where) const {
  const Hdf5Tree& tree = *tree_;
  LayerWeights weights;
  if (layout_ == Layout::Keras2) {
    // Layer order and membership come from layer_names, never from the groups present (later
    // Keras versions add groups that are not layers).
    if (std::ranges::find(layer_names_, name) == layer_names_.end() || !weights_root_->find(name))
      fail(KerasProblem::Corrupted, source_,
           where + ": the weights have no layer '" + name + "' (not in layer_names)");
    weights.group = &tree.group(*weights_root_, name);
    const auto paths = tree.string_list_attribute(*weights.group, "weight_names");
    if (!paths)
      fail(KerasProblem::Corrupted, source_,
           where + ": the layer's group has no weight_names attribute");
    weights.paths = *paths;
    return weights;
  }

  std::string vars = name + "/vars";
  // A recurrent layer (LSTM) keeps its variables in its cell: layers/lstm/cell/vars, beside an
  // empty layers/lstm/vars.
  if (const std::string cell_vars = name + "/cell/vars";
      weights_root_->find(cell_vars) &&
      (!weights_root_->find(vars) || tree.group(*weights_root_, vars).members.empty()))
    vars = cell_vars;
  if (!weights_root_->find(vars))
    fail(KerasProblem::Corrupted, source_,
         where + ": expected its weights at layers/" + vars + ", the file has none");
  weights.group = &tree.group(*weights_root_, vars);
  // Variables are named 0, 1, ...: sort them as numbers ("10" after "9").
  std::vector<std::pair<std::size_t, std::string>> numbered;
  for (std::string& member : tree.member_names(*weights.group)) {
    std::size_t number = 0;
    const auto [end, error] = std::from_chars(member.data(), member.data() + member.size(), number);
    if (error != std::errc() || end != member.data() + member.size())
      fail(KerasProblem::Corrupted, source_,
           where + ": expected variables named 0, 1, ... in layers/" + vars + ", found '" + member +
               "'");
    numbered.emplace_back(number, std::move(member));
  }
  std::ranges::sort(numbered);
  for (auto& entry : numbered) weights.paths.push_back(std::move(entry.second));
  return weights;
}

}  // namespace typenet::keras_detail
