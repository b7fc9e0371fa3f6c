// The whole path on the real data: MNIST loaded from $TYPENET_DATA, the tutorial MLP trained for
// one epoch with every core, evaluated on the 10,000 test images.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include <typenet/data/categorical.hpp>
#include <typenet/data/mnist.hpp>
#include <typenet/typenet.hpp>

using namespace typenet;

TEST_CASE("the tutorial MLP reaches 95% on MNIST after one epoch") {
  const char* folder = std::getenv("TYPENET_DATA");
  if (!folder || !std::filesystem::is_directory(folder)) {
    MESSAGE("skipped: TYPENET_DATA (" << std::string(folder ? folder : "unset")
                                      << ") is not a folder holding MNIST");
    return;
  }
  const MnistData data = load_mnist();
  REQUIRE(data.train.count == 60000);
  using Mlp = Net<Input<784>, Dense<512>, Relu, Dense<512>, Relu, Dense<10>, Softmax>;
  auto net = std::make_unique<Mlp>(1);
  const std::vector<float> y_train = to_categorical(data.train.labels, 10);
  const std::vector<float> y_test = to_categorical(data.test.labels, 10);
  auto model = compile(*net, Adam{}, CategoricalCrossentropy{}, {.seed = 1});
  const History history =
      model.fit({data.train.images, y_train}, {.batch_size = 128, .epochs = 1, .verbose = 2});
  const Evaluation result = model.evaluate({data.test.images, y_test});
  MESSAGE("test accuracy after one epoch: " << result.accuracy);
  CHECK(result.accuracy > 0.95);
  CHECK(result.correct + result.incorrect == 10000);
  CHECK(history["accuracy"].front() > 0.9);
}
