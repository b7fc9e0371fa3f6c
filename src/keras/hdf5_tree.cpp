#include "hdf5_tree.hpp"

#include <algorithm>

#include "keras_error.hpp"

namespace typenet::keras_detail {

namespace {

// Attributes larger than this are split by Keras into name0, name1, ... (HDF5's object header
// limit), so no single Keras attribute chunk is larger than a few chunks of it.
constexpr int max_split_attributes = 100000;

}  // namespace

const Hdf5Node* Hdf5Node::member(std::string_view name) const {
  const auto found = std::ranges::find(members, name, &Hdf5Node::name);
  return found == members.end() ? nullptr : &*found;
}

const Hdf5Node* Hdf5Node::find(std::string_view path) const {
  if (path.empty()) return nullptr;
  const Hdf5Node* node = this;
  while (node && !path.empty()) {
    const std::size_t slash = path.find('/');
    node = node->member(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  return node;
}

const Hdf5Attribute* Hdf5Node::attribute(std::string_view name) const {
  const auto found = std::ranges::find(attributes, name, &Hdf5Attribute::name);
  return found == attributes.end() ? nullptr : &*found;
}

const Hdf5Node& Hdf5Tree::group(const Hdf5Node& base, std::string_view path) const {
  const Hdf5Node* node = base.find(path);
  if (!node) fail(KerasProblem::NotKerasFile, source_, "has no group '" + std::string(path) + "'");
  if (!node->damage.empty())
    fail(KerasProblem::Corrupted, source_,
         "cannot open '" + std::string(path) + "' (" + node->damage + ")");
  if (node->kind != Hdf5Node::Kind::Group)
    fail(KerasProblem::Corrupted, source_,
         "expected '" + std::string(path) + "' to be a group, it is not");
  return *node;
}

std::vector<std::string> Hdf5Tree::member_names(const Hdf5Node& group) const {
  std::vector<std::string> names;
  for (const Hdf5Node& member : group.members) names.push_back(member.name);
  return names;
}

const std::vector<std::string>& Hdf5Tree::strings(const Hdf5Attribute& attribute) const {
  static const std::vector<std::string> none;
  if (!attribute.damage.empty())
    fail(KerasProblem::Corrupted, source_,
         "cannot read attribute '" + attribute.name + "' (" + attribute.damage + ")");
  if (attribute.count == 0) return none;  // Keras writes an empty list as an empty float64 array
  if (!attribute.holds_strings)
    fail(KerasProblem::Corrupted, source_,
         "expected attribute '" + attribute.name + "' to hold strings, it holds numbers");
  return attribute.strings;
}

std::optional<std::string> Hdf5Tree::string_attribute(const Hdf5Node& object,
                                                      std::string_view name) const {
  const Hdf5Attribute* attribute = object.attribute(name);
  if (!attribute) return std::nullopt;
  const std::vector<std::string>& values = strings(*attribute);
  if (values.size() != 1)
    fail(KerasProblem::Corrupted, source_,
         "expected attribute '" + std::string(name) + "' to be one string, it holds " +
             std::to_string(values.size()));
  return values.front();
}

std::optional<std::vector<std::string>> Hdf5Tree::string_list_attribute(
    const Hdf5Node& object, std::string_view name) const {
  std::vector<const Hdf5Attribute*> parts;
  if (const Hdf5Attribute* whole = object.attribute(name)) {
    parts.push_back(whole);
  } else {
    for (int chunk = 0; chunk < max_split_attributes; ++chunk) {
      const Hdf5Attribute* part = object.attribute(std::string(name) + std::to_string(chunk));
      if (!part) break;
      parts.push_back(part);
    }
    if (parts.empty()) return std::nullopt;
  }
  std::vector<std::string> values;
  for (const Hdf5Attribute* part : parts)
    for (const std::string& value : strings(*part)) values.push_back(value);
  return values;
}

std::vector<float> Hdf5Tree::read_floats(const Hdf5Node& base, std::string_view path,
                                         std::span<const std::size_t> shape,
                                         const std::string& what) const {
  const std::string where(path);
  const Hdf5Node* node = base.find(path);
  if (!node)
    fail(KerasProblem::ShapeMismatch, source_,
         what + ": expected a dataset '" + where + "', the file has none");
  if (node->kind != Hdf5Node::Kind::Dataset)
    fail(KerasProblem::Corrupted, source_, what + ": expected '" + where + "' to be a dataset");
  if (!node->damage.empty())
    fail(KerasProblem::Corrupted, source_,
         what + ": cannot read '" + where + "' (" + node->damage + ")");
  if (!node->floating)
    fail(KerasProblem::ShapeMismatch, source_,
         what + ": expected '" + where + "' to hold floating-point numbers, it does not");
  if (!std::ranges::equal(node->shape, shape))
    fail(KerasProblem::ShapeMismatch, source_,
         what + " '" + where + "': expected shape " + shape_text(shape) + ", file has " +
             shape_text(node->shape));
  return node->values;
}

}  // namespace typenet::keras_detail
