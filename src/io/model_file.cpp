#include "typenet/io/model_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <unordered_set>

#include "typenet/io/atomic_write.hpp"

namespace typenet {

ModelFileError::ModelFileError(ModelFileProblem problem, const std::string& source,
                               const std::string& detail)
    : std::runtime_error(source + ": " + detail), problem_(problem) {}

}  // namespace typenet

namespace typenet::io {
namespace {

constexpr std::array<char, 8> magic = {'T', 'Y', 'P', 'E', 'N', 'E', 'T', '\0'};
constexpr std::size_t header_size = 24;  // magic, version, kind, body size
constexpr std::size_t trailer_size = 4;  // CRC-32

enum class SectionType : std::uint8_t { Floats = 1, Scalar = 2, Text = 3, Int8s = 4 };

// The oldest format version that can hold the file: 2 for int8 arrays and quantized nets.
std::uint32_t version_needed(const ModelFile& file) {
  const bool has_int8s = std::ranges::any_of(file.sections, [](const Section& section) {
    return std::holds_alternative<std::vector<std::int8_t>>(section.value);
  });
  return has_int8s || file.kind == FileKind::Quantized ? 2 : 1;
}

std::uint32_t crc32_of(std::span<const std::byte> bytes) {
  return static_cast<std::uint32_t>(::crc32_z(
      ::crc32_z(0, nullptr, 0), reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2, code = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, code = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, code = lead & 0x07;
    } else {
      return false;
    }
    if (text.size() - i < length) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    constexpr std::array<std::uint32_t, 5> smallest = {0, 0, 0x80, 0x800, 0x10000};
    if (code < smallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
      return false;
    i += length;
  }
  return true;
}

std::string hex(std::uint64_t value) {
  constexpr char digits[] = "0123456789abcdef";
  std::string text;
  do {
    text.insert(text.begin(), digits[value & 0xF]);
    value >>= 4;
  } while (value != 0);
  return "0x" + text;
}

// `count` (up to 8) bytes at `offset`, least significant first; the caller checked the bounds.
std::uint64_t read_little_endian(std::span<const std::byte> bytes, std::size_t offset,
                                 std::size_t count) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < count; ++i) value |= std::uint64_t(bytes[offset + i]) << (8 * i);
  return value;
}

// For messages about binary content: control and non-ASCII bytes as \xNN.
std::string printable(std::string_view bytes) {
  std::string text;
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7F && c != '\\') {
      text += c;
    } else {
      constexpr char digits[] = "0123456789abcdef";
      text += {'\\', 'x', digits[byte >> 4], digits[byte & 0xF]};
    }
  }
  return text;
}

class ByteWriter {
 public:
  void u8(std::uint8_t value) { bytes_.push_back(std::byte{value}); }
  void u32(std::uint32_t value) { little_endian(value, 4); }
  void u64(std::uint64_t value) { little_endian(value, 8); }
  void raw(const void* data, std::size_t size) {
    const auto* first = static_cast<const std::byte*>(data);
    bytes_.insert(bytes_.end(), first, first + size);
  }
  // A u32 length then the bytes: layer lines and section names.
  void short_string(std::string_view text, std::string_view what) {
    if (text.size() > std::numeric_limits<std::uint32_t>::max()) {
      throw std::invalid_argument(std::string(what) + " is longer than 4 GiB");
    }
    u32(static_cast<std::uint32_t>(text.size()));
    raw(text.data(), text.size());
  }
  void floats(std::span<const float> values) {
    u64(values.size());
    if constexpr (std::endian::native == std::endian::little) {
      raw(values.data(), values.size_bytes());
    } else {
      for (float value : values) u32(std::bit_cast<std::uint32_t>(value));
    }
  }
  void patch_u64(std::size_t offset, std::uint64_t value) {
    for (int i = 0; i < 8; ++i) bytes_[offset + i] = std::byte(value >> (8 * i));
  }
  std::size_t size() const { return bytes_.size(); }
  std::vector<std::byte> take() { return std::move(bytes_); }
  std::span<const std::byte> view() const { return bytes_; }

 private:
  void little_endian(std::uint64_t value, int count) {
    for (int i = 0; i < count; ++i) bytes_.push_back(std::byte(value >> (8 * i)));
  }
  std::vector<std::byte> bytes_;
};

// Bounds-checked reading: every length is compared with what is left before it is used, so a
// lying length can neither read out of bounds nor cause a large allocation.
class ByteReader {
 public:
  ByteReader(std::span<const std::byte> bytes, std::size_t base_offset, std::string_view source)
      : bytes_(bytes), base_offset_(base_offset), source_(source) {}

  std::uint8_t u8() { return static_cast<std::uint8_t>(little_endian(1, "a byte")); }
  std::uint32_t u32(std::string_view what) {
    return static_cast<std::uint32_t>(little_endian(4, what));
  }
  std::uint64_t u64(std::string_view what) { return little_endian(8, what); }

  std::string text(std::uint64_t length, std::string_view what) {
    require(length, what);
    std::string result(reinterpret_cast<const char*>(bytes_.data() + position_), length);
    position_ += length;
    if (!is_utf8(result)) malformed(std::string(what) + " is not valid UTF-8");
    return result;
  }
  std::string short_string(std::string_view what) { return text(u32(what), what); }

  std::vector<std::int8_t> int8s(std::string_view what) {
    const std::uint64_t count = u64(what);
    require(count, what);
    std::vector<std::int8_t> values(count);
    if (count != 0) std::memcpy(values.data(), bytes_.data() + position_, count);
    position_ += count;
    return values;
  }

  std::vector<float> floats(std::string_view what) {
    const std::uint64_t count = u64(what);
    if (count > remaining() / sizeof(float)) {
      malformed(std::string(what) + " announces " + std::to_string(count) + " floats but only " +
                std::to_string(remaining()) + " bytes are left");
    }
    std::vector<float> values(count);
    if constexpr (std::endian::native == std::endian::little) {
      // An empty vector's data() may be null, and memcpy from or to null is UB even for 0 bytes.
      if (count != 0) std::memcpy(values.data(), bytes_.data() + position_, count * sizeof(float));
      position_ += count * sizeof(float);
    } else {
      for (float& value : values) value = std::bit_cast<float>(u32(what));
    }
    return values;
  }

  std::size_t remaining() const { return bytes_.size() - position_; }

  [[noreturn]] void malformed(const std::string& detail) const {
    throw ModelFileError(
        ModelFileProblem::Malformed, std::string(source_),
        "malformed at byte " + std::to_string(base_offset_ + position_) + ": " + detail);
  }

 private:
  void require(std::uint64_t count, std::string_view what) const {
    if (count > remaining()) {
      malformed(std::string(what) + " needs " + std::to_string(count) + " bytes but only " +
                std::to_string(remaining()) + " are left");
    }
  }
  std::uint64_t little_endian(std::size_t count, std::string_view what) {
    require(count, what);
    const std::uint64_t value = read_little_endian(bytes_, position_, count);
    position_ += count;
    return value;
  }

  std::span<const std::byte> bytes_;
  std::size_t position_ = 0;
  std::size_t base_offset_;  // of bytes_[0] in the file, for messages
  std::string_view source_;
};

// Magic, version, length and checksum: everything that says whether these bytes are an intact
// typenet file at all. Returns the body.
std::span<const std::byte> check_envelope(std::span<const std::byte> bytes, std::string_view source,
                                          FileKind& kind, std::uint32_t& version) {
  const auto fail = [&](ModelFileProblem problem, const std::string& detail) {
    throw ModelFileError(problem, std::string(source), detail);
  };
  // A prefix of the magic (an empty file included) is a truncated typenet file, anything else is not one.
  const std::size_t magic_bytes_present = std::min(bytes.size(), magic.size());
  const std::string start(reinterpret_cast<const char*>(bytes.data()), magic_bytes_present);
  if (start != std::string_view(magic.data(), magic_bytes_present)) {
    fail(ModelFileProblem::NotTypenetFile,
         "not a typenet model file: expected it to start with \"TYPENET\\0\", found \"" +
             printable(start) + "\"");
  }
  // The version comes before anything else so that a newer layout is reported as such, not as damage.
  constexpr std::size_t version_end = 12;
  if (bytes.size() >= version_end) {
    const auto stored = static_cast<std::uint32_t>(read_little_endian(bytes, 8, 4));
    if (stored > model_file_version) {
      fail(ModelFileProblem::NewerVersion,
           "written by a newer typenet: format version " + std::to_string(stored) +
               ", this build reads versions up to " + std::to_string(model_file_version));
    }
  }
  if (bytes.size() < header_size) {
    fail(ModelFileProblem::Truncated, "truncated: expected a " + std::to_string(header_size) +
                                          "-byte header, found " + std::to_string(bytes.size()) +
                                          " bytes");
  }
  const std::uint64_t body_size = read_little_endian(bytes, 16, 8);
  const std::size_t after_header = bytes.size() - header_size;
  if (after_header < trailer_size || body_size > after_header - trailer_size) {
    const std::string expected = body_size > std::numeric_limits<std::uint64_t>::max() -
                                                 header_size - trailer_size
                                     ? "more than 2^64"
                                     : std::to_string(header_size + body_size + trailer_size);
    fail(ModelFileProblem::Truncated, "truncated: the header announces " + expected +
                                          " bytes, found " + std::to_string(bytes.size()));
  }
  if (body_size < after_header - trailer_size) {
    fail(ModelFileProblem::Corrupted, "corrupted: the header announces " +
                                          std::to_string(header_size + body_size + trailer_size) +
                                          " bytes, found " + std::to_string(bytes.size()));
  }
  const std::size_t checked_size = header_size + body_size;
  const auto stored_crc = static_cast<std::uint32_t>(read_little_endian(bytes, checked_size, 4));
  const std::uint32_t computed_crc = crc32_of(bytes.first(checked_size));
  if (stored_crc != computed_crc) {
    fail(ModelFileProblem::Corrupted, "corrupted: CRC-32 mismatch, the file says " +
                                          hex(stored_crc) + ", its content gives " +
                                          hex(computed_crc));
  }
  // Checksum fine from here on: anything wrong is a writer bug or a forgery, hence Malformed.
  version = static_cast<std::uint32_t>(read_little_endian(bytes, 8, 4));
  if (version == 0) {
    fail(ModelFileProblem::Malformed, "malformed: format version 0 does not exist");
  }
  const auto kind_code = static_cast<std::uint32_t>(read_little_endian(bytes, 12, 4));
  if (kind_code != static_cast<std::uint32_t>(FileKind::Parameters) &&
      kind_code != static_cast<std::uint32_t>(FileKind::Checkpoint) &&
      kind_code != static_cast<std::uint32_t>(FileKind::Quantized)) {
    fail(ModelFileProblem::Malformed,
         "malformed: unknown file kind " + std::to_string(kind_code) +
             " (expected 1 = parameters, 2 = checkpoint or 3 = quantized net)");
  }
  if (kind_code == static_cast<std::uint32_t>(FileKind::Quantized) && version < 2)
    fail(ModelFileProblem::Malformed, "malformed: a quantized net in a format version 1 file");
  kind = static_cast<FileKind>(kind_code);
  return bytes.subspan(header_size, body_size);
}

}  // namespace

std::string_view to_string(FileKind kind) {
  switch (kind) {
    case FileKind::Parameters: return "parameters file";
    case FileKind::Checkpoint: return "training checkpoint";
    case FileKind::Quantized: return "quantized net";
  }
  return "?";
}

const Section* ModelFile::find(std::string_view name) const {
  const auto found = std::find_if(sections.begin(), sections.end(),
                                  [&](const Section& s) { return s.name == name; });
  return found == sections.end() ? nullptr : &*found;
}

std::uint64_t architecture_hash(std::span<const std::string> layers) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis and prime
  const auto mix = [&](char c) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  };
  for (const std::string& layer : layers) {
    for (char c : layer) mix(c);
    mix('\n');
  }
  return hash;
}

std::vector<std::byte> encode(const ModelFile& file) {
  std::unordered_set<std::string_view> names;
  for (const Section& section : file.sections) {
    if (section.name.empty() || !is_utf8(section.name)) {
      throw std::invalid_argument("model file section name '" + section.name +
                                  "' is empty or not UTF-8");
    }
    if (!names.insert(section.name).second) {
      throw std::invalid_argument("model file section '" + section.name + "' appears twice");
    }
    if (const auto* text = std::get_if<std::string>(&section.value); text && !is_utf8(*text)) {
      throw std::invalid_argument("model file section '" + section.name +
                                  "' holds text that is not UTF-8");
    }
  }
  for (const std::string& layer : file.architecture) {
    if (!is_utf8(layer))
      throw std::invalid_argument("layer description '" + layer + "' is not UTF-8");
  }

  ByteWriter out;
  out.raw(magic.data(), magic.size());
  out.u32(version_needed(file));
  out.u32(static_cast<std::uint32_t>(file.kind));
  const std::size_t body_size_offset = out.size();
  out.u64(0);  // body size, patched below

  out.u64(architecture_hash(file.architecture));
  out.u32(static_cast<std::uint32_t>(file.architecture.size()));
  for (const std::string& layer : file.architecture) out.short_string(layer, "a layer description");
  out.u32(static_cast<std::uint32_t>(file.sections.size()));
  for (const Section& section : file.sections) {
    out.short_string(section.name, "a section name");
    std::visit(
        [&](const auto& value) {
          using Value = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<Value, std::vector<float>>) {
            out.u8(static_cast<std::uint8_t>(SectionType::Floats));
            out.floats(value);
          } else if constexpr (std::is_same_v<Value, std::uint64_t>) {
            out.u8(static_cast<std::uint8_t>(SectionType::Scalar));
            out.u64(value);
          } else if constexpr (std::is_same_v<Value, std::vector<std::int8_t>>) {
            out.u8(static_cast<std::uint8_t>(SectionType::Int8s));
            out.u64(value.size());
            out.raw(value.data(), value.size());
          } else {
            out.u8(static_cast<std::uint8_t>(SectionType::Text));
            out.u64(value.size());
            out.raw(value.data(), value.size());
          }
        },
        section.value);
  }
  out.patch_u64(body_size_offset, out.size() - header_size);
  out.u32(crc32_of(out.view()));
  return out.take();
}

ModelFile decode(std::span<const std::byte> bytes, std::string_view source) {
  ModelFile file;
  std::uint32_t version = 0;
  ByteReader in(check_envelope(bytes, source, file.kind, version), header_size, source);

  const std::uint64_t stored_hash = in.u64("the architecture hash");
  const std::uint32_t layer_count = in.u32("the layer count");
  for (std::uint32_t i = 0; i < layer_count; ++i) {
    file.architecture.push_back(in.short_string("layer " + std::to_string(i) + "'s description"));
  }
  if (const std::uint64_t hash = architecture_hash(file.architecture); hash != stored_hash) {
    in.malformed("the architecture hash is " + hex(stored_hash) +
                 " but the layer descriptions give " + hex(hash));
  }

  const std::uint32_t section_count = in.u32("the section count");
  std::unordered_set<std::string> names;
  for (std::uint32_t i = 0; i < section_count; ++i) {
    std::string name = in.short_string("section " + std::to_string(i) + "'s name");
    if (name.empty()) in.malformed("section " + std::to_string(i) + " has an empty name");
    if (!names.insert(name).second) in.malformed("section '" + name + "' appears twice");
    const std::string what = "section '" + name + "'";
    switch (static_cast<SectionType>(in.u8())) {
      case SectionType::Floats: file.sections.push_back({std::move(name), in.floats(what)}); break;
      case SectionType::Scalar: file.sections.push_back({std::move(name), in.u64(what)}); break;
      case SectionType::Text:
        file.sections.push_back({std::move(name), in.text(in.u64(what), what)});
        break;
      case SectionType::Int8s:
        if (version < 2) in.malformed(what + " is an int8 array, which format version 1 lacks");
        file.sections.push_back({std::move(name), in.int8s(what)});
        break;
      default:
        in.malformed(what +
                     " has an unknown type (expected 1 = floats, 2 = scalar, 3 = text or 4 = int8 "
                     "array)");
    }
  }
  if (in.remaining() != 0)
    in.malformed(std::to_string(in.remaining()) + " unexpected bytes after the last section");
  // One encoding per content: a file is written in the oldest version that holds it.
  if (version > version_needed(file))
    in.malformed("format version " + std::to_string(version) +
                 " for a file that holds nothing version " + std::to_string(version_needed(file)) +
                 " lacks (no int8 array, not a quantized net)");
  return file;
}

ModelFile read_model_file(const std::filesystem::path& path) {
  return decode(read_whole_file(path), path.string());
}

void write_model_file(const std::filesystem::path& path, const ModelFile& file) {
  write_file_atomically(path, encode(file));
}

}  // namespace typenet::io
