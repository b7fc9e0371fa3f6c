// The Conv64-Conv64-MaxPool2-Conv128-Conv128 tutorial network with one of three heads (--head):
//   gap:          GlobalAvgPool-Dropout50-Dense10
//   maxpool-gap:  MaxPool2-GlobalAvgPool-Dropout50-Dense10
//   flatten:      MaxPool2-Flatten-Dropout50-Dense10 (default)
// Logits with sparse cross-entropy (from_logits), Adam, batch 128, up to 20 epochs,
// validation_split 0.15, ModelCheckpoint(save_best_only on val_loss) + EarlyStopping(patience 2);
// the best checkpoint is then reloaded and evaluated on the test set.
#include "example_main.hpp"

#include <filesystem>

using namespace typenet;

template <class... Head>
using Conv64 = Net<Input<28, 28, 1>, Conv<64, 3, Relu>, Conv<64, 3, Relu>, MaxPool<2>,
                   Conv<128, 3, Relu>, Conv<128, 3, Relu>, Head...>;
using GapNet = Conv64<GlobalAvgPool, Dropout<50>, Dense<10>>;
using MaxPoolGapNet = Conv64<MaxPool<2>, GlobalAvgPool, Dropout<50>, Dense<10>>;
using FlattenNet = Conv64<MaxPool<2>, Flatten, Dropout<50>, Dense<10>>;

template <class NetT>
void train_and_evaluate(const examples::Flags& flags, const std::filesystem::path& checkpoint) {
  const MnistData data = examples::load_data(flags);
  auto net = std::make_unique<NetT>(flags.seed);
  NetT::summary();
  auto model = compile(*net, Adam{}, loss_for<NetT>(), flags.model_options());
  ModelCheckpoint keep_best(checkpoint, {.monitor = "val_loss", .save_best_only = true});
  EarlyStopping stop_early({.monitor = "val_loss", .patience = 2});
  const History history =
      model.fit({data.train.images, data.train.labels}, {.batch_size = flags.batch_size,
                                                         .epochs = flags.epochs,
                                                         .verbose = flags.verbose,
                                                         .validation_split = 0.15,
                                                         .callbacks = {&keep_best, &stop_early}});
  std::printf("Reloading the best checkpoint %s\n", checkpoint.c_str());
  load(*net, checkpoint);
  examples::save_if_asked(flags, *net);
  print_evaluation(history, model.evaluate({data.test.images, data.test.labels}));
}

int main(int argc, char** argv) {
  std::string head = "flatten";
  std::string checkpoint = "mnist_cnn_gap_best.tnet";
  examples::Flags defaults;
  defaults.epochs = 20;
  return examples::run(
      argc, argv, "Train the Conv64/Conv128 MNIST network with checkpoints and early stopping",
      defaults,
      [&](CLI::App& app) {
        app.add_option("--head", head, "gap, maxpool-gap or flatten")
            ->capture_default_str()
            ->check(CLI::IsMember({"gap", "maxpool-gap", "flatten"}));
        app.add_option("--checkpoint", checkpoint, "Where the best model is kept")
            ->capture_default_str();
      },
      [&](const examples::Flags& flags) {
        if (head == "gap") train_and_evaluate<GapNet>(flags, checkpoint);
        else if (head == "maxpool-gap") train_and_evaluate<MaxPoolGapNet>(flags, checkpoint);
        else train_and_evaluate<FlattenNet>(flags, checkpoint);
      });
}
