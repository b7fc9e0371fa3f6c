// typenet: the whole MNIST job from one command line, over the built-in architectures.
//
//   typenet summary  --model cnn
//   typenet train    --model cnn --epochs 5 --out run/      (checkpoint, history, plots)
//   typenet evaluate --model cnn --weights run/model.tnet
//   typenet predict  --model keras-cnn --keras model.h5 digit.png photo.jpg
//   typenet show     --out pictures/                        (digit grid, label distribution)
//   typenet featuremaps --model cnn --weights run/model.tnet --layer 0
//   typenet export-cpp model.h5 --name MnistCnn --out mnist_cnn.hpp   (the file's Net type)
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include <typenet/data/categorical.hpp>
#include <typenet/data/mnist.hpp>
#include <typenet/io/atomic_write.hpp>
#include <typenet/io/export_cpp.hpp>
#include <typenet/io/keras.hpp>
#include <typenet/typenet.hpp>
#include <typenet/vis/vis.hpp>

#include "models.hpp"

namespace fs = std::filesystem;
using namespace typenet;
using cli::with_model;

namespace {

struct Options {
  std::string model = "cnn";
  std::string weights, keras;
  std::string data;
  fs::path out = "typenet-out";
  std::size_t epochs = 5, batch_size = 128, threads = 0;
  std::uint64_t seed = 1;
  int verbose = 1;
  double validation_split = 0;
  std::vector<std::string> files;
  std::string polarity = "auto";
  bool channels_first = false;
  std::size_t layer = 0, samples = 64, channel = 0;
  std::string keras_file, type_name = "KerasModel", header_out;
  bool embed_weights = false;
};

MnistData load_data(const Options& options) {
  LoadOptions load;
  load.directory = options.data;
  return load_mnist(load);
}

template <class NetT>
std::unique_ptr<NetT> load_net(const Options& options) {
  auto net = std::make_unique<NetT>(options.seed);
  if (!options.weights.empty() && !options.keras.empty())
    throw std::invalid_argument("give --weights or --keras, not both");
  if (!options.weights.empty()) load(*net, options.weights);
  else if (!options.keras.empty())
    load_keras(*net, options.keras, KerasOptions{.channels_first = options.channels_first});
  else
    throw std::invalid_argument("this command needs trained weights: --weights FILE (typenet) "
                                "or --keras FILE (Keras .h5 or .keras)");
  return net;
}

// Class probabilities of one output row: the row itself after a Softmax head, else softmax(row)
// by the kernel a Softmax head runs.
template <class NetT>
void to_probabilities(float* row) {
  if constexpr (outputs_logits<NetT>) kernels::softmax_forward(row, 1, NetT::output_size);
}

template <class NetT>
auto compile_for(NetT& net, const Options& options) {
  return compile(net, Adam{}, loss_for<NetT>(), {.threads = options.threads, .seed = options.seed});
}

// The test-set pictures: predictions of the first 15, the confusion matrix and the most
// confident mistakes.
template <class NetT, class ModelT>
void write_test_pictures(ModelT& model, const Dataset& test, const fs::path& out) {
  std::vector<float> outputs = model.predict(test.images);
  std::vector<int> predicted(test.count), truth(test.labels.begin(), test.labels.end());
  std::vector<float> confidence(test.count);
  std::vector<std::size_t> confusion(100, 0);
  for (std::size_t i = 0; i < test.count; ++i) {
    float* row = outputs.data() + i * 10;
    to_probabilities<NetT>(row);
    predicted[i] = int(std::max_element(row, row + 10) - row);
    confidence[i] = row[predicted[i]];
    ++confusion[std::size_t(truth[i]) * 10 + std::size_t(predicted[i])];
  }
  const auto captions =
      vis::prediction_captions(std::span(predicted).first(15), std::span(truth).first(15));
  vis::plot_digit_grid(out / "test_predictions.png", std::span(test.images).first(15 * 784),
                       captions, 3, 5, "predicted / true");
  vis::plot_confusion_matrix(out / "confusion_matrix.png", confusion);
  std::vector<std::size_t> wrong;
  for (std::size_t i = 0; i < test.count; ++i)
    if (predicted[i] != truth[i]) wrong.push_back(i);
  std::sort(wrong.begin(), wrong.end(),
            [&](std::size_t a, std::size_t b) { return confidence[a] > confidence[b]; });
  wrong.resize(std::min<std::size_t>(wrong.size(), 20));
  std::vector<float> images;
  std::vector<int> wrong_truth, wrong_predicted;
  std::vector<float> wrong_confidence;
  for (const std::size_t i : wrong) {
    const auto image = test.image(i);
    images.insert(images.end(), image.begin(), image.end());
    wrong_truth.push_back(truth[i]);
    wrong_predicted.push_back(predicted[i]);
    wrong_confidence.push_back(confidence[i]);
  }
  if (!wrong.empty())
    vis::plot_misclassified(out / "misclassified.png", images, wrong_truth, wrong_predicted,
                            wrong_confidence, wrong.size());
  std::printf("Pictures: %s/{test_predictions,confusion_matrix%s}.png\n", out.c_str(),
              wrong.empty() ? "" : ",misclassified");
}

template <class NetT>
void train(const Options& options) {
  const MnistData data = load_data(options);
  auto net = std::make_unique<NetT>(options.seed);
  NetT::summary();
  auto model = compile_for(*net, options);
  fs::create_directories(options.out);
  ModelCheckpoint best(options.out / "best.tnet", {.monitor = "val_loss", .save_best_only = true});
  FitOptions<std::uint8_t> fit{.batch_size = options.batch_size,
                               .epochs = options.epochs,
                               .verbose = options.verbose,
                               .validation_split = options.validation_split,
                               .backup = options.out / "backup.ckpt",
                               .callbacks = {&best}};
  if (options.validation_split == 0) fit.validation_data = {data.test.images, data.test.labels};
  const History history = model.fit({data.train.images, data.train.labels}, fit);
  save(*net, options.out / "model.tnet");
  history.write_csv(options.out / "history.csv");
  history.write_json(options.out / "history.json");
  vis::plot_history(options.out / "history.png", history);
  std::printf(
      "Model: %s/model.tnet (best by val_loss: best.tnet); history: history.{csv,json,png}\n",
      options.out.c_str());
  write_test_pictures<NetT>(model, data.test, options.out);
  print_evaluation(model.evaluate({data.test.images, data.test.labels}));
}

template <class NetT>
void evaluate(const Options& options) {
  auto net = load_net<NetT>(options);  // first: a missing or bad weights file is told at once
  const MnistData data = load_data(options);
  auto model = compile_for(*net, options);
  fs::create_directories(options.out);
  write_test_pictures<NetT>(model, data.test, options.out);
  print_evaluation(model.evaluate({data.test.images, data.test.labels}));
}

template <class NetT>
void predict(const Options& options) {
  auto net = load_net<NetT>(options);
  vis::DigitOptions digit;
  digit.polarity = options.polarity == "yes"  ? vis::Polarity::invert
                   : options.polarity == "no" ? vis::Polarity::keep
                                              : vis::Polarity::automatic;
  int failures = 0;
  for (const std::string& file : options.files) {
    try {
      const vis::DigitPixels pixels = vis::load_digit(file, digit);
      auto probabilities = net->predict(pixels);
      to_probabilities<NetT>(probabilities.data());
      const auto best = std::size_t(std::max_element(probabilities.begin(), probabilities.end()) -
                                    probabilities.begin());
      std::printf("%s %zu %.4f [", file.c_str(), best, probabilities[best]);
      for (std::size_t k = 0; k < probabilities.size(); ++k)
        std::printf("%s%.4f", k ? " " : "", probabilities[k]);
      std::printf("]\n");
    } catch (const std::exception& error) {
      std::fprintf(stderr, "%s: error: %s\n", file.c_str(), error.what());
      ++failures;
    }
  }
  if (failures)
    throw std::runtime_error(std::to_string(failures) + " file(s) could not be classified");
}

void show(const Options& options) {
  const MnistData data = load_data(options);
  fs::create_directories(options.out);
  const std::vector<int> labels(data.train.labels.begin(), data.train.labels.begin() + 15);
  vis::plot_digit_grid(options.out / "digits.png", std::span(data.train.images).first(15 * 784),
                       vis::label_captions(labels), 3, 5, "MNIST training digits");
  const std::vector<std::size_t> counts = label_counts(data.train.labels, 10);
  vis::plot_label_distribution(options.out / "label_distribution.png", counts,
                               "MNIST training labels");
  for (std::size_t k = 0; k < 10; ++k) std::printf("label %zu: %zu images\n", k, counts[k]);
  std::printf("Pictures: %s/{digits,label_distribution}.png\n", options.out.c_str());
}

template <class NetT>
void featuremaps(const Options& options) {
  const MnistData data = load_data(options);
  auto net = load_net<NetT>(options);
  if (options.layer >= NetT::layer_count)
    throw std::invalid_argument("--layer " + std::to_string(options.layer) + ": the model has " +
                                std::to_string(NetT::layer_count) + " layers (0 to " +
                                std::to_string(NetT::layer_count - 1) + ")");
  const LayerInfo& layer = NetT::layer_infos[options.layer + 1];
  if (layer.out.rank != 3)
    throw std::invalid_argument("--layer " + std::to_string(options.layer) + " (" +
                                describe(layer) + ") has no feature maps: pick an image layer");
  const std::size_t samples = std::min(options.samples, data.test.count);
  if (options.channel >= layer.out.extent[2])
    throw std::invalid_argument("--channel must be below " + std::to_string(layer.out.extent[2]));
  std::vector<float> maps;
  for (std::size_t i = 0; i < samples; ++i) {
    net->predict(data.test.image(i));
    const auto values = net->layer_output(options.layer);
    maps.insert(maps.end(), values.begin(), values.end());
  }
  const vis::FeatureMaps view{maps, samples, layer.out.extent[0], layer.out.extent[1],
                              layer.out.extent[2]};
  fs::create_directories(options.out);
  const std::string name = keras_layer_name(NetT::layer_infos, options.layer + 1);
  vis::plot_feature_maps_of_channel(options.out / "feature_maps_channel.png", view, options.channel,
                                    samples, name + ", channel " + std::to_string(options.channel));
  vis::plot_feature_maps_of_sample(options.out / "feature_maps_sample.png", view, 0,
                                   name + ", test image 0");
  std::printf("Pictures: %s/feature_maps_{channel,sample}.png (%s)\n", options.out.c_str(),
              describe(layer).c_str());
}

void export_cpp(const Options& options) {
  const KerasOptions keras_options{.channels_first = options.channels_first};
  const std::string header =
      export_cpp_header(options.keras_file, options.type_name, keras_options);
  if (options.embed_weights) {
    if (options.header_out.empty())
      throw std::invalid_argument("--embed-weights writes two files: give --out DIR/NAME.hpp");
    const bool built_in =
        cli::with_architecture_of(options.keras_file, keras_options, [&](auto net) {
          write_embedded_cpp(options.header_out, options.type_name, header, net->parameters());
        });
    if (!built_in) throw std::runtime_error("not yet");
    return;
  }
  if (options.header_out.empty()) {
    std::fputs(header.c_str(), stdout);
    return;
  }
  io::write_file_atomically(options.header_out, std::as_bytes(std::span(header)));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("typenet: train, evaluate and use MNIST networks whose architecture is a C++ type");
  app.require_subcommand(1);
  Options options;

  auto add_model = [&](CLI::App* command) {
    command->add_option("--model", options.model, "Architecture: " + cli::model_names_text())
        ->capture_default_str()
        ->check(CLI::IsMember(cli::model_names()));
  };
  auto add_data = [&](CLI::App* command) {
    command->add_option("--data", options.data,
                        "Folder with the MNIST files (default: $TYPENET_DATA, then "
                        "~/.cache/typenet/mnist; scripts/fetch_mnist downloads them)");
  };
  auto add_out = [&](CLI::App* command) {
    command->add_option("--out", options.out, "Folder for the files written")
        ->capture_default_str();
  };
  auto add_weights = [&](CLI::App* command) {
    command->add_option("--weights", options.weights, "Trained weights, a typenet model file");
    command->add_option("--keras", options.keras, "Trained weights, a Keras .h5 or .keras file");
    command->add_flag("--channels-first", options.channels_first,
                      "The Keras model was trained with channels-first images");
  };
  auto add_threads = [&](CLI::App* command) {
    command->add_option("--threads", options.threads, "Worker threads (0: every core)")
        ->capture_default_str();
    command->add_option("--seed", options.seed, "Seed of initialisation, shuffling and dropout")
        ->capture_default_str();
  };

  CLI::App* summary = app.add_subcommand("summary", "Print the Keras summary of an architecture");
  add_model(summary);

  CLI::App* train_command = app.add_subcommand(
      "train", "Train on MNIST (downloaded if needed), keep the best checkpoint, write the "
               "history and its plot, evaluate on the test set");
  add_model(train_command);
  add_data(train_command);
  add_out(train_command);
  add_threads(train_command);
  train_command->add_option("--epochs", options.epochs, "Training epochs")->capture_default_str();
  train_command->add_option("--batch-size", options.batch_size, "Samples per optimizer step")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  train_command
      ->add_option("--validation-split", options.validation_split,
                   "Hold out this last fraction of the training set (0: validate on the test set)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.9));
  train_command
      ->add_option("--verbose", options.verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->capture_default_str()
      ->check(CLI::Range(0, 2));

  CLI::App* evaluate_command = app.add_subcommand(
      "evaluate",
      "Test loss and accuracy of trained weights; confusion matrix and mistakes as pictures");
  add_model(evaluate_command);
  add_weights(evaluate_command);
  add_data(evaluate_command);
  add_out(evaluate_command);
  add_threads(evaluate_command);

  CLI::App* predict_command = app.add_subcommand(
      "predict", "Classify PNG or JPEG pictures of digits: one line per file with the path, the "
                 "predicted class, its probability and the ten probabilities");
  add_model(predict_command);
  add_weights(predict_command);
  predict_command
      ->add_option("--invert", options.polarity,
                   "auto: invert dark-on-light pictures (MNIST is light-on-dark); "
                   "yes: always; no: never")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "yes", "no"}));
  predict_command->add_option("files", options.files, "Image files")->required();

  CLI::App* show_command =
      app.add_subcommand("show", "Pictures of the data: a digit grid and the label distribution");
  add_data(show_command);
  add_out(show_command);

  CLI::App* featuremaps_command = app.add_subcommand(
      "featuremaps", "Pictures of a layer's outputs: one channel over many test images, and every "
                     "channel of one");
  add_model(featuremaps_command);
  add_weights(featuremaps_command);
  add_data(featuremaps_command);
  add_out(featuremaps_command);
  featuremaps_command->add_option("--layer", options.layer, "Layer index, 0 = first after Input")
      ->capture_default_str();
  featuremaps_command->add_option("--samples", options.samples, "Test images in the mosaic")
      ->capture_default_str()
      ->check(CLI::Range(1, 400));
  featuremaps_command->add_option("--channel", options.channel, "Channel shown across images")
      ->capture_default_str();

  CLI::App* export_command = app.add_subcommand(
      "export-cpp", "Write the C++ header declaring a Keras model file's architecture as a typenet "
                    "Net type, which load_keras fills with the file's weights");
  export_command->add_option("model_file", options.keras_file, "Keras full model, .h5 or .keras")
      ->required();
  export_command->add_option("--name", options.type_name, "Name of the Net type")
      ->capture_default_str();
  export_command->add_option("--out", options.header_out,
                             "Header written (replaced atomically); default: standard output");
  export_command->add_flag("--embed-weights", options.embed_weights,
                           "Also write NAME_parameters.cpp beside the header with the file's "
                           "weights, and declare NAME_net, a predictor that reads them in place");
  export_command->add_flag("--channels-first", options.channels_first,
                           "The model was built channels-first by a Keras that does not say so "
                           "in the file");

  CLI11_PARSE(app, argc, argv);
  try {
    if (summary->parsed())
      with_model(options.model, [](auto tag) { decltype(tag)::type::summary(); });
    else if (train_command->parsed())
      with_model(options.model, [&](auto tag) { train<typename decltype(tag)::type>(options); });
    else if (evaluate_command->parsed())
      with_model(options.model, [&](auto tag) { evaluate<typename decltype(tag)::type>(options); });
    else if (predict_command->parsed())
      with_model(options.model, [&](auto tag) { predict<typename decltype(tag)::type>(options); });
    else if (show_command->parsed()) show(options);
    else if (featuremaps_command->parsed())
      with_model(options.model,
                 [&](auto tag) { featuremaps<typename decltype(tag)::type>(options); });
    else if (export_command->parsed()) export_cpp(options);
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "typenet: error: %s\n", error.what());
    return 1;
  }
}
