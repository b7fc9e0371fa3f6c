// What typenet reads of an HDF5 file, as plain data: its groups, their string attributes and
// their float datasets. libhdf5 parses a file into this tree in a child process that may crash,
// hang or run out of memory without harming the caller (hdf5_isolation.hpp); everything else in
// src/keras reads the tree, never libhdf5. Private to src/keras.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace typenet::keras_detail {

struct Hdf5Attribute {
  std::string name;
  // Strings (fixed or variable length, scalar or a 1-D array), in order; other types (numbers)
  // keep only their element count: Keras writes an empty list as an empty float64 array.
  bool holds_strings = false;
  std::vector<std::string> strings;
  std::uint64_t count = 0;  // elements, strings or not
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

  // The member called `name`; nullptr when there is none.
  const Hdf5Node* member(std::string_view name) const;
  // The node at '/'-separated `path` below this one; nullptr when a component is missing.
  const Hdf5Node* find(std::string_view path) const;
  // The attribute called `name`; nullptr when there is none.
  const Hdf5Attribute* attribute(std::string_view name) const;
};

}  // namespace typenet::keras_detail
