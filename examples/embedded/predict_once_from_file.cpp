// predict_once by the other route: a Net of the same type (MnistCnn.hpp only declares it here;
// the embedded parameters are not linked) filled by load_keras from the Keras file, then one
// prediction. Links typenet-keras (HDF5, zip, JSON). bench_startup.sh compares the two.
//
//   predict_once_from_file [KERAS_FILE]   (default: the file the header was exported from)
#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>

#include "MnistCnn.hpp"
#include "synthetic_digit.hpp"
#include "typenet/io/keras.hpp"

int main(int argc, char** argv) {
  try {
    const auto net = std::make_unique<MnistCnn>();
    typenet::load_keras(*net, argc > 1 ? argv[1] : KERAS_FILE);
    const auto probabilities = net->predict(synthetic_one);
    const auto top = std::max_element(probabilities.begin(), probabilities.end());
    std::printf("class %d (probability %.4f)\n", int(top - probabilities.begin()), *top);
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "predict_once_from_file: %s\n", error.what());
    return 1;
  }
}
