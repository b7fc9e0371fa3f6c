// Model: a Net compiled with an optimizer and a loss, as Keras' model.compile(...), with fit,
// evaluate, predict and predict_classes.
//
//   auto net = std::make_unique<SeedCnn>(seed);
//   auto model = compile(*net, Adam{}, CategoricalCrossentropy{}, {.threads = 2, .seed = 1});
//   History history = model.fit({x_train, y_train},
//                               {.batch_size = 128, .epochs = 5,
//                                .validation_data = Samples<float>{x_test, y_test}});
//   Evaluation result = model.evaluate({x_test, y_test});
//
// Training uses a thread pool created once. It is data-parallel over the batch, each worker with
// its own fixed-size buffers (Buffers<Net, Chunk, true>) and gradient block, gradients reduced in
// a fixed order; or, for nets of wide Dense layers (Net::trains_in_team: the MLPs), the workers
// form a team that passes the whole batch through one set of buffers, each member computing its
// part of every wide layer's outputs and of their gradients: every weight is then read and its
// gradient written by one core only, with no reduction. Nothing is allocated per step, and for
// a fixed seed and thread count every run gives bit-identical weights.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "typenet/io/save_load.hpp"
#include "typenet/kernels/kernels.hpp"
#include "typenet/net.hpp"
#include "typenet/train/callbacks.hpp"
#include "typenet/train/history.hpp"
#include "typenet/train/losses.hpp"
#include "typenet/train/progress.hpp"
#include "typenet/thread_pool.hpp"

namespace typenet {

struct ModelOptions {
  std::size_t threads = 0;  // 0: every core
  std::uint64_t seed = 1;   // shuffling and dropout
};

// Images (input_size floats each) with their targets (a class index each for sparse losses,
// `classes` floats each for categorical ones).
template <class Target>
struct Samples {
  std::span<const float> x;
  std::span<const Target> y;
};

template <class Target>
struct FitOptions {
  std::size_t batch_size = 32;
  std::size_t epochs = 1;
  int verbose = 1;
  double validation_split = 0;  // the last fraction of the training data, as Keras
  std::optional<Samples<Target>> validation_data{};
  bool shuffle = true;
  std::size_t initial_epoch = 0;  // epochs already done, as Keras' initial_epoch
  // As Keras' BackupAndRestore: a training checkpoint (parameters, optimizer state, epoch,
  // history) written atomically after every epoch; when it exists as fit starts, training
  // resumes from it and gives the same weights as a run that never stopped. Removed when fit
  // completes.
  std::filesystem::path backup{};
  std::vector<Callback*> callbacks{};
  std::ostream* out = &std::cout;
};

struct Evaluation {
  double loss = 0;
  double accuracy = 0;
  std::size_t correct = 0, incorrect = 0;
};

// Images a Model's worker passes through the Net at once: as many as keep the chunk's training
// buffers within about 8 MB, from 64 to 256. The MLP's chunk is 256: each GEMM then packs the
// weights for 256 rows of images, not 64, when a worker has that many (batch-1000 prediction,
// training on one thread); the CNNs' buffers take 0.8 MB an image and stay at 64.
template <class NetT>
inline constexpr std::size_t default_chunk = std::clamp<std::size_t>(
    std::bit_floor((std::size_t{1} << 21) /
                   (NetT::activation_floats + 2 * NetT::plan::largest_tensor + NetT::input_size +
                    NetT::plan::cache_words + 1)),
    64, 256);

template <class NetT, class Optimizer, CrossEntropyLoss Loss,
          std::size_t Chunk = default_chunk<NetT>>
class Model final : public TrainingControl {
 public:
  using target_type = typename Loss::target_type;
  using samples = Samples<target_type>;
  static constexpr std::size_t classes = NetT::output_size;
  static constexpr std::size_t target_width = Loss::target_width(classes);
  static constexpr bool softmax_head =
      NetT::last_activation::kind == ActivationKind::Softmax;

  Model(NetT& net, Optimizer optimizer, Loss loss, ModelOptions options = {})
      : net_(net), optimizer_(optimizer), loss_(loss), seed_(options.seed), pool_(options.threads),
        slots_(2 * Optimizer::slot_names.size() * NetT::param_count, 0.0f),
        staged_params_(NetT::param_count) {
    if (loss_.from_logits && softmax_head)
      throw std::invalid_argument(
          "typenet: the loss expects logits (from_logits = true) but the Net ends in Softmax: "
          "end it in a linear Dense, or use from_logits = false");
    for (std::size_t i = 0; i < pool_.size(); ++i) workers_.push_back(std::make_unique<Worker>());
  }

  NetT& net() { return net_; }
  std::size_t threads() const { return pool_.size(); }
  std::uint64_t optimizer_steps() const { return step_; }
  // Optimizer state, for checkpoints: one span per slot ("m", "v", ...).
  CheckpointExtras checkpoint_extras() {
    CheckpointExtras extras;
    extras.optimizer = std::string(Optimizer::name);
    for (std::size_t k = 0; k < Optimizer::slot_names.size(); ++k)
      extras.slots.push_back({std::string(Optimizer::slot_names[k]),
                              std::span(slot_slices(0, slot_half_)[k], NetT::param_count)});
    extras.step = step_;
    return extras;
  }

  // A training checkpoint: parameters, optimizer state and step, epochs done, the history.
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
    CheckpointExtras extras = checkpoint_extras();
    const std::vector<float> params_before(net_.parameters().begin(), net_.parameters().end());
    const std::vector<float> slots_before = slots_;
    typenet::load_checkpoint(path, net_, extras);
    try {
      History history = History::from_csv(extras.text, path.string());
      step_ = extras.step;
      return {extras.epoch, std::move(history)};
    } catch (...) {
      std::copy(params_before.begin(), params_before.end(), net_.parameters().begin());
      slots_ = slots_before;
      throw;
    }
  }

  // One optimizer step on `count` samples picked by `indices` from data (mean loss gradient).
  // Returns the batch's loss and accuracy.
  Evaluation train_on_batch(const samples& data, std::span<const std::uint32_t> indices) {
    const std::size_t count = indices.size();
    check_batch(data, indices);
    const std::uint64_t step_seed = Rng::stream(seed_, 0x5eed, step_).next();
    auto forward_backward = [&](std::size_t w) {
      Worker& worker = *workers_[w];
      worker.loss = 0;
      worker.correct = 0;
      const auto [begin, end] = share_of(count, w, pool_.size());
      // The first chunk assigns the gradients; a worker without images zeroes them.
      if (begin == end) std::fill(worker.grads.begin(), worker.grads.end(), 0.0f);
      for (std::size_t first = begin; first < end; first += Chunk) {
        const std::size_t n = std::min(Chunk, end - first);
        gather(data, indices.subspan(first, n), worker);
        worker.targets_from = worker.targets.data();
        pass_chunk(worker, n, first, first == begin, step_seed, count, Team{});
      }
    };
    // A team shares worker 0's buffers and gradients.
    auto team_forward_backward = [&](std::size_t member) {
      Worker& worker = *workers_[0];
      workers_[member]->loss = 0;
      workers_[member]->correct = 0;
      const std::size_t members = std::min(pool_.size(), kMaxTeam);
      if (member >= members) return;
      if (member == 0) worker.targets_from = worker.targets.data();
      const Team team{&pool_, member, members};
      for (std::size_t first = 0; first < count; first += Chunk) {
        const std::size_t n = std::min(Chunk, count - first);
        const auto [begin, end] = team.part(n);
        gather(data, indices.subspan(first + begin, end - begin), worker, begin);
        team.sync();
        pass_chunk(worker, n, first, first == 0, step_seed, count, team);
      }
    };
    if (steps_in_team())
      pool_.run(team_forward_backward);
    else
      pool_.run(forward_backward);
    const Evaluation result = totals(count);
    if (!std::isfinite(result.loss))
      throw std::runtime_error("typenet: the loss became " + std::to_string(result.loss) +
                               " at optimizer step " + std::to_string(step_ + 1) +
                               ": training diverged (try a lower learning rate); the weights "
                               "are those before this step");
    // The step is computed aside, into staging parameters and the other half of the optimizer
    // state, and checked there: a diverging step leaves the weights and the state as they were.
    // Each worker sums the workers' gradients (a team's are one block already) over its slice
    // of the parameters and steps it, block by block, so that the sums are still in cache when
    // the optimizer reads them.
    const std::size_t next_half = 1 - slot_half_;
    const std::size_t gradient_blocks = steps_in_team() ? 1 : workers_.size();
    auto compute_step = [&](std::size_t w) {
      const auto [begin, end] = param_slice(w);
      workers_[w]->first_non_finite = NetT::param_count;
      for (std::size_t block = begin; block < end; block += kUpdateBlock) {
        const std::size_t length = std::min(kUpdateBlock, end - block);
        float* sum = workers_[0]->grads.data() + block;
        for (std::size_t t = 1; t < gradient_blocks; ++t)
          kernels::add_to(sum, workers_[t]->grads.data() + block, length);
        const std::size_t non_finite =
            optimizer_.update(net_.parameters().data() + block, sum, slot_slices(block, slot_half_),
                              staged_params_.data() + block, slot_slices(block, next_half), length,
                              step_ + 1);
        if (non_finite < length) {
          workers_[w]->first_non_finite = block + non_finite;
          return;
        }
      }
    };
    pool_.run(compute_step);
    // A step is rejected before anything is committed.
    for (const auto& worker : workers_)
      if (worker->first_non_finite < NetT::param_count) throw_non_finite(worker->first_non_finite);
    auto commit_step = [&](std::size_t w) {
      const auto [begin, end] = param_slice(w);
      std::copy(staged_params_.begin() + begin, staged_params_.begin() + end,
                net_.parameters().begin() + begin);
    };
    pool_.run(commit_step);
    slot_half_ = next_half;
    ++step_;
    return totals(count);
  }

  History fit(const samples& data, const FitOptions<target_type>& options = {}) {
    check(data, "fit");
    if (options.batch_size == 0 || options.validation_split < 0 || options.validation_split >= 1)
      throw std::invalid_argument("typenet: fit needs batch_size > 0 and 0 <= validation_split < 1");
    samples train = data, validation{};
    bool validate = false;
    if (options.validation_data) {
      check(*options.validation_data, "fit (validation data)");
      validation = *options.validation_data;
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
    for (Callback* callback : options.callbacks) callback->on_train_begin(*this);
    for (std::size_t epoch = first_epoch; epoch < options.epochs && !stop_requested(); ++epoch) {
      // The order of an epoch depends on the seed and the epoch's number alone, so a resumed
      // run sees the same batches as an unbroken one.
      if (options.shuffle) {
        std::iota(order.begin(), order.end(), 0u);
        shuffle(order, Rng::stream(seed_, 0x5f01e, epoch));
      }
      progress.epoch_begin(epoch, options.epochs, steps);
      double loss_sum = 0;
      std::size_t correct = 0;
      for (std::size_t step = 0; step < steps; ++step) {
        const std::size_t first = step * options.batch_size;
        const std::size_t n = std::min(options.batch_size, count - first);
        const Evaluation batch = train_on_batch(train, std::span(order).subspan(first, n));
        loss_sum += batch.loss * double(n);
        correct += batch.correct;
        progress.step_end(step + 1, loss_sum / double(first + n), double(correct) / double(first + n));
      }
      history.record("loss", loss_sum / double(count));
      history.record("accuracy", double(correct) / double(count));
      if (validate) {
        const Evaluation result = evaluate(validation);
        history.record("val_loss", result.loss);
        history.record("val_accuracy", result.accuracy);
      }
      progress.epoch_end(history);
      for (Callback* callback : options.callbacks) callback->on_epoch_end(epoch, history, *this);
      if (!options.backup.empty()) save_checkpoint(options.backup, epoch + 1, history);
    }
    for (Callback* callback : options.callbacks) callback->on_train_end(*this);
    if (!options.backup.empty()) std::filesystem::remove(options.backup);
    return history;
  }

  // Mean loss and accuracy over data, inference mode (no dropout), every core.
  Evaluation evaluate(const samples& data) {
    check(data, "evaluate");
    const std::size_t count = count_of(data);
    auto job = [&](std::size_t w) {
      Worker& worker = *workers_[w];
      worker.loss = 0;
      worker.correct = 0;
      const auto [begin, end] = share_of(count, w, pool_.size());
      for (std::size_t first = begin; first < end; first += Chunk) {
        const std::size_t n = std::min(Chunk, end - first);
        const float* out = NetT::forward(net_.parameters().data(),
                                         data.x.data() + first * NetT::input_size, n,
                                         worker.buffers, Context{});
        worker.targets_from = data.y.data() + first * target_width;
        score(out, worker, n, 0.0f, worker.buffers.grad_a.data());
      }
    };
    pool_.run(job);
    return totals(count);
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
    if (count < pool_.size()) {  // too few images to go round: the threads share each one
      for (std::size_t i = 0; i < count; ++i) {
        const auto output =
            net_.predict(images.subspan(i * NetT::input_size, NetT::input_size), pool_);
        std::copy(output.begin(), output.end(), outputs.begin() + i * classes);
      }
      return;
    }
    auto job = [&](std::size_t w) {
      Worker& worker = *workers_[w];
      const auto [begin, end] = share_of(count, w, pool_.size());
      for (std::size_t first = begin; first < end; first += Chunk) {
        const std::size_t n = std::min(Chunk, end - first);
        const float* out = NetT::forward(net_.parameters().data(),
                                         images.data() + first * NetT::input_size, n,
                                         worker.buffers, Context{});
        std::copy_n(out, n * classes, outputs.data() + first * classes);
      }
    };
    pool_.run(job);
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

 private:
  struct Worker {
    Buffers<NetT, Chunk, true> buffers;
    std::array<float, Chunk * NetT::input_size> input;
    std::array<target_type, Chunk * target_width> targets;
    std::array<float, NetT::param_count> grads;
    const target_type* targets_from = nullptr;  // targets of the images being scored
    std::size_t first_non_finite = 0;           // parameter index, param_count if none
    double loss = 0;
    std::size_t correct = 0;
  };

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
          " input floats and " + std::to_string(data.y.size()) + " targets do not make whole "
          "samples of " + std::to_string(NetT::input_size) + " floats (" +
          to_string(NetT::input_shape_type::dims) + ") and " + std::to_string(target_width) +
          " target(s)");
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
  // The part of the parameters that worker w updates; slices on 16-float boundaries keep the
  // SIMD kernels aligned.
  std::pair<std::size_t, std::size_t> param_slice(std::size_t w) const {
    return share_of(NetT::param_count, w, pool_.size(), 16);
  }
  // The slots' slices from parameter `begin` on, in one half of the optimizer state.
  std::array<float*, Optimizer::slot_names.size()> slot_slices(std::size_t begin,
                                                               std::size_t half) {
    std::array<float*, Optimizer::slot_names.size()> slots;
    for (std::size_t k = 0; k < slots.size(); ++k)
      slots[k] = slots_.data() + (half * slots.size() + k) * NetT::param_count + begin;
    return slots;
  }
  // Reports the step that would make parameter `index` non-finite, with the value it would take
  // (staged).
  [[noreturn]] void throw_non_finite(std::size_t index) const {
    const float value = staged_params_[index];
    std::size_t layer = 1;
    while (NetT::layer_infos[layer].param_offset + NetT::layer_infos[layer].param_count <= index) ++layer;
    throw std::runtime_error(
        "typenet: a weight of layer " + std::to_string(layer) + " (" +
        keras_layer_name(NetT::layer_infos, layer) + ") became " +
        std::to_string(value) + " at optimizer step " + std::to_string(step_ + 1) +
        ": training diverged (try a lower learning rate); the weights are those before this step");
  }
  bool steps_in_team() const { return NetT::trains_in_team && pool_.size() > 1; }
  // Forward pass, loss and backward pass of the n images gathered in worker's buffers (the
  // step's images from `first` on), gradients into worker's block: alone (team of one) or as a
  // member of a team, whose member 0 scores.
  void pass_chunk(Worker& worker, std::size_t n, std::size_t first, bool assign_grads,
                  std::uint64_t step_seed, std::size_t count, const Team& team) {
    Context ctx;
    ctx.training = true;
    ctx.seed = step_seed;
    ctx.first_image = first;
    ctx.assign_grads = assign_grads;
    ctx.team = team;
    const float* params = net_.parameters().data();
    const float* out = NetT::forward(params, worker.input.data(), n, worker.buffers, ctx);
    if (team.member == 0) score(out, worker, n, 1.0f / float(count), worker.buffers.grad_a.data());
    team.sync();
    NetT::backward({.params = params,
                    .input = worker.input.data(),
                    .n = n,
                    .dparams = worker.grads.data(),
                    .head_gradient_is_pre_activation = softmax_head && !loss_.from_logits},
                   worker.buffers, ctx);
  }
  // Copies the samples picked by indices into the worker's rows from `row` on.
  void gather(const samples& data, std::span<const std::uint32_t> indices, Worker& worker,
              std::size_t row = 0) {
    for (std::size_t i = 0; i < indices.size(); ++i) {
      std::copy_n(data.x.data() + std::size_t(indices[i]) * NetT::input_size, NetT::input_size,
                  worker.input.data() + (row + i) * NetT::input_size);
      std::copy_n(data.y.data() + std::size_t(indices[i]) * target_width, target_width,
                  worker.targets.data() + (row + i) * target_width);
    }
  }
  void score(const float* out, Worker& worker, std::size_t n, float scale, float* grad) {
    for (std::size_t i = 0; i < n; ++i) {
      const SampleLoss sample =
          cross_entropy(loss_, out + i * classes, worker.targets_from + i * target_width, classes,
                        softmax_head, scale, grad + i * classes);
      worker.loss += sample.loss;
      worker.correct += sample.correct;
    }
  }
  Evaluation totals(std::size_t count) const {
    Evaluation result;
    for (const auto& worker : workers_) {
      result.loss += worker->loss;
      result.correct += worker->correct;
    }
    result.loss /= double(count);
    result.accuracy = double(result.correct) / double(count);
    result.incorrect = count - result.correct;
    return result;
  }
  static void shuffle(std::vector<std::uint32_t>& order, Rng rng) {
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  }

  NetT& net_;
  Optimizer optimizer_;
  Loss loss_;
  std::uint64_t seed_;
  std::uint64_t step_ = 0;
  ThreadPool pool_;
  // Parameters per block of the optimizer step: the block's gradients, parameters and slots,
  // read and written, stay in L2.
  static constexpr std::size_t kUpdateBlock = 4096;
  // Two halves of the optimizer state: the current one, and the one a step is computed into.
  std::vector<float> slots_;
  std::size_t slot_half_ = 0;
  std::vector<float> staged_params_;  // the parameters a step would give
  std::vector<std::unique_ptr<Worker>> workers_;
};

// Keras' model.compile(optimizer, loss).
template <class NetT, class Optimizer, CrossEntropyLoss Loss>
Model<NetT, Optimizer, Loss> compile(NetT& net, Optimizer optimizer, Loss loss,
                                     ModelOptions options = {}) {
  return Model<NetT, Optimizer, Loss>(net, optimizer, loss, options);
}

}  // namespace typenet
