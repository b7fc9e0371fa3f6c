// typenet's own file format for trained models and training checkpoints (".tnet").
//
// Layout, every integer little-endian, floats as IEEE-754 binary32 bit patterns:
//   header   "TYPENET\0" | u32 format version | u32 kind | u64 body size
//   body     u64 architecture hash | u32 layer count | per layer: u32 length, text
//            u32 section count | per section: u32 name length, name, u8 type, payload
//              payload of a float array: u64 count, count x f32
//              payload of a scalar:      u64
//              payload of a text:        u64 byte length, UTF-8 bytes
//              payload of an int8 array: u64 count, count x i8 (format version 2)
//   trailer  u32 CRC-32 of header and body
//
// Version 2 added int8 arrays and the quantized kind (a Quantized net's file). A file that uses
// neither is written as version 1, which typenet before version 2 reads too.
//
// The body size in the header lets a reader tell a truncated file from a corrupted one before it
// looks at the checksum. The checksum is zlib's CRC-32: zlib is already a dependency (MNIST is
// gzip'd), it is the checksum gzip and PNG use, it runs at GB/s, and it catches every burst error
// up to 32 bits, which is what a torn or bit-rotted file looks like. It guards against accidents,
// not against forgery. The architecture hash (FNV-1a 64 of the layer lines) is an identifier a tool
// can compare without parsing the lines; integrity is the CRC's job.
//
// `decode` checks everything (magic, version, size, checksum, structure, UTF-8, unique section
// names) and never allocates more than the input's own length justifies, so arbitrary bytes can
// be fed to it (fuzz/ does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace typenet {

// Why a model file was rejected, so that callers (and tests) can react without parsing messages.
enum class ModelFileProblem {
  NotTypenetFile,        // wrong magic
  NewerVersion,          // written by a newer typenet
  Truncated,             // shorter than its header says
  Corrupted,             // checksum mismatch or bytes after the trailer
  Malformed,             // checksum fine but the structure is invalid (a writer bug or forgery)
  WrongKind,             // a checkpoint where a parameters file was expected, or the reverse
  ArchitectureMismatch,  // saved from a different network
  SectionMismatch,       // a section is missing, has another type, or another size
  NonFinite,             // a parameter or optimizer value is NaN or infinite (a diverged model)
};

// A model file that cannot be used; what() names the file, what was expected and what was found.
class ModelFileError : public std::runtime_error {
 public:
  ModelFileError(ModelFileProblem problem, const std::string& source, const std::string& detail);
  ModelFileProblem problem() const noexcept { return problem_; }

 private:
  ModelFileProblem problem_;
};

}  // namespace typenet

namespace typenet::io {

// The newest format version, which this build reads and writes.
inline constexpr std::uint32_t model_file_version = 2;

enum class FileKind : std::uint32_t { Parameters = 1, Checkpoint = 2, Quantized = 3 };
std::string_view to_string(FileKind kind);

// A float array (parameters, optimizer state), an unsigned count (step, epoch), UTF-8 text
// (optimizer name, a JSON history) or an int8 array (a quantized net's weights).
using SectionValue =
    std::variant<std::vector<float>, std::uint64_t, std::string, std::vector<std::int8_t>>;

struct Section {
  std::string name;
  SectionValue value;
};

// The decoded content of a model file.
struct ModelFile {
  FileKind kind = FileKind::Parameters;
  std::vector<std::string> architecture;  // describe() of every layer, in order
  std::vector<Section> sections;          // names are unique

  // nullptr when there is no section of that name.
  const Section* find(std::string_view name) const;
};

// FNV-1a 64 of the layer lines, each followed by '\n'.
std::uint64_t architecture_hash(std::span<const std::string> layers);

// The file's bytes. Throws std::invalid_argument for duplicate section names, text that is not
// UTF-8, or a layer line or section name longer than 4 GiB.
std::vector<std::byte> encode(const ModelFile& file);

// Parses and validates bytes; `source` names them in error messages. Throws ModelFileError.
ModelFile decode(std::span<const std::byte> bytes, std::string_view source);

// Reads and decodes a file: std::system_error when it cannot be read, ModelFileError when its
// content is not a valid model file.
ModelFile read_model_file(const std::filesystem::path& path);

// Encodes and writes atomically (see atomic_write.hpp): on failure the previous file is untouched.
void write_model_file(const std::filesystem::path& path, const ModelFile& file);

}  // namespace typenet::io
