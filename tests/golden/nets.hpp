// The architectures of the Keras files in tests/golden (made by gen/make_fixtures.py) and
// ../shared/keras, spelled as typenet types: the Keras tests and the Keras fuzz targets load
// those files into them.
#pragma once

#include "typenet/layers/registry.hpp"
#include "typenet/net.hpp"

namespace typenet::golden {

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
// gen/make_layers_fixtures.py
using LayersCnn =
    Net<Input<10, 10>, Rescaling<1, 255>, Reshape<10, 10, 1>, Conv<4, 3, Selu>,
        AvgPool<3, Same, Stride<2>>, Flatten, Dense<8, Gelu>, LeakyRelu<1, 10>, Dense<5, Softmax>>;
using LayersConvAvgPool =
    Net<Input<9, 8, 2>, Rescaling<2, 255, -1>, Conv<3, 3, Same, Swish>, AvgPool<2>,
        Conv<4, 2, Elu<>>, AvgPool<2, Same, Stride<1>>, Flatten, Dense<3, Softplus>>;
using LayersActivations =
    Net<Input<4, 3>, Flatten, Dense<8>, Selu, Dense<8>, Gelu, Dense<6>, Swish, Reshape<3, 2>,
        Flatten, Dense<6>, Softplus, Dense<6>, Elu<>, Dense<4>, Elu<1, 2>, Dense<3>>;
using LayersKeras3 =
    Net<Input<7>, Dense<5, LeakyRelu<1, 5>>, Dense<4, Silu>, LeakyRelu<>, Dense<3>>;
using ChannelsFirst = Net<Input<6, 5, 2>, Conv<3, 3, Relu, Same>, Flatten, Dense<4, Softmax>>;

// gen/make_bn_lstm_fixtures.py
using BnConv = Net<Input<8, 7, 2>, Conv<4, 3, Same>, BatchNorm<>, Relu, Conv<3, 3, Stride<2>>,
                   BatchNorm<>, Relu, Flatten, Dense<6>, BatchNorm<>, Dense<3, Softmax>>;
using BnOptions = Net<Input<10>, Dense<6>, BatchNorm<>, Dense<5>, BatchNorm<Epsilon<1, 100000>>,
                      Dense<4>, BatchNorm<>, Dense<3>>;
using LstmStack = Net<Input<12, 7>, LSTM<8, ReturnSequences>, BatchNorm<>, LSTM<6>, Dense<3>>;
using LstmHardSigmoid = Net<Input<9, 4>, LSTM<5, HardSigmoid>, Dense<2>>;
// Residual blocks (gen/make_residual_fixtures.py).
using ResidualTiny = Net<Input<8, 8, 2>, Conv<4, 3, Relu, Same>,
                         Residual<Main<Conv<4, 3, Same>, Relu, Conv<4, 3, Same>>>, Relu,
                         Residual<Main<Conv<6, 3, Relu, Same, Stride<2>>, Conv<6, 3, Same>>,
                                  Shortcut<Conv<6, 1, Stride<2>>>>,
                         Relu, GlobalAvgPool, Dense<3, Softmax>>;
using ResidualShortcutFirst =
    Net<Input<5, 5, 3>, Residual<Main<Conv<3, 3, Relu, Same>, Conv<3, 3, Same>>>, Relu, Flatten,
        Dense<4>>;

}  // namespace typenet::golden
