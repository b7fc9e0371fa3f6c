// Runs a model trained in Keras: loads the Keras file into the matching Net type (the file's
// architecture is checked against the type layer by layer), prints the summary and evaluates
// it on the MNIST test set.
//   --architecture keras224-cnn: Conv16(5x5, same)-MaxPool-Conv36(5x5, same)-MaxPool-Dropout-
//       Flatten-Dense128-Dropout-Dense10, as ../shared/keras/keras224_mnist_cnn.h5 (Keras 2.2.4);
//   --architecture keras3-convnet: keras.io's simple MNIST convnet, as
//       ../shared/keras/keras3_mnist_cnn.keras (Keras 3).
#include "example_main.hpp"

#include <typenet/io/keras.hpp>

using namespace typenet;

using Keras224Cnn =
    Net<Input<28, 28, 1>, Conv<16, 5, Relu, Same>, MaxPool<2>, Conv<36, 5, Relu, Same>, MaxPool<2>,
        Dropout<25>, Flatten, Dense<128, Relu>, Dropout<50>, Dense<10, Softmax>>;
using Keras3Convnet = Net<Input<28, 28, 1>, Conv<32, 3, Relu>, MaxPool<2>, Conv<64, 3, Relu>,
                          MaxPool<2>, Flatten, Dropout<50>, Dense<10, Softmax>>;
static_assert(Keras224Cnn::param_count == 242'062);
static_assert(Keras3Convnet::param_count == 34'826);

template <class NetT>
void import_and_evaluate(const examples::Flags& flags, const std::string& path) {
  auto net = std::make_unique<NetT>();
  load_keras(*net, path);
  std::printf("Loaded %s\n", path.c_str());
  NetT::summary();
  const MnistData data = examples::load_data(flags);
  auto model = compile(*net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = flags.threads});
  print_evaluation(model.evaluate({data.test.images, data.test.labels}));
}

int main(int argc, char** argv) {
  std::string architecture = "keras224-cnn";
  std::string path = "../shared/keras/keras224_mnist_cnn.h5";
  return examples::run(
      argc, argv, "Evaluate a Keras-trained MNIST model with typenet", {},
      [&](CLI::App& app) {
        app.add_option("--keras", path, "Keras .h5 or .keras file")->capture_default_str();
        app.add_option("--architecture", architecture, "keras224-cnn or keras3-convnet")
            ->capture_default_str()
            ->check(CLI::IsMember({"keras224-cnn", "keras3-convnet"}));
      },
      [&](const examples::Flags& flags) {
        if (architecture == "keras224-cnn") import_and_evaluate<Keras224Cnn>(flags, path);
        else import_and_evaluate<Keras3Convnet>(flags, path);
      });
}
