// The two small dense networks of the Keras MNIST tutorials, chosen with --network:
//   flatten128 (default): Flatten-Dense128-Relu-Dense10-Softmax on 28x28x1 images, Adam;
//   dense512: Dense512-Relu-Dense10-Softmax on 784 pixels, RMSprop.
// Sparse labels, batch 128, 5 epochs, validated on the test set.
#include "example_main.hpp"

using namespace typenet;

using Flatten128 = Net<Input<28, 28, 1>, Flatten, Dense<128, Relu>, Dense<10, Softmax>>;
using Dense512 = Net<Input<784>, Dense<512, Relu>, Dense<10, Softmax>>;
static_assert(Flatten128::param_count == 101'770);
static_assert(Dense512::param_count == 407'050);

template <class NetT, class Optimizer>
void train_and_evaluate(const examples::Flags& flags, Optimizer optimizer) {
  const MnistData data = examples::load_data(flags);
  auto net = std::make_unique<NetT>(flags.seed);
  NetT::summary();
  auto model = compile(*net, optimizer, SparseCategoricalCrossentropy{}, flags.model_options());
  const History history = model.fit({data.train.images, data.train.labels},
                                    {.batch_size = flags.batch_size,
                                     .epochs = flags.epochs,
                                     .verbose = flags.verbose,
                                     .validation_data = {data.test.images, data.test.labels}});
  examples::save_if_asked(flags, *net);
  print_evaluation(history, model.evaluate({data.test.images, data.test.labels}));
}

int main(int argc, char** argv) {
  std::string network = "flatten128";
  return examples::run(
      argc, argv, "Train and evaluate a small dense network on MNIST", {},
      [&](CLI::App& app) {
        app.add_option("--network", network, "flatten128 (Adam) or dense512 (RMSprop)")
            ->capture_default_str()
            ->check(CLI::IsMember({"flatten128", "dense512"}));
      },
      [&](const examples::Flags& flags) {
        if (network == "flatten128") train_and_evaluate<Flatten128>(flags, Adam{});
        else train_and_evaluate<Dense512>(flags, RMSprop{});
      });
}
