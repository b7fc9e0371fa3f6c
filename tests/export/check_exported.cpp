// One model exported by `typenet export-cpp` (its header included first, before anything else,
// as a program of ours would): loads the Keras file into the exported type and compares with
// Keras' outputs. Built once per model with EXPORTED_HEADER, EXPORTED_TYPE, EXPORTED_FILE (the
// Keras file) and either EXPORTED_GOLDEN (the golden fixture's name) or EXPORTED_MNIST (the
// ../shared/keras predictions file and Keras' count of correct test images).
#include EXPORTED_HEADER

#include <doctest/doctest.h>

#include <memory>

#include "../keras/keras_outputs.hpp"

using namespace typenet::keras_test;

TEST_CASE("the type export-cpp wrote for " EXPORTED_FILE " loads it and computes as Keras") {
  static_assert(typenet::NetLike<EXPORTED_TYPE>);
  auto net = std::make_unique<EXPORTED_TYPE>(7);
  typenet::load_keras(*net, EXPORTED_FILE);
#ifdef EXPORTED_GOLDEN
  CHECK(max_difference(*net, read_expected(EXPORTED_GOLDEN)) < 1e-5f);
#else
  const auto shared = shared_dir();
  REQUIRE(shared);
  const Parity parity = mnist_parity(*net, *shared, EXPORTED_MNIST);
  CHECK(parity.correct == EXPORTED_MNIST_CORRECT);
  CHECK(parity.predicted_as_keras == 10000);
  CHECK(parity.worst < 1e-5f);
#endif
}
