// The architectures the typenet tool knows by name (--model), all taking 28x28x1 MNIST digits
// and giving ten class scores.
#pragma once

#include <stdexcept>
#include <string>

#include <typenet/typenet.hpp>

namespace typenet::cli {

// Keras' MNIST MLP.
using Mlp = Net<Input<784>, Dense<512>, Relu, Dense<512>, Relu, Dense<10>, Softmax>;
// Flatten-Dense128-Dense10, the smallest tutorial network.
using DenseNet = Net<Input<28, 28, 1>, Flatten, Dense<128, Relu>, Dense<10, Softmax>>;
// The seed CNN.
using Cnn = Net<Input<28, 28, 1>, Conv<32, 3, Relu>, Conv<64, 3, Relu>, MaxPool<2>, Dropout<25>,
                Flatten, Dense<128, Relu>, Dropout<50>, Dense<10, Softmax>>;
// Conv64-Conv64-MaxPool-Conv128-Conv128 with the MaxPool-Flatten head; it outputs logits.
using CnnGap = Net<Input<28, 28, 1>, Conv<64, 3, Relu>, Conv<64, 3, Relu>, MaxPool<2>,
                   Conv<128, 3, Relu>, Conv<128, 3, Relu>, MaxPool<2>, Flatten, Dropout<50>,
                   Dense<10>>;
// The 5x5 Same CNN of ../shared/keras/keras224_mnist_cnn.h5.
using KerasCnn = Net<Input<28, 28, 1>, Conv<16, 5, Relu, Same>, MaxPool<2>, Conv<36, 5, Relu, Same>,
                     MaxPool<2>, Dropout<25>, Flatten, Dense<128, Relu>, Dropout<50>,
                     Dense<10, Softmax>>;

inline constexpr const char* model_names = "mlp, dense, cnn, cnn-gap or keras-cnn";

template <class T>
struct Tag {
  using type = T;
};

// Calls f(Tag<NetType>{}) for the architecture called `name`.
template <class F>
decltype(auto) with_model(const std::string& name, F&& f) {
  if (name == "mlp") return f(Tag<Mlp>{});
  if (name == "dense") return f(Tag<DenseNet>{});
  if (name == "cnn") return f(Tag<Cnn>{});
  if (name == "cnn-gap") return f(Tag<CnnGap>{});
  if (name == "keras-cnn") return f(Tag<KerasCnn>{});
  throw std::invalid_argument("unknown model \"" + name + "\": choose " + model_names);
}

}  // namespace typenet::cli
