// The command line every seed generator shares: `make_X_seeds CORPUS_DIR`.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace typenet_fuzz {

// The corpus folder named by the only argument, created if needed; exits with status 2 and a
// usage line otherwise.
inline std::filesystem::path corpus_folder(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    std::exit(2);
  }
  const std::filesystem::path corpus = argv[1];
  std::filesystem::create_directories(corpus);
  return corpus;
}

}  // namespace typenet_fuzz
