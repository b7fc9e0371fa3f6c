// What typenet reads of an HDF5 file, as plain data: its groups, their string attributes and
// their float datasets. libhdf5 parses a file into this tree in a child process that may crash,
// hang or run out of memory without harming the caller (hdf5_isolation.hpp); everything else in
// src/keras reads the tree, never libhdf5. Private to src/keras.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace typenet::keras_detail {

struct Hdf5Attribute {
  std::string name;
  // Strings (fixed or variable length, scalar or a 1-D array), in order; other types (numbers)
  // keep only their element count: Keras writes an empty list as an empty float64 array.
  bool holds_strings = false;
  std::vector<std::string> strings;
  std::uint64_t count = 0;  // elements, strings or not
  // Why it could not be read (HDF5's reason); empty when it was. Reported only if a reader
  // needs it, as a reader of the file itself would.
  std::string damage;
};

struct Hdf5Node {
  enum class Kind : std::uint8_t { Group = 1, Dataset = 2, Other = 3 };
  Kind kind = Kind::Group;
  std::string name;  // the link's name in its parent; "/" for the root
  std::vector<Hdf5Attribute> attributes;
  // Group: its members, in HDF5's (alphabetical) order.
  std::vector<Hdf5Node> members;
  // Dataset: its shape (empty for a scalar) and, when it holds floating-point numbers, its
  // values converted to float32 (row-major).
  bool floating = false;
  std::vector<std::uint64_t> shape;
  std::vector<float> values;
  // Why the object (its members, its values) could not be read; empty when it was.
  std::string damage;

  // The member called `name`; nullptr when there is none.
  const Hdf5Node* member(std::string_view name) const;
  // The node at '/'-separated `path` below this one; nullptr when a component is missing.
  const Hdf5Node* find(std::string_view path) const;
  // The attribute called `name`; nullptr when there is none.
  const Hdf5Attribute* attribute(std::string_view name) const;
};

// Questions the Keras readers ask of a parsed file, complaints as KerasErrors naming `source`.
class Hdf5Tree {
 public:
  Hdf5Tree(Hdf5Node root, std::string source)
      : root_(std::move(root)), source_(std::move(source)) {}

  const Hdf5Node& root() const { return root_; }
  const std::string& source() const { return source_; }

  // The group at `path` below `base`: NotKerasFile when it is missing, Corrupted when it is not
  // a group or could not be read.
  const Hdf5Node& group(const Hdf5Node& base, std::string_view path) const;
  std::vector<std::string> member_names(const Hdf5Node& group) const;
  // A scalar string attribute, or nullopt when absent.
  std::optional<std::string> string_attribute(const Hdf5Node& object, std::string_view name) const;
  // A 1-D string array attribute, or nullopt when absent. Reads attributes that Keras split
  // (name0, name1, ...) as one list, and an empty numeric array (Keras' empty weight_names) as {}.
  std::optional<std::vector<std::string>> string_list_attribute(const Hdf5Node& object,
                                                                std::string_view name) const;
  // The float dataset at `path` below `base`, after checking that it is a dataset of floats with
  // exactly `shape`; `what` names it in messages ("layer 1 (conv2d) kernel").
  std::vector<float> read_floats(const Hdf5Node& base, std::string_view path,
                                 std::span<const std::size_t> shape, const std::string& what) const;

 private:
  const std::vector<std::string>& strings(const Hdf5Attribute& attribute) const;

  Hdf5Node root_;
  std::string source_;
};

}  // namespace typenet::keras_detail
