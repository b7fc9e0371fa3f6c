// The architectures the typenet tool knows by name (--model), all taking 28x28x1 MNIST digits
// and giving ten class scores.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <typenet/cli/recipe.hpp>
#include <typenet/io/keras.hpp>
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
using CnnGap =
    Net<Input<28, 28, 1>, Conv<64, 3, Relu>, Conv<64, 3, Relu>, MaxPool<2>, Conv<128, 3, Relu>,
        Conv<128, 3, Relu>, MaxPool<2>, Flatten, Dropout<50>, Dense<10>>;
// The 5x5 Same CNN of ../shared/keras/keras224_mnist_cnn.h5.
using KerasCnn =
    Net<Input<28, 28, 1>, Conv<16, 5, Relu, Same>, MaxPool<2>, Conv<36, 5, Relu, Same>, MaxPool<2>,
        Dropout<25>, Flatten, Dense<128, Relu>, Dropout<50>, Dense<10, Softmax>>;

// typenet's best MNIST recipe, beyond the tutorials (examples/mnist_best.cpp, `typenet train
// --model best`): two blocks of Conv3-Conv3-Conv5/2 (the strided 5x5 convolution in place of
// pooling), BatchNorm after every convolution and the hidden Dense, dropout 0.4; Keras'
// augmentation layers' transforms; Adam with a cosine-decayed rate over 30 epochs; validation and
// the early-stopping choice of weights (patience 10) on the last 10 % of the training images.
using Best =
    Net<Input<28, 28, 1>, Conv<32, 3>, BatchNorm<>, Relu, Conv<32, 3>, BatchNorm<>, Relu,
        Conv<32, 5, Same, Stride<2>>, BatchNorm<>, Relu, Dropout<40>, Conv<64, 3>, BatchNorm<>,
        Relu, Conv<64, 3>, BatchNorm<>, Relu, Conv<64, 5, Same, Stride<2>>, BatchNorm<>, Relu,
        Dropout<40>, Flatten, Dense<128>, BatchNorm<>, Relu, Dropout<40>, Dense<10, Softmax>>;

// An architecture and its name on the command line.
template <class T>
struct Tag {
  using type = T;
  std::string_view name;
};

// The one list of the architectures, in the order the help lists them.
inline constexpr std::tuple models{
    Tag<Mlp>{"mlp"},        Tag<DenseNet>{"dense"},     Tag<Cnn>{"cnn"},
    Tag<CnnGap>{"cnn-gap"}, Tag<KerasCnn>{"keras-cnn"}, Tag<Best>{"best"}};

template <>
inline const TrainingRecipe training_recipe<Best>{
    .epochs = 30,
    .validation_split = 0.1,
    .augment = {RandomRotation{.factor = 0.03}, RandomZoom{.height_factor = 0.1},
                RandomTranslation{.height_factor = 0.1, .width_factor = 0.1}},
    .cosine_decay = true,
    .early_stopping = EarlyStoppingOptions{
        .monitor = "val_accuracy", .patience = 10, .restore_best_weights = true}};

// The names: {"mlp", "dense", ...}.
inline std::vector<std::string> model_names() {
  return std::apply(
      [](auto... tags) { return std::vector<std::string>{std::string(tags.name)...}; }, models);
}

// Calls f(tag) with the Tag of the architecture called `name`.
template <class F>
void with_model(const std::string& name, F&& f) {
  const bool found = std::apply(
      [&](auto... tags) { return ((tags.name == name && (f(tags), true)) || ...); }, models);
  if (!found) throw std::invalid_argument("unknown model \"" + name + "\"");
}

// Calls f(tag) with the Tag of the first built-in architecture that the Keras file at `path`
// loads into; false when it is none of them.
template <class F>
bool with_keras_architecture(const std::filesystem::path& path, const KerasOptions& options,
                             F&& f) {
  return std::apply(
      [&](auto... tags) {
        return ([&](auto tag) {
          auto net = std::make_unique<typename decltype(tag)::type>();
          try {
            load_keras(*net, path, options);
          } catch (const KerasError& error) {
            if (error.problem() == KerasProblem::ArchitectureMismatch ||
                error.problem() == KerasProblem::ShapeMismatch)
              return false;
            throw;
          }
          f(tag);
          return true;
        }(tags) ||
                ...);
      },
      models);
}

// Calls f(tag) with the Tag of the built-in architecture whose layers are those that a typenet
// model file records; false when it is none of them.
template <class F>
bool with_recorded_architecture(const std::vector<std::string>& architecture, F&& f) {
  return std::apply(
      [&](auto... tags) {
        return ((io::describe_architecture(decltype(tags)::type::layer_infos) == architecture &&
                 (f(tags), true)) ||
                ...);
      },
      models);
}

}  // namespace typenet::cli
