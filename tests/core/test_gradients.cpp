// Every layer type's backward pass against central finite differences.
#include "gradient_check.hpp"

using namespace typenet;
using typenet::testing::check_gradients;

TEST_CASE("Dense gradients (tanh, sigmoid, linear, softmax)") {
  check_gradients<Net<Input<7>, Dense<5, Tanh>>>(1);
  check_gradients<Net<Input<9>, Dense<3, Sigmoid>, Dense<4>>>(2);
  check_gradients<Net<Input<6>, Dense<5, Softmax>>>(3);
}

TEST_CASE("Conv gradients: valid, same, stride 2, 5x5, rectangular, several channels") {
  check_gradients<Net<Input<6, 5, 2>, Conv<3, 3, Tanh>>>(4);
  check_gradients<Net<Input<7, 6, 3>, Conv<2, 3, Same, Sigmoid>>>(5);
  check_gradients<Net<Input<9, 7, 2>, Conv<3, 3, Stride<2>, Same>>>(6);
  check_gradients<Net<Input<8, 8, 1>, Conv<2, 5, Same, Tanh>>>(7);
  check_gradients<Net<Input<9, 8, 2>, Conv<2, 3, Stride<2>, Tanh>>>(8);
}

TEST_CASE("Conv gradients by Winograd's products: partial tiles, Same, stacked, odd filters") {
  // 16 tiles each: the backward passes by Winograd's products too.
  using Valid = Net<Input<15, 17, 8>, Conv<8, 3, Tanh>>;
  using Framed = Net<Input<14, 13, 8>, Conv<9, 3, Same, Sigmoid>>;
  using Stacked = Net<Input<17, 16, 3>, Conv<8, 3, Tanh>, Conv<10, 3, Same, Tanh>>;
  static_assert(Valid::layer<0>::winograd_backward && Framed::layer<0>::winograd_backward);
  static_assert(!Stacked::layer<0>::winograd && Stacked::layer<1>::winograd_backward);
  check_gradients<Valid>(21, 0, 3, true);
  check_gradients<Framed>(22, 0, 3, true);
  check_gradients<Stacked>(23, 0, 3, true);
  // 4 tiles: Winograd forward, direct backward.
  using Small = Net<Input<9, 9, 8>, Conv<8, 3, Tanh>>;
  static_assert(Small::layer<0>::winograd && !Small::layer<0>::winograd_backward);
  check_gradients<Small>(24, 0, 3, true);
}

TEST_CASE("pooling, flatten and dropout gradients") {
  check_gradients<Net<Input<6, 6, 3>, MaxPool<2>, Flatten, Dense<4, Tanh>>>(9, 2);
  check_gradients<Net<Input<7, 5, 2>, MaxPool<3, Stride<2>>, Flatten, Dense<3>>>(10, 2);
  check_gradients<Net<Input<5, 4, 3>, GlobalAvgPool, Dense<2, Tanh>>>(11);
  check_gradients<Net<Input<7, 5, 2>, MaxPool<2, Same>, Flatten, Dense<3, Tanh>>>(16, 2);
  check_gradients<Net<Input<7, 6, 2>, MaxPool<3, Stride<2>, Same>, Flatten, Dense<3>>>(17, 2);
  check_gradients<Net<Input<12>, Dropout<40>, Dense<3, Tanh>>>(12);
}

TEST_CASE("AvgPool (valid, same with clipped windows, stride), Rescaling and Reshape gradients") {
  check_gradients<Net<Input<6, 6, 3>, AvgPool<2>, Flatten, Dense<4, Tanh>>>(30);
  check_gradients<Net<Input<7, 5, 2>, AvgPool<3, Same, Stride<2>>, Flatten, Dense<3>>>(31);
  check_gradients<Net<Input<5, 6, 2>, AvgPool<2, Same, Stride<1>>, Flatten, Dense<3, Tanh>>>(32);
  check_gradients<Net<Input<12>, Rescaling<2, 255, -1>, Dense<4, Tanh>, Rescaling<-3, 2>>>(33);
  check_gradients<Net<Input<4, 6>, Reshape<4, 3, 2>, Conv<2, 2, Tanh>, Reshape<12>, Dense<3>>>(34);
}

TEST_CASE("stand-alone activation layers") {
  // After a Linear layer they train in place on its output; after an activated one, or when
  // their backward reads their input (Gelu), on floats of their own.
  using InPlace = Net<Input<8>, Dense<6>, Tanh, Dense<4>, Sigmoid, Dense<5>, Softmax>;
  static_assert(InPlace::plan::trains_in_place ==
                std::array{false, true, false, true, false, true});
  using Copied = Net<Input<8>, Dense<6, Relu>, Tanh, Dense<4>, Gelu, Dense<3>>;
  static_assert(Copied::plan::trains_in_place == std::array{false, false, false, false, false});
  check_gradients<InPlace>(13);
  check_gradients<Net<Input<8>, Dense<6>, Relu, Dense<3>>>(14, 1);
  check_gradients<Copied>(15);
}

TEST_CASE("selu, elu, leaky_relu, gelu, swish, softplus: as options and as layers") {
  // Smooth ones: no kinks allowed.
  check_gradients<Net<Input<7>, Dense<6, Gelu>, Dense<4, Swish>, Dense<3, Softplus>>>(20);
  check_gradients<Net<Input<7>, Dense<6>, Gelu, Dense<4>, Silu, Dense<3>, Softplus>>(21);
  check_gradients<Net<Input<7>, Dense<6, Elu<>>, Dense<3>, Elu<>>>(22);
  // The kinked ones, whose slope jumps at 0.
  check_gradients<Net<Input<7>, Dense<6, Selu>, Dense<5, LeakyRelu<>>, Dense<3, Elu<3, 10>>>>(23,
                                                                                              2);
  check_gradients<Net<Input<7>, Dense<6>, Selu, Dense<5>, LeakyRelu<1, 5>, Dense<3>, Elu<2, 1>>>(24,
                                                                                                 2);
  // Through a convolution, whose output the Net keeps before gelu.
  check_gradients<Net<Input<6, 5, 2>, Conv<3, 3, Gelu>, Conv<2, 3, Same, Swish>>>(25);
}

TEST_CASE("a whole small CNN: conv, relu, maxpool, dropout, flatten, dense, softmax") {
  using Small = Net<Input<10, 9, 1>, Conv<4, 3, Relu>, Conv<3, 3, Same, Tanh>, MaxPool<2>,
                    Dropout<25>, Flatten, Dense<6, Relu>, Dense<4, Softmax>>;
  // Two images: each goes through the convolutions, the pooling and the dropout on its own, both
  // ways (plan::training_image_prefix), the rest takes them together; the pooling's outputs
  // share one image's floats (plan::trains_reusing_output).
  static_assert(Small::plan::training_image_prefix == 5);
  static_assert(Small::plan::trains_reusing_output ==
                std::array{false, false, true, false, false, false, false});
  check_gradients<Small>(15, 2);
}

TEST_CASE("a Relu convolution before a pooling trains with every image's output in one place") {
  // Its backward reads the signs it kept, the pooling's reads its winners: nothing reads the
  // convolution's output back, which every image then writes to the same floats
  // (plan::trains_reusing_output); so does the seed CNN's pooling, before its Dropout. Not so
  // before a layer that reads its input (Flatten), nor after the leading per-image layers (the
  // seed CNN's Dense<128, Relu>).
  using Reusing = Net<Input<10, 9, 1>, Conv<4, 3, Relu>, MaxPool<2>, Conv<3, 3, Relu>, Flatten,
                      Dense<4, Softmax>>;
  static_assert(Reusing::plan::trains_reusing_output ==
                std::array{true, false, false, false, false});
  using SeedCnn = Net<Input<28, 28, 1>, Conv<32, 3, Relu>, Conv<64, 3, Relu>, MaxPool<2>,
                      Dropout<25>, Flatten, Dense<128, Relu>, Dropout<50>, Dense<10, Softmax>>;
  static_assert(SeedCnn::plan::trains_reusing_output ==
                std::array{false, true, true, false, false, false, false, false});
  check_gradients<Reusing>(18, 2);
}

TEST_CASE("residual blocks: identity and projection shortcuts, dropout and gelu inside, nested") {
  check_gradients<Net<Input<6, 6, 2>, Residual<Main<Conv<2, 3, Tanh, Same>, Conv<2, 3, Same>>>,
                      Tanh, Flatten, Dense<3>>>(40);
  check_gradients<Net<Input<7, 6, 2>, Conv<3, 3, Same, Tanh>,
                      Residual<Main<Conv<4, 3, Tanh, Same, Stride<2>>, Conv<4, 3, Same>>,
                               Shortcut<Conv<4, 1, Stride<2>>>>,
                      Sigmoid, Flatten, Dense<3>>>(41);
  check_gradients<Net<Input<6>, Dense<6, Tanh>,
                      Residual<Main<Dense<6, Gelu>, Dropout<30>, Dense<6>>>, Dense<3>>>(42);
  // Gelu as a layer differentiates from its input: no pre-activation floats are kept for it.
  using GeluLayer = Net<Input<6>, Residual<Main<Dense<6>, Gelu, Dense<6>>>, Dense<3>>;
  static_assert(GeluLayer::layer<0>::main_chain::plan::pre_activation_floats == 0);
  static_assert(Net<Input<6>, Dense<6, Gelu>, Swish, Dense<3>>::plan::pre_activation_floats == 6);
  check_gradients<GeluLayer>(45);
  check_gradients<Net<Input<5>, Residual<Main<Dense<4, Swish>, Dense<5>>, Shortcut<Dense<5>>>,
                      Residual<Main<Residual<Main<Dense<5, Tanh>>>, Dense<5, Tanh>>>, Dense<2>>>(
      43);
  // Batch normalisation inside the branches: statistics over the call's images.
  check_gradients<Net<Input<6, 6, 2>, Conv<3, 3, Same, Tanh>,
                      Residual<Main<Conv<3, 3, Same>, BatchNorm<>, Tanh, Conv<3, 3, Same>>,
                               Shortcut<Conv<3, 1>, BatchNorm<>>>,
                      Tanh, Flatten, Dense<2>>>(44);
}

TEST_CASE("LSTM backpropagation through time: last state and sequences, stacked, hard sigmoid") {
  check_gradients<Net<Input<5, 3>, LSTM<4>, Dense<2>>>(50);
  check_gradients<Net<Input<4, 3>, LSTM<3, ReturnSequences>, LSTM<2>, Dense<3, Softmax>>>(51);
  check_gradients<Net<Input<6, 2>, LSTM<3, ReturnSequences>, Flatten, Dense<2, Tanh>>>(52);
  check_gradients<Net<Input<1, 4>, LSTM<3>, Dense<2>>>(53);  // one step: no recurrence
  // Keras 2's hard sigmoid, whose slope jumps where it saturates.
  check_gradients<Net<Input<5, 3>, LSTM<4, HardSigmoid>, Dense<2>>>(54, 3);
}
