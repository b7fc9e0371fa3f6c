#include "hdf5.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <utility>

namespace typenet::keras_detail {

namespace {

// The innermost message on the current thread's HDF5 error stack (where the error was detected,
// e.g. "truncated file: eof = ..."), then clears the stack.
std::string hdf5_error_text() {
  std::string text;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned position, const H5E_error2_t* error, void* out) -> herr_t {
        if (position == 0 && error->desc) *static_cast<std::string*>(out) = error->desc;
        return 0;
      },
      &text);
  H5Eclear2(H5E_DEFAULT);
  return text.empty() ? "HDF5 gave no reason" : text;
}

constexpr unsigned char hdf5_signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

}  // namespace

std::string with_reason(const std::string& what) { return what + " (" + hdf5_error_text() + ")"; }

std::string in_memory_name(const std::string& source) {
  static std::atomic<std::uint64_t> count{0};
  return source + "/typenet-in-memory-" + std::to_string(count++);
}

std::optional<std::size_t> find_superblock(std::span<const std::byte> image) {
  for (std::size_t at = 0; at + 16 <= image.size(); at = at ? at * 2 : 512)
    if (!std::memcmp(image.data() + at, hdf5_signature, sizeof hdf5_signature)) return at;
  return std::nullopt;
}

Hdf5Id& Hdf5Id::operator=(Hdf5Id&& other) noexcept {
  if (this != &other) {
    if (valid()) close_(id_);
    id_ = std::exchange(other.id_, -1);
    close_ = other.close_;
  }
  return *this;
}

Hdf5Id::~Hdf5Id() {
  if (valid()) close_(id_);
}

Hdf5Quiet::Hdf5Quiet() {
  H5Eget_auto2(H5E_DEFAULT, &saved_function_, &saved_data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

Hdf5Quiet::~Hdf5Quiet() { H5Eset_auto2(H5E_DEFAULT, saved_function_, saved_data_); }

// ---- writing

Hdf5Writer::Hdf5Writer(std::string source) : source_(std::move(source)) {
  Hdf5Id access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (!access.valid() || H5Pset_fapl_core(access.get(), 1 << 20, /*backing_store*/ false) < 0)
    fail_write("cannot set up an in-memory HDF5 file");
  file_ =
      Hdf5Id(H5Fcreate(in_memory_name(source_).c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()),
             H5Fclose);
  if (!file_.valid()) fail_write("cannot create an in-memory HDF5 file");
}

void Hdf5Writer::fail_write(const std::string& what) const {
  fail(KerasProblem::CannotOpen, source_, with_reason(what));
}

Hdf5Id Hdf5Writer::create_group(hid_t parent, const std::string& name) {
  Hdf5Id group(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  if (!group.valid()) fail_write("cannot create group '" + name + "'");
  return group;
}

void Hdf5Writer::write_string_attribute(hid_t object, const std::string& name,
                                        const std::string& value) {
  Hdf5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Hdf5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  Hdf5Id attribute(
      H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose);
  const char* text = value.c_str();
  if (!attribute.valid() || H5Awrite(attribute.get(), type.get(), &text) < 0)
    fail_write("cannot write attribute '" + name + "'");
}

void Hdf5Writer::write_string_list_attribute(hid_t object, const std::string& name,
                                             const std::vector<std::string>& values) {
  const hsize_t count = values.size();
  Hdf5Id space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  Hdf5Id type;
  std::string buffer;
  if (values.empty()) {
    type = Hdf5Id(H5Tcopy(H5T_IEEE_F64LE), H5Tclose);
    buffer.resize(sizeof(double));  // HDF5 wants a valid pointer even for no elements
  } else {
    std::size_t width = 1;
    for (const std::string& value : values) width = std::max(width, value.size());
    type = Hdf5Id(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), width);
    H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
    buffer.assign(values.size() * width, '\0');
    for (std::size_t i = 0; i < values.size(); ++i)
      values[i].copy(buffer.data() + i * width, width);
  }
  Hdf5Id attribute(
      H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose);
  if (!attribute.valid() || H5Awrite(attribute.get(), type.get(), buffer.data()) < 0)
    fail_write("cannot write attribute '" + name + "'");
}

void Hdf5Writer::write_floats(hid_t group, const std::string& name,
                              std::span<const std::size_t> shape, std::span<const float> values) {
  const std::vector<hsize_t> dims(shape.begin(), shape.end());
  Hdf5Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Hdf5Id dataset(H5Dcreate2(group, name.c_str(), H5T_IEEE_F32LE, space.get(), H5P_DEFAULT,
                            H5P_DEFAULT, H5P_DEFAULT),
                 H5Dclose);
  if (!dataset.valid() ||
      H5Dwrite(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
    fail_write("cannot write dataset '" + name + "'");
}

std::vector<std::byte> Hdf5Writer::image() {
  if (H5Fflush(file_.get(), H5F_SCOPE_GLOBAL) < 0) fail_write("cannot flush the HDF5 file");
  const ssize_t size = H5Fget_file_image(file_.get(), nullptr, 0);
  if (size <= 0) fail_write("cannot take the HDF5 file image");
  std::vector<std::byte> bytes(static_cast<std::size_t>(size));
  if (H5Fget_file_image(file_.get(), bytes.data(), bytes.size()) != size)
    fail_write("cannot take the HDF5 file image");
  return bytes;
}

}  // namespace typenet::keras_detail
