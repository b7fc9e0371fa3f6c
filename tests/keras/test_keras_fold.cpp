// FoldBatchNorm on nets loaded from Keras files: the folded net gives Keras' outputs.
#include <doctest/doctest.h>

#include <memory>
#include <type_traits>

#include "typenet/io/keras.hpp"
#include "typenet/typenet.hpp"
#include "../golden/nets.hpp"
#include "keras_outputs.hpp"

using namespace typenet;
using namespace typenet::golden;
using namespace typenet::keras_test;

namespace {

// Loads `file` (in tests/golden) into NetT, folds it and compares with Keras' outputs.
template <class NetT>
void check_folded_golden(const std::string& name, const std::string& file) {
  CAPTURE(file);
  auto net = std::make_unique<NetT>();
  load_keras(*net, golden_dir / file);
  const auto folded = fold_batch_norm(*net);
  CHECK(max_difference(*folded, read_expected(name)) < 1e-5f);
}

}  // namespace

TEST_CASE("fold_batch_norm: BatchNormalization after Conv2D and Dense, folded, as Keras") {
  // Every BatchNorm of both follows a linear Conv or Dense (BnOptions' with center or scale
  // False, and epsilon 1e-5).
  static_assert(std::is_same_v<FoldBatchNorm<BnConv>,
                               Net<Input<8, 7, 2>, Conv<4, 3, Same>, Relu, Conv<3, 3, Stride<2>>,
                                   Relu, Flatten, Dense<6>, Dense<3, Softmax>>>);
  static_assert(std::is_same_v<FoldBatchNorm<BnOptions>,
                               Net<Input<10>, Dense<6>, Dense<5>, Dense<4>, Dense<3>>>);
  check_folded_golden<BnConv>("bn_conv", "bn_conv.h5");
  check_folded_golden<BnOptions>("bn_options", "bn_options.h5");
}
