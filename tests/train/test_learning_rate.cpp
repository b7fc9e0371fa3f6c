// Learning-rate control: the schedules and the LearningRateScheduler and ReduceLROnPlateau
// callbacks against what real Keras 3 gives (tests/golden/learning_rate.expected.txt, made by
// tests/golden/gen/make_lr_fixtures.py), and a learning rate in fit: used by the optimizer,
// recorded in the history and the progress line, kept by checkpoints.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <typenet/cli/recipe.hpp>
#include <typenet/typenet.hpp>

using namespace typenet;

namespace {

// One case of the golden file: its kind and name, its config, its numeric lines and messages.
struct GoldenCase {
  std::string kind, name;
  std::map<std::string, std::string> config;
  std::map<std::string, std::vector<double>> series;  // "steps", "learning_rate", "monitored"
  std::string messages;                               // as Keras printed them

  double number(const std::string& key, double fallback) const {
    const auto found = config.find(key);
    return found == config.end() ? fallback : std::stod(found->second);
  }
};

std::vector<GoldenCase> golden_cases() {
  const std::string path = std::string(TYPENET_GOLDEN_DIR) + "/learning_rate.expected.txt";
  std::ifstream file(path);
  REQUIRE_MESSAGE(file, "cannot read " << path);
  std::vector<GoldenCase> cases;
  std::string line;
  while (std::getline(file, line)) {
    std::istringstream words(line);
    std::string record;
    words >> record;
    if (record == "case") {
      cases.emplace_back();
      words >> cases.back().kind >> cases.back().name;
    } else if (record == "config") {
      std::string key, value;
      words >> key >> value;
      cases.back().config[key] = value;
    } else if (record == "message") {
      // Keras prints "\n" + message + "\n".
      cases.back().messages.append("\n").append(line, std::string("message ").size()).append("\n");
    } else if (record == "steps" || record == "learning_rate" || record == "monitored") {
      for (double value; words >> value;) cases.back().series[record].push_back(value);
    }
  }
  REQUIRE(!cases.empty());
  return cases;
}

// Distance in float32 units in the last place.
std::int64_t ulps(float a, float b) {
  auto ordered = [](float x) {
    std::int32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    return bits < 0 ? std::int64_t(INT32_MIN) - bits : std::int64_t(bits);
  };
  return std::abs(ordered(a) - ordered(b));
}

LearningRate schedule_of(const GoldenCase& golden) {
  if (golden.kind == "exponential_decay")
    return ExponentialDecay{.initial_learning_rate = golden.number("initial_learning_rate", 0),
                            .decay_steps = std::uint64_t(golden.number("decay_steps", 0)),
                            .decay_rate = golden.number("decay_rate", 0),
                            .staircase = golden.config.at("staircase") == "True"};
  CosineDecay schedule{.initial_learning_rate = golden.number("initial_learning_rate", 0),
                       .decay_steps = std::uint64_t(golden.number("decay_steps", 0)),
                       .alpha = golden.number("alpha", 0)};
  if (golden.config.contains("warmup_target")) {
    schedule.warmup_target = golden.number("warmup_target", 0);
    schedule.warmup_steps = std::uint64_t(golden.number("warmup_steps", 0));
  }
  return schedule;
}

// What a callback sees of a model: a learning rate, and an output for its messages.
class RateOnly : public TrainingControl {
 public:
  RateOnly(float rate, std::ostream& out) : rate_(rate) { out_ = &out; }
  void save(const std::filesystem::path&) const override {}
  std::span<const float> weights() const override { return {}; }
  void set_weights(std::span<const float>) override {}
  float learning_rate() const override { return rate_; }
  void set_learning_rate(float rate) override { rate_ = rate; }

 private:
  float rate_;
};

MonitorMode mode_of(const GoldenCase& golden) {
  const auto mode = golden.config.find("mode");
  if (mode == golden.config.end() || mode->second == "auto") return MonitorMode::Auto;
  return mode->second == "max" ? MonitorMode::Max : MonitorMode::Min;
}

LearningRateScheduler::Schedule scheduler_of(const std::string& name) {
  if (name == "halve_every_third")
    return [](std::size_t epoch, double rate) { return epoch % 3 == 2 ? rate * 0.5 : rate; };
  if (name == "keras_doc_example")
    return [](std::size_t epoch, double rate) { return epoch < 10 ? rate : rate * std::exp(-0.1); };
  if (name == "epoch_table")
    return [](std::size_t epoch, double) {
      return std::vector{0.1, 0.05, 0.05, 0.02, 0.02, 0.001, 0.001}.at(epoch);
    };
  FAIL("no C++ twin for the golden schedule " << name);
  return {};
}

// A tiny softmax regression on separable data, trained a whole batch at a time in a fixed order,
// so that each epoch is one optimizer step and runs give the same floats.
using Tiny = Net<Input<4>, Dense<3, Softmax>>;
struct Data {
  std::vector<float> x;
  std::vector<std::uint8_t> y;
};
Data tiny_data() {
  Rng rng(11);
  Data data;
  for (std::size_t i = 0; i < 24; ++i) {
    const auto label = std::uint8_t(i % 3);
    for (std::size_t d = 0; d < 4; ++d)
      data.x.push_back((d == label ? 1.0f : 0.0f) + rng.uniform(-0.5f, 0.5f));
    data.y.push_back(label);
  }
  return data;
}
FitOptions<std::uint8_t> whole_batches(std::size_t epochs) {
  return {.batch_size = 24, .epochs = epochs, .verbose = 0, .shuffle = false};
}

// The weights after each epoch.
struct WeightsPerEpoch : Callback {
  std::vector<std::vector<float>> weights;
  void on_epoch_end(std::size_t, const History&, TrainingControl& model) override {
    weights.emplace_back(model.weights().begin(), model.weights().end());
  }
};

// The loss gradient at `weights` over the whole data: minus the change of one step of SGD with
// rate 1.
std::vector<float> gradient_at(const std::vector<float>& weights, const Data& data) {
  auto net = std::make_unique<Tiny>(1);
  std::copy(weights.begin(), weights.end(), net->parameters().begin());
  auto probe =
      compile(*net, SGD{.learning_rate = 1.0f}, SparseCategoricalCrossentropy{}, {.threads = 1});
  std::vector<std::uint32_t> all(data.y.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = std::uint32_t(i);
  probe.train_on_batch({data.x, data.y}, all);
  std::vector<float> gradient(weights.size());
  for (std::size_t i = 0; i < weights.size(); ++i) gradient[i] = weights[i] - net->parameters()[i];
  return gradient;
}

// Checks that every epoch's step moved the weights by rate * gradient, with the rate of that
// step.
void check_steps_used(const std::vector<float>& initial, const WeightsPerEpoch& recorded,
                      const std::vector<double>& rates, const Data& data) {
  REQUIRE(recorded.weights.size() == rates.size());
  std::vector<float> before = initial;
  for (std::size_t epoch = 0; epoch < rates.size(); ++epoch) {
    INFO("epoch " << epoch << ", rate " << rates[epoch]);
    const std::vector<float> gradient = gradient_at(before, data);
    const std::vector<float>& after = recorded.weights[epoch];
    for (std::size_t i = 0; i < after.size(); ++i) {
      // The step's float rounding: an ulp or two of the weight.
      const double expected = rates[epoch] * gradient[i],
                   rounding = 2 * std::abs(before[i]) * std::numeric_limits<float>::epsilon();
      CHECK_MESSAGE(
          std::abs(double(before[i] - after[i]) - expected) <= 1e-4 * std::abs(expected) + rounding,
          "weight " << i << " moved by " << before[i] - after[i] << ", rate * gradient "
                    << expected);
    }
    before = after;
  }
}

}  // namespace

TEST_CASE("ExponentialDecay and CosineDecay give Keras 3's values at each step") {
  std::size_t checked = 0;
  for (const GoldenCase& golden : golden_cases()) {
    if (golden.kind != "exponential_decay" && golden.kind != "cosine_decay") continue;
    const LearningRate rate = schedule_of(golden);
    const auto& steps = golden.series.at("steps");
    const auto& expected = golden.series.at("learning_rate");
    REQUIRE(steps.size() == expected.size());
    for (std::size_t i = 0; i < steps.size(); ++i) {
      INFO(golden.kind << " " << golden.name << " at step " << steps[i] << ": typenet "
                       << rate.at(std::uint64_t(steps[i])) << ", Keras " << expected[i]);
      // TensorFlow's float32 pow and cos may round differently from the C library's (glibc's
      // agree on every point here).
      CHECK(ulps(rate.at(std::uint64_t(steps[i])), float(expected[i])) <= 1);
      ++checked;
    }
  }
  CHECK(checked == 5 * 16);
}

TEST_CASE("ReduceLROnPlateau reduces at the epochs and to the rates Keras 3's does") {
  std::size_t checked = 0;
  for (const GoldenCase& golden : golden_cases()) {
    if (golden.kind != "reduce_lr_on_plateau") continue;
    INFO("case " << golden.name);
    const std::string monitor = golden.config.at("monitor");
    ReduceLROnPlateau callback({.monitor = monitor,
                                .factor = golden.number("factor", 0.1),
                                .patience = std::size_t(golden.number("patience", 10)),
                                .verbose = int(golden.number("verbose", 0)),
                                .mode = mode_of(golden),
                                .min_delta = golden.number("min_delta", 1e-4),
                                .cooldown = std::size_t(golden.number("cooldown", 0)),
                                .min_lr = golden.number("min_lr", 0)});
    std::ostringstream out;
    RateOnly model(float(golden.number("initial_learning_rate", 0)), out);
    History history;
    callback.on_train_begin(model);
    const auto& monitored = golden.series.at("monitored");
    const auto& expected = golden.series.at("learning_rate");
    REQUIRE(monitored.size() == expected.size());
    for (std::size_t epoch = 0; epoch < monitored.size(); ++epoch) {
      history.record(monitor, monitored[epoch]);
      callback.on_epoch_end(epoch, history, model);
      CHECK_MESSAGE(model.learning_rate() == float(expected[epoch]), "after epoch " << epoch);
    }
    CHECK(out.str() == golden.messages);
    ++checked;
  }
  CHECK(checked == 6);
  CHECK_THROWS_AS(ReduceLROnPlateau({.factor = 1.0}), std::invalid_argument);
}

TEST_CASE("LearningRateScheduler sets the rates Keras 3's does, at the start of each epoch") {
  std::size_t checked = 0;
  for (const GoldenCase& golden : golden_cases()) {
    if (golden.kind != "learning_rate_scheduler") continue;
    INFO("case " << golden.name);
    LearningRateScheduler callback(scheduler_of(golden.name), 1);
    std::ostringstream out;
    RateOnly model(float(golden.number("initial_learning_rate", 0)), out);
    const auto& expected = golden.series.at("learning_rate");
    for (std::size_t epoch = 0; epoch < expected.size(); ++epoch) {
      callback.on_epoch_begin(epoch, model);
      CHECK_MESSAGE(model.learning_rate() == float(expected[epoch]), "epoch " << epoch);
    }
    CHECK(out.str() == golden.messages);
    ++checked;
  }
  CHECK(checked == 3);
}

TEST_CASE("an optimizer's schedule drives its updates: update t uses the rate of iteration t-1") {
  const ExponentialDecay decay{.initial_learning_rate = 0.5, .decay_steps = 2, .decay_rate = 0.25};
  SGD sgd{.learning_rate = decay};
  float p = 1.0f, velocity = 0.0f;
  const float g = 0.5f;
  float* slot[1] = {&velocity};
  for (std::uint64_t step = 1; step <= 4; ++step) {
    const float before = p;
    sgd.update(&p, &g, slot, &p, slot, 1, step);
    CHECK(before - p == doctest::Approx(decay(step - 1) * g));
  }
  CHECK(decay(0) == 0.5f);
  CHECK(decay(2) == 0.125f);
  // Keras refuses decay_steps of 0.
  CHECK_THROWS_AS(compile<Tiny>(Adam{.learning_rate = CosineDecay{.initial_learning_rate = 0.1}},
                                SparseCategoricalCrossentropy{}, {.threads = 1}),
                  std::invalid_argument);
}

TEST_CASE("fit with a schedule: each step uses the schedule's rate; the history and progress "
          "line show it") {
  const Data data = tiny_data();
  auto net = std::make_unique<Tiny>(3);
  const std::vector<float> initial(net->parameters().begin(), net->parameters().end());
  const ExponentialDecay decay{.initial_learning_rate = 0.5, .decay_steps = 1, .decay_rate = 0.1};
  auto model =
      compile(*net, SGD{.learning_rate = decay}, SparseCategoricalCrossentropy{}, {.threads = 1});
  WeightsPerEpoch recorded;
  std::ostringstream log;
  FitOptions<std::uint8_t> options = whole_batches(3);
  options.verbose = 2;
  options.out = &log;
  options.callbacks = {&recorded};
  const History history = model.fit({data.x, data.y}, options);
  // As Keras' optimizer.learning_rate at an epoch's end: the rate of the next step.
  REQUIRE(history.has("learning_rate"));
  CHECK(history["learning_rate"] ==
        std::vector<double>{decay(1), decay(2), decay(3)});  // 0.05, 0.005, 0.0005
  check_steps_used(initial, recorded, {decay(0), decay(1), decay(2)}, data);
  CHECK(log.str().find(" - learning_rate: 0.0500\n") != std::string::npos);
  CHECK(log.str().find(" - learning_rate: 5.0000e-04\n") != std::string::npos);  // Keras' %.4e
  // As Keras, a schedule cannot be overridden.
  CHECK_THROWS_AS(model.set_learning_rate(0.1f), std::logic_error);
  LearningRateScheduler scheduler([](std::size_t, double rate) { return rate; });
  options.callbacks = {&scheduler};
  CHECK_THROWS_AS(model.fit({data.x, data.y}, options), std::logic_error);
}

TEST_CASE("fit with a constant rate and no rate callback records no learning rate") {
  const Data data = tiny_data();
  auto model = compile<Tiny>(SGD{}, SparseCategoricalCrossentropy{}, {.threads = 1});
  std::ostringstream log;
  FitOptions<std::uint8_t> options = whole_batches(2);
  options.verbose = 2;
  options.out = &log;
  const History history = model.fit({data.x, data.y}, options);
  CHECK(!history.has("learning_rate"));
  CHECK(log.str().find("learning_rate") == std::string::npos);
}

TEST_CASE("callbacks change the rate of fit: LearningRateScheduler, ReduceLROnPlateau") {
  const Data data = tiny_data();
  SUBCASE("LearningRateScheduler: set before the epoch's steps") {
    auto net = std::make_unique<Tiny>(4);
    const std::vector<float> initial(net->parameters().begin(), net->parameters().end());
    auto model =
        compile(*net, SGD{.learning_rate = 0.3f}, SparseCategoricalCrossentropy{}, {.threads = 1});
    LearningRateScheduler halve(
        [](std::size_t epoch, double rate) { return epoch == 0 ? rate : rate / 2; });
    WeightsPerEpoch recorded;
    FitOptions<std::uint8_t> options = whole_batches(3);
    options.callbacks = {&halve, &recorded};
    const History history = model.fit({data.x, data.y}, options);
    const std::vector<double> rates{0.3f, 0.15f, 0.075f};
    CHECK(history["learning_rate"] == rates);
    check_steps_used(initial, recorded, rates, data);
    CHECK(model.learning_rate() == 0.075f);
  }
  SUBCASE("ReduceLROnPlateau: the history shows the epoch's rate, the reduction applies next") {
    auto net = std::make_unique<Tiny>(5);
    const std::vector<float> initial(net->parameters().begin(), net->parameters().end());
    auto model =
        compile(*net, SGD{.learning_rate = 0.4f}, SparseCategoricalCrossentropy{}, {.threads = 1});
    // No epoch improves the loss by 10 after the first: a reduction after every later epoch.
    ReduceLROnPlateau plateau(
        {.monitor = "loss", .factor = 0.5, .patience = 1, .verbose = 1, .min_delta = 10});
    WeightsPerEpoch recorded;
    std::ostringstream log;
    FitOptions<std::uint8_t> options = whole_batches(4);
    options.out = &log;
    options.callbacks = {&plateau, &recorded};
    const History history = model.fit({data.x, data.y}, options);
    const std::vector<double> rates{0.4f, 0.4f, 0.2f, 0.1f};
    CHECK(history["learning_rate"] == rates);
    check_steps_used(initial, recorded, rates, data);
    CHECK(model.learning_rate() == 0.05f);
    CHECK(log.str() == "\nEpoch 2: ReduceLROnPlateau reducing learning rate to "
                       "0.20000000298023224.\n"
                       "\nEpoch 3: ReduceLROnPlateau reducing learning rate to "
                       "0.10000000149011612.\n"
                       "\nEpoch 4: ReduceLROnPlateau reducing learning rate to "
                       "0.05000000074505806.\n");
  }
}

TEST_CASE("checkpoints keep a changed learning rate; a run resumed from its backup continues "
          "with it") {
  const Data data = tiny_data();
  const auto dir = std::filesystem::temp_directory_path() / "typenet_test_learning_rate";
  std::filesystem::create_directories(dir);

  SUBCASE("save_checkpoint and load_checkpoint; a checkpoint without a rate keeps the model's") {
    auto model = compile<Tiny>(Adam{.learning_rate = 0.01f}, SparseCategoricalCrossentropy{},
                               {.threads = 1});
    model.set_learning_rate(0.0123f);
    model.save_checkpoint(dir / "rate.ckpt", 1);
    auto resumed = compile<Tiny>(Adam{.learning_rate = 0.01f}, SparseCategoricalCrossentropy{},
                                 {.threads = 1});
    resumed.load_checkpoint(dir / "rate.ckpt");
    CHECK(resumed.learning_rate() == 0.0123f);

    // A checkpoint as typenet wrote them before it stored the rate.
    CheckpointExtras extras = model.checkpoint_extras();
    extras.learning_rate.reset();
    extras.text = History{}.to_csv();
    save_checkpoint(dir / "old.ckpt", model.net(), extras);
    auto old = compile<Tiny>(Adam{.learning_rate = 0.01f}, SparseCategoricalCrossentropy{},
                             {.threads = 1});
    old.load_checkpoint(dir / "old.ckpt");
    CHECK(old.learning_rate() == 0.01f);
  }

  SUBCASE("BackupAndRestore: the same rates and weights as an unbroken run") {
    const auto backup = dir / "backup.ckpt";
    std::filesystem::remove(backup);
    // Each epoch's rate depends on the rate before it: resuming without it would diverge.
    LearningRateScheduler decay([](std::size_t, double rate) { return rate * 0.7; });
    auto fit = [&](Callback* crash) {
      auto net = std::make_unique<Tiny>(6);
      auto model = compile(*net, SGD{.learning_rate = 0.5f}, SparseCategoricalCrossentropy{},
                           {.threads = 1});
      FitOptions<std::uint8_t> options = whole_batches(5);
      options.backup = backup;
      options.callbacks = {&decay};
      if (crash) options.callbacks.push_back(crash);
      History history = model.fit({data.x, data.y}, options);
      return std::pair(history,
                       std::vector<float>(net->parameters().begin(), net->parameters().end()));
    };
    const auto [unbroken_history, unbroken_weights] = fit(nullptr);
    struct CrashInEpochThree : Callback {
      void on_epoch_begin(std::size_t epoch, TrainingControl&) override {
        if (epoch == 2) throw std::runtime_error("simulated crash");
      }
    } crash;
    CHECK_THROWS_WITH(fit(&crash), "simulated crash");
    REQUIRE(std::filesystem::exists(backup));
    const auto [resumed_history, resumed_weights] = fit(nullptr);
    // The epochs before the crash come back from the checkpoint's history, written with 9
    // significant digits: exact for the float32 rates.
    const auto as_floats = [](const std::vector<double>& values) {
      return std::vector<float>(values.begin(), values.end());
    };
    CHECK(unbroken_history["learning_rate"].size() == 5);
    CHECK(as_floats(resumed_history["learning_rate"]) ==
          as_floats(unbroken_history["learning_rate"]));
    CHECK(resumed_weights == unbroken_weights);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a training recipe's cosine decay spans the run's optimizer steps") {
  const cli::TrainingRecipe tutorial{};
  CHECK(tutorial.optimizer(60000, 128, 5, 0.0).learning_rate.at(1000) == 1e-3f);
  const cli::TrainingRecipe decaying{.cosine_decay = true};
  // 54,000 images after a 10 % split: 422 steps an epoch, 6,330 in 15 epochs.
  const Adam adam = decaying.optimizer(60000, 128, 15, 0.1);
  CHECK(adam.learning_rate.at(0) == 1e-3f);
  CHECK(adam.learning_rate.at(3165) == doctest::Approx(5e-4).epsilon(1e-4));
  CHECK(adam.learning_rate.at(6329) > 0.0f);
  CHECK(adam.learning_rate.at(6330) == 0.0f);
}
