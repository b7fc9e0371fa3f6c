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

// Where the superblock of an HDF5 file image starts: at 0, or after a user block of 512, 1024,
// 2048, ... bytes; none when the image is not HDF5.
std::optional<std::size_t> find_superblock(std::span<const std::byte> image);

// A read-only HDF5 file from memory: a whole .h5 file, or the weights inside a .keras zip.
class Hdf5Reader {
 public:
  static Hdf5Reader open_image(std::span<const std::byte> image, std::string source,
                               std::uint64_t max_bytes);

  const std::string& source() const { return source_; }
  hid_t root() const { return file_.get(); }

  // Whether every component of the '/'-separated `path` below `base` exists.
  bool exists(hid_t base, const std::string& path) const;
  Hdf5Id open_group(hid_t base, const std::string& path) const;
  // The names of a group's members, in HDF5's (alphabetical) order.
  std::vector<std::string> member_names(hid_t group) const;

  bool has_attribute(hid_t object, const std::string& name) const;
  // A scalar string attribute (fixed-length or variable-length), or nullopt when absent.
  std::optional<std::string> string_attribute(hid_t object, const std::string& name) const;
  // A 1-D string array attribute, or nullopt when absent. Reads attributes that Keras split
  // (name0, name1, ...) as one list, and an empty numeric array (Keras' empty weight_names) as {}.
  std::optional<std::vector<std::string>> string_list_attribute(hid_t object,
                                                                const std::string& name) const;
  // The float dataset at `path` below `base`, after checking that it is a dataset of floats with
  // exactly `shape`; `what` names it in messages ("layer 1 (conv2d) kernel").
  std::vector<float> read_floats(hid_t base, const std::string& path,
                                 std::span<const std::size_t> shape, const std::string& what) const;

 private:
  Hdf5Reader(Hdf5Id file, std::string source, std::uint64_t max_bytes);
  std::vector<std::string> read_strings(hid_t attribute, const std::string& name) const;

  Hdf5Id file_;
  std::string source_;
  std::uint64_t max_bytes_;
};

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
