// typenet's best MNIST recipe, beyond the tutorials: two blocks of Conv3-Conv3-Conv5/2 with
// BatchNorm after every convolution and the Dense128, dropout 0.4, data augmentation (rotation,
// zoom and translation as Keras' layers), Adam with a cosine-decayed learning rate, batch 128,
// 30 epochs. Validation and the early-stopping choice of weights use the last 10 % of the
// 60,000 training images; the test set is used once, at the end. `typenet train --model best`
// runs the same recipe (src/cli/models.hpp).
#include "example_main.hpp"

#include "../src/cli/models.hpp"

using namespace typenet;
using Best = cli::Best;

int main(int argc, char** argv) {
  const cli::TrainingRecipe recipe = cli::training_recipe<Best>;
  examples::Flags defaults;
  defaults.epochs = recipe.epochs;
  return examples::run(
      argc, argv, "Train and evaluate typenet's best MNIST recipe (BatchNorm, augmentation)",
      defaults, nullptr, [&](const examples::Flags& flags) {
        const MnistData data = examples::load_data(flags);
        const std::vector<float> y_train = to_categorical(data.train.labels, 10);
        const std::vector<float> y_test = to_categorical(data.test.labels, 10);
        auto net = std::make_unique<Best>(flags.seed);
        Best::summary();
        auto model = compile(*net,
                             recipe.optimizer(data.train.count, flags.batch_size, flags.epochs,
                                              recipe.validation_split),
                             CategoricalCrossentropy{}, flags.model_options());
        EarlyStopping stop(*recipe.early_stopping);
        const History history =
            model.fit({data.train.images, y_train}, {.batch_size = flags.batch_size,
                                                     .epochs = flags.epochs,
                                                     .verbose = flags.verbose,
                                                     .validation_split = recipe.validation_split,
                                                     .augment = recipe.augment,
                                                     .callbacks = {&stop}});
        examples::save_if_asked(flags, *net);
        print_evaluation(history, model.evaluate({data.test.images, y_test}));
      });
}
