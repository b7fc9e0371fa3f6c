// Writes the IDX fuzzer's seed corpus: small valid IDX files of unsigned bytes (labels, images,
// other ranks), each plain and gzip'd, and one gzip file of two concatenated members.
// (run.sh adds the real MNIST t10k labels from ../shared when they are there.)
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "seed_corpus.hpp"

namespace {

std::vector<std::uint8_t> idx_file(const std::vector<std::uint32_t>& shape) {
  std::vector<std::uint8_t> file = {0, 0, 0x08, static_cast<std::uint8_t>(shape.size())};
  std::size_t count = 1;
  for (std::uint32_t size : shape) {
    for (int shift = 24; shift >= 0; shift -= 8)
      file.push_back(static_cast<std::uint8_t>(size >> shift));
    count *= size;
  }
  for (std::size_t i = 0; i < count; ++i) file.push_back(static_cast<std::uint8_t>(i * 37 % 256));
  return file;
}

std::vector<std::uint8_t> gzipped(const std::vector<std::uint8_t>& bytes) {
  z_stream stream{};
  // 16 + MAX_WBITS: the gzip wrapper, as `gzip` writes it.
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::vector<std::uint8_t> out(deflateBound(&stream, bytes.size()) + 32);
  stream.next_in = const_cast<Bytef*>(bytes.data());
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate failed");
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

void write(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path corpus = typenet_fuzz::corpus_folder(argc, argv);

  const std::vector<std::pair<std::string, std::vector<std::uint32_t>>> files = {
      {"labels", {10}},
      {"images", {2, 5, 4}},
      {"matrix", {3, 7}},
      {"rank8", {1, 2, 1, 1, 2, 1, 1, 3}}};
  for (const auto& [name, shape] : files) {
    const std::vector<std::uint8_t> plain = idx_file(shape);
    write(corpus / (name + ".idx"), plain);
    write(corpus / (name + ".idx.gz"), gzipped(plain));
  }
  // `cat a.gz b.gz` is one valid gzip file: the labels header in one member, the values in another.
  const std::vector<std::uint8_t> labels = idx_file({10});
  std::vector<std::uint8_t> two_members = gzipped({labels.begin(), labels.begin() + 8});
  const std::vector<std::uint8_t> rest = gzipped({labels.begin() + 8, labels.end()});
  two_members.insert(two_members.end(), rest.begin(), rest.end());
  write(corpus / "labels_two_members.idx.gz", two_members);
  return 0;
}
