// Keras' MNIST multilayer perceptron: Dense512-Relu-Dense512-Relu-Dense10-Softmax on flat
// 784-pixel images with one-hot labels, Adam, batch 128, 5 epochs, validated on the test set.
#include "example_main.hpp"

using namespace typenet;

using Mlp = Net<Input<784>, Dense<512>, Relu, Dense<512>, Relu, Dense<10>, Softmax>;
static_assert(Mlp::param_count == 669'706);

int main(int argc, char** argv) {
  return examples::run(
      argc, argv, "Train and evaluate an MLP on MNIST", {}, nullptr,
      [&](const examples::Flags& flags) {
        const MnistData data = examples::load_data(flags);
        const std::vector<float> y_train = to_categorical(data.train.labels, 10);
        const std::vector<float> y_test = to_categorical(data.test.labels, 10);
        auto net = std::make_unique<Mlp>(flags.seed);
        Mlp::summary();
        auto model = compile(*net, Adam{}, CategoricalCrossentropy{}, flags.model_options());
        const History history = model.fit({data.train.images, y_train},
                                          {.batch_size = flags.batch_size,
                                           .epochs = flags.epochs,
                                           .verbose = flags.verbose,
                                           .validation_data = {data.test.images, y_test}});
        examples::save_if_asked(flags, *net);
        print_evaluation(history, model.evaluate({data.test.images, y_test}));
      });
}
