// Writes the keras_config fuzzer's seed corpus: for each base of keras_bases.hpp, its index byte
// followed by its config.json, the input that rebuilds the original .keras file.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "keras_bases.hpp"
#include "seed_corpus.hpp"

int main(int argc, char** argv) {
  const std::filesystem::path corpus = typenet_fuzz::corpus_folder(argc, argv);
  const std::vector<typenet_fuzz::KerasBase> bases = typenet_fuzz::read_keras_bases();
  for (std::size_t i = 0; i < bases.size(); ++i) {
    std::ofstream out(corpus / (std::string(typenet_fuzz::kKerasBaseNames[i]) + ".config"),
                      std::ios::binary);
    out.put(static_cast<char>(i));
    out << bases[i].config;
    if (!out) {
      std::fprintf(stderr, "cannot write the seed of %s\n", typenet_fuzz::kKerasBaseNames[i]);
      return 1;
    }
  }
  return 0;
}
