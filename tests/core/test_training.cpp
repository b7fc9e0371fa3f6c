// Optimizers, losses, fit/evaluate/predict, callbacks and reproducibility on small problems.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <sstream>
#include <vector>

#include <typenet/typenet.hpp>

using namespace typenet;

TEST_CASE("Adam's first steps match hand-computed values") {
  float p[2] = {1.0f, -2.0f}, g[2] = {0.5f, -0.1f}, m[2] = {}, v[2] = {};
  float* slots[2] = {m, v};
  Adam adam;
  adam.update(p, g, slots, p, slots, 2, 1);
  // Step 1: m = 0.1 g, v = 0.001 g^2, alpha = lr sqrt(0.001) / 0.1, p -= alpha m / (sqrt(v) + eps)
  // = lr * sign(g) (up to eps).
  CHECK(p[0] == doctest::Approx(1.0 - 1e-3).epsilon(1e-6));
  CHECK(p[1] == doctest::Approx(-2.0 + 1e-3).epsilon(1e-6));
  CHECK(m[0] == doctest::Approx(0.05));
  CHECK(v[1] == doctest::Approx(1e-5));
  adam.update(p, g, slots, p, slots, 2, 2);
  const double m2 = 0.9 * 0.05 + 0.1 * 0.5, v2 = 0.999 * 0.00025 + 0.001 * 0.25;
  const double alpha = 1e-3 * std::sqrt(1 - 0.999 * 0.999) / (1 - 0.81);
  CHECK(p[0] == doctest::Approx(1.0 - 1e-3 - alpha * m2 / (std::sqrt(v2) + 1e-7)).epsilon(1e-6));
}

TEST_CASE("RMSprop and SGD (momentum, Nesterov) as Keras") {
  float p = 1.0f, g = 0.5f, v = 0.0f;
  float* slot[1] = {&v};
  RMSprop{}.update(&p, &g, slot, &p, slot, 1, 1);
  CHECK(v == doctest::Approx(0.025));
  CHECK(p == doctest::Approx(1.0 - 1e-3 * 0.5 / (std::sqrt(0.025) + 1e-7)));
  float q = 1.0f, velocity = 0.0f;
  float* vel[1] = {&velocity};
  SGD sgd{.learning_rate = 0.1f, .momentum = 0.9f};
  sgd.update(&q, &g, vel, &q, vel, 1, 1);
  sgd.update(&q, &g, vel, &q, vel, 1, 2);
  CHECK(velocity == doctest::Approx(-0.05 * 0.9 - 0.05));
  CHECK(q == doctest::Approx(1.0 - 0.05 - 0.095));
  float r = 1.0f, rv = 0.0f;
  float* nv[1] = {&rv};
  SGD{.learning_rate = 0.1f, .momentum = 0.9f, .nesterov = true}.update(&r, &g, nv, &r, nv, 1, 1);
  CHECK(r == doctest::Approx(1.0 + 0.9 * -0.05 - 0.05));
}

// Dropout regularises as the papers and Keras assume only if units are dropped independently:
// the layer's masks must be uncorrelated between neighbouring units, channels, rows and images.
TEST_CASE("Dropout's training masks are uncorrelated across units and images") {
  using Layer = Dropout<25>::bind<Shape<12, 12, 64>>;  // the seed CNN's Dropout<25>
  constexpr std::size_t units = Layer::input_shape::size, images = 400;
  const std::vector<float> x(images * units, 1.0f);
  std::vector<float> y(images * units);
  Context ctx;
  ctx.training = true;
  ctx.seed = 0x5eed;
  ctx.layer_index = 3;
  Layer::forward(nullptr, x.data(), y.data(), images, ctx);
  std::vector<std::uint32_t> masks(images * units);  // 1 where a unit was kept
  std::transform(y.begin(), y.end(), masks.begin(), [](float value) { return value != 0.0f; });
  const auto correlation = [&](std::size_t lag) {  // Pearson's r of mask[i] and mask[i + lag]
    double sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
    const std::size_t n = masks.size() - lag;
    for (std::size_t i = 0; i < n; ++i) {
      const double a = masks[i], b = masks[i + lag];
      sa += a, sb += b, sab += a * b, saa += a * a, sbb += b * b;
    }
    const double cov = sab / n - sa / n * sb / n;
    return cov / std::sqrt((saa / n - sa / n * sa / n) * (sbb / n - sb / n * sb / n));
  };
  // 3.7 million pairs: one standard error of r is 5e-4; the bound is 6 of them.
  for (const std::size_t lag :
       {std::size_t{1}, std::size_t{2}, std::size_t{64}, std::size_t{12 * 64}, units}) {
    INFO("lag " << lag);
    CHECK(std::abs(correlation(lag)) < 3e-3);
  }
}

TEST_CASE("cross-entropy values and gradients") {
  const float probs[3] = {0.2f, 0.7f, 0.1f};
  const std::uint8_t label = 1;
  float grad[3];
  const auto sparse =
      cross_entropy(SparseCategoricalCrossentropy{}, probs, &label, 3, true, 0.5f, grad);
  CHECK(sparse.loss == doctest::Approx(-std::log(0.7)));
  CHECK(sparse.correct);
  CHECK(grad[0] == doctest::Approx(0.1));
  CHECK(grad[1] == doctest::Approx(-0.15));
  const float one_hot[3] = {0, 0, 1};
  const auto categorical =
      cross_entropy(CategoricalCrossentropy{}, probs, one_hot, 3, false, 1.0f, grad);
  CHECK(categorical.loss == doctest::Approx(-std::log(0.1)));
  CHECK(!categorical.correct);
  CHECK(grad[2] == doctest::Approx(-10.0));
  CHECK(grad[0] == 0.0f);
  // From logits: log-sum-exp, stable for large logits.
  const float logits[3] = {1000.0f, 1001.0f, 999.0f};
  const auto stable = cross_entropy(SparseCategoricalCrossentropy{.from_logits = true}, logits,
                                    &label, 3, false, 1.0f, grad);
  const double expected = std::log(std::exp(-1.0) + 1.0 + std::exp(-2.0));
  CHECK(stable.loss == doctest::Approx(expected));
  CHECK(grad[1] == doctest::Approx(1.0 / (std::exp(-1.0) + 1.0 + std::exp(-2.0)) - 1.0));
  // Evaluation asks for no gradient: the same loss.
  const auto without_gradient = cross_entropy(SparseCategoricalCrossentropy{.from_logits = true},
                                              logits, &label, 3, false, 1.0f, nullptr);
  CHECK(without_gradient.loss == stable.loss);
  CHECK(without_gradient.correct == stable.correct);
}

namespace {
// Two noisy blobs per class in 6 dimensions: learnable, not trivially.
struct Blobs {
  std::vector<float> x;
  std::vector<std::uint8_t> y;
};
Blobs make_blobs(std::size_t count, std::uint64_t seed) {
  Rng rng(seed);
  Blobs data;
  for (std::size_t i = 0; i < count; ++i) {
    const auto label = std::uint8_t(rng.below(3));
    for (std::size_t d = 0; d < 6; ++d)
      data.x.push_back((d % 3 == label ? 1.5f : 0.0f) + rng.uniform(-1.0f, 1.0f));
    data.y.push_back(label);
  }
  return data;
}
using Mlp = Net<Input<6>, Dense<16, Relu>, Dropout<10>, Dense<3, Softmax>>;
using LogitMlp = Net<Input<6>, Dense<16, Tanh>, Dense<3>>;
static_assert(!outputs_logits<Mlp> && !loss_for<Mlp>().from_logits);
static_assert(outputs_logits<LogitMlp> &&
              loss_for<LogitMlp, CategoricalCrossentropy>().from_logits);
}  // namespace

TEST_CASE("fit learns, evaluate and predict agree") {
  const Blobs train = make_blobs(2000, 1), test = make_blobs(500, 2);
  auto net = std::make_unique<Mlp>(3);
  auto model = compile(*net, Adam{.learning_rate = 0.01f}, SparseCategoricalCrossentropy{},
                       {.threads = 2, .seed = 5});
  std::ostringstream log;
  const History history = model.fit({train.x, train.y}, {.batch_size = 32,
                                                         .epochs = 5,
                                                         .verbose = 2,
                                                         .validation_data = {test.x, test.y},
                                                         .out = &log});
  CHECK(history.epochs() == 5);
  CHECK(history["loss"].back() < history["loss"].front());
  CHECK(history["val_accuracy"].back() > 0.9);
  CHECK(log.str().find("val_accuracy: ") != std::string::npos);
  const Evaluation result = model.evaluate({test.x, test.y});
  CHECK(result.accuracy == doctest::Approx(history["val_accuracy"].back()));
  CHECK(result.correct + result.incorrect == 500);
  const auto classes = model.predict_classes(test.x);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < 500; ++i) correct += classes[i] == test.y[i];
  CHECK(correct == result.correct);
  const auto one = net->predict(std::span(test.x).first(6));
  const auto batch = model.predict(std::span(test.x).first(6));
  for (std::size_t j = 0; j < 3; ++j) CHECK(one[j] == doctest::Approx(batch[j]).epsilon(1e-6));
  // Empty validation data is none.
  CHECK(model.fit({train.x, train.y}, {.verbose = 0})["val_loss"].empty());
}

TEST_CASE("compile<Net> gives the model a Net of its own, initialised from options.seed") {
  const Blobs train = make_blobs(400, 1), test = make_blobs(100, 2);
  auto model = compile<Mlp>(Adam{}, SparseCategoricalCrossentropy{}, {.threads = 2, .seed = 6});
  const auto fresh = std::make_unique<Mlp>(6);
  CHECK(std::ranges::equal(model.net().parameters(), fresh->parameters()));
  // It trains bit for bit as a model of the caller's Net does.
  auto net = std::make_unique<Mlp>(6);
  auto given = compile(*net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = 2, .seed = 6});
  const FitOptions<std::uint8_t> options{
      .batch_size = 32, .epochs = 2, .verbose = 0, .validation_data = {test.x, test.y}};
  const History owned_history = model.fit({train.x, train.y}, options);
  const History given_history = given.fit({train.x, train.y}, options);
  CHECK(owned_history["val_loss"].size() == 2);
  CHECK(owned_history["val_loss"] == given_history["val_loss"]);
  CHECK(std::ranges::equal(model.net().parameters(), net->parameters()));
  CHECK_THROWS_WITH_AS((Model<Mlp, Adam, SparseCategoricalCrossentropy>(
                           std::unique_ptr<Mlp>{}, Adam{}, SparseCategoricalCrossentropy{})),
                       doctest::Contains("null"), std::invalid_argument);
}

TEST_CASE("one-hot targets, logits and a validation split") {
  const Blobs train = make_blobs(1500, 3);
  std::vector<float> one_hot(train.y.size() * 3, 0.0f);
  for (std::size_t i = 0; i < train.y.size(); ++i) one_hot[i * 3 + train.y[i]] = 1.0f;
  auto net = std::make_unique<LogitMlp>(4);
  auto model = compile(*net, RMSprop{.learning_rate = 0.01f},
                       CategoricalCrossentropy{.from_logits = true}, {.threads = 1});
  const History history = model.fit(
      {train.x, one_hot}, {.batch_size = 50, .epochs = 4, .verbose = 0, .validation_split = 0.2});
  CHECK(history["val_accuracy"].back() > 0.9);
  // The last 20% is held out, as Keras' validation_split.
  const Evaluation held_out =
      model.evaluate({std::span(train.x).subspan(1200 * 6), std::span(one_hot).subspan(1200 * 3)});
  CHECK(held_out.accuracy == doctest::Approx(history["val_accuracy"].back()));
}

TEST_CASE("mistakes are errors, not wrong numbers") {
  auto softmax_net = std::make_unique<Mlp>(1);
  CHECK_THROWS_WITH_AS(
      compile(*softmax_net, Adam{}, SparseCategoricalCrossentropy{.from_logits = true}),
      doctest::Contains("ends in Softmax"), std::invalid_argument);
  auto model = compile(*softmax_net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = 1});
  std::vector<float> x(12, 0.0f);
  std::vector<std::uint8_t> bad_label{0, 7};
  CHECK_THROWS_WITH_AS(model.fit({x, bad_label}, {.verbose = 0}),
                       doctest::Contains("label 7 of sample 1"), std::invalid_argument);
  std::vector<std::uint8_t> too_few{0};
  CHECK_THROWS_AS(model.fit({x, too_few}, {.verbose = 0}), std::invalid_argument);
  const std::vector<std::uint32_t> first_two{0, 1};
  CHECK_THROWS_WITH_AS(model.train_on_batch({x, too_few}, first_two),
                       doctest::Contains("do not make whole samples"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(model.train_on_batch({x, bad_label}, first_two),
                       doctest::Contains("train_on_batch: label 7 of sample 1"),
                       std::invalid_argument);
  std::vector<std::uint8_t> labels{0, 1};
  EarlyStopping stopping;  // monitors val_loss, which needs validation data
  CHECK_THROWS_WITH_AS(model.fit({x, labels}, {.verbose = 0, .callbacks = {&stopping}}),
                       doctest::Contains("\"val_loss\", which training does not record"),
                       std::invalid_argument);
}

TEST_CASE("a diverging run stops with a clear message and keeps the last good weights") {
  const Blobs train = make_blobs(256, 9);
  for (float& v : const_cast<std::vector<float>&>(train.x)) v *= 1e4f;
  auto net = std::make_unique<Net<Input<6>, Dense<16, Relu>, Dense<3>>>(2);
  auto model = compile(*net, SGD{.learning_rate = 1e30f},
                       SparseCategoricalCrossentropy{.from_logits = true}, {.threads = 2});
  std::vector<std::uint32_t> batch(32);
  std::iota(batch.begin(), batch.end(), 0u);
  std::string message;
  std::vector<float> before;
  for (int step = 0; step < 5 && message.empty(); ++step) {
    before.assign(net->parameters().begin(), net->parameters().end());
    try {
      model.train_on_batch({train.x, train.y}, batch);
    } catch (const std::runtime_error& error) {
      message = error.what();
    }
  }
  CHECK(message.find("training diverged") != std::string::npos);
  CHECK(message.find("at optimizer step") != std::string::npos);
  CHECK(std::equal(before.begin(), before.end(), net->parameters().begin()));
  CHECK_THROWS_WITH_AS(model.fit({train.x, train.y}, {.epochs = 3, .verbose = 0}),
                       doctest::Contains("training diverged"), std::runtime_error);
}

TEST_CASE("same seed and thread count: bit-identical weights") {
  const Blobs train = make_blobs(600, 4);
  auto run = [&](std::size_t threads) {
    auto net = std::make_unique<Mlp>(11);
    auto model =
        compile(*net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = threads, .seed = 3});
    model.fit({train.x, train.y}, {.batch_size = 64, .epochs = 2, .verbose = 0});
    return std::vector<float>(net->parameters().begin(), net->parameters().end());
  };
  CHECK(run(2) == run(2));
  CHECK(run(1) == run(1));
}

// Wide Dense layers (their activation fused and as a layer, dropout between; a softmax inside,
// which needs whole rows): on several threads a team splits each layer's outputs. Every output
// is still summed in the order one thread sums it, so the weights equal one thread's: with
// dense inputs and with mostly-zero ones, as pixels are (whose products skip the zeros).
using WideMlp = Net<Input<256>, Dense<256, Tanh>, Dense<272>, Relu, Dropout<10>, Dense<3, Softmax>>;
using WideSoftmaxInside = Net<Input<256>, Dense<256, Softmax>, Dense<3>>;
// Gelu and Swish, which keep their inputs: each member its part of them.
using WideGelu = Net<Input<256>, Dense<256, Gelu>, Dense<272>, Swish, Dense<3, Softmax>>;
static_assert(WideMlp::trains_in_team && WideSoftmaxInside::trains_in_team &&
              WideGelu::trains_in_team);

TEST_CASE_TEMPLATE("a team of threads trains wide Dense layers as one thread does", NetT, WideMlp,
                   WideSoftmaxInside, WideGelu) {
  const Blobs blobs = make_blobs(300, 8);
  for (const bool mostly_zero : {false, true}) {
    INFO("inputs mostly zero: " << mostly_zero);
    // The blobs' 6 features spread over the 256 inputs, or over the first 24 of them.
    std::vector<float> x(300 * NetT::input_size);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::size_t input = i % NetT::input_size;
      if (!mostly_zero || input < 24)
        x[i] = blobs.x[(i / NetT::input_size) * 6 + input % 6] * float(1 + input % 5) / 5;
    }
    auto run = [&](std::size_t threads, std::size_t batch_size) {
      auto net = std::make_unique<NetT>(5);
      auto model = compile(*net, Adam{}, loss_for<NetT>(), {.threads = threads});
      const History history =
          model.fit({x, blobs.y}, {.batch_size = batch_size, .epochs = 2, .verbose = 0});
      CHECK(history["loss"].back() < history["loss"].front());
      return std::vector<float>(net->parameters().begin(), net->parameters().end());
    };
    const std::vector<float> alone = run(1, 50);
    CHECK(run(2, 50) == alone);
    CHECK(run(3, 50) == alone);  // uneven parts
    // Batches larger than a chunk (256 images here) pass through in several chunks.
    CHECK(run(2, 300) == run(1, 300));
  }
}

TEST_CASE("EarlyStopping stops and restores; ModelCheckpoint keeps the best") {
  const Blobs train = make_blobs(400, 5), val = make_blobs(200, 6);
  auto net = std::make_unique<Mlp>(2);
  // A learning rate of zero: val_loss never improves after the first epoch.
  auto model =
      compile(*net, SGD{.learning_rate = 0.0f}, SparseCategoricalCrossentropy{}, {.threads = 1});
  EarlyStopping stopping({.monitor = "val_loss", .patience = 2, .restore_best_weights = true});
  const auto dir = std::filesystem::temp_directory_path() / "typenet_test_checkpoint";
  std::filesystem::create_directories(dir);
  ModelCheckpoint checkpoint(dir / "best.tnet",
                             {.monitor = "val_accuracy", .save_best_only = true});
  const History history = model.fit({train.x, train.y}, {.batch_size = 40,
                                                         .epochs = 10,
                                                         .verbose = 0,
                                                         .validation_data = {val.x, val.y},
                                                         .callbacks = {&stopping, &checkpoint}});
  CHECK(history.epochs() == 3);  // epoch 1 sets the best, 2 and 3 do not improve: stop
  CHECK(stopping.stopped_epoch() == 2);
  CHECK(stopping.best_epoch() == 0);
  REQUIRE(checkpoint.saved_epochs().size() == 1);
  auto reloaded = std::make_unique<Mlp>(99);
  load(*reloaded, dir / "best.tnet");
  CHECK(std::equal(reloaded->parameters().begin(), reloaded->parameters().end(),
                   net->parameters().begin()));
  std::filesystem::remove_all(dir);
}

TEST_CASE("History as CSV and JSON") {
  History history;
  history.record("loss", 0.5);
  history.record("accuracy", 0.75);
  history.record("loss", 0.25);
  history.record("accuracy", 0.875);
  CHECK(history.to_json() == "{\"loss\": [0.5, 0.25], \"accuracy\": [0.75, 0.875]}");
  const auto path = std::filesystem::temp_directory_path() / "typenet_history.csv";
  history.write_csv(path);
  const History back = History::read_csv(path);
  CHECK(back["loss"] == history["loss"]);
  CHECK(back["accuracy"] == history["accuracy"]);
  std::filesystem::remove(path);
}

TEST_CASE("a run resumed from its backup gives the weights of an unbroken run") {
  const Blobs train = make_blobs(300, 8);
  const auto backup = std::filesystem::temp_directory_path() / "typenet_test_backup.ckpt";
  std::filesystem::remove(backup);
  auto fit = [&](Callback* crash) {
    auto net = std::make_unique<Mlp>(21);
    auto model = compile(*net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = 2, .seed = 8});
    FitOptions<std::uint8_t> options{.batch_size = 32, .epochs = 4, .verbose = 0, .backup = backup};
    if (crash) options.callbacks = {crash};
    const History history = model.fit({train.x, train.y}, options);
    CHECK(history.epochs() == 4);
    return std::vector<float>(net->parameters().begin(), net->parameters().end());
  };
  const std::vector<float> unbroken = fit(nullptr);
  CHECK(!std::filesystem::exists(backup));  // removed once fit completes

  struct CrashAfterTwoEpochs : Callback {
    void on_epoch_end(std::size_t epoch, const History&, TrainingControl&) override {
      if (epoch == 2) throw std::runtime_error("simulated crash");
    }
  } crash;
  CHECK_THROWS_WITH(fit(&crash), "simulated crash");
  REQUIRE(std::filesystem::exists(backup));  // written after epochs 1 and 2
  CHECK(fit(nullptr) == unbroken);
}

// A residual MLP (projection and identity blocks, dropout inside a branch): it learns, and its
// training-mode forward (layer by layer over the batch) computes what predict (image by image)
// does.
using ResidualMlp =
    Net<Input<6>, Residual<Main<Dense<16, Relu>, Dropout<10>, Dense<16>>, Shortcut<Dense<16>>>,
        Relu, Residual<Main<Dense<16, Tanh>, Dense<16>>>, Relu, Dense<3, Softmax>>;
static_assert(ResidualMlp::trains);

TEST_CASE("residual blocks train; two runs on two threads agree bit for bit") {
  const Blobs train = make_blobs(1000, 1), test = make_blobs(300, 2);
  auto run = [&] {
    auto net = std::make_unique<ResidualMlp>(3);
    auto model = compile(*net, Adam{.learning_rate = 0.01f}, SparseCategoricalCrossentropy{},
                         {.threads = 2, .seed = 5});
    const History history = model.fit(
        {train.x, train.y},
        {.batch_size = 32, .epochs = 4, .verbose = 0, .validation_data = {test.x, test.y}});
    CHECK(history["loss"].back() < history["loss"].front());
    CHECK(history["val_accuracy"].back() > 0.9);
    // Inference through training buffers (layer by layer) against predict (image by image).
    auto buffers = std::make_unique<Buffers<ResidualMlp, 4, true>>();
    const float* batch =
        ResidualMlp::forward(net->parameters().data(), test.x.data(), 4, *buffers, Context{});
    for (std::size_t i = 0; i < 4; ++i) {
      const auto one = net->predict(std::span(test.x).subspan(i * 6, 6));
      for (std::size_t j = 0; j < 3; ++j)
        CHECK(one[j] == doctest::Approx(batch[i * 3 + j]).epsilon(1e-6));
    }
    return std::vector<float>(net->parameters().begin(), net->parameters().end());
  };
  CHECK(run() == run());
}

// The blobs' six features as a sequence of two steps of three.
TEST_CASE("an LSTM learns by backpropagation through time") {
  const Blobs train = make_blobs(1000, 1), test = make_blobs(300, 2);
  auto net =
      std::make_unique<Net<Input<2, 3>, LSTM<8, ReturnSequences>, LSTM<8>, Dense<3, Softmax>>>(3);
  auto model = compile(*net, Adam{.learning_rate = 0.01f}, SparseCategoricalCrossentropy{},
                       {.threads = 2, .seed = 5});
  const History history =
      model.fit({train.x, train.y},
                {.batch_size = 32, .epochs = 5, .verbose = 0, .validation_data = {test.x, test.y}});
  CHECK(history["loss"].back() < history["loss"].front());
  CHECK(history["val_accuracy"].back() > 0.9);
}
