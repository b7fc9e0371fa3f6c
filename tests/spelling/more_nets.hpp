// Nets with the layers and options that tests/golden/nets.hpp and the tool's models lack, for
// the spelling tests: explicit defaults (Valid, Linear, Epsilon<1, 1000>, Stride equal to the
// pool size), options in unusual orders, every activation as a layer, Rescaling's defaulted
// arguments, a block inside a block, and the longest spellings a layer record must hold.
#pragma once

#include <typenet/typenet.hpp>

namespace typenet::spelling {

using ExplicitDefaults = Net<Input<12, 12, 3>, Conv<4, 3, Valid, Relu>, MaxPool<2, Stride<2>>,
                             Conv<4, 3, Linear>, MaxPool<2, Same, Stride<1>>, AvgPool<2, Valid>,
                             Flatten, Dense<5, Linear>, BatchNorm<Epsilon<1, 1000>>, Dense<3>>;
using ReorderedOptions =
    Net<Input<9, 9, 2>, Conv<3, 3, Stride<2>, Same, Tanh>, MaxPool<2, Same>,
        AvgPool<1, Stride<1>, Same>, GlobalAvgPool, Dense<4, Elu<2, 3>>, Dense<2, LeakyRelu<>>>;
using ActivationLayers =
    Net<Input<6>, Dense<6>, Linear, Sigmoid, Tanh, Softmax, Relu, Selu, Elu<>, Elu<5, 2>,
        LeakyRelu<>, LeakyRelu<0, 1>, Gelu, Swish, Silu, Softplus, Dense<2>>;
using RescalingDefaults =
    Net<Input<4, 3>, Rescaling<1, 255>, Rescaling<-1, 2, 3>, Rescaling<1, 255, 0, 5>,
        Rescaling<-3, 7, -2, 9>, Reshape<12>, Reshape<2, 2, 3>, Flatten, Dense<1>>;
using LstmOptions = Net<Input<5, 3>, LSTM<4, HardSigmoid, ReturnSequences>,
                        LSTM<3, ReturnSequences, HardSigmoid>, Dropout<0>, LSTM<2>>;
using NestedBlocks =
    Net<Input<6, 6, 2>,
        Residual<Main<Conv<2, 3, Same>, Residual<Main<Conv<2, 1>, Relu>, Shortcut<Conv<2, 1>>>>>,
        Residual<Main<Residual<Main<Conv<2, 3, Same>>>, Conv<4, 1>>, Shortcut<Conv<4, 1>>>, Flatten,
        Dense<2>>;
using LongSpellings =
    Net<Input<4, 4, 1>, Conv<1000000, 99, LeakyRelu<123456789012, 987654321098>, Same, Stride<7>>,
        Rescaling<-2147483647, 2147483647, -2147483647, 2147483647>, GlobalAvgPool, Dense<1>>;

}  // namespace typenet::spelling
