// What the two Keras fuzz targets share: the architectures of the Keras files they start from
// (tests/golden/nets.hpp, which the Keras tests use too), and a load that checks
// load_keras_into's contract. Not part of typenet.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "../tests/golden/nets.hpp"
#include "typenet/io/keras.hpp"

namespace typenet_fuzz {

using namespace typenet;

using namespace typenet::golden;

// Loads the file into a parameter block of NetT's layout. A failure must be a KerasError whose
// message starts with the file's path and that leaves the parameters untouched (the strong
// guarantee); any other outcome aborts, which libFuzzer reports. Returns whether the load failed
// on a mismatch with NetT, so that another architecture could fare differently.
template <class NetT>
bool load_mismatched(const std::filesystem::path& path, const KerasOptions& options) {
  // Heap, reused: the big nets' blocks are about 1 MB.
  static std::vector<float> params(NetT::param_count);
  // A value no file holds by accident, to see whether a failed load wrote anything.
  constexpr float untouched = -1234.5f;
  std::ranges::fill(params, untouched);
  try {
    load_keras_into(NetT::layer_infos, params, path, options);
    return false;
  } catch (const KerasError& error) {
    // "<file>: ..." or, for an entry of a .keras zip, "<file> (config.json): ...".
    const std::string what = error.what();
    if (!what.starts_with(path.string() + ": ") && !what.starts_with(path.string() + " ("))
      std::abort();
    if (std::ranges::any_of(params, [](float value) { return value != untouched; })) std::abort();
    return error.problem() == KerasProblem::ArchitectureMismatch ||
           error.problem() == KerasProblem::ShapeMismatch;
  }
}

// tests/golden, found from this file's own path unless $TYPENET_FUZZ_GOLDEN says otherwise.
inline std::filesystem::path golden_dir() {
  if (const char* dir = std::getenv("TYPENET_FUZZ_GOLDEN")) return dir;
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "tests" / "golden";
}

// Fuzzing options: the default limits, except max_bytes, lowered so that a file that declares a
// huge zip entry is refused rather than slowly allocated.
// TYPENET_FUZZ_HDF5_IN_PROCESS=1 parses in the fuzzing process, as typenet did before the HDF5
// reader was isolated: how the regression inputs of tests/golden/hdf5_crashers were found.
// The HDF5 reader gets 3 s (an input that keeps it busy longer is a hostile file it is killed
// for), well within libFuzzer's 10 s for an input.
inline KerasOptions fuzz_options(bool channels_first = false) {
  static const bool in_process = std::getenv("TYPENET_FUZZ_HDF5_IN_PROCESS") != nullptr;
  return {.channels_first = channels_first,
          .max_bytes = std::uint64_t{16} << 20,
          .parse_in_process = in_process,
          .parse_timeout_seconds = 3};
}

// Aborts unless a good file loads: a broken HDF5 reader (which runs in its own process) would end
// every input in the same KerasError, and the run would fuzz nothing while reporting no failure.
inline void require_working_loader() {
  try {
    auto net = std::make_unique<DenseOnly>();
    load_keras(*net, golden_dir() / "dense_only.h5", fuzz_options());
    load_keras(*net, golden_dir() / "dense_only.keras", fuzz_options());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "fuzz: a good Keras file does not load, nothing would be fuzzed: %s\n",
                 error.what());
    std::abort();
  }
}

}  // namespace typenet_fuzz
