#include "hdf5_snapshot.hpp"

#include <algorithm>
#include <cstring>
#include <set>

#include "hdf5.hpp"
#include "keras_error.hpp"

namespace typenet::keras_detail {

namespace {

std::uint64_t read_little_endian(std::span<const std::byte> bytes, std::size_t at,
                                 std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = width; i-- > 0;) value = value << 8 | std::uint64_t(bytes[at + i]);
  return value;
}

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

std::vector<std::size_t> dataspace_shape(hid_t space) {
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank <= 0) return {};
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return {dims.begin(), dims.end()};
}

// Groups nest no deeper in any Keras file; a deeper (or cyclic) structure is damage.
constexpr std::size_t max_depth = 64;

// The walk over one open file, with the budget of bytes that values and strings may take.
class Snapshot {
 public:
  Snapshot(const std::string& source, std::uint64_t max_bytes)
      : source_(source), budget_(max_bytes), max_bytes_(max_bytes) {}

  Hdf5Node group(hid_t id, std::string name, std::size_t depth) {
    Hdf5Node node;
    node.kind = Hdf5Node::Kind::Group;
    node.name = std::move(name);
    read_attributes(id, node);
    if (depth >= max_depth) {
      node.damage = "groups nested deeper than " + std::to_string(max_depth);
      return node;
    }
    H5G_info_t info;
    if (H5Gget_info(id, &info) < 0) {
      node.damage = with_reason("cannot list the group");
      return node;
    }
    for (hsize_t i = 0; i < info.nlinks; ++i) {
      const ssize_t length =
          H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
      if (length < 0) {
        node.damage = with_reason("cannot list the group");
        return node;
      }
      charge(static_cast<std::uint64_t>(length), "member names");
      std::string member(static_cast<std::size_t>(length), '\0');
      H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, member.data(), member.size() + 1,
                         H5P_DEFAULT);
      node.members.push_back(object(id, std::move(member), depth + 1));
    }
    return node;
  }

 private:
  // A member: followed only through a hard link (a soft or external link could point anywhere,
  // other files included), and only once (hard links can make cycles).
  Hdf5Node object(hid_t parent, std::string name, std::size_t depth) {
    Hdf5Node node;
    node.kind = Hdf5Node::Kind::Other;
    node.name = std::move(name);
    H5L_info_t link;
    if (H5Lget_info(parent, node.name.c_str(), &link, H5P_DEFAULT) < 0) {
      node.damage = with_reason("cannot read the link");
      return node;
    }
    if (link.type != H5L_TYPE_HARD) return node;
    if (!visited_.insert(link.u.address).second) {
      node.damage = "a second link to an object already read";
      return node;
    }
    const Hdf5Id id(H5Oopen(parent, node.name.c_str(), H5P_DEFAULT), H5Oclose);
    if (!id.valid()) {
      node.damage = with_reason("cannot open it");
      return node;
    }
    switch (H5Iget_type(id.get())) {
      case H5I_GROUP: return group(id.get(), std::move(node.name), depth);
      case H5I_DATASET: dataset(id.get(), node); break;
      default: break;
    }
    return node;
  }

  void dataset(hid_t id, Hdf5Node& node) {
    node.kind = Hdf5Node::Kind::Dataset;
    read_attributes(id, node);
    const Hdf5Id type(H5Dget_type(id), H5Tclose);
    const Hdf5Id space(H5Dget_space(id), H5Sclose);
    if (!type.valid() || !space.valid()) {
      node.damage = with_reason("cannot read its type and shape");
      return;
    }
    node.shape = dataspace_shape(space.get());
    node.floating = H5Tget_class(type.get()) == H5T_FLOAT;
    if (!node.floating) return;
    std::uint64_t count = 1;
    for (const std::uint64_t extent : node.shape) {
      if (extent != 0 && count > max_bytes_ / extent) count = max_bytes_;
      else count *= extent;
    }
    charge_values(count, node.name);
    node.values.resize(static_cast<std::size_t>(count));
    // HDF5 converts float64, float16 and big-endian storage to native float32.
    if (count &&
        H5Dread(id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, node.values.data()) < 0) {
      node.values.clear();
      node.damage = with_reason("truncated or corrupted");
    }
  }

  void read_attributes(hid_t object, Hdf5Node& node) {
    H5O_info_t info;
    if (H5Oget_info2(object, &info, H5O_INFO_NUM_ATTRS) < 0) {
      node.damage = with_reason("cannot list its attributes");
      return;
    }
    for (hsize_t i = 0; i < info.num_attrs; ++i) {
      Hdf5Attribute attribute;
      const Hdf5Id id(
          H5Aopen_by_idx(object, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT),
          H5Aclose);
      const ssize_t length = id.valid() ? H5Aget_name(id.get(), 0, nullptr) : -1;
      if (length < 0) {
        node.damage = with_reason("cannot read its attributes");
        return;
      }
      charge(static_cast<std::uint64_t>(length), "attribute names");
      attribute.name.assign(static_cast<std::size_t>(length), '\0');
      H5Aget_name(id.get(), attribute.name.size() + 1, attribute.name.data());
      read_attribute(id.get(), attribute);
      node.attributes.push_back(std::move(attribute));
    }
  }

  void read_attribute(hid_t id, Hdf5Attribute& attribute) {
    const Hdf5Id type(H5Aget_type(id), H5Tclose);
    const Hdf5Id space(H5Aget_space(id), H5Sclose);
    const hssize_t count = type.valid() && space.valid() ? H5Sget_simple_extent_npoints(space.get())
                                                         : -1;
    if (count < 0) {
      attribute.damage = with_reason("cannot read it");
      return;
    }
    attribute.count = static_cast<std::uint64_t>(count);
    attribute.holds_strings = H5Tget_class(type.get()) == H5T_STRING;
    if (!attribute.holds_strings || count == 0) return;
    const auto n = static_cast<std::size_t>(count);
    if (H5Tis_variable_str(type.get()) > 0) {
      Hdf5Id memory_type(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(memory_type.get(), H5T_VARIABLE);
      H5Tset_cset(memory_type.get(), H5Tget_cset(type.get()));
      charge(n * sizeof(char*), "attribute '" + attribute.name + "'");
      std::vector<char*> pointers(n, nullptr);
      if (H5Aread(id, memory_type.get(), pointers.data()) < 0) {
        attribute.damage = with_reason("cannot read it");
        return;
      }
      // Each string lives in the file's (checked) global heap, so its length is bounded by it.
      for (const char* text : pointers) {
        attribute.strings.emplace_back(text ? text : "");
        charge(attribute.strings.back().size(), "attribute '" + attribute.name + "'");
      }
      H5Dvlen_reclaim(memory_type.get(), space.get(), H5P_DEFAULT, pointers.data());
      return;
    }
    const std::size_t width = H5Tget_size(type.get());
    if (width == 0 || n > max_bytes_ / width) {
      attribute.damage = "holds " + std::to_string(n) + " strings of " + std::to_string(width) +
                         " bytes, over the limit of " + std::to_string(max_bytes_);
      return;
    }
    charge(n * width, "attribute '" + attribute.name + "'");
    std::string buffer(n * width, '\0');
    if (H5Aread(id, type.get(), buffer.data()) < 0) {
      attribute.damage = with_reason("cannot read it");
      return;
    }
    const bool space_padded = H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD;
    for (std::size_t i = 0; i < n; ++i) {
      // A name that fills its fixed width has no terminating NUL (Keras 2.0-2.3 files).
      std::string value = buffer.substr(i * width, width);
      value.resize(std::min(value.find('\0'), value.size()));
      if (space_padded) value.erase(value.find_last_not_of(' ') + 1);
      attribute.strings.push_back(std::move(value));
    }
  }

  void charge(std::uint64_t bytes, const std::string& what) {
    if (bytes > budget_)
      fail(KerasProblem::TooLarge, source_,
           "its " + what + " take more than the limit of " + std::to_string(max_bytes_) +
               " bytes (KerasOptions::max_bytes)");
    budget_ -= bytes;
  }
  void charge_values(std::uint64_t count, const std::string& name) {
    if (count > budget_ / sizeof(float))
      fail(KerasProblem::TooLarge, source_,
           "dataset '" + name + "' holds " + std::to_string(count) + " values, over the limit of " +
               std::to_string(max_bytes_) +
               " bytes (twice the file's size and 16 MiB, at most KerasOptions::max_bytes)");
    budget_ -= count * sizeof(float);
  }

  const std::string& source_;
  std::uint64_t budget_, max_bytes_;
  std::set<haddr_t> visited_;
};

}  // namespace

Hdf5Node snapshot_hdf5_image(std::span<const std::byte> image, const std::string& source,
                             std::uint64_t max_bytes) {
  const std::optional<std::size_t> superblock = find_superblock(image);
  if (!superblock)
    fail(KerasProblem::NotKerasFile, source,
         "expected an HDF5 file, the bytes do not start with the HDF5 signature");
  check_global_heaps(image, *superblock, source);
  const Hdf5Quiet quiet;
  Hdf5Id access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  // The core driver reads the file from the image that H5Pset_file_image copies; no disk access.
  if (!access.valid() || H5Pset_fapl_core(access.get(), 1 << 20, false) < 0 ||
      H5Pset_file_image(access.get(), const_cast<std::byte*>(image.data()), image.size()) < 0)
    fail(KerasProblem::Corrupted, source, with_reason("HDF5 cannot take the in-memory file"));
  const Hdf5Id file(H5Fopen(in_memory_name(source).c_str(), H5F_ACC_RDONLY, access.get()),
                    H5Fclose);
  if (!file.valid())
    fail(KerasProblem::Corrupted, source,
         with_reason("has an HDF5 signature but HDF5 cannot open it (truncated or corrupted)"));
  const Hdf5Id root(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose);
  if (!root.valid())
    fail(KerasProblem::Corrupted, source, with_reason("HDF5 cannot open its root group"));
  // Values and strings come from the file's bytes: a tree much larger than the file is a
  // decompression bomb (HDF5 inflates compressed datasets), refused before it is built.
  const std::uint64_t tree_limit =
      std::min<std::uint64_t>(max_bytes, 2 * image.size() + (16 << 20));
  return Snapshot(source, tree_limit).group(root.get(), "/", 0);
}

}  // namespace typenet::keras_detail
