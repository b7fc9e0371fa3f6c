// The seed CNN trained on Zalando's Fashion-MNIST (Debian's dataset-fashion-mnist package, same
// IDX format as MNIST, loaded by the same code): Adam, sparse labels, batch 128, 5 epochs.
#include "example_main.hpp"

using namespace typenet;

using SeedCnn = Net<Input<28, 28, 1>, Conv<32, 3, Relu>, Conv<64, 3, Relu>, MaxPool<2>, Dropout<25>,
                    Flatten, Dense<128, Relu>, Dropout<50>, Dense<10, Softmax>>;

int main(int argc, char** argv) {
  return examples::run(
      argc, argv, "Train and evaluate the seed CNN on Fashion-MNIST", {}, nullptr,
      [](const examples::Flags& flags) {
        LoadOptions options;
        options.directory = flags.data;
        const MnistData data = load_fashion_mnist(options);
        const std::vector<std::size_t> counts = label_counts(data.train.labels, 10);
        for (std::size_t k = 0; k < 10; ++k)
          std::printf("%-12s %zu training images\n",
                      std::string(kFashionMnistClassNames[k]).c_str(), counts[k]);
        auto net = std::make_unique<SeedCnn>(flags.seed);
        SeedCnn::summary();
        auto model = compile(*net, Adam{}, SparseCategoricalCrossentropy{}, flags.model_options());
        const History history =
            model.fit({data.train.images, data.train.labels},
                      {.batch_size = flags.batch_size,
                       .epochs = flags.epochs,
                       .verbose = flags.verbose,
                       .validation_data = {data.test.images, data.test.labels}});
        examples::save_if_asked(flags, *net);
        print_evaluation(history, model.evaluate({data.test.images, data.test.labels}));
      });
}
