// Model: a Net compiled with an optimizer and a loss, as Keras' model.compile(...), with fit,
// evaluate, predict and predict_classes.
//
//   auto model = compile<SeedCnn>(Adam{}, CategoricalCrossentropy{}, {.threads = 2, .seed = 1});
//   History history = model.fit({x_train, y_train}, {.batch_size = 128, .epochs = 5,
//                                                    .validation_data = {x_test, y_test}});
//   Evaluation result = model.evaluate({x_test, y_test});
//   std::array<float, 10> p = model.net().predict(image);
//
// compile(net, ...) trains a Net of the caller's instead, which must outlive the model. The
// passes through the Net run on a StepEngine (train/step_engine.hpp); the optimizer's state
// (train/optimizer_state.hpp) is allocated by the first training step or checkpoint loaded, so a
// model that only evaluates and predicts costs none.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "typenet/io/save_load.hpp"
#include "typenet/net.hpp"
#include "typenet/random.hpp"
#include "typenet/train/callbacks.hpp"
#include "typenet/train/history.hpp"
#include "typenet/train/losses.hpp"
#include "typenet/train/optimizer_state.hpp"
#include "typenet/train/options.hpp"
#include "typenet/train/progress.hpp"
#include "typenet/train/step_engine.hpp"

namespace typenet {

template <class NetT, class Optimizer, CrossEntropyLoss Loss,
          std::size_t Chunk = default_chunk<NetT>>
class Model final : public TrainingControl {
 public:
  using target_type = typename Loss::target_type;
  using samples = Samples<target_type>;
  static constexpr std::size_t classes = NetT::output_size;
  static constexpr std::size_t target_width = Loss::target_width(classes);

  // Trains `net`, which must outlive the model.
  Model(NetT& net, Optimizer optimizer, Loss loss, ModelOptions options = {})
      : net_(net), seed_(options.seed),
        engine_(loss, options.threads, options.precision, options.convolution),
        optimizer_state_(optimizer) {
    if (loss.from_logits && NetT::last_activation::kind == ActivationKind::Softmax)
      throw std::invalid_argument(
          "typenet: the loss expects logits (from_logits = true) but the Net ends in Softmax: "
          "end it in a linear Dense, or use from_logits = false");
  }
  // Trains a Net of its own.
  Model(std::unique_ptr<NetT> net, Optimizer optimizer, Loss loss, ModelOptions options = {})
      : Model(not_null(net), optimizer, loss, options) {
    owned_net_ = std::move(net);
  }

  NetT& net() { return net_; }
  std::size_t threads() const { return engine_.threads(); }
  // Float32 or MixedBfloat16: ModelOptions::precision as this CPU resolved it.
  Precision precision() const { return engine_.precision(); }
  std::uint64_t optimizer_steps() const { return optimizer_state_.steps(); }
  // Optimizer state, for checkpoints: one span per slot ("m", "v", ...). Allocates the state.
  CheckpointExtras checkpoint_extras() { return optimizer_state_.checkpoint_extras(); }

  // A training checkpoint: parameters, optimizer state, step and learning rate, epochs done, the
  // history.
  void save_checkpoint(const std::filesystem::path& path, std::uint64_t epochs_done,
                       const History& history = {}) {
    CheckpointExtras extras = checkpoint_extras();
    extras.epoch = epochs_done;
    extras.text = history.to_csv();
    typenet::save_checkpoint(path, net_, extras);
  }
  // Restores a checkpoint written by save_checkpoint (nothing changes if it fails); returns the
  // epochs done and the history so far.
  std::pair<std::uint64_t, History> load_checkpoint(const std::filesystem::path& path) {
    const std::vector<float> params_before(net_.parameters().begin(), net_.parameters().end());
    OptimizerState<NetT, Optimizer> state_before = optimizer_state_;
    try {
      CheckpointExtras extras = checkpoint_extras();
      typenet::load_checkpoint(path, net_, extras);
      History history = History::from_csv(extras.text, path.string());
      optimizer_state_.resume_after(extras);
      return {extras.epoch, std::move(history)};
    } catch (...) {
      std::copy(params_before.begin(), params_before.end(), net_.parameters().begin());
      optimizer_state_ = std::move(state_before);
      throw;
    }
  }

  // One optimizer step on `count` samples picked by `indices` from data (mean loss gradient).
  // Returns the batch's loss and accuracy.
  Evaluation train_on_batch(const samples& data, std::span<const std::uint32_t> indices) {
    return train_on_batch(data, indices, nullptr);
  }

  History fit(const samples& data, const FitOptions<target_type>& options = {}) {
    static_assert(NetT::trains,
                  "typenet: fit: this Net has a layer that cannot train yet (an inference-only "
                  "layer such as LSTM or Residual): load trained weights with load_keras and use "
                  "predict or evaluate");
    check(data, "fit");
    if (options.batch_size == 0 || options.validation_split < 0 || options.validation_split >= 1)
      throw std::invalid_argument(
          "typenet: fit needs batch_size > 0 and 0 <= validation_split < 1");
    samples train = data, validation{};
    bool validate = false;
    if (!options.validation_data.empty()) {
      check(options.validation_data, "fit (validation data)");
      validation = options.validation_data;
      validate = true;
    } else if (options.validation_split > 0) {
      const std::size_t total = count_of(data);
      const auto kept = std::size_t(std::floor(double(total) * (1.0 - options.validation_split)));
      train = slice(data, 0, kept);
      validation = slice(data, kept, total);
      validate = count_of(validation) > 0;
    }
    const std::size_t count = count_of(train);
    if (count == 0) throw std::invalid_argument("typenet: fit needs at least one training sample");
    engine_.check_batch_fits(std::min(options.batch_size, count));
    if (!options.augment.empty()) {
      if (NetT::input_shape_type::rank != 3)
        throw std::invalid_argument("typenet: fit: augment needs an image input (height, width, "
                                    "channels); this Net's input is (" +
                                    to_string(NetT::input_shape_type::dims) + ")");
      check_augmentations(options.augment);
    }
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::uint32_t> order(count);
    std::iota(order.begin(), order.end(), 0u);
    const std::size_t steps = (count + options.batch_size - 1) / options.batch_size;
    Progress progress(*options.out, options.verbose,
                      options.out == &std::cout && stdout_is_terminal());
    History history;
    std::size_t first_epoch = options.initial_epoch;
    if (!options.backup.empty() && std::filesystem::exists(options.backup)) {
      auto [epochs_done, so_far] = load_checkpoint(options.backup);
      first_epoch = epochs_done;
      history = std::move(so_far);
      if (options.verbose > 0)
        *options.out << "Resuming from " << options.backup.string() << " after epoch "
                     << epochs_done << "\n";
    }
    reset_stop();
    out_ = options.out;
    // As Keras, the history and the progress line show the rate when it may change.
    const bool record_learning_rate =
        optimizer_state_.learning_rate_scheduled() || history.has("learning_rate") ||
        std::ranges::any_of(options.callbacks, [](const Callback* callback) {
          return callback->changes_learning_rate();
        });
    for (Callback* callback : options.callbacks) callback->on_train_begin(*this);
    for (std::size_t epoch = first_epoch; epoch < options.epochs && !stop_requested(); ++epoch) {
      for (Callback* callback : options.callbacks) callback->on_epoch_begin(epoch, *this);
      // The order of an epoch depends on the seed and the epoch's number alone, so a resumed
      // run sees the same batches as an unbroken one.
      if (options.shuffle) {
        std::iota(order.begin(), order.end(), 0u);
        shuffle(order, Rng::stream(seed_, 0x5f01e, epoch));
      }
      progress.epoch_begin(epoch, options.epochs, steps);
      BatchAugmentation augmentation{options.augment, Rng::stream(seed_, 0xa09e, epoch).next()};
      double loss_sum = 0;
      std::size_t correct = 0;
      for (std::size_t step = 0; step < steps; ++step) {
        const std::size_t first = step * options.batch_size;
        const std::size_t n = std::min(options.batch_size, count - first);
        augmentation.first = first;
        const Evaluation batch = train_on_batch(train, std::span(order).subspan(first, n),
                                                options.augment.empty() ? nullptr : &augmentation);
        loss_sum += batch.loss * double(n);
        correct += batch.correct;
        progress.step_end(step + 1, loss_sum / double(first + n),
                          double(correct) / double(first + n));
      }
      history.record("loss", loss_sum / double(count));
      history.record("accuracy", double(correct) / double(count));
      if (validate) {
        const Evaluation result = evaluate(validation);
        history.record("val_loss", result.loss);
        history.record("val_accuracy", result.accuracy);
      }
      if (record_learning_rate) history.record("learning_rate", learning_rate());
      progress.epoch_end(history);
      for (Callback* callback : options.callbacks) callback->on_epoch_end(epoch, history, *this);
      if (!options.backup.empty()) save_checkpoint(options.backup, epoch + 1, history);
    }
    for (Callback* callback : options.callbacks) callback->on_train_end(*this);
    if (!options.backup.empty()) std::filesystem::remove(options.backup);
    history.set_seconds(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return history;
  }

  // Mean loss and accuracy over data, inference mode (no dropout), every core.
  Evaluation evaluate(const samples& data) {
    check(data, "evaluate");
    return engine_.evaluate(net_.parameters().data(), data);
  }

  // Outputs (probabilities for a Softmax head) for every image, every core: images split
  // between the threads, or each image split between them when there are fewer images.
  void predict(std::span<const float> images, std::span<float> outputs) {
    const std::size_t count = images.size() / NetT::input_size;
    if (images.size() != count * NetT::input_size || outputs.size() != count * classes)
      throw std::invalid_argument("typenet: predict needs " + std::to_string(NetT::input_size) +
                                  " floats per image and " + std::to_string(classes) +
                                  " outputs per image; got " + std::to_string(images.size()) +
                                  " and " + std::to_string(outputs.size()));
    if (count < engine_.threads()) {  // too few images to go round: the threads share each one
      for (std::size_t i = 0; i < count; ++i) {
        const auto output =
            net_.predict(images.subspan(i * NetT::input_size, NetT::input_size), engine_.pool());
        std::copy(output.begin(), output.end(), outputs.begin() + i * classes);
      }
      return;
    }
    engine_.predict(net_.parameters().data(), images, outputs);
  }
  std::vector<float> predict(std::span<const float> images) {
    std::vector<float> outputs(images.size() / NetT::input_size * classes);
    predict(images, outputs);
    return outputs;
  }
  std::vector<std::uint8_t> predict_classes(std::span<const float> images) {
    const std::vector<float> outputs = predict(images);
    std::vector<std::uint8_t> predicted(outputs.size() / classes);
    for (std::size_t i = 0; i < predicted.size(); ++i) {
      const float* row = outputs.data() + i * classes;
      predicted[i] = std::uint8_t(std::max_element(row, row + classes) - row);
    }
    return predicted;
  }

  // TrainingControl, for callbacks.
  void save(const std::filesystem::path& path) const override { typenet::save(net_, path); }
  std::span<const float> weights() const override { return net_.parameters(); }
  void set_weights(std::span<const float> weights) override {
    if (weights.size() != NetT::param_count)
      throw std::invalid_argument("typenet: set_weights needs " +
                                  std::to_string(NetT::param_count) + " floats, got " +
                                  std::to_string(weights.size()));
    std::copy(weights.begin(), weights.end(), net_.parameters().begin());
  }
  float learning_rate() const override { return optimizer_state_.learning_rate(); }
  void set_learning_rate(float rate) override { optimizer_state_.set_learning_rate(rate); }

 private:
  Evaluation train_on_batch(const samples& data, std::span<const std::uint32_t> indices,
                            const BatchAugmentation* augmentation) {
    static_assert(NetT::trains,
                  "typenet: this Net has a layer that cannot train yet (an inference-only layer "
                  "such as LSTM or Residual): load trained weights with load_keras and use "
                  "predict or evaluate");
    check_batch(data, indices);
    const std::uint64_t step_seed = Rng::stream(seed_, 0x5eed, optimizer_state_.steps()).next();
    return engine_.step(net_, optimizer_state_, data, indices, step_seed, augmentation);
  }
  static NetT& not_null(const std::unique_ptr<NetT>& net) {
    if (!net) throw std::invalid_argument("typenet: a Model needs a Net, got a null pointer");
    return *net;
  }
  static std::size_t count_of(const samples& data) { return data.x.size() / NetT::input_size; }
  static samples slice(const samples& data, std::size_t begin, std::size_t end) {
    return {data.x.subspan(begin * NetT::input_size, (end - begin) * NetT::input_size),
            data.y.subspan(begin * target_width, (end - begin) * target_width)};
  }
  static void check(const samples& data, const char* what) {
    check_whole_samples(data, what);
    if constexpr (std::is_same_v<target_type, std::uint8_t>)
      for (std::size_t i = 0; i < count_of(data); ++i) check_label(data, i, what);
  }
  static void check_batch(const samples& data, std::span<const std::uint32_t> indices) {
    const char* what = "train_on_batch";
    check_whole_samples(data, what);
    const std::size_t available = count_of(data);
    if (indices.empty()) throw std::invalid_argument("typenet: train_on_batch of no samples");
    for (const std::uint32_t index : indices) {
      if (index >= available)
        throw std::invalid_argument("typenet: train_on_batch: sample " + std::to_string(index) +
                                    " of " + std::to_string(available));
      check_label(data, index, what);
    }
  }
  static void check_whole_samples(const samples& data, const char* what) {
    const std::size_t count = count_of(data);
    if (data.x.size() != count * NetT::input_size || data.y.size() != count * target_width)
      throw std::invalid_argument(
          std::string("typenet: ") + what + ": " + std::to_string(data.x.size()) +
          " input floats and " + std::to_string(data.y.size()) +
          " targets do not make whole samples of " + std::to_string(NetT::input_size) +
          " floats (" + to_string(NetT::input_shape_type::dims) + ") and " +
          std::to_string(target_width) + " target(s)");
  }
  // Sparse targets: the label of sample `index` must name one of the Net's classes.
  static void check_label(const samples& data, std::size_t index, const char* what) {
    if constexpr (std::is_same_v<target_type, std::uint8_t>)
      if (data.y[index] >= classes)
        throw std::invalid_argument(std::string("typenet: ") + what + ": label " +
                                    std::to_string(data.y[index]) + " of sample " +
                                    std::to_string(index) + " is not below the " +
                                    std::to_string(classes) + " classes of the Net");
  }
  static void shuffle(std::vector<std::uint32_t>& order, Rng rng) {
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  }

  std::unique_ptr<NetT> owned_net_;  // when the model was given its Net
  NetT& net_;
  std::uint64_t seed_;
  StepEngine<NetT, Loss, Chunk> engine_;
  OptimizerState<NetT, Optimizer> optimizer_state_;
};

// Keras' model.compile(optimizer, loss), training `net`, which must outlive the model.
template <class NetT, class Optimizer, CrossEntropyLoss Loss>
Model<NetT, Optimizer, Loss> compile(NetT& net, Optimizer optimizer, Loss loss,
                                     ModelOptions options = {}) {
  return Model<NetT, Optimizer, Loss>(net, optimizer, loss, options);
}
// The same with a Net of the model's own, on the heap, initialised from options.seed:
// compile<Cnn>(Adam{}, CategoricalCrossentropy{}, {.seed = 1}), then model.net().
template <class NetT, class Optimizer, CrossEntropyLoss Loss>
Model<NetT, Optimizer, Loss> compile(Optimizer optimizer, Loss loss, ModelOptions options = {}) {
  return Model<NetT, Optimizer, Loss>(std::make_unique<NetT>(options.seed), optimizer, loss,
                                      options);
}

}  // namespace typenet
