// An app that exchanges weights with Keras: typenet-keras.
#include <typenet/io/keras.hpp>
#include <typenet/typenet.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>

using namespace typenet;
using Cnn = Net<Input<8, 8, 1>, Conv<4, 3, Relu>, MaxPool<2>, Flatten, Dense<3, Softmax>>;

int main() {
  auto net = std::make_unique<Cnn>(42);
  save_keras_weights(*net, "consumer_keras.weights.h5");
  auto loaded = std::make_unique<Cnn>(7);
  load_keras(*loaded, "consumer_keras.weights.h5");
  const bool same = std::ranges::equal(net->parameters(), loaded->parameters());
  std::printf("Keras weights file round trip: %s\n", same ? "same" : "DIFFERENT");
  return same ? 0 : 1;
}
