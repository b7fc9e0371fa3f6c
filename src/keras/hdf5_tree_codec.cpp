#include "hdf5_tree_codec.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <type_traits>

#include "keras_error.hpp"

namespace typenet::keras_detail {

static_assert(std::endian::native == std::endian::little,
              "the HDF5 reader's messages are written in the machine's byte order");

namespace {

// "TNH5": every request and reply starts with it and the version, so that a helper of another
// typenet build is recognised instead of misread.
constexpr std::uint32_t magic = 0x35484e54;
constexpr std::uint32_t version = 1;
enum class ReplyKind : std::uint8_t { Tree = 1, Error = 2 };
// HDF5's own limit on a dataspace's rank (H5S_MAX_RANK).
constexpr std::uint32_t max_rank = 32;

class Writer {
 public:
  explicit Writer(std::size_t expected_size = 0) { bytes_.reserve(expected_size); }

  template <class T>
  void put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    append(&value, sizeof value);
  }
  void put_string(const std::string& text) {
    put(std::uint32_t(text.size()));
    append(text.data(), text.size());
  }
  void put_node(const Hdf5Node& node) {
    put(static_cast<std::uint8_t>(node.kind));
    put_string(node.name);
    put(std::uint32_t(node.attributes.size()));
    for (const Hdf5Attribute& attribute : node.attributes) {
      put_string(attribute.name);
      put(std::uint8_t{attribute.holds_strings});
      put(attribute.count);
      put(std::uint32_t(attribute.strings.size()));
      for (const std::string& text : attribute.strings) put_string(text);
      put_string(attribute.damage);
    }
    put(std::uint8_t{node.floating});
    put(std::uint32_t(node.shape.size()));
    for (std::uint64_t extent : node.shape) put(extent);
    put(std::uint64_t(node.values.size()));
    append(node.values.data(), node.values.size() * sizeof(float));
    put_string(node.damage);
    put(std::uint32_t(node.members.size()));
    for (const Hdf5Node& member : node.members) put_node(member);
  }
  std::vector<std::byte> take() { return std::move(bytes_); }

 private:
  void append(const void* data, std::size_t size) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + size);
    if (size != 0) std::memcpy(bytes_.data() + at, data, size);
  }

  std::vector<std::byte> bytes_;
};

// Reads a reply, checking every count against the bytes left before allocating anything.
class Reader {
 public:
  Reader(std::span<const std::byte> bytes, const std::string& source)
      : bytes_(bytes), source_(source) {}

  [[noreturn]] void malformed(const std::string& why) const {
    fail(KerasProblem::Corrupted, source_,
         "the HDF5 reader sent a malformed reply (" + why + " at byte " + std::to_string(offset_) +
             ")");
  }
  std::size_t left() const { return bytes_.size() - offset_; }

  template <class T>
  T get(const char* what) {
    T value;
    if (left() < sizeof value) malformed(std::string("truncated ") + what);
    std::memcpy(&value, bytes_.data() + offset_, sizeof value);
    offset_ += sizeof value;
    return value;
  }
  bool get_flag(const char* what) {
    const auto flag = get<std::uint8_t>(what);
    if (flag > 1) malformed(std::string("invalid ") + what);
    return flag == 1;
  }
  // A count of items of at least `item_bytes` bytes each, which the bytes left must hold.
  std::size_t get_count(std::size_t item_bytes, const char* what) {
    const auto count = get<std::uint32_t>(what);
    if (count > left() / item_bytes) malformed(std::string("impossible ") + what);
    return count;
  }
  std::string get_string(const char* what) {
    const std::size_t size = get_count(1, what);
    std::string text(reinterpret_cast<const char*>(bytes_.data() + offset_), size);
    offset_ += size;
    return text;
  }

  Hdf5Node get_node(std::size_t depth) {
    if (depth > max_hdf5_tree_depth)
      malformed("deeper than " + std::to_string(max_hdf5_tree_depth) + " levels");
    Hdf5Node node;
    const auto kind = get<std::uint8_t>("node kind");
    if (kind < std::uint8_t(Hdf5Node::Kind::Group) || kind > std::uint8_t(Hdf5Node::Kind::Other))
      malformed("invalid node kind " + std::to_string(kind));
    node.kind = Hdf5Node::Kind(kind);
    node.name = get_string("node name");
    // An attribute takes at least its name's size, a flag, its count, its strings' count and its
    // damage's size.
    node.attributes.resize(get_count(4 + 1 + 8 + 4 + 4, "attribute count"));
    for (Hdf5Attribute& attribute : node.attributes) {
      attribute.name = get_string("attribute name");
      attribute.holds_strings = get_flag("attribute string flag");
      attribute.count = get<std::uint64_t>("attribute count");
      attribute.strings.resize(get_count(4, "attribute string count"));
      for (std::string& text : attribute.strings) text = get_string("attribute string");
      attribute.damage = get_string("attribute damage");
      // A damaged attribute has no strings; an intact one all of them, when it holds strings.
      if (!attribute.damage.empty() || !attribute.holds_strings
              ? !attribute.strings.empty()
              : attribute.strings.size() != attribute.count)
        malformed("attribute " + attribute.name + " has " +
                  std::to_string(attribute.strings.size()) + " strings for " +
                  std::to_string(attribute.count) + " elements");
    }
    node.floating = get_flag("dataset float flag");
    node.shape.resize(get_count(8, "dataset rank"));
    if (node.shape.size() > max_rank) malformed("dataset rank over " + std::to_string(max_rank));
    for (std::uint64_t& extent : node.shape) extent = get<std::uint64_t>("dataset extent");
    const auto value_count = get<std::uint64_t>("dataset value count");
    if (value_count > left() / sizeof(float)) malformed("impossible dataset value count");
    node.values.resize(value_count);
    if (value_count != 0)
      std::memcpy(node.values.data(), bytes_.data() + offset_, value_count * sizeof(float));
    offset_ += value_count * sizeof(float);
    node.damage = get_string("node damage");
    if (node.kind != Hdf5Node::Kind::Dataset && (node.floating || !node.shape.empty()))
      malformed("a non-dataset with a shape or values");
    if (!node.damage.empty()) {
      if (!node.values.empty()) malformed("values for a dataset that could not be read");
    } else if (node.floating) {
      std::uint64_t elements = 1;
      for (std::uint64_t extent : node.shape) {
        if (extent != 0 && elements > std::numeric_limits<std::uint64_t>::max() / extent)
          malformed("dataset shape overflows");
        elements *= extent;
      }
      if (elements != node.values.size()) malformed("dataset values disagree with its shape");
    } else if (!node.values.empty()) {
      malformed("values for a dataset that holds no floats");
    }
    // A member takes at least its kind, name size, five counts or flags and its damage's size.
    node.members.resize(get_count(1 + 4 + 4 + 1 + 4 + 8 + 4 + 4, "member count"));
    if (node.kind != Hdf5Node::Kind::Group && !node.members.empty())
      malformed("members in a node that is not a group");
    for (Hdf5Node& member : node.members) member = get_node(depth + 1);
    return node;
  }

  void expect_end() const {
    if (left() != 0) malformed(std::to_string(left()) + " bytes after the end");
  }

 private:
  std::span<const std::byte> bytes_;
  std::size_t offset_ = 0;
  const std::string& source_;
};

void put_preamble(Writer& writer) {
  writer.put(magic);
  writer.put(version);
}

}  // namespace

std::vector<std::byte> encode_hdf5_request_header(const Hdf5RequestHeader& header) {
  Writer writer;
  put_preamble(writer);
  writer.put(header.max_bytes);
  writer.put(header.timeout_seconds);
  writer.put(header.source_size);
  writer.put(header.image_size);
  return writer.take();
}

std::optional<Hdf5RequestHeader> decode_hdf5_request_header(
    std::span<const std::byte, hdf5_request_header_bytes> bytes) {
  std::uint32_t preamble[2];
  Hdf5RequestHeader header;
  std::memcpy(preamble, bytes.data(), sizeof preamble);
  std::memcpy(&header.max_bytes, bytes.data() + 8, 8);
  std::memcpy(&header.timeout_seconds, bytes.data() + 16, 4);
  std::memcpy(&header.source_size, bytes.data() + 20, 4);
  std::memcpy(&header.image_size, bytes.data() + 24, 8);
  if (preamble[0] != magic || preamble[1] != version) return std::nullopt;
  if (header.source_size > max_hdf5_source_bytes || header.image_size > header.max_bytes)
    return std::nullopt;
  return header;
}

std::uint64_t max_hdf5_reply_bytes(std::uint64_t max_bytes) {
  constexpr std::uint64_t slack = std::uint64_t{1} << 20;
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max();
  return max_bytes > (limit - slack) / 2 ? limit : 2 * max_bytes + slack;
}

namespace {

std::size_t encoded_size(const Hdf5Node& node) {
  std::size_t size = 1 + 4 + node.name.size() + 4 + 1 + 4 + 8 * node.shape.size() + 8 +
                     sizeof(float) * node.values.size() + 4;
  for (const Hdf5Attribute& attribute : node.attributes) {
    size += 4 + attribute.name.size() + 1 + 8 + 4;
    for (const std::string& text : attribute.strings) size += 4 + text.size();
  }
  for (const Hdf5Node& member : node.members) size += encoded_size(member);
  return size;
}

}  // namespace

std::vector<std::byte> encode_hdf5_tree(const Hdf5Node& root) {
  // Sized once: a reply holds all the weights, and each regrowth would copy them.
  Writer writer(4 + 4 + 1 + encoded_size(root));
  put_preamble(writer);
  writer.put(ReplyKind::Tree);
  writer.put_node(root);
  return writer.take();
}

std::vector<std::byte> encode_hdf5_error(KerasProblem problem, const std::string& source,
                                         const std::string& what) {
  // what() is "<source>: <detail>" (KerasError); the parent puts its own source back.
  const std::string prefix = source + ": ";
  Writer writer;
  put_preamble(writer);
  writer.put(ReplyKind::Error);
  writer.put(static_cast<std::uint32_t>(problem));
  writer.put_string(what.starts_with(prefix) ? what.substr(prefix.size()) : what);
  return writer.take();
}

Hdf5Node decode_hdf5_tree(std::span<const std::byte> reply, const std::string& source,
                          std::uint64_t max_bytes) {
  Reader reader(reply, source);
  if (reply.size() > max_hdf5_reply_bytes(max_bytes)) reader.malformed("too long");
  if (reader.get<std::uint32_t>("preamble") != magic) reader.malformed("not a reply");
  const auto reply_version = reader.get<std::uint32_t>("version");
  if (reply_version != version)
    reader.malformed("version " + std::to_string(reply_version) + " instead of " +
                     std::to_string(version) + ": the helper belongs to another typenet build");
  const auto kind = reader.get<std::uint8_t>("reply kind");
  if (kind == std::uint8_t(ReplyKind::Error)) {
    const auto problem = reader.get<std::uint32_t>("problem");
    // NonFinite is the last KerasProblem.
    if (problem > static_cast<std::uint32_t>(KerasProblem::NonFinite))
      reader.malformed("invalid problem " + std::to_string(problem));
    const std::string detail = reader.get_string("error text");
    reader.expect_end();
    fail(KerasProblem(problem), source, detail);
  }
  if (kind != std::uint8_t(ReplyKind::Tree)) reader.malformed("invalid reply kind");
  Hdf5Node root = reader.get_node(0);
  reader.expect_end();
  return root;
}

}  // namespace typenet::keras_detail
