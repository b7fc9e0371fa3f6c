// StepEngine: the workers that pass images through a Net for a Model (train/model.hpp), on a
// thread pool created once: optimizer steps, and evaluation and prediction in chunks.
//
// A step is data-parallel over the batch, each worker with its own fixed-size buffers
// (Buffers<Net, Chunk, true>) and gradient block, gradients reduced in a fixed order; or, for nets
// of wide Dense layers (Net::trains_in_team: the MLPs), the workers form a team that passes the
// whole batch through worker 0's buffers, each member computing its part of every wide layer's
// outputs and of their gradients: every weight is then read and its gradient written by one core
// only, with no reduction. For a fixed seed and thread count every run gives bit-identical
// weights.
//
// Nets with a layer that needs statistics of the whole batch (BatchNorm in training: Net::
// needs_batch_statistics) pass each worker's part of a batch in one chunk, the workers
// exchanging partial statistics in the middle of the passes (layers/layer.hpp); a batch whose
// parts exceed the chunk is refused (check_batch_fits). A batch of fewer images than threads
// goes to as many workers as it has images. After each optimizer step the layers that keep
// state update it (Net::after_step: BatchNorm's moving statistics). Nets without such layers
// compile none of this.
//
// Memory: a worker gets its training buffers and gradient block at the first step, and until
// then (or when a team leaves it none) forward buffers alone, at the first evaluate or predict.
// Nothing is allocated per step.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "typenet/kernels/kernels.hpp"
#include "typenet/layer_info.hpp"
#include "typenet/net.hpp"
#include "typenet/random.hpp"
#include "typenet/share.hpp"
#include "typenet/thread_pool.hpp"
#include "typenet/train/augmentation.hpp"
#include "typenet/train/losses.hpp"
#include "typenet/train/optimizer_state.hpp"
#include "typenet/train/options.hpp"

namespace typenet {

// Images a worker passes through the Net at once: as many as keep the chunk's training buffers
// within about 8 MB, from 64 to 256. The MLP's chunk is 256: each GEMM then packs the weights for
// 256 rows of images, not 64, when a worker has that many (batch-1000 prediction, training on one
// thread); the CNNs' buffers take 0.8 MB an image and stay at 64. A Net that needs batch
// statistics passes a worker's whole part of a batch at once: at least 128 images, a batch of
// 128 on one thread.
template <class NetT>
inline constexpr std::size_t default_chunk = std::clamp<std::size_t>(
    std::bit_floor((std::size_t{1} << 21) /
                   (NetT::activation_floats + 2 * NetT::plan::largest_tensor + NetT::input_size +
                    NetT::plan::cache_words + NetT::plan::saved_floats + 1)),
    NetT::needs_batch_statistics ? 128 : 64, 256);

template <class NetT, CrossEntropyLoss Loss, std::size_t Chunk = default_chunk<NetT>>
class StepEngine {
 public:
  using target_type = typename Loss::target_type;
  using samples = Samples<target_type>;
  static constexpr std::size_t classes = NetT::output_size;
  static constexpr std::size_t target_width = Loss::target_width(classes);
  static constexpr bool softmax_head = NetT::last_activation::kind == ActivationKind::Softmax;

  StepEngine(Loss loss, std::size_t threads, Precision precision,
             ConvAlgorithm convolution = ConvAlgorithm::Auto)
      : loss_(loss), pool_(threads), workers_(pool_.size()), precision_(resolve(precision)),
        winograd_(convolution == ConvAlgorithm::Auto &&
                  (precision_ == Precision::Float32 || !kernels::bf16_faster_than_winograd())) {}

  ThreadPool& pool() { return pool_; }
  std::size_t threads() const { return pool_.size(); }
  Precision precision() const { return precision_; }

  // One optimizer step of `net` on the samples picked by indices (the mean loss's gradient; the
  // caller checked the indices), `step_seed` seeding its dropout, the images augmented as
  // `augmentation` says when there is one (an image input, checked by the caller). Returns the
  // batch's loss and accuracy. When the loss or a weight would become non-finite, throws
  // std::runtime_error and leaves the weights and the optimizer state as they were.
  template <class Optimizer>
  Evaluation step(NetT& net, OptimizerState<NetT, Optimizer>& state, const samples& data,
                  std::span<const std::uint32_t> indices, std::uint64_t step_seed,
                  const BatchAugmentation* augmentation = nullptr) {
    check_batch_fits(indices.size());
    prepare_training();
    if (augmentation) prepare_augmentation();
    state.allocate();
    const std::uint64_t step = state.steps() + 1;  // counted from 1, as the messages say
    pack_weights(net.parameters().data(), /*training=*/true);
    const Evaluation result =
        compute_gradients(net.parameters().data(), data, indices, step_seed, augmentation);
    if (!std::isfinite(result.loss))
      throw std::runtime_error("typenet: the loss became " + std::to_string(result.loss) +
                               " at optimizer step " + std::to_string(step) + kDiverged);
    // The step is staged aside and checked there; only a step without a non-finite weight is
    // committed.
    const float* params = net.parameters().data();
    const std::size_t non_finite =
        reduce_gradients([&](std::size_t begin, const float* gradients, std::size_t length) {
          return state.stage(params, gradients, begin, length);
        });
    if (non_finite < NetT::param_count)
      throw_non_finite(non_finite, state.staged(non_finite), step);
    auto commit = [&](std::size_t w) {
      const auto [begin, end] = param_slice(w);
      state.commit(net.parameters(), begin, end);
    };
    pool_.run(commit);
    // Worker 0 passed images in every step (alone, in a team, or with the first part).
    if constexpr (NetT::updates_after_step)
      NetT::after_step(net.parameters().data(), workers_[0].training->buffers);
    state.finish_step();
    return result;
  }

  // Throws std::invalid_argument when the Net needs batch statistics and a worker's part of a
  // batch of `count` images (a team's: the whole batch) does not fit in one chunk.
  void check_batch_fits(std::size_t count) const {
    if constexpr (NetT::needs_batch_statistics) {
      const std::size_t parts = steps_in_team() ? 1 : batch_parts(count);
      const std::size_t largest = (count + parts - 1) / parts;
      if (largest <= Chunk) return;
      throw std::invalid_argument(
          "typenet: a batch of " + std::to_string(count) + " images on " +
          std::to_string(pool_.size()) + " thread(s) gives a thread " + std::to_string(largest) +
          " images, but this Net normalises over whole batches (BatchNorm) and passes a "
          "thread's part in one chunk of at most " +
          std::to_string(Chunk) + " images: use a batch_size of at most " +
          std::to_string(Chunk * parts) + (steps_in_team() ? "" : ", more threads,") +
          " or a Model with a larger Chunk");
    }
  }

  // Mean loss and accuracy over data (checked by the caller), inference mode (no dropout).
  Evaluation evaluate(const float* params, const samples& data) {
    prepare_inference();
    pack_weights(params, /*training=*/false);
    const std::size_t count = data.x.size() / NetT::input_size;
    auto job = [&](std::size_t w) {
      Worker& worker = workers_[w];
      worker.loss = 0;
      worker.correct = 0;
      const auto [begin, end] = share_of(count, w, pool_.size());
      for (std::size_t first = begin; first < end; first += Chunk) {
        const std::size_t n = std::min(Chunk, end - first);
        const float* out = infer(worker, params, data.x.data() + first * NetT::input_size, n);
        score(out, data.y.data() + first * target_width, n, 0.0f, nullptr, worker);
      }
    };
    pool_.run(job);
    return totals(count);
  }

  // Outputs for every image, the images split between the workers (sizes checked by the caller).
  void predict(const float* params, std::span<const float> images, std::span<float> outputs) {
    prepare_inference();
    pack_weights(params, /*training=*/false);
    const std::size_t count = images.size() / NetT::input_size;
    auto job = [&](std::size_t w) {
      Worker& worker = workers_[w];
      const auto [begin, end] = share_of(count, w, pool_.size());
      for (std::size_t first = begin; first < end; first += Chunk) {
        const std::size_t n = std::min(Chunk, end - first);
        const float* out = infer(worker, params, images.data() + first * NetT::input_size, n);
        std::copy_n(out, n * classes, outputs.data() + first * classes);
      }
    };
    pool_.run(job);
  }

 private:
  // What a worker needs to train: the chunk's buffers, its images and targets gathered from the
  // batch, and its gradient block.
  struct TrainingRows {
    Buffers<NetT, Chunk, true> buffers;
    std::array<float, Chunk * NetT::input_size> input;
    std::array<target_type, Chunk * target_width> targets;
    std::array<float, NetT::param_count> gradients;
  };
  // Aligned to a cache line: the workers write their tallies at the same time.
  struct alignas(64) Worker {
    std::unique_ptr<Buffers<NetT, Chunk, false>> inference;  // until it has training rows
    std::unique_ptr<TrainingRows> training;
    std::vector<float> augmentation_scratch;  // an image, once a step augments
    std::size_t first_non_finite = 0;         // parameter index, param_count if none
    std::uint32_t exchanges = 0;              // of batch statistics, in this step
    double loss = 0;
    std::size_t correct = 0;
  };

  bool steps_in_team() const { return NetT::trains_in_team && pool_.size() > 1; }
  // The workers that share a batch of `count` images in a data-parallel step: all of them, or
  // for a Net that needs batch statistics, no more than the images (each exchange needs
  // every worker's part).
  std::size_t batch_parts(std::size_t count) const {
    if constexpr (NetT::needs_batch_statistics) return std::min(pool_.size(), count);
    else return pool_.size();
  }
  // Worker w's place among the `parts` workers of a data-parallel step (starting its step's
  // exchanges); alone when it is the only one or the Net needs no batch statistics.
  BatchPeers batch_peers(std::size_t w, std::size_t parts) {
    if constexpr (NetT::needs_batch_statistics) {
      if (parts == 1) return {};
      workers_[w].exchanges = 0;
      return {.pool = &pool_,
              .worker = w,
              .workers = parts,
              .slots = batch_exchange_.data(),
              .stride = NetT::plan::batch_statistics_doubles,
              .exchanges = &workers_[w].exchanges};
    } else {
      return {};
    }
  }
  // Training rows for the workers that train (worker 0 alone for a team: its members share its
  // rows), whose buffers then serve inference too.
  void prepare_training() {
    const std::size_t trainers = steps_in_team() ? 1 : workers_.size();
    for (std::size_t w = 0; w < trainers; ++w) {
      if (workers_[w].training) continue;
      workers_[w].training = std::make_unique<TrainingRows>();
      workers_[w].inference.reset();
    }
    if (NetT::needs_batch_statistics && trainers > 1)
      batch_exchange_.resize(2 * trainers * NetT::plan::batch_statistics_doubles);
  }
  // Every worker augments the images it gathers (a team member too), in a scratch of its own.
  void prepare_augmentation() {
    for (Worker& worker : workers_) worker.augmentation_scratch.resize(NetT::input_size);
  }
  void prepare_inference() {
    for (Worker& worker : workers_)
      if (!worker.training && !worker.inference)
        worker.inference = std::make_unique<Buffers<NetT, Chunk, false>>();
  }
  // Whether the passes read the layers' weights packed once (Net::pack_weights): in bf16, or
  // Winograd's transformed kernels in float, and not in a team's step (whose members each pack
  // their share of a product's columns per call).
  bool packs_weights(bool training) const {
    return NetT::packed_weight_words > 0 && (precision_ == Precision::MixedBfloat16 || winograd_) &&
           !(training && steps_in_team());
  }
  // The workers pack the weights for a step's passes (training: the input gradients' forms too)
  // or an inference's, each its share, when the passes read them packed.
  void pack_weights(const float* params, bool training) {
    if (!packs_weights(training)) {
      passes_packed_weights_ = nullptr;
      return;
    }
    if (!packed_weights_)
      packed_weights_ = std::make_unique_for_overwrite<PackedLine[]>(
          (NetT::packed_weight_words + PackedLine::words - 1) / PackedLine::words);
    std::uint32_t* packed = packed_weights_[0].words_;
    auto pack = [&](std::size_t w) {
      NetT::pack_weights(params, packed,
                         {.precision = precision_,
                          .backward = training,
                          .winograd = winograd_,
                          .part = w,
                          .parts = pool_.size()});
    };
    pool_.run(pack);
    passes_packed_weights_ = packed;
  }
  // The worker's forward pass over n images, inference mode.
  const float* infer(Worker& worker, const float* params, const float* images,
                     std::size_t n) const {
    const Context ctx{
        .precision = precision_, .winograd = winograd_, .packed_weights = passes_packed_weights_};
    if (worker.training) return NetT::forward(params, images, n, worker.training->buffers, ctx);
    return NetT::forward(params, images, n, *worker.inference, ctx);
  }

  // Forward, loss and backward passes of the samples picked by indices, each sample's loss
  // gradient scaled by 1 / count: the gradient of the mean loss, in the workers' gradient blocks
  // (a team's in worker 0's). Returns the samples' loss and accuracy.
  Evaluation compute_gradients(const float* params, const samples& data,
                               std::span<const std::uint32_t> indices, std::uint64_t step_seed,
                               const BatchAugmentation* augmentation) {
    const std::size_t count = indices.size();
    const float loss_scale = 1.0f / float(count);
    auto context = [&](std::size_t first, bool assign_gradients, Team team, BatchPeers peers) {
      return Context{.training = true,
                     .seed = step_seed,
                     .first_image = first,
                     .assign_grads = assign_gradients,
                     .team = team,
                     .batch_peers = peers,
                     .precision = precision_,
                     .winograd = winograd_,
                     .packed_weights = passes_packed_weights_};
    };
    const std::size_t parts = batch_parts(count);
    auto data_parallel = [&](std::size_t w) {
      Worker& worker = workers_[w];
      worker.loss = 0;
      worker.correct = 0;
      const auto [begin, end] = w < parts ? share_of(count, w, parts) : std::pair{count, count};
      const BatchPeers peers = w < parts ? batch_peers(w, parts) : BatchPeers{};
      // The first chunk assigns the gradients; a worker without images zeroes them.
      if (begin == end)
        std::fill(worker.training->gradients.begin(), worker.training->gradients.end(), 0.0f);
      for (std::size_t first = begin; first < end; first += Chunk) {
        const std::size_t n = std::min(Chunk, end - first);
        gather(data, indices.subspan(first, n), *worker.training, 0, augmentation, first,
               worker.augmentation_scratch.data());
        pass_chunk(worker, params, n, context(first, first == begin, Team{}, peers), loss_scale);
      }
    };
    auto team_member = [&](std::size_t member) {
      workers_[member].loss = 0;
      workers_[member].correct = 0;
      const std::size_t members = std::min(pool_.size(), kMaxTeam);
      if (member >= members) return;
      Worker& shared = workers_[0];
      const Team team{&pool_, member, members};
      for (std::size_t first = 0; first < count; first += Chunk) {
        const std::size_t n = std::min(Chunk, count - first);
        const auto [begin, end] = team.part(n);
        gather(data, indices.subspan(first + begin, end - begin), *shared.training, begin,
               augmentation, first + begin, workers_[member].augmentation_scratch.data());
        team.sync();
        pass_chunk(shared, params, n, context(first, first == 0, team, BatchPeers{}), loss_scale);
      }
    };
    if (steps_in_team()) pool_.run(team_member);
    else pool_.run(data_parallel);
    return totals(count);
  }
  // Forward pass, loss and backward pass of the n images gathered in the worker's rows,
  // gradients into its block: alone (a team of one) or as a member of ctx.team, whose member 0
  // scores.
  void pass_chunk(Worker& worker, const float* params, std::size_t n, const Context& ctx,
                  float loss_scale) {
    TrainingRows& rows = *worker.training;
    const float* out = NetT::forward(params, rows.input.data(), n, rows.buffers, ctx);
    if (ctx.team.member == 0)
      score(out, rows.targets.data(), n, loss_scale, rows.buffers.grad_a.data(), worker);
    ctx.team.sync();
    NetT::backward({.params = params,
                    .input = rows.input.data(),
                    .n = n,
                    .dparams = rows.gradients.data(),
                    .head_gradient_is_pre_activation = softmax_head && !loss_.from_logits},
                   rows.buffers, ctx);
  }
  // Copies the samples picked by indices, from position `position` of the batch on, into the
  // rows from `row` on; with an augmentation, augments each image on the way.
  static void gather(const samples& data, std::span<const std::uint32_t> indices,
                     TrainingRows& rows, std::size_t row, const BatchAugmentation* augmentation,
                     std::size_t position, float* scratch) {
    using Image = typename NetT::input_shape_type;
    for (std::size_t i = 0; i < indices.size(); ++i) {
      const float* image = data.x.data() + std::size_t(indices[i]) * NetT::input_size;
      float* input = rows.input.data() + (row + i) * NetT::input_size;
      if (augmentation) {
        Rng rng = Rng::stream(augmentation->seed, augmentation->first + position + i);
        augment_image(augmentation->augmentations, rng, image, Image::height, Image::width,
                      Image::channels, input, scratch);
      } else {
        std::copy_n(image, NetT::input_size, input);
      }
      std::copy_n(data.y.data() + std::size_t(indices[i]) * target_width, target_width,
                  rows.targets.data() + (row + i) * target_width);
    }
  }
  // Adds the loss and the correct predictions of n outputs to the worker's tally; with a
  // gradient buffer, writes there each sample's loss gradient times `scale`.
  void score(const float* out, const target_type* targets, std::size_t n, float scale,
             float* gradient, Worker& worker) const {
    for (std::size_t i = 0; i < n; ++i) {
      const SampleLoss sample = cross_entropy(loss_, out + i * classes, targets + i * target_width,
                                              classes, softmax_head, scale,
                                              gradient ? gradient + i * classes : nullptr);
      worker.loss += sample.loss;
      worker.correct += sample.correct;
    }
  }
  Evaluation totals(std::size_t count) const {
    Evaluation result;
    for (const Worker& worker : workers_) {
      result.loss += worker.loss;
      result.correct += worker.correct;
    }
    result.loss /= double(count);
    result.accuracy = double(result.correct) / double(count);
    result.incorrect = count - result.correct;
    return result;
  }

  // Each worker sums the workers' gradient blocks (a team's are one block already) over its
  // slice of the parameters and hands the sum to update(begin, gradients, length), block by
  // block, so that the sums are still in cache when the optimizer reads them. update returns
  // the offset in its block of a parameter that became non-finite (`length` if none), which ends
  // the worker's slice. Returns the first parameter reported, param_count if none.
  template <class Update>
  std::size_t reduce_gradients(Update&& update) {
    const std::size_t gradient_blocks = steps_in_team() ? 1 : workers_.size();
    auto reduce = [&](std::size_t w) {
      const auto [begin, end] = param_slice(w);
      workers_[w].first_non_finite = NetT::param_count;
      for (std::size_t block = begin; block < end; block += kUpdateBlock) {
        const std::size_t length = std::min(kUpdateBlock, end - block);
        float* sum = workers_[0].training->gradients.data() + block;
        for (std::size_t t = 1; t < gradient_blocks; ++t)
          kernels::add_to(sum, workers_[t].training->gradients.data() + block, length);
        const std::size_t non_finite = update(block, sum, length);
        if (non_finite < length) {
          workers_[w].first_non_finite = block + non_finite;
          return;
        }
      }
    };
    pool_.run(reduce);
    std::size_t first = NetT::param_count;
    for (const Worker& worker : workers_) first = std::min(first, worker.first_non_finite);
    return first;
  }
  // The part of the parameters that worker w updates; slices on 16-float boundaries keep the
  // SIMD kernels aligned.
  std::pair<std::size_t, std::size_t> param_slice(std::size_t w) const {
    return share_of(NetT::param_count, w, pool_.size(), 16);
  }
  // Reports the step that would make parameter `index` non-finite, with the value it would take.
  [[noreturn]] static void throw_non_finite(std::size_t index, float value, std::uint64_t step) {
    std::size_t layer = 1;
    while (NetT::layer_infos[layer].param_offset + NetT::layer_infos[layer].param_count <= index)
      ++layer;
    throw std::runtime_error("typenet: a weight of layer " + std::to_string(layer) + " (" +
                             keras_layer_name(NetT::layer_infos, layer) + ") became " +
                             std::to_string(value) + " at optimizer step " + std::to_string(step) +
                             kDiverged);
  }

  // How every divergence message ends.
  static constexpr const char* kDiverged =
      ": training diverged (try a lower learning rate); the weights are those before this step";
  // Parameters per block of the optimizer step: the block's gradients, parameters and slots,
  // read and written, stay in L2.
  static constexpr std::size_t kUpdateBlock = 4096;
  Loss loss_;
  ThreadPool pool_;
  std::vector<Worker> workers_;
  Precision precision_;  // resolved: Float32 or MixedBfloat16
  bool winograd_;        // Float32 3x3 convolutions by Winograd's products (ConvAlgorithm::Auto)
  // Two rounds of the workers' partial batch statistics (BatchPeers), for Nets that need them.
  std::vector<double> batch_exchange_;
  // The layers' weights packed for the bf16 products (allocated at the first pass that packs),
  // and what the passes read: them, or null when the current pass does not pack.
  // Cache lines: AMX reads a tile row of B at half speed across a line boundary.
  struct alignas(64) PackedLine {
    static constexpr std::size_t words = 16;
    std::uint32_t words_[words];
  };
  std::unique_ptr<PackedLine[]> packed_weights_;
  const std::uint32_t* passes_packed_weights_ = nullptr;
};

}  // namespace typenet
