// The typenet tool's command line and its commands on one Net type, shared by the tool (over its
// built-in architectures) and by the predictors it compiles for other model files (cli/
// predictor.cpp in the sources: a main that includes the file's generated type header and this).
//
//   typenet summary  --model cnn
//   typenet train    --model cnn --epochs 5 --out run/      (checkpoint, history, plots)
//   typenet evaluate --keras model.h5                       (any architecture export-cpp spells)
//   typenet predict  --keras model.h5 digit.png photo.jpg
//   typenet show     --out pictures/                        (digit grid, label distribution)
//   typenet featuremaps --model cnn --weights run/model.tnet --layer 0
//   typenet export-cpp model.h5 --name MnistCnn --out mnist_cnn.hpp   (the file's Net type)
//   typenet quantize --model cnn --weights run/model.tnet --out run/model.int8.tnet
#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "typenet/data/categorical.hpp"
#include "typenet/data/mnist.hpp"
#include "typenet/io/atomic_write.hpp"
#include "typenet/io/export_cpp.hpp"
#include "typenet/cli/recipe.hpp"
#include "typenet/io/keras.hpp"
#include "typenet/typenet.hpp"
#include "typenet/vis/vis.hpp"

namespace typenet::cli {

namespace fs = std::filesystem;

enum class Command { Summary, Train, Evaluate, Predict, Show, Featuremaps, ExportCpp, Quantize };

struct Options {
  std::string model = "cnn";
  bool model_given = false;  // --model on the command line: the built-in architecture, always
  std::string weights, keras;
  std::string data;
  fs::path out = "typenet-out";
  std::size_t epochs = 0, batch_size = 128, threads = 0;  // epochs 0: the model's recipe
  std::uint64_t seed = 1;
  int verbose = 1;
  std::optional<double> validation_split;  // none: the model's recipe
  // auto, float32 or mixed_bfloat16; empty: auto for train, float32 (the weights' own
  // arithmetic, as Keras computes a saved model) for evaluate and quantize.
  std::string precision;
  std::vector<std::string> files;
  std::string polarity = "auto";
  bool channels_first = false;
  // What one pixel of ink is worth in the model's input: 1 (MNIST's x / 255) or 255 (raw pixel
  // values, for models that rescale them first); 0: 255 when the model starts with Rescaling.
  int input_scale = 0;
  std::size_t layer = 0, samples = 64, channel = 0;
  std::string model_file, type_name = "KerasModel", header_out;
  bool embed_weights = false;
  // quantize: the file written, the training images calibrating it and how.
  fs::path quantized_out;
  std::size_t calibration = 500;
  std::string calibration_method = "minmax";

  KerasOptions keras_options() const { return {.channels_first = channels_first}; }
  // The trained model file the command reads: --weights, --keras or export-cpp's argument.
  std::string trained_file() const {
    return !model_file.empty() ? model_file : !weights.empty() ? weights : keras;
  }
};

// Whether `path` starts as a typenet model file does (else it is taken for a Keras file).
inline bool is_typenet_file(const fs::path& path) {
  char magic[8]{};
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return false;
  const bool typenet = std::fread(magic, 1, sizeof magic, file) == sizeof magic &&
                       std::string_view(magic, sizeof magic) == std::string_view("TYPENET\0", 8);
  std::fclose(file);
  return typenet;
}

inline MnistData load_data(const Options& options) {
  LoadOptions load;
  load.directory = options.data;
  return load_mnist(load);
}

// Before a Net of a model file's architecture is allocated: a damaged or hostile file can spell
// a huge one. The tool runs models whose parameters and a batch of 128 images' activations fit
// in 1 GiB, and whose file can hold their parameters (4 bytes each, or 16 times less where
// compressed).
template <class NetT>
void check_model_size(const fs::path& file) {
  constexpr std::uint64_t limit = std::uint64_t{1} << 30;
  constexpr std::uint64_t need = sizeof(NetT) + 128 * std::uint64_t{NetT::activation_bytes};
  if (need > limit)
    throw std::invalid_argument(file.string() + ": its architecture needs " +
                                std::to_string(need >> 20) +
                                " MiB for its parameters and a batch of activations, over the "
                                "tool's 1024 MiB: the file is damaged or hostile");
  std::error_code error;
  const std::uint64_t size = fs::file_size(file, error);
  if (!error && NetT::param_bytes > 16 * size)
    throw std::invalid_argument(file.string() + " (" + std::to_string(size) +
                                " bytes) cannot hold the " + std::to_string(NetT::param_count) +
                                " parameters of its architecture: the file is damaged or hostile");
}

template <class NetT>
std::unique_ptr<NetT> load_net(const Options& options) {
  check_model_size<NetT>(options.weights.empty() ? options.keras : options.weights);
  auto net = std::make_unique<NetT>(options.seed);
  if (!options.weights.empty() && !options.keras.empty())
    throw std::invalid_argument("give --weights or --keras, not both");
  if (!options.weights.empty()) load(*net, options.weights);
  else if (!options.keras.empty()) load_keras(*net, options.keras, options.keras_options());
  else
    throw std::invalid_argument("this command needs trained weights: --weights FILE (typenet) "
                                "or --keras FILE (Keras .h5 or .keras)");
  return net;
}

// An MNIST digit (28 x 28, [0, 1]) as NetT's input: scaled by --input-scale, centred with zero
// padding in a larger image or resized to a smaller one (vis::resize), its grey repeated over
// the channels; a flat input takes the 784 pixels as they are.
template <class NetT>
class DigitAdapter {
 public:
  explicit DigitAdapter(const Options& options) : scale_(float(scale_of(options))) {
    constexpr Dims dims = NetT::input_shape_type::dims;
    if constexpr (dims.rank == 1) {
      if (NetT::input_size != vis::kDigitSide * vis::kDigitSide)
        throw std::invalid_argument("the model takes " + std::to_string(NetT::input_size) +
                                    " flat inputs; an MNIST digit is 784 pixels (28 x 28)");
    }
  }

  std::vector<float> operator()(std::span<const float> digit) const {
    constexpr Dims dims = NetT::input_shape_type::dims;
    constexpr std::size_t side = vis::kDigitSide;
    std::vector<float> input(NetT::input_size, 0.0f);
    if constexpr (dims.rank == 1) {
      std::transform(digit.begin(), digit.end(), input.begin(),
                     [&](float v) { return v * scale_; });
    } else {
      const std::size_t height = dims.extent[0], width = dims.extent[1];
      const std::size_t channels = dims.rank == 3 ? dims.extent[2] : 1;
      vis::GrayImage image{side, side, std::vector<float>(digit.begin(), digit.end())};
      std::size_t top = 0, left = 0;
      if (height >= side && width >= side) {
        top = (height - side) / 2;
        left = (width - side) / 2;
      } else {
        image = vis::resize(image, width, height);
      }
      for (std::size_t y = 0; y < image.height; ++y)
        for (std::size_t x = 0; x < image.width; ++x)
          for (std::size_t c = 0; c < channels; ++c)
            input[((top + y) * width + left + x) * channels + c] = image.at(x, y) * scale_;
    }
    return input;
  }
  // Every image of a data set of digits.
  std::vector<float> all(const Dataset& digits) const {
    std::vector<float> inputs;
    inputs.reserve(digits.count * NetT::input_size);
    for (std::size_t i = 0; i < digits.count; ++i) {
      const std::vector<float> input = (*this)(digits.image(i));
      inputs.insert(inputs.end(), input.begin(), input.end());
    }
    return inputs;
  }

 private:
  static int scale_of(const Options& options) {
    if (options.input_scale != 0) return options.input_scale;
    return NetT::layer_infos[1].type == "Rescaling" ? 255 : 1;
  }
  float scale_;
};

template <class NetT>
void check_mnist_classes() {
  if (NetT::output_size != 10)
    throw std::invalid_argument("the model gives " + std::to_string(NetT::output_size) +
                                " outputs; MNIST has 10 classes");
}

// Class probabilities of one output row: the row itself after a Softmax head, else softmax(row)
// by the kernel a Softmax head runs.
template <class NetT>
void to_probabilities(float* row) {
  if constexpr (outputs_logits<NetT>) kernels::softmax_forward(row, 1, NetT::output_size);
}

inline ModelOptions model_options(const Options& options, Precision fallback) {
  return {.threads = options.threads,
          .seed = options.seed,
          .precision = options.precision.empty() ? fallback : parse_precision(options.precision)};
}

// A model that evaluates and predicts trained weights.
template <class NetT>
auto compile_for(NetT& net, const Options& options) {
  return compile(net, Adam{}, loss_for<NetT>(), model_options(options, Precision::Float32));
}

// The test-set pictures: predictions of the first 15, the confusion matrix and the most
// confident mistakes. `inputs` are the test digits as the model takes them.
template <class NetT, class ModelT>
void write_test_pictures(ModelT& model, const Dataset& test, std::span<const float> inputs,
                         const fs::path& out) {
  std::vector<float> outputs = model.predict(inputs);
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
  const TrainingRecipe& recipe = training_recipe<NetT>;
  const MnistData data = load_data(options);
  auto net = std::make_unique<NetT>(options.seed);
  NetT::summary();
  const std::size_t epochs = options.epochs ? options.epochs : recipe.epochs;
  const double split = options.validation_split.value_or(recipe.validation_split);
  auto model = compile(*net, recipe.optimizer(data.train.count, options.batch_size, epochs, split),
                       loss_for<NetT>(), model_options(options, Precision::Auto));
  fs::create_directories(options.out);
  ModelCheckpoint best(options.out / "best.tnet", {.monitor = "val_loss", .save_best_only = true});
  std::optional<EarlyStopping> stop;
  if (recipe.early_stopping) stop.emplace(*recipe.early_stopping);
  FitOptions<std::uint8_t> fit{.batch_size = options.batch_size,
                               .epochs = epochs,
                               .verbose = options.verbose,
                               .validation_split = split,
                               .backup = options.out / "backup.ckpt",
                               .augment = recipe.augment,
                               .callbacks = {&best}};
  if (stop) fit.callbacks.push_back(&*stop);
  if (split == 0) fit.validation_data = {data.test.images, data.test.labels};
  const History history = model.fit({data.train.images, data.train.labels}, fit);
  save(*net, options.out / "model.tnet");
  history.write_csv(options.out / "history.csv");
  history.write_json(options.out / "history.json");
  vis::plot_history(options.out / "history.png", history);
  std::printf(
      "Model: %s/model.tnet (best by val_loss: best.tnet); history: history.{csv,json,png}\n",
      options.out.c_str());
  write_test_pictures<NetT>(model, data.test, data.test.images, options.out);
  print_evaluation(history, model.evaluate({data.test.images, data.test.labels}));
}

template <class NetT>
void evaluate(const Options& options) {
  check_mnist_classes<NetT>();
  auto net = load_net<NetT>(options);  // first: a missing or bad weights file is told at once
  const DigitAdapter<NetT> adapt(options);
  const MnistData data = load_data(options);
  const std::vector<float> inputs = adapt.all(data.test);
  auto model = compile_for(*net, options);
  fs::create_directories(options.out);
  write_test_pictures<NetT>(model, data.test, inputs, options.out);
  print_evaluation(model.evaluate({inputs, data.test.labels}));
}

template <class NetT>
void predict(const Options& options) {
  auto net = load_net<NetT>(options);
  const DigitAdapter<NetT> adapt(options);
  vis::DigitOptions digit;
  digit.polarity = options.polarity == "yes"  ? vis::Polarity::invert
                   : options.polarity == "no" ? vis::Polarity::keep
                                              : vis::Polarity::automatic;
  int failures = 0;
  for (const std::string& file : options.files) {
    try {
      const vis::DigitPixels pixels = vis::load_digit(file, digit);
      auto probabilities = net->predict(adapt(pixels));
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

inline void show(const Options& options) {
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
  const DigitAdapter<NetT> adapt(options);
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
    net->predict(adapt(data.test.image(i)));
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

// The fraction of the test images whose largest output is their label.
inline double accuracy(std::span<const float> outputs, const Dataset& test) {
  const std::size_t classes = outputs.size() / test.count;
  std::size_t correct = 0;
  for (std::size_t i = 0; i < test.count; ++i) {
    const float* row = outputs.data() + i * classes;
    correct += std::size_t(std::max_element(row, row + classes) - row) == test.labels[i];
  }
  return double(correct) / double(test.count);
}

// quantize: the model's 8-bit net (quantized.hpp) calibrated on the first --calibration training
// images, saved to --out; prints the test accuracy of both nets and the sizes of their files
// (the float one as `typenet::save` writes it).
template <class NetT>
void quantize_model(const Options& options) {
  check_mnist_classes<NetT>();
  auto net = load_net<NetT>(options);
  const DigitAdapter<NetT> adapt(options);
  const MnistData data = load_data(options);
  if (options.calibration > data.train.count)
    throw std::invalid_argument("--calibration " + std::to_string(options.calibration) +
                                ": the training set has " + std::to_string(data.train.count) +
                                " images");
  std::vector<float> calibration;
  for (std::size_t i = 0; i < options.calibration; ++i) {
    const std::vector<float> input = adapt(data.train.image(i));
    calibration.insert(calibration.end(), input.begin(), input.end());
  }
  const QuantizeOptions how{.method = options.calibration_method == "percentile"
                                          ? CalibrationMethod::Percentile
                                          : CalibrationMethod::MinMax};
  Quantized<NetT> quantized = quantize(*net, calibration, how);
  save(quantized, options.quantized_out);

  const std::vector<float> inputs = adapt.all(data.test);
  std::vector<float> outputs(data.test.count * NetT::output_size);
  compile_for(*net, options).predict(inputs, outputs);
  const double float_accuracy = accuracy(outputs, data.test);
  ThreadPool pool(options.threads);
  quantized.predict(inputs, outputs, pool);
  std::printf("quantize_accuracy float=%.4f int8=%.4f float_bytes=%llu int8_bytes=%llu\n",
              float_accuracy, accuracy(outputs, data.test),
              static_cast<unsigned long long>(
                  io::parameters_file_size(NetT::layer_infos, net->parameters())),
              static_cast<unsigned long long>(fs::file_size(options.quantized_out)));
}

// The header of the model file's Net type (export-cpp without --embed-weights needs no Net).
inline std::string model_type_header(const Options& options, std::string_view net_type_of_tnet) {
  if (is_typenet_file(options.model_file))
    return net_type_header(options.type_name, net_type_of_tnet,
                           "the architecture of the typenet model file " +
                               fs::path(options.model_file).filename().string() +
                               ", written by `typenet export-cpp`");
  return export_cpp_header(options.model_file, options.type_name, options.keras_options());
}

// export-cpp --embed-weights: the file's weights loaded into NetT, written with its type header.
template <class NetT>
void export_embedded(const Options& options) {
  if (options.header_out.empty())
    throw std::invalid_argument("--embed-weights writes two files: give --out DIR/NAME.hpp");
  Options loading = options;
  (is_typenet_file(options.model_file) ? loading.weights : loading.keras) = options.model_file;
  const auto net = load_net<NetT>(loading);
  write_embedded_cpp(options.header_out, options.type_name,
                     model_type_header(options, cpp_type(NetT::layer_infos)), net->parameters());
}

// The commands that take a trained model file (all but train and show), on NetT.
template <class NetT>
void run_on_model(Command command, const Options& options) {
  switch (command) {
    case Command::Summary: NetT::summary(); break;
    case Command::Evaluate: evaluate<NetT>(options); break;
    case Command::Predict: predict<NetT>(options); break;
    case Command::Featuremaps: featuremaps<NetT>(options); break;
    case Command::ExportCpp: export_embedded<NetT>(options); break;
    case Command::Quantize: quantize_model<NetT>(options); break;
    case Command::Train:
    case Command::Show: throw std::logic_error("run_on_model: not a model file's command");
  }
}

// Parses the command line and calls dispatch(command, options); returns main's exit status. An
// exception becomes "typenet: error: <what>" and status 1. `model_names` are --model's choices.
template <class Dispatch>
int run(int argc, char** argv, const std::vector<std::string>& model_names, Dispatch&& dispatch) {
  CLI::App app("typenet: train, evaluate and use MNIST networks whose architecture is a C++ type");
  app.require_subcommand(1);
  Options options;
  std::vector<CLI::Option*> model_options;
  std::string model_help = "Architecture: ";
  for (std::size_t i = 0; i < model_names.size(); ++i)
    model_help += (i == 0 ? "" : i + 1 < model_names.size() ? ", " : " or ") + model_names[i];

  auto add_model = [&](CLI::App* command, std::string_view when) {
    model_options.push_back(
        command->add_option("--model", options.model, model_help + std::string(when))
            ->capture_default_str()
            ->check(CLI::IsMember(model_names)));
  };
  constexpr std::string_view file_model =
      " (default: the architecture of the --weights or --keras file)";
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
    command
        ->add_option("--input-scale", options.input_scale,
                     "Input value of full ink: 1 (pixels / 255) or 255 (raw pixels); default: "
                     "255 when the model starts with Rescaling, else 1")
        ->check(CLI::IsMember({1, 255}));
  };
  auto add_threads = [&](CLI::App* command) {
    command->add_option("--threads", options.threads, "Worker threads (0: every core)")
        ->capture_default_str();
    command->add_option("--seed", options.seed, "Seed of initialisation, shuffling and dropout")
        ->capture_default_str();
    command
        ->add_option("--precision", options.precision,
                     "Arithmetic of the Conv and Dense products: float32, mixed_bfloat16 or auto "
                     "(mixed_bfloat16 where the CPU has AMX or is an AMD Zen 4); default: auto "
                     "to train, float32 to evaluate")
        ->check(CLI::IsMember({"auto", "float32", "mixed_bfloat16"}));
  };

  CLI::App* summary = app.add_subcommand("summary", "Print the Keras summary of an architecture");
  add_model(summary, "");

  CLI::App* train_command = app.add_subcommand(
      "train", "Train on MNIST (downloaded if needed), keep the best checkpoint, write the "
               "history and its plot, evaluate on the test set");
  add_model(train_command, "");
  add_data(train_command);
  add_out(train_command);
  add_threads(train_command);
  train_command->add_option("--epochs", options.epochs,
                            "Training epochs (default: the model's recipe: 5; best: 30)");
  train_command->add_option("--batch-size", options.batch_size, "Samples per optimizer step")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  train_command
      ->add_option("--validation-split", options.validation_split,
                   "Hold out this last fraction of the training set (0: validate on the test "
                   "set; default: the model's recipe: 0; best: 0.1)")
      ->check(CLI::Range(0.0, 0.9));
  train_command
      ->add_option("--verbose", options.verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->capture_default_str()
      ->check(CLI::Range(0, 2));

  CLI::App* evaluate_command = app.add_subcommand(
      "evaluate",
      "Test loss and accuracy of trained weights; confusion matrix and mistakes as pictures");
  add_model(evaluate_command, file_model);
  add_weights(evaluate_command);
  add_data(evaluate_command);
  add_out(evaluate_command);
  add_threads(evaluate_command);

  CLI::App* predict_command = app.add_subcommand(
      "predict", "Classify PNG or JPEG pictures of digits: one line per file with the path, the "
                 "predicted class, its probability and the ten probabilities");
  add_model(predict_command, file_model);
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
  add_model(featuremaps_command, file_model);
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
      "export-cpp", "Write the C++ header declaring a model file's architecture as a typenet Net "
                    "type; with --embed-weights also its weights and a ready predictor");
  export_command
      ->add_option("model_file", options.model_file,
                   "Keras full model (.h5 or .keras) or typenet model file")
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

  CLI::App* quantize_command = app.add_subcommand(
      "quantize", "Quantize trained weights to an 8-bit net (int8 weights, uint8 activations "
                  "calibrated on training images), save it, and print the test accuracy of both "
                  "nets and the sizes of their files");
  add_model(quantize_command, file_model);
  add_weights(quantize_command);
  add_data(quantize_command);
  add_threads(quantize_command);
  quantize_command->add_option("--out", options.quantized_out, "The quantized model file written")
      ->required();
  quantize_command
      ->add_option("--calibration", options.calibration,
                   "Calibrate on this many first training images")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  quantize_command
      ->add_option("--calibration-method", options.calibration_method,
                   "Each tensor's range: minmax over the calibration images, or percentile "
                   "(the 0.01th to 99.99th percentiles, clipping outliers)")
      ->capture_default_str()
      ->check(CLI::IsMember({"minmax", "percentile"}));

  CLI11_PARSE(app, argc, argv);
  options.model_given = std::ranges::any_of(
      model_options, [](const CLI::Option* option) { return option->count() > 0; });
  const std::pair<CLI::App*, Command> commands[] = {
      {summary, Command::Summary},           {train_command, Command::Train},
      {evaluate_command, Command::Evaluate}, {predict_command, Command::Predict},
      {show_command, Command::Show},         {featuremaps_command, Command::Featuremaps},
      {export_command, Command::ExportCpp},  {quantize_command, Command::Quantize}};
  try {
    for (const auto& [subcommand, command] : commands)
      if (subcommand->parsed()) dispatch(command, options);
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "typenet: error: %s\n", error.what());
    return 1;
  }
}

}  // namespace typenet::cli
