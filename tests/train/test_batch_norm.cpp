// BatchNorm in training: gradients through the batch statistics (finite differences of a whole
// batch's loss, alone, split across data-parallel workers and in a team), the weights and moving
// statistics after a few SGD steps against real Keras 3 (tests/golden/
// batch_norm_training.expected.txt, made by tests/golden/gen/make_batch_norm_training_fixtures.py),
// the optimizers leaving the moving statistics to after_step, reproducibility, and the batches
// the trainer refuses.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <typenet/typenet.hpp>

#include "../core/gradient_check.hpp"

using namespace typenet;

namespace {

using ConvBn = Net<Input<6, 5, 2>, Conv<3, 3>, BatchNorm<>, Relu, Flatten, Dense<3, Softmax>>;
using DenseBn = Net<Input<7>, Dense<6>, BatchNorm<>, Tanh, Dense<3, Softmax>>;
// Wide enough for a team: on several threads its Dense<256> splits by outputs.
using TeamBn = Net<Input<256>, Dense<256>, BatchNorm<>, Relu, Dense<3, Softmax>>;
static_assert(ConvBn::needs_batch_statistics && ConvBn::updates_after_step && ConvBn::trains);
static_assert(!ConvBn::trains_in_team && !DenseBn::trains_in_team && TeamBn::trains_in_team);
// BatchNorms inside both branches of a residual block (statistics over the block's images).
using ResidualBn = Net<Input<5, 4, 2>, Conv<3, 3, Same>,
                       Residual<Main<Conv<3, 3, Same>, BatchNorm<>, Tanh, Conv<3, 3, Same>>,
                                Shortcut<Conv<3, 1>, BatchNorm<>>>,
                       Tanh, Flatten, Dense<3, Softmax>>;
static_assert(ResidualBn::needs_batch_statistics && ResidualBn::updates_after_step);
// The layer whose output feeds a ReLU (its BatchNorm), or layer_count for none.
template <class NetT>
constexpr std::size_t relu_input = std::is_same_v<NetT, ConvBn> ? 1 : NetT::layer_count;

struct Data {
  std::vector<float> x;
  std::vector<std::uint8_t> y;
  Samples<std::uint8_t> samples() const { return {x, y}; }
};

template <class NetT>
Data labelled_noise(std::size_t count, std::uint64_t seed) {
  Rng rng(seed);
  Data data;
  for (std::size_t i = 0; i < count * NetT::input_size; ++i)
    data.x.push_back(rng.uniform(-1.0f, 1.0f));
  for (std::size_t i = 0; i < count; ++i)
    data.y.push_back(std::uint8_t(rng.below(NetT::output_size)));
  return data;
}

template <class NetT>
std::unique_ptr<NetT> random_net(std::uint64_t seed) {
  auto net = std::make_unique<NetT>(seed);
  // Biases and beta away from zero, gamma away from one, so that every term counts.
  Rng rng(seed + 99);
  for (float& parameter : net->parameters())
    if (parameter == 0.0f || parameter == 1.0f) parameter += rng.uniform(-0.3f, 0.3f);
  return net;
}

// Whether parameter i (counted from `base`) is one of the moving statistics (not trained) of a
// BatchNorm among `layers`, or inside their residual branches.
bool is_moving_statistic_in(std::span<const LayerInfo> layers, std::size_t base, std::size_t i) {
  for (const LayerInfo& info : layers) {
    const std::size_t offset = base + info.param_offset;
    if (info.is_block() && (is_moving_statistic_in(info.main, offset, i) ||
                            is_moving_statistic_in(info.shortcut, offset, i)))
      return true;
    if (info.type != "BatchNorm") continue;
    const std::size_t channels = info.param_count / 4;
    if (i >= offset + 2 * channels && i < offset + info.param_count) return true;
  }
  return false;
}
template <class NetT>
bool is_moving_statistic(std::size_t i) {
  return is_moving_statistic_in(std::span(NetT::layer_infos).subspan(1), 0, i);
}

// The gradient of the batch's mean loss at `start` as the trainer computes it on `threads`
// threads: one SGD step of rate 1 moves each parameter by minus its gradient (rounded to the
// parameter's float).
template <class NetT>
std::vector<double> trainer_gradient(const NetT& start, const Data& data,
                                     const std::vector<std::uint32_t>& batch, std::size_t threads) {
  auto net = std::make_unique<NetT>(start);
  auto model = compile(*net, SGD{.learning_rate = 1.0f}, SparseCategoricalCrossentropy{},
                       {.threads = threads, .precision = Precision::Float32});
  model.train_on_batch(data.samples(), batch);
  std::vector<double> gradient(NetT::param_count);
  for (std::size_t i = 0; i < gradient.size(); ++i)
    gradient[i] = double(start.parameters()[i]) - double(net->parameters()[i]);
  return gradient;
}

// The trainer's loss of the batch at the net's parameters: a step of rate 0 changes no trained
// parameter (the moving statistics, which a training forward does not read, follow the batch).
template <class NetT>
double trainer_loss(NetT& net, const Data& data, const std::vector<std::uint32_t>& batch,
                    std::size_t threads) {
  auto model = compile(net, SGD{.learning_rate = 0.0f}, SparseCategoricalCrossentropy{},
                       {.threads = threads, .precision = Precision::Float32});
  return model.train_on_batch(data.samples(), batch).loss;
}

// Whether each of the batch's values at the output of layer `Layer` is positive, computed alone in
// training mode: where the layer feeds a ReLU, a perturbation that flips one crosses a kink of
// the loss, where central differences mean nothing.
template <class NetT, std::size_t Layer>
std::vector<bool> signs_at(const NetT& net, const Data& data,
                           const std::vector<std::uint32_t>& batch) {
  constexpr std::size_t chunk = 64;
  REQUIRE(batch.size() <= chunk);
  auto buffers = std::make_unique<Buffers<NetT, chunk, true>>();
  std::vector<float> input;
  for (const std::uint32_t i : batch)
    input.insert(input.end(), data.x.begin() + i * NetT::input_size,
                 data.x.begin() + (i + 1) * NetT::input_size);
  NetT::forward(net.parameters().data(), input.data(), batch.size(), *buffers,
                Context{.training = true});
  const float* out = buffers->output_of(Layer);
  std::vector<bool> signs(batch.size() * NetT::plan::output_sizes[Layer]);
  for (std::size_t i = 0; i < signs.size(); ++i) signs[i] = out[i] > 0;
  return signs;
}

// Central differences of the trainer's whole-batch loss against its gradient, on sampled
// trained parameters (all of them for small nets). Probes that cross a kink of the ReLU fed by
// layer ReluInput (when there is one) are skipped, and counted.
template <class NetT, std::size_t ReluInput = NetT::layer_count>
void check_trainer_gradient(const NetT& start, const Data& data,
                            const std::vector<std::uint32_t>& batch, std::size_t threads,
                            const std::vector<double>& gradient) {
  auto net = std::make_unique<NetT>(start);
  auto relu_signs = [&] {
    if constexpr (ReluInput < NetT::layer_count)
      return signs_at<NetT, ReluInput>(*net, data, batch);
    else return std::vector<bool>{};
  };
  Rng pick(threads);
  std::size_t checked = 0, failed = 0, kinks = 0;
  double worst = 0;
  for (std::size_t s = 0; s < std::min<std::size_t>(NetT::param_count, 80); ++s) {
    const std::size_t i = NetT::param_count <= 80 ? s : pick.below(NetT::param_count);
    if (is_moving_statistic<NetT>(i)) continue;
    const float h = 1e-3f, saved = net->parameters()[i];
    net->parameters()[i] = saved + h;
    const double plus = trainer_loss(*net, data, batch, threads);
    const std::vector<bool> signs_plus = relu_signs();
    net->parameters()[i] = saved - h;
    const double minus = trainer_loss(*net, data, batch, threads);
    const bool kink = relu_signs() != signs_plus;
    net->parameters()[i] = saved;
    if (kink) {
      ++kinks;
      continue;
    }
    const double numeric = (plus - minus) / (2.0 * double(h));
    const double error = std::abs(numeric - gradient[i]) / std::max(std::abs(numeric), 1e-2);
    worst = std::max(worst, error);
    ++checked;
    if (error > 2e-2) {
      ++failed;
      MESSAGE("parameter " << i << ": numeric " << numeric << ", trainer " << gradient[i]);
    }
  }
  INFO("threads " << threads << ", worst relative error " << worst << ", kinks " << kinks);
  CHECK(checked > 20);
  CHECK(kinks * 4 < checked);
  CHECK(failed == 0);
}

// Within the rounding of a parameter's float (the gradients come from a step of rate 1).
void check_close(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::abs(a[i] - b[i]) > 1e-6 + 1e-4 * std::abs(a[i])) ++differing;
  CHECK(differing == 0);
}

}  // namespace

TEST_CASE("BatchNorm's backward through the batch statistics, one pass over a few images") {
  using typenet::testing::check_gradients;
  // As the first layer (its input gradient), after a convolution (image channels) and a Dense
  // (smooth activations: with this helper's step a ReLU after a BatchNorm crosses many kinks;
  // the trainer's checks below skip them).
  check_gradients<Net<Input<5>, BatchNorm<Epsilon<1, 100>>, Dense<4, Tanh>>>(41);
  check_gradients<Net<Input<6, 5, 2>, Conv<3, 3>, BatchNorm<>, Tanh, Flatten, Dense<3>>>(42);
  check_gradients<Net<Input<7>, Dense<6>, BatchNorm<>, Tanh, Dense<3>>>(44);
}

TEST_CASE_TEMPLATE("the trainer's gradient of a whole batch with BatchNorm, on 1, 2 and 3 threads",
                   NetT, ConvBn, DenseBn, ResidualBn) {
  const Data data = labelled_noise<NetT>(12, 7);
  const auto start = random_net<NetT>(8);
  for (const std::vector<std::uint32_t>& batch :
       {std::vector<std::uint32_t>{3, 0, 11, 5, 8, 1, 9}, std::vector<std::uint32_t>{4, 10}}) {
    INFO("batch of " << batch.size());
    const std::vector<double> alone = trainer_gradient(*start, data, batch, 1);
    check_trainer_gradient<NetT, relu_input<NetT>>(*start, data, batch, 1, alone);
    // Split between the workers (a batch of 2 on 3 threads: 2 workers), statistics exchanged.
    for (const std::size_t threads : {2, 3}) {
      INFO(threads << " threads");
      const std::vector<double> split = trainer_gradient(*start, data, batch, threads);
      check_close(split, alone);
      check_trainer_gradient<NetT, relu_input<NetT>>(*start, data, batch, threads, split);
    }
  }
}

TEST_CASE("a team trains BatchNorm on the whole batch as one thread does") {
  const Data data = labelled_noise<TeamBn>(40, 9);
  const auto start = random_net<TeamBn>(10);
  std::vector<std::uint32_t> batch(33);
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i] = std::uint32_t(i * 7 % 40);
  const std::vector<double> alone = trainer_gradient(*start, data, batch, 1);
  const std::vector<double> team = trainer_gradient(*start, data, batch, 2);
  CHECK(team == alone);
  check_trainer_gradient<TeamBn, 1>(*start, data, batch, 2, team);
}

namespace {

// One case of tests/golden/batch_norm_training.expected.txt.
struct KerasRun {
  std::string name;
  std::size_t batch_size = 0, epochs = 0;
  float learning_rate = 0;
  Data data;
  std::vector<std::string> weight_names;
  std::vector<std::vector<float>> initial, trained, predictions;
};

std::vector<float> floats_of(std::istringstream& words) {
  std::vector<float> values;
  for (float value; words >> value;) values.push_back(value);
  return values;
}

std::map<std::string, KerasRun> keras_runs() {
  const std::string path = std::string(TYPENET_GOLDEN_DIR) + "/batch_norm_training.expected.txt";
  std::ifstream file(path);
  REQUIRE_MESSAGE(file, "cannot read " << path);
  std::map<std::string, KerasRun> runs;
  KerasRun run;
  for (std::string line; std::getline(file, line);) {
    std::istringstream words(line);
    std::string record;
    words >> record;
    if (record == "case") {
      run = {};
      words >> run.name;
    } else if (record == "batch_size") {
      words >> run.batch_size;
    } else if (record == "epochs") {
      words >> run.epochs;
    } else if (record == "learning_rate") {
      words >> run.learning_rate;
    } else if (record == "x") {
      const std::vector<float> sample = floats_of(words);
      run.data.x.insert(run.data.x.end(), sample.begin(), sample.end());
    } else if (record == "y") {
      for (int label; words >> label;) run.data.y.push_back(std::uint8_t(label));
    } else if (record == "initial" || record == "trained") {
      std::string name;
      words >> name;
      (record == "initial" ? run.initial : run.trained).push_back(floats_of(words));
      if (record == "initial") run.weight_names.push_back(name);
    } else if (record == "predictions") {
      run.predictions.push_back(floats_of(words));
    } else if (record == "end") {
      runs[run.name] = run;
    }
  }
  REQUIRE(runs.size() == 2);
  return runs;
}

// typenet's parameter block is Keras' weights (model.weights) flattened one after the other.
template <class NetT>
void check_against_keras(const KerasRun& keras, std::size_t threads) {
  INFO(keras.name << " on " << threads << " thread(s)");
  auto net = std::make_unique<NetT>();
  std::vector<float> initial;
  for (const std::vector<float>& weight : keras.initial)
    initial.insert(initial.end(), weight.begin(), weight.end());
  REQUIRE(initial.size() == NetT::param_count);
  std::copy(initial.begin(), initial.end(), net->parameters().begin());
  auto model = compile(*net, SGD{.learning_rate = keras.learning_rate},
                       SparseCategoricalCrossentropy{},
                       {.threads = threads, .precision = Precision::Float32});
  model.fit(
      keras.data.samples(),
      {.batch_size = keras.batch_size, .epochs = keras.epochs, .verbose = 0, .shuffle = false});
  std::size_t offset = 0;
  for (std::size_t w = 0; w < keras.trained.size(); ++w) {
    INFO(keras.weight_names[w]);
    double worst = 0, moved = 0;
    for (std::size_t i = 0; i < keras.trained[w].size(); ++i) {
      const float value = net->parameters()[offset + i];
      worst = std::max(worst, double(std::abs(value - keras.trained[w][i])));
      moved = std::max(moved, double(std::abs(keras.trained[w][i] - keras.initial[w][i])));
    }
    INFO("Keras moved it up to " << moved << ", typenet is within " << worst);
    CHECK(worst <= 1e-5);
    offset += keras.trained[w].size();
  }
  // At inference, with the moving statistics.
  for (std::size_t i = 0; i < keras.predictions.size(); ++i) {
    const auto output =
        net->predict(std::span(keras.data.x).subspan(i * NetT::input_size, NetT::input_size));
    for (std::size_t k = 0; k < output.size(); ++k)
      CHECK(std::abs(output[k] - keras.predictions[i][k]) <= 1e-5);
  }
}

}  // namespace

TEST_CASE("BatchNorm trains as Keras 3: weights and moving statistics after SGD steps") {
  const auto runs = keras_runs();
  for (const std::size_t threads : {1, 2, 3}) {
    check_against_keras<
        Net<Input<5, 5, 2>, Conv<4, 3>, BatchNorm<>, Relu, Flatten, Dense<3, Softmax>>>(
        runs.at("bn_train_conv"), threads);
    check_against_keras<
        Net<Input<5>, Dense<6>, BatchNorm<Epsilon<1, 100>>, Tanh, Dense<3, Softmax>>>(
        runs.at("bn_train_dense"), threads);
  }
}

TEST_CASE("Adam, RMSprop and SGD leave a parameter whose gradient is always 0 as it is") {
  auto check_optimizer = [](auto optimizer) {
    constexpr std::size_t count = 37;  // SIMD blocks and a tail
    using Optimizer = decltype(optimizer);
    std::vector<float> params(count), gradients(count, 0.0f);
    Rng rng(5);
    for (float& p : params) p = rng.uniform(-2.0f, 2.0f);
    const std::vector<float> before = params;
    std::vector<std::vector<float>> slots(Optimizer::slot_names.size(),
                                          std::vector<float>(count, 0.0f));
    std::array<float*, Optimizer::slot_names.size()> slot_pointers;
    for (std::size_t k = 0; k < slots.size(); ++k) slot_pointers[k] = slots[k].data();
    for (std::uint64_t step = 1; step <= 5; ++step)
      optimizer.update(params.data(), gradients.data(), slot_pointers, params.data(), slot_pointers,
                       count, step);
    CHECK(params == before);
  };
  check_optimizer(Adam{});
  check_optimizer(RMSprop{});
  check_optimizer(SGD{});
  check_optimizer(SGD{.learning_rate = 0.1f, .momentum = 0.9f, .nesterov = true});
}

TEST_CASE("only after_step moves the moving statistics, whatever the optimizer") {
  const Data data = labelled_noise<ConvBn>(20, 3);
  const auto start = random_net<ConvBn>(4);
  const std::vector<std::uint32_t> batch{0, 2, 4, 6, 8, 10, 12, 14, 16};
  auto after_one_step = [&](auto optimizer) {
    auto net = std::make_unique<ConvBn>(*start);
    auto model = compile(*net, optimizer, SparseCategoricalCrossentropy{}, {.threads = 2});
    model.train_on_batch(data.samples(), batch);
    return std::vector<float>(net->parameters().begin(), net->parameters().end());
  };
  const std::vector<float> adam = after_one_step(Adam{}), rmsprop = after_one_step(RMSprop{}),
                           sgd = after_one_step(SGD{.momentum = 0.9f});
  std::size_t moving = 0;
  for (std::size_t i = 0; i < ConvBn::param_count; ++i) {
    if (!is_moving_statistic<ConvBn>(i)) continue;
    ++moving;
    // The same update from the same batch statistics, and a real one.
    CHECK(adam[i] == sgd[i]);
    CHECK(rmsprop[i] == sgd[i]);
    CHECK(adam[i] != start->parameters()[i]);
  }
  CHECK(moving == 6);
}

TEST_CASE("fit with BatchNorm: the same seed and thread count give bit-identical weights") {
  using Cnn = Net<Input<8, 8, 1>, Conv<4, 3>, BatchNorm<>, Relu, MaxPool<2>, Flatten, Dense<5>,
                  BatchNorm<>, Relu, Dense<3, Softmax>>;
  const Data data = labelled_noise<Cnn>(150, 11);
  auto run = [&](std::size_t threads) {
    auto net = std::make_unique<Cnn>(12);
    auto model =
        compile(*net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = threads, .seed = 13});
    const History history =
        model.fit(data.samples(), {.batch_size = 32, .epochs = 2, .verbose = 0});
    CHECK(std::isfinite(history["loss"].back()));
    return std::vector<float>(net->parameters().begin(), net->parameters().end());
  };
  for (const std::size_t threads : {1, 2, 3}) {
    INFO(threads << " threads");
    CHECK(run(threads) == run(threads));
  }
}

TEST_CASE("a batch whose part for a thread exceeds the chunk is refused, naming the limit") {
  using Small = Net<Input<8>, Dense<4>, BatchNorm<>, Dense<2, Softmax>>;
  static_assert(default_chunk<Small> == 256);
  const Data data = labelled_noise<Small>(600, 5);
  auto net = std::make_unique<Small>(6);
  const std::vector<float> before(net->parameters().begin(), net->parameters().end());
  auto alone = compile(*net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = 1});
  CHECK_THROWS_WITH_AS(
      alone.fit(data.samples(), {.batch_size = 300, .verbose = 0}),
      "typenet: a batch of 300 images on 1 thread(s) gives a thread 300 images, but this Net "
      "normalises over whole batches (BatchNorm) and passes a thread's part in one chunk of at "
      "most 256 images: use a batch_size of at most 256, more threads, or a Model with a larger "
      "Chunk",
      std::invalid_argument);
  std::vector<std::uint32_t> batch(257);
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i] = std::uint32_t(i);
  CHECK_THROWS_AS(alone.train_on_batch(data.samples(), batch), std::invalid_argument);
  CHECK(std::vector<float>(net->parameters().begin(), net->parameters().end()) == before);
  // Two threads take 150 images each.
  auto two = compile(*net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = 2});
  CHECK_NOTHROW(two.fit(data.samples(), {.batch_size = 300, .verbose = 0}));
  // A team passes the whole batch through one set of buffers.
  auto team_net = std::make_unique<TeamBn>();
  const Data wide = labelled_noise<TeamBn>(300, 7);
  auto team = compile(*team_net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = 2});
  CHECK_THROWS_WITH_AS(team.fit(wide.samples(), {.batch_size = 300, .verbose = 0}),
                       doctest::Contains("use a batch_size of at most 256 or a Model"),
                       std::invalid_argument);
}

TEST_CASE("BatchNorms inside residual branches update their moving statistics after each step") {
  const Data data = labelled_noise<ResidualBn>(20, 5);
  const auto start = random_net<ResidualBn>(6);
  const std::vector<std::uint32_t> batch{1, 3, 5, 7, 9, 11, 13};
  auto after_one_step = [&](std::size_t threads) {
    auto net = std::make_unique<ResidualBn>(*start);
    auto model = compile(*net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = threads});
    model.train_on_batch(data.samples(), batch);
    return std::vector<float>(net->parameters().begin(), net->parameters().end());
  };
  const std::vector<float> one = after_one_step(1), two = after_one_step(2);
  std::size_t moving = 0;
  for (std::size_t i = 0; i < ResidualBn::param_count; ++i) {
    if (!is_moving_statistic<ResidualBn>(i)) continue;
    ++moving;
    CHECK(one[i] != start->parameters()[i]);
    CHECK(two[i] == doctest::Approx(one[i]).epsilon(1e-5));
  }
  CHECK(moving == 2 * 3 + 2 * 3);  // two BatchNorms of 3 channels: means and variances
}
