// The few HDF5 operations Keras files need, over HDF5's C API, with every failure turned into a
// KerasError that names the file and what was expected. Private to src/keras.
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "keras_error.hpp"

namespace typenet::keras_detail {

// An HDF5 identifier, closed by its own close function (H5Fclose, H5Gclose, ...).
class Hdf5Id {
 public:
  Hdf5Id() = default;
  Hdf5Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Hdf5Id(Hdf5Id&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = -1; }
  Hdf5Id& operator=(Hdf5Id&& other) noexcept;
  Hdf5Id(const Hdf5Id&) = delete;
  Hdf5Id& operator=(const Hdf5Id&) = delete;
  ~Hdf5Id();

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

// HDF5 prints its error stack to stderr by default; while this lives, the calling thread's
// errors are only reported through our exceptions (the Debian build is thread-safe and keeps one
// error stack per thread).
class Hdf5Quiet {
 public:
  Hdf5Quiet();
  ~Hdf5Quiet();
  Hdf5Quiet(const Hdf5Quiet&) = delete;
  Hdf5Quiet& operator=(const Hdf5Quiet&) = delete;

 private:
  H5E_auto2_t saved_function_ = nullptr;
  void* saved_data_ = nullptr;
};

// `what` followed by the innermost message on the calling thread's HDF5 error stack, in
// parentheses ("cannot open 'x' (truncated file: eof = ...)"); clears the stack.
std::string with_reason(const std::string& what);

// A name for an in-memory HDF5 file. HDF5's core driver insists that it is not an existing
// file, and treats two open in-memory files of the same name as one: a numbered name below the
// source file (which cannot be a directory) is neither.
std::string in_memory_name(const std::string& source);

// Where the superblock of an HDF5 file image starts: at 0, or after a user block of 512, 1024,
// 2048, ... bytes; none when the image is not HDF5.
std::optional<std::size_t> find_superblock(std::span<const std::byte> image);

// An HDF5 file built in memory (HDF5's core driver without a backing file) so that the caller
// can write its bytes atomically.
class Hdf5Writer {
 public:
  explicit Hdf5Writer(std::string source);

  hid_t root() const { return file_.get(); }
  Hdf5Id create_group(hid_t parent, const std::string& name);
  // A scalar variable-length UTF-8 string, as h5py writes a Python str.
  void write_string_attribute(hid_t object, const std::string& name, const std::string& value);
  // Fixed-length NUL-padded strings, as h5py writes a list of bytes; an empty list becomes an
  // empty float64 array, as Keras writes it.
  void write_string_list_attribute(hid_t object, const std::string& name,
                                   const std::vector<std::string>& values);
  // A little-endian float32 dataset.
  void write_floats(hid_t group, const std::string& name, std::span<const std::size_t> shape,
                    std::span<const float> values);
  // The complete file.
  std::vector<std::byte> image();

 private:
  [[noreturn]] void fail_write(const std::string& what) const;

  Hdf5Id file_;
  std::string source_;
};

}  // namespace typenet::keras_detail
