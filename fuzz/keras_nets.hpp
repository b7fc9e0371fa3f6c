// What the two Keras fuzz targets share: the architectures of the Keras files they start from
// (tests/golden, see tests/keras/test_keras.cpp, and ../shared/keras), and a load that checks
// load_keras_into's contract. Not part of typenet.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "typenet/io/keras.hpp"
#include "typenet/layers/conv.hpp"
#include "typenet/layers/dense.hpp"
#include "typenet/layers/dropout.hpp"
#include "typenet/layers/flatten.hpp"
#include "typenet/layers/input.hpp"
#include "typenet/layers/pooling.hpp"
#include "typenet/net.hpp"

namespace typenet_fuzz {

using namespace typenet;

using Keras224Cnn =
    Net<Input<28, 28, 1>, Conv<16, 5, Relu, Same>, MaxPool<2>, Conv<36, 5, Relu, Same>, MaxPool<2>,
        Dropout<25>, Flatten, Dense<128, Relu>, Dropout<50>, Dense<10, Softmax>>;
using Keras3Cnn = Net<Input<28, 28, 1>, Conv<32, 3, Relu>, MaxPool<2>, Conv<64, 3, Relu>,
                      MaxPool<2>, Flatten, Dropout<50>, Dense<10, Softmax>>;
using ConvSameStride2 =
    Net<Input<12, 9, 2>, Conv<6, 3, Relu, Same>, Conv<5, 5, Tanh, Same, Stride<2>>, MaxPool<2>,
        Flatten, Dense<7, Sigmoid>, Dense<4, Softmax>>;
using ConvValidGap = Net<Input<16, 16, 1>, Conv<8, 5, Relu>, MaxPool<3, Stride<2>>,
                         Conv<6, 3, Stride<2>>, Relu, GlobalAvgPool, Dropout<30>, Dense<3>>;
using ConvEvenNoBias =
    Net<Input<10, 10, 3>, Conv<4, 3, Relu, Same, Stride<2>>, Flatten, Dense<10, Softmax>>;
using DenseOnly = Net<Input<20>, Dense<16, Relu>, Dropout<25>, Dense<8, Tanh>, Dense<5>>;
using ChannelsFirst = Net<Input<6, 5, 2>, Conv<3, 3, Relu, Same>, Flatten, Dense<4, Softmax>>;

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

// Fuzzing options: the default limits, except max_bytes, lowered so that a file that declares a
// huge zip entry is refused rather than slowly allocated.
inline KerasOptions fuzz_options(bool channels_first = false) {
  return {.channels_first = channels_first, .max_bytes = std::uint64_t{16} << 20};
}

}  // namespace typenet_fuzz
