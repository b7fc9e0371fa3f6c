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

std::string with_reason(const std::string& what) { return what + " (" + hdf5_error_text() + ")"; }

// Attributes larger than this are split by Keras into name0, name1, ... (HDF5's object header
// limit), so no single Keras attribute chunk is larger than a few chunks of it.
constexpr int max_split_attributes = 100000;

std::uint64_t read_little_endian(std::span<const std::byte> bytes, std::size_t at,
                                 std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = width; i-- > 0;) value = value << 8 | std::uint64_t(bytes[at + i]);
  return value;
}

constexpr unsigned char hdf5_signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

// HDF5 1.10 trusts the object sizes inside global heap collections, where variable-length
// strings (model_config, layer names) live, and overruns its buffers when they are corrupted.
// Reject such files before HDF5 parses them: every collection ("GCOL") must lie inside the file
// and its objects must tile it exactly, as HDF5's reader walks them.
void check_global_heaps(std::span<const std::byte> image, std::size_t superblock,
                        const std::string& source) {
  const auto version = std::size_t(image[superblock + 8]);
  const std::size_t lengths_at = superblock + (version < 2 ? 14 : 10);
  const auto length_size = std::size_t(image[lengths_at]);
  if (length_size != 2 && length_size != 4 && length_size != 8)
    fail(KerasProblem::Corrupted, source,
         "the HDF5 superblock declares " + std::to_string(length_size) +
             "-byte lengths, expected 2, 4 or 8 (corrupted)");
  const std::size_t header = 8 + length_size, object_header = 8 + length_size;
  static constexpr char signature[] = {'G', 'C', 'O', 'L', 1};
  for (std::size_t start = 0; start + header <= image.size(); ++start) {
    if (std::memcmp(image.data() + start, signature, sizeof signature)) continue;
    const auto corrupted = [&](const std::string& what) {
      fail(KerasProblem::Corrupted, source,
           "the HDF5 global heap at byte " + std::to_string(start) + " " + what +
               " (corrupted file)");
    };
    const std::uint64_t size = read_little_endian(image, start + 8, length_size);
    if (size < header || size > image.size() - start) corrupted("does not fit in the file");
    const std::size_t end = start + std::size_t(size);
    std::size_t at = start + header;
    while (at + object_header <= end) {
      const std::uint64_t index = read_little_endian(image, at, 2);
      const std::uint64_t object_size = read_little_endian(image, at + 8, length_size);
      // Object 0 is the free space, whose size includes its header; the others are padded to 8.
      const std::uint64_t need =
          index == 0 ? object_size : object_header + ((object_size + 7) & ~std::uint64_t{7});
      if (object_size > end - at || need < object_header || need > end - at)
        corrupted("has an object of " + std::to_string(object_size) + " bytes that overruns it");
      at += std::size_t(need);
    }
  }
}

// HDF5's core driver insists that the name of an in-memory file is not an existing file, and
// treats two open in-memory files of the same name as one: a numbered name below the source file
// (which cannot be a directory) is neither.
std::string in_memory_name(const std::string& source) {
  static std::atomic<std::uint64_t> count{0};
  return source + "/typenet-in-memory-" + std::to_string(count++);
}

std::vector<std::size_t> dataspace_shape(hid_t space) {
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank <= 0) return {};
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return {dims.begin(), dims.end()};
}

}  // namespace

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

// ---- reading

Hdf5Reader::Hdf5Reader(Hdf5Id file, std::string source, std::uint64_t max_bytes)
    : file_(std::move(file)), source_(std::move(source)), max_bytes_(max_bytes) {}

Hdf5Reader Hdf5Reader::open_image(std::span<const std::byte> image, std::string source,
                                  std::uint64_t max_bytes) {
  const std::optional<std::size_t> superblock = find_superblock(image);
  if (!superblock)
    fail(KerasProblem::NotKerasFile, source,
         "expected an HDF5 file, the bytes do not start with "
         "the HDF5 signature");
  check_global_heaps(image, *superblock, source);
  Hdf5Id access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  // The core driver reads the file from the image that H5Pset_file_image copies; no disk access.
  if (!access.valid() || H5Pset_fapl_core(access.get(), 1 << 20, false) < 0 ||
      H5Pset_file_image(access.get(), const_cast<std::byte*>(image.data()), image.size()) < 0)
    fail(KerasProblem::Corrupted, source, with_reason("HDF5 cannot take the in-memory file"));
  const hid_t file = H5Fopen(in_memory_name(source).c_str(), H5F_ACC_RDONLY, access.get());
  if (file < 0)
    fail(KerasProblem::Corrupted, source,
         with_reason("has an HDF5 signature but HDF5 cannot open it (truncated or corrupted)"));
  return Hdf5Reader(Hdf5Id(file, H5Fclose), std::move(source), max_bytes);
}

bool Hdf5Reader::exists(hid_t base, const std::string& path) const {
  if (path.empty()) return false;
  // H5Lexists fails (rather than answering false) when an intermediate group is missing, so
  // walk the path one component at a time.
  std::size_t end = 0;
  while (end != std::string::npos) {
    end = path.find('/', end + 1);
    const std::string prefix = path.substr(0, end);
    const htri_t found = H5Lexists(base, prefix.c_str(), H5P_DEFAULT);
    if (found < 0) H5Eclear2(H5E_DEFAULT);
    if (found <= 0) return false;
  }
  return true;
}

Hdf5Id Hdf5Reader::open_group(hid_t base, const std::string& path) const {
  if (!exists(base, path)) fail(KerasProblem::NotKerasFile, source_, "has no group '" + path + "'");
  Hdf5Id object(H5Oopen(base, path.c_str(), H5P_DEFAULT), H5Oclose);
  if (!object.valid())
    fail(KerasProblem::Corrupted, source_, with_reason("cannot open '" + path + "'"));
  if (H5Iget_type(object.get()) != H5I_GROUP)
    fail(KerasProblem::Corrupted, source_, "expected '" + path + "' to be a group, it is not");
  return object;
}

std::vector<std::string> Hdf5Reader::member_names(hid_t group) const {
  H5G_info_t info;
  if (H5Gget_info(group, &info) < 0)
    fail(KerasProblem::Corrupted, source_, with_reason("cannot list a group"));
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t length =
        H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (length < 0) fail(KerasProblem::Corrupted, source_, with_reason("cannot list a group"));
    std::string name(static_cast<std::size_t>(length), '\0');
    H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size() + 1,
                       H5P_DEFAULT);
    names.push_back(std::move(name));
  }
  return names;
}

bool Hdf5Reader::has_attribute(hid_t object, const std::string& name) const {
  const htri_t found = H5Aexists(object, name.c_str());
  if (found < 0)
    fail(KerasProblem::Corrupted, source_, with_reason("cannot look up attribute '" + name + "'"));
  return found > 0;
}

std::vector<std::string> Hdf5Reader::read_strings(hid_t attribute, const std::string& name) const {
  Hdf5Id type(H5Aget_type(attribute), H5Tclose);
  Hdf5Id space(H5Aget_space(attribute), H5Sclose);
  if (!type.valid() || !space.valid())
    fail(KerasProblem::Corrupted, source_, with_reason("cannot read attribute '" + name + "'"));
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count < 0)
    fail(KerasProblem::Corrupted, source_, with_reason("cannot read attribute '" + name + "'"));
  if (count == 0) return {};  // Keras writes an empty list as an empty float64 array
  if (H5Tget_class(type.get()) != H5T_STRING)
    fail(KerasProblem::Corrupted, source_,
         "expected attribute '" + name + "' to hold strings, it holds numbers");
  const auto n = static_cast<std::size_t>(count);

  std::vector<std::string> values;
  if (H5Tis_variable_str(type.get()) > 0) {
    Hdf5Id memory_type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(memory_type.get(), H5T_VARIABLE);
    H5Tset_cset(memory_type.get(), H5Tget_cset(type.get()));
    std::vector<char*> pointers(n, nullptr);
    if (H5Aread(attribute, memory_type.get(), pointers.data()) < 0)
      fail(KerasProblem::Corrupted, source_, with_reason("cannot read attribute '" + name + "'"));
    // Each string lives in the file's heap, so its length is bounded by the (size-checked) file.
    for (const char* text : pointers) values.emplace_back(text ? text : "");
    H5Dvlen_reclaim(memory_type.get(), space.get(), H5P_DEFAULT, pointers.data());
    return values;
  }

  const std::size_t width = H5Tget_size(type.get());
  if (width == 0 || n > max_bytes_ / width)
    fail(KerasProblem::TooLarge, source_,
         "attribute '" + name + "' holds " + std::to_string(n) + " strings of " +
             std::to_string(width) + " bytes, over the limit of " + std::to_string(max_bytes_));
  std::string buffer(n * width, '\0');
  if (H5Aread(attribute, type.get(), buffer.data()) < 0)
    fail(KerasProblem::Corrupted, source_, with_reason("cannot read attribute '" + name + "'"));
  const bool space_padded = H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD;
  for (std::size_t i = 0; i < n; ++i) {
    // A name that fills its fixed width has no terminating NUL (Keras 2.0-2.3 files).
    std::string value = buffer.substr(i * width, width);
    value.resize(std::min(value.find('\0'), value.size()));
    if (space_padded) value.erase(value.find_last_not_of(' ') + 1);
    values.push_back(std::move(value));
  }
  return values;
}

std::optional<std::string> Hdf5Reader::string_attribute(hid_t object,
                                                        const std::string& name) const {
  if (!has_attribute(object, name)) return std::nullopt;
  Hdf5Id attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attribute.valid())
    fail(KerasProblem::Corrupted, source_, with_reason("cannot open attribute '" + name + "'"));
  std::vector<std::string> values = read_strings(attribute.get(), name);
  if (values.size() != 1)
    fail(KerasProblem::Corrupted, source_,
         "expected attribute '" + name + "' to be one string, it holds " +
             std::to_string(values.size()));
  return std::move(values.front());
}

std::optional<std::vector<std::string>> Hdf5Reader::string_list_attribute(
    hid_t object, const std::string& name) const {
  std::vector<std::string> names;
  if (has_attribute(object, name)) {
    names.push_back(name);
  } else {
    for (int chunk = 0; chunk < max_split_attributes; ++chunk) {
      std::string chunk_name = name + std::to_string(chunk);
      if (!has_attribute(object, chunk_name)) break;
      names.push_back(std::move(chunk_name));
    }
    if (names.empty()) return std::nullopt;
  }
  std::vector<std::string> values;
  for (const std::string& attribute_name : names) {
    Hdf5Id attribute(H5Aopen(object, attribute_name.c_str(), H5P_DEFAULT), H5Aclose);
    if (!attribute.valid())
      fail(KerasProblem::Corrupted, source_,
           with_reason("cannot open attribute '" + attribute_name + "'"));
    for (std::string& value : read_strings(attribute.get(), attribute_name))
      values.push_back(std::move(value));
  }
  return values;
}

std::vector<float> Hdf5Reader::read_floats(hid_t base, const std::string& path,
                                           std::span<const std::size_t> shape,
                                           const std::string& what) const {
  if (!exists(base, path))
    fail(KerasProblem::ShapeMismatch, source_,
         what + ": expected a dataset '" + path + "', the file has none");
  Hdf5Id object(H5Oopen(base, path.c_str(), H5P_DEFAULT), H5Oclose);
  if (!object.valid())
    fail(KerasProblem::Corrupted, source_, with_reason(what + ": cannot open '" + path + "'"));
  if (H5Iget_type(object.get()) != H5I_DATASET)
    fail(KerasProblem::Corrupted, source_, what + ": expected '" + path + "' to be a dataset");
  Hdf5Id type(H5Dget_type(object.get()), H5Tclose);
  Hdf5Id space(H5Dget_space(object.get()), H5Sclose);
  if (!type.valid() || !space.valid())
    fail(KerasProblem::Corrupted, source_, with_reason(what + ": cannot read '" + path + "'"));
  if (H5Tget_class(type.get()) != H5T_FLOAT)
    fail(KerasProblem::ShapeMismatch, source_,
         what + ": expected '" + path + "' to hold floating-point numbers, it does not");
  const std::vector<std::size_t> found = dataspace_shape(space.get());
  if (!std::ranges::equal(found, shape))
    fail(KerasProblem::ShapeMismatch, source_,
         what + " '" + path + "': expected shape " + shape_text(shape) + ", file has " +
             shape_text(found));
  std::size_t count = 1;
  for (std::size_t extent : shape) count *= extent;
  std::vector<float> values(count);
  // HDF5 converts float64, float16 and big-endian storage to native float32.
  if (count &&
      H5Dread(object.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
    fail(KerasProblem::Corrupted, source_,
         with_reason(what + ": cannot read '" + path + "' (truncated or corrupted)"));
  return values;
}

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
