#include "typenet/io/save_load.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_set>
#include <utility>
#include <variant>

namespace typenet::io {
namespace {

// Section names; a checkpoint stores optimizer slot "m" as "optimizer/m".
constexpr std::string_view parameters_section = "parameters";
constexpr std::string_view optimizer_section = "optimizer";
constexpr std::string_view slot_prefix = "optimizer/";
constexpr std::string_view step_section = "optimizer/step";
constexpr std::string_view epoch_section = "epoch";
constexpr std::string_view text_section = "text";
// Outside "optimizer/", so that loaders before it ignore it rather than take it for a slot.
constexpr std::string_view learning_rate_section = "learning_rate";
// A quantized net's (io::QuantizedSections).
constexpr std::string_view int8_paths_section = "int8/paths";
constexpr std::string_view int8_weights_section = "int8/weights";
constexpr std::string_view int8_channel_section = "int8/channel";
constexpr std::string_view int8_float_parameters_section = "int8/float_parameters";
constexpr std::string_view int8_quantization_section = "int8/quantization";

std::string slot_section(const OptimizerSlot& slot) { return std::string(slot_prefix) + slot.name; }

bool is_slot_section(std::string_view name) {
  return name.starts_with(slot_prefix) && name != step_section;
}

// Slot names become section names, so they must be usable and distinct from the step's.
void check_slot_names(const CheckpointExtras& extras) {
  std::unordered_set<std::string_view> names;
  for (const OptimizerSlot& slot : extras.slots) {
    if (slot.name.empty() || slot_section(slot) == step_section) {
      throw std::invalid_argument("optimizer slot name '" + slot.name + "' is empty or reserved");
    }
    if (!names.insert(slot.name).second) {
      throw std::invalid_argument("optimizer slot '" + slot.name + "' is given twice");
    }
  }
}

std::string quote(std::string_view text) { return "'" + std::string(text) + "'"; }

// Index of the first NaN or infinite value (values.size() if none). A model is finite: training
// refuses a step that would make it otherwise, so a non-finite value is damage. The kernels may
// also skip terms whose input is zero (batch-1 products), which would hide a NaN weight.
std::size_t first_non_finite(std::span<const float> values) {
  return std::size_t(std::ranges::find_if(values, [](float v) { return !std::isfinite(v); }) -
                     values.begin());
}

void check_finite_for_saving(std::span<const float> values, const std::string& what) {
  if (const std::size_t bad = first_non_finite(values); bad < values.size()) {
    throw std::invalid_argument("saving a model: " + what + " " + std::to_string(bad) + " is " +
                                std::to_string(values[bad]) +
                                "; a model file holds finite values only");
  }
}

ModelFile make_file(FileKind kind, std::span<const LayerInfo> layers,
                    std::span<const float> parameters) {
  // A file whose parameter block does not fit its own architecture could never be loaded.
  std::size_t expected = 0;
  for (const LayerInfo& layer : layers) expected += layer.param_count;
  if (parameters.size() != expected) {
    throw std::invalid_argument("saving a model: its layers have " + std::to_string(expected) +
                                " parameters, the parameter block holds " +
                                std::to_string(parameters.size()));
  }
  check_finite_for_saving(parameters, "parameter");
  ModelFile file;
  file.kind = kind;
  file.architecture = describe_architecture(layers);
  file.sections.push_back(
      {std::string(parameters_section), std::vector<float>(parameters.begin(), parameters.end())});
  if (std::string spelling = cpp_type(layers); !spelling.empty())
    file.sections.push_back({std::string(net_type_section), std::move(spelling)});
  return file;
}

void check_architecture(const ModelFile& file, std::span<const LayerInfo> layers,
                        const std::string& source) {
  const std::vector<std::string> expected = describe_architecture(layers);
  const auto [net_end, file_end] = std::ranges::mismatch(expected, file.architecture);
  if (net_end == expected.end() && file_end == file.architecture.end()) return;
  const auto layer = static_cast<std::size_t>(net_end - expected.begin());
  throw ModelFileError(ModelFileProblem::ArchitectureMismatch, source,
                       "saved from a different architecture: layer " + std::to_string(layer) +
                           " expected " +
                           (net_end == expected.end() ? "no layer" : quote(*net_end)) + ", found " +
                           (file_end == file.architecture.end() ? "no layer" : quote(*file_end)) +
                           " (the net has " + std::to_string(expected.size()) +
                           " layers, the file " + std::to_string(file.architecture.size()) + ")");
}

// Reads the file and checks what every load needs: its kind and its architecture.
ModelFile read_for(const std::filesystem::path& path, FileKind expected_kind,
                   std::span<const LayerInfo> layers) {
  ModelFile file = read_model_file(path);
  const std::string source = path.string();
  if (file.kind != expected_kind) {
    const std::string hint = file.kind == FileKind::Quantized ? "load it with load_quantized"
                             : expected_kind == FileKind::Quantized
                                 ? "a float net: quantize it with quantize() or "
                                   "`typenet quantize`"
                             : file.kind == FileKind::Checkpoint ? "load it with load_checkpoint"
                                                                 : "load it with load";
    throw ModelFileError(ModelFileProblem::WrongKind, source,
                         "expected a " + std::string(to_string(expected_kind)) + ", found a " +
                             std::string(to_string(file.kind)) + " (" + hint + ")");
  }
  check_architecture(file, layers, source);
  return file;
}

template <class T>
constexpr std::string_view type_name() {
  if constexpr (std::is_same_v<T, std::vector<float>>) return "a float array";
  if constexpr (std::is_same_v<T, std::uint64_t>) return "a scalar";
  if constexpr (std::is_same_v<T, std::string>) return "a text";
  if constexpr (std::is_same_v<T, std::vector<std::int8_t>>) return "an int8 array";
}

template <class T>
const T& section(const ModelFile& file, std::string_view name, const std::string& source) {
  const Section* found = file.find(name);
  if (found == nullptr) {
    throw ModelFileError(ModelFileProblem::SectionMismatch, source,
                         "expected a section " + quote(name) + ", found none");
  }
  if (!std::holds_alternative<T>(found->value)) {
    throw ModelFileError(ModelFileProblem::SectionMismatch, source,
                         "expected section " + quote(name) + " to be " +
                             std::string(type_name<T>()) + ", found another type");
  }
  return std::get<T>(found->value);
}

const std::vector<float>& floats(const ModelFile& file, std::string_view name,
                                 std::size_t expected_size, const std::string& source) {
  const auto& values = section<std::vector<float>>(file, name, source);
  if (values.size() != expected_size) {
    throw ModelFileError(ModelFileProblem::SectionMismatch, source,
                         "expected section " + quote(name) + " to hold " +
                             std::to_string(expected_size) + " floats, found " +
                             std::to_string(values.size()));
  }
  if (const std::size_t bad = first_non_finite(values); bad < values.size()) {
    throw ModelFileError(ModelFileProblem::NonFinite, source,
                         "section " + quote(name) + " holds " + std::to_string(values[bad]) +
                             " at index " + std::to_string(bad) +
                             ": a diverged or damaged model (typenet loads finite values only)");
  }
  return values;
}

}  // namespace

std::optional<std::string> net_type(const ModelFile& file, const std::string& source) {
  if (file.find(net_type_section) == nullptr) return std::nullopt;
  return section<std::string>(file, net_type_section, source);
}

std::vector<std::string> describe_architecture(std::span<const LayerInfo> layers) {
  std::vector<std::string> lines;
  lines.reserve(layers.size());
  for (const LayerInfo& layer : layers) lines.push_back(describe(layer));
  return lines;
}

void save_parameters(const std::filesystem::path& path, std::span<const LayerInfo> layers,
                     std::span<const float> parameters) {
  write_model_file(path, make_file(FileKind::Parameters, layers, parameters));
}

void load_parameters(const std::filesystem::path& path, std::span<const LayerInfo> layers,
                     std::span<float> parameters) {
  const ModelFile file = read_for(path, FileKind::Parameters, layers);
  std::ranges::copy(floats(file, parameters_section, parameters.size(), path.string()),
                    parameters.begin());
}

void save_checkpoint(const std::filesystem::path& path, std::span<const LayerInfo> layers,
                     std::span<const float> parameters, const CheckpointExtras& extras) {
  check_slot_names(extras);
  ModelFile file = make_file(FileKind::Checkpoint, layers, parameters);
  file.sections.push_back({std::string(optimizer_section), extras.optimizer});
  for (const OptimizerSlot& slot : extras.slots) {
    check_finite_for_saving(slot.values, "optimizer slot '" + slot.name + "' value");
    file.sections.push_back(
        {slot_section(slot), std::vector<float>(slot.values.begin(), slot.values.end())});
  }
  file.sections.push_back({std::string(step_section), extras.step});
  file.sections.push_back({std::string(epoch_section), extras.epoch});
  file.sections.push_back({std::string(text_section), extras.text});
  if (extras.learning_rate)
    file.sections.push_back(
        {std::string(learning_rate_section), std::vector<float>{*extras.learning_rate}});
  write_model_file(path, file);
}

void load_checkpoint(const std::filesystem::path& path, std::span<const LayerInfo> layers,
                     std::span<float> parameters, CheckpointExtras& extras) {
  check_slot_names(extras);
  const std::string source = path.string();
  const ModelFile file = read_for(path, FileKind::Checkpoint, layers);

  // Every check and every allocation happens before the first write to the destination.
  const auto& saved_parameters = floats(file, parameters_section, parameters.size(), source);
  const auto& optimizer = section<std::string>(file, optimizer_section, source);
  if (optimizer != extras.optimizer) {
    throw ModelFileError(
        ModelFileProblem::SectionMismatch, source,
        "expected state of optimizer " + quote(extras.optimizer) + ", found " + quote(optimizer));
  }
  std::vector<const std::vector<float>*> saved_slots;
  for (const OptimizerSlot& slot : extras.slots) {
    saved_slots.push_back(&floats(file, slot_section(slot), slot.values.size(), source));
  }
  for (const Section& stored : file.sections) {
    const bool requested = std::ranges::any_of(
        extras.slots, [&](const OptimizerSlot& slot) { return slot_section(slot) == stored.name; });
    if (is_slot_section(stored.name) && !requested) {
      throw ModelFileError(
          ModelFileProblem::SectionMismatch, source,
          "found optimizer state " + quote(stored.name) + " that the trainer does not expect");
    }
  }
  const std::uint64_t step = section<std::uint64_t>(file, step_section, source);
  const std::uint64_t epoch = section<std::uint64_t>(file, epoch_section, source);
  std::string text = section<std::string>(file, text_section, source);
  std::optional<float> learning_rate;
  if (file.find(learning_rate_section) != nullptr)
    learning_rate = floats(file, learning_rate_section, 1, source)[0];

  // Nothing below can throw.
  std::ranges::copy(saved_parameters, parameters.begin());
  for (std::size_t i = 0; i < extras.slots.size(); ++i) {
    std::ranges::copy(*saved_slots[i], extras.slots[i].values.begin());
  }
  extras.step = step;
  extras.epoch = epoch;
  extras.text.swap(text);
  extras.learning_rate = learning_rate;
}

std::uint64_t parameters_file_size(std::span<const LayerInfo> layers,
                                   std::span<const float> parameters) {
  return encode(make_file(FileKind::Parameters, layers, parameters)).size();
}

void save_quantized(const std::filesystem::path& path, std::span<const LayerInfo> layers,
                    const QuantizedSections& sections) {
  check_finite_for_saving(sections.channel, "channel float");
  check_finite_for_saving(sections.float_parameters, "float parameter");
  check_finite_for_saving(sections.quantizations, "quantization value");
  ModelFile file;
  file.kind = FileKind::Quantized;
  file.architecture = describe_architecture(layers);
  auto floats_of = [](std::span<const float> values) {
    return std::vector<float>(values.begin(), values.end());
  };
  file.sections.push_back({std::string(int8_paths_section), sections.paths});
  file.sections.push_back(
      {std::string(int8_weights_section),
       std::vector<std::int8_t>(sections.weights.begin(), sections.weights.end())});
  file.sections.push_back({std::string(int8_channel_section), floats_of(sections.channel)});
  file.sections.push_back(
      {std::string(int8_float_parameters_section), floats_of(sections.float_parameters)});
  file.sections.push_back(
      {std::string(int8_quantization_section), floats_of(sections.quantizations)});
  if (std::string spelling = cpp_type(layers); !spelling.empty())
    file.sections.push_back({std::string(net_type_section), std::move(spelling)});
  write_model_file(path, file);
}

void load_quantized(const std::filesystem::path& path, std::span<const LayerInfo> layers,
                    const QuantizedDestination& destination) {
  const std::string source = path.string();
  const ModelFile file = read_for(path, FileKind::Quantized, layers);
  const auto& paths = section<std::string>(file, int8_paths_section, source);
  if (paths != destination.paths)
    throw ModelFileError(ModelFileProblem::SectionMismatch, source,
                         "saved by a typenet that ran the layers as " + quote(paths) +
                             " (int8, float or pass), this build runs them as " +
                             quote(destination.paths) + ": quantize the float net again");
  const auto& weights = section<std::vector<std::int8_t>>(file, int8_weights_section, source);
  if (weights.size() != destination.weights.size())
    throw ModelFileError(ModelFileProblem::SectionMismatch, source,
                         "expected section " + quote(int8_weights_section) + " to hold " +
                             std::to_string(destination.weights.size()) + " bytes, found " +
                             std::to_string(weights.size()));
  const auto& channel = floats(file, int8_channel_section, destination.channel.size(), source);
  const auto& float_parameters =
      floats(file, int8_float_parameters_section, destination.float_parameters.size(), source);
  const auto& quantizations =
      floats(file, int8_quantization_section, destination.quantizations.size(), source);
  for (std::size_t i = 0; i + 2 < quantizations.size(); i += 3)
    if (!is_valid(Quantization{quantizations[i], quantizations[i + 1], quantizations[i + 2]}))
      throw ModelFileError(ModelFileProblem::Malformed, source,
                           "section " + quote(int8_quantization_section) + " holds tensor " +
                               std::to_string(i / 3) +
                               "'s quantization with a scale that is not positive or a zero "
                               "point that is not an integer in [0, 255]");
  std::ranges::copy(weights, destination.weights.begin());
  std::ranges::copy(channel, destination.channel.begin());
  std::ranges::copy(float_parameters, destination.float_parameters.begin());
  std::ranges::copy(quantizations, destination.quantizations.begin());
}

}  // namespace typenet::io
