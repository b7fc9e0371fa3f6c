// libFuzzer target for the part of Keras import that is typenet's own: the model config. The
// input's first byte picks a base .keras fixture (keras_bases.hpp), the rest is its config.json;
// the target packs them into a valid .keras zip with the base's untouched model.weights.h5 and
// loads it into the base's Net. So every input reaches the JSON parser, the layer translation,
// the architecture check and the weight lookups that the config drives, while HDF5 only ever
// sees a valid file. Contract checked: see keras_nets.hpp.
#include <zlib.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "keras_bases.hpp"
#include "keras_nets.hpp"
#include "memory_file.hpp"

namespace {

using namespace typenet_fuzz;

// A zip archive of stored (uncompressed) entries, as Keras writes small ones.
class StoredZip {
 public:
  void add(const std::string& name, std::span<const std::uint8_t> bytes) {
    const auto crc = static_cast<std::uint32_t>(crc32_z(0, bytes.data(), bytes.size()));
    const auto offset = static_cast<std::uint32_t>(out_.size());
    put32(out_, 0x04034b50);  // local file header
    put_common(out_, name, crc, bytes.size());
    out_.insert(out_.end(), name.begin(), name.end());
    out_.insert(out_.end(), bytes.begin(), bytes.end());

    put32(directory_, 0x02014b50);  // central directory header
    put16(directory_, 20);          // made by: zip 2.0
    put_common(directory_, name, crc, bytes.size());
    put16(directory_, 0);  // comment length
    put16(directory_, 0);  // disk
    put16(directory_, 0);  // internal attributes
    put32(directory_, 0);  // external attributes
    put32(directory_, offset);
    directory_.insert(directory_.end(), name.begin(), name.end());
    ++entries_;
  }

  std::vector<std::uint8_t> finish() {
    std::vector<std::uint8_t> zip = out_;
    zip.insert(zip.end(), directory_.begin(), directory_.end());
    put32(zip, 0x06054b50);  // end of central directory
    put32(zip, 0);           // this disk, directory's disk
    put16(zip, entries_);
    put16(zip, entries_);
    put32(zip, static_cast<std::uint32_t>(directory_.size()));
    put32(zip, static_cast<std::uint32_t>(out_.size()));
    put16(zip, 0);  // comment length
    return zip;
  }

 private:
  static void put16(std::vector<std::uint8_t>& to, std::uint32_t value) {
    to.push_back(std::uint8_t(value));
    to.push_back(std::uint8_t(value >> 8));
  }
  static void put32(std::vector<std::uint8_t>& to, std::uint32_t value) {
    put16(to, value);
    put16(to, value >> 16);
  }
  // The fields that the local and the central header share, from "version needed" on.
  static void put_common(std::vector<std::uint8_t>& to, const std::string& name, std::uint32_t crc,
                         std::size_t size) {
    put16(to, 20);    // version needed: 2.0
    put16(to, 0);     // flags
    put16(to, 0);     // method: stored
    put16(to, 0);     // time 00:00
    put16(to, 0x21);  // date 1980-01-01
    put32(to, crc);
    put32(to, static_cast<std::uint32_t>(size));  // compressed
    put32(to, static_cast<std::uint32_t>(size));  // uncompressed
    put16(to, static_cast<std::uint32_t>(name.size()));
    put16(to, 0);  // extra field length
  }

  std::vector<std::uint8_t> out_, directory_;
  std::uint32_t entries_ = 0;
};

std::span<const std::uint8_t> as_bytes(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// The base's Net, in kKerasBaseNames' order.
using Loader = bool (*)(const std::filesystem::path&, const KerasOptions&);
constexpr std::array<Loader, kKerasBaseNames.size()> kLoaders = {
    load_mismatched<ConvEvenNoBias>, load_mismatched<ConvSameStride2>,
    load_mismatched<ConvValidGap>, load_mismatched<DenseOnly>};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  typenet_fuzz::require_working_loader();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<KerasBase> bases = read_keras_bases();
  static MemoryFile file;
  if (size == 0) return 0;
  const std::size_t pick = data[0] % bases.size();

  StoredZip zip;
  zip.add("config.json", std::span(data + 1, size - 1));
  for (const auto& [name, bytes] : bases[pick].others) zip.add(name, as_bytes(bytes));
  kLoaders[pick](file.hold(zip.finish()), fuzz_options());
  return 0;
}
