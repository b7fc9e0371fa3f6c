// typenet: neural networks whose architecture is a C++ type.
//
//   using Cnn = Net<Input<28, 28, 1>, Conv<32, 3, Relu>, Conv<64, 3, Relu>, MaxPool<2>,
//                   Dropout<25>, Flatten, Dense<128, Relu>, Dropout<50>, Dense<10, Softmax>>;
//   static_assert(Cnn::param_count == 1'199'882);
#pragma once

#include "typenet/fold_batch_norm.hpp"
#include "typenet/frozen.hpp"
#include "typenet/layer_info.hpp"
#include "typenet/layers/registry.hpp"
#include "typenet/net.hpp"
#include "typenet/options.hpp"
#include "typenet/quantized.hpp"
#include "typenet/shape.hpp"
#include "typenet/io/save_load.hpp"
#include "typenet/optim/adam.hpp"
#include "typenet/optim/rmsprop.hpp"
#include "typenet/optim/sgd.hpp"
#include "typenet/train/callbacks.hpp"
#include "typenet/train/history.hpp"
#include "typenet/train/losses.hpp"
#include "typenet/train/model.hpp"
#include "typenet/train/report.hpp"
