// The compile cost of embedded weights: writes the seed CNN's and the MLP's export_cpp files
// (seeded Glorot weights: random float bits, as trained ones) into OUT_DIR for
// bench/embed_compile_cost.sh to compile and time.
#include <cstdio>
#include <filesystem>
#include <memory>

#include <typenet/io/export_cpp.hpp>

#include "nets.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: embed_compile_cost OUT_DIR\n");
    return 2;
  }
  const std::filesystem::path out = argv[1];
  std::filesystem::create_directories(out);
  typenet::export_cpp(*std::make_unique<typenet::bench::SeedCnn>(1), out / "SeedCnn.hpp",
                      "SeedCnn");
  typenet::export_cpp(*std::make_unique<typenet::bench::Mlp>(1), out / "Mlp.hpp", "Mlp");
  return 0;
}
