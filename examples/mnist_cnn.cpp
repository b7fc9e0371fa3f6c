// Keras' MNIST convnet, the seed CNN of typenet: Conv32-Conv64-MaxPool2-Dropout25-Flatten-
// Dense128-Dropout50-Dense10, one-hot labels, Adam, batch 128, 5 epochs, validated on the test
// set. The README's main command runs it. With --backup FILE, a training checkpoint is written
// after every epoch and a run that was stopped resumes from it (Keras' BackupAndRestore).
#include "example_main.hpp"

using namespace typenet;

using SeedCnn = Net<Input<28, 28, 1>, Conv<32, 3, Relu>, Conv<64, 3, Relu>, MaxPool<2>, Dropout<25>,
                    Flatten, Dense<128, Relu>, Dropout<50>, Dense<10, Softmax>>;
static_assert(SeedCnn::param_count == 1'199'882);

int main(int argc, char** argv) {
  std::string backup_path;
  return examples::run(
      argc, argv, "Train and evaluate the seed CNN on MNIST", {},
      [&](CLI::App& app) {
        app.add_option("--backup", backup_path,
                       "Training checkpoint written after every epoch; resumed from if present");
      },
      [&](const examples::Flags& flags) {
        const MnistData data = examples::load_data(flags);
        const std::vector<float> y_train = to_categorical(data.train.labels, 10);
        const std::vector<float> y_test = to_categorical(data.test.labels, 10);
        auto net = std::make_unique<SeedCnn>(flags.seed);
        SeedCnn::summary();
        auto model = compile(*net, Adam{}, CategoricalCrossentropy{}, flags.model_options());
        const History history =
            model.fit({data.train.images, y_train}, {.batch_size = flags.batch_size,
                                                     .epochs = flags.epochs,
                                                     .verbose = flags.verbose,
                                                     .validation_data = {data.test.images, y_test},
                                                     .backup = backup_path});
        examples::save_if_asked(flags, *net);
        print_evaluation(history, model.evaluate({data.test.images, y_test}));
      });
}
