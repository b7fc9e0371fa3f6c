// libFuzzer target: arbitrary bytes as a Keras file (HDF5 model or weights, or .keras zip) through
// load_keras_into, for each architecture of the seed files until one is not a mismatch, so that
// mutated seeds get past the architecture check into the weights. See keras_nets.hpp for the
// contract checked. HDF5 images are parsed in typenet's helper program (hdf5_isolation.hpp), as
// for any caller: a crash of libhdf5 there must reach this process as a KerasError.
#include <cstdint>
#include <span>

#include "keras_nets.hpp"
#include "memory_file.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  typenet_fuzz::require_working_loader();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace typenet_fuzz;
  static MemoryFile file;
  const std::filesystem::path& path = file.hold(std::span(data, size));
  const KerasOptions options = fuzz_options();

  // A damaged or foreign file fails the same way whatever the Net: stop at the first failure that
  // is not a mismatch with this Net, or at the first success. Small nets first: they are quicker.
  load_mismatched<DenseOnly>(path, options) && load_mismatched<ConvEvenNoBias>(path, options) &&
      load_mismatched<ConvSameStride2>(path, options) &&
      load_mismatched<ConvValidGap>(path, options) &&
      load_mismatched<ChannelsFirst>(path, fuzz_options(/*channels_first*/ true)) &&
      load_mismatched<Keras3Cnn>(path, options) && load_mismatched<Keras224Cnn>(path, options);
  return 0;
}
