// Starts, classifies one image with the net compiled into the program, prints the class, exits:
// what bench_startup.sh times. The parameters are constant data of the executable, so nothing
// is read or set up before the prediction; it links the core typenet library alone.
#include <algorithm>
#include <cstdio>

#include "MnistCnn.hpp"
#include "synthetic_digit.hpp"

int main() {
  const auto probabilities = MnistCnn_net.predict(synthetic_one);
  const auto top = std::max_element(probabilities.begin(), probabilities.end());
  std::printf("class %d (probability %.4f)\n", int(top - probabilities.begin()), *top);
  return 0;
}
