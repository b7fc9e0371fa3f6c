// Inference: predict for one image and for a batch, layer outputs, bad input sizes.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <vector>

#include <typenet/typenet.hpp>

#include "../same_bits.hpp"

using namespace typenet;
using testing::same_bits;

using SmallCnn = Net<Input<12, 12, 1>, Conv<4, 3, Relu>, MaxPool<2>, Flatten, Dense<10, Softmax>>;

TEST_CASE("predict returns probabilities and matches the batched form") {
  // A batch goes image by image through the convolution and the pooling, then at once through
  // the rest (plan::inference_image_prefix); one image, layer by layer: the same bits.
  static_assert(SmallCnn::plan::inference_image_prefix == 3);
  auto net = std::make_unique<SmallCnn>(3);
  std::vector<float> images(5 * SmallCnn::input_size);
  Rng rng(9);
  for (float& v : images) v = rng.uniform();
  std::vector<float> batch(5 * 10);
  net->predict(images, batch);
  for (std::size_t i = 0; i < 5; ++i) {
    const auto one = net->predict(std::span(images).subspan(i * 144, 144));
    static_assert(std::is_same_v<decltype(one), const std::array<float, 10>>);
    CHECK(std::accumulate(one.begin(), one.end(), 0.0) == doctest::Approx(1.0).epsilon(1e-5));
    for (std::size_t j = 0; j < 10; ++j) CHECK(one[j] == batch[i * 10 + j]);
  }
}

TEST_CASE("layer_output exposes feature maps of the last prediction") {
  auto net = std::make_unique<SmallCnn>(3);
  std::vector<float> image(144, 0.5f);
  net->predict(image);
  CHECK(net->layer_output(0).size() == 10 * 10 * 4);
  CHECK(net->layer_output(3).size() == 10);
  CHECK_THROWS_AS(net->layer_output(4), std::out_of_range);
}

TEST_CASE("in inference Flatten, Reshape and Dropout are their input's floats, not copies") {
  using Net6 = Net<Input<6, 6, 1>, Conv<4, 3, Relu>, Dropout<30>, Flatten, Reshape<4, 4, 4>,
                   Flatten, Dense<3>>;
  static_assert(Net6::plan::infers_in_place == std::array{false, true, true, true, true, false});
  static_assert(Net6::plan::inference_image_prefix == 5);
  // A first layer's input is the caller's: that one copies.
  static_assert(Net<Input<8>, Dropout<20>, Dense<2>>::plan::infers_in_place ==
                std::array{false, false});
  auto net = std::make_unique<Net6>(4);
  std::vector<float> image(36);
  Rng rng(5);
  for (float& v : image) v = rng.uniform();
  const auto out = net->predict(image);
  const auto conv = net->layer_output(0);
  for (std::size_t layer = 1; layer <= 4; ++layer) {
    const auto same = net->layer_output(layer);
    REQUIRE(same.size() == conv.size());
    CHECK(std::equal(same.begin(), same.end(), conv.begin()));
  }
  // The same outputs as a Net that computes them without the identity layers.
  auto plain = std::make_unique<Net<Input<6, 6, 1>, Conv<4, 3, Relu>, Flatten, Dense<3>>>(4);
  CHECK(plain->predict(image) == out);
}

TEST_CASE("a wrong input size is an error, not undefined behaviour") {
  auto net = std::make_unique<SmallCnn>(3);
  std::vector<float> wrong(143);
  CHECK_THROWS_WITH_AS(
      net->predict(wrong),
      "typenet: predict expects a multiple of 144 floats (12x12x1 per image), got 143",
      std::invalid_argument);
  std::vector<float> two(288), small_out(10);
  CHECK_THROWS_AS(net->predict(two, small_out), std::invalid_argument);
}

TEST_CASE("initialisation is Keras' Glorot uniform, reproducible from a seed") {
  auto a = std::make_unique<SmallCnn>(7), b = std::make_unique<SmallCnn>(7),
       c = std::make_unique<SmallCnn>(8);
  CHECK(std::equal(a->parameters().begin(), a->parameters().end(), b->parameters().begin()));
  CHECK(!std::equal(a->parameters().begin(), a->parameters().end(), c->parameters().begin()));
  // Dense 100 (5x5x4) -> 10: limit sqrt(6 / 110); biases zero.
  const LayerInfo& dense = SmallCnn::layer_infos[4];
  const auto params = a->parameters().subspan(dense.param_offset, dense.param_count);
  const float limit = std::sqrt(6.0f / 110.0f);
  float largest = 0;
  for (std::size_t i = 0; i < 1000; ++i) largest = std::max(largest, std::abs(params[i]));
  CHECK(largest <= limit);
  CHECK(largest > 0.9f * limit);
  for (std::size_t i = 1000; i < 1010; ++i) CHECK(params[i] == 0.0f);
}

TEST_CASE("MaxPool with Same padding pools windows cut by the border, as Keras") {
  // 3x3 input, 2x2 windows, stride 2: out 2x2; the right and bottom windows hold 2 and 1 pixels.
  Net<Input<3, 3, 1>, MaxPool<2, Same>> pool;
  const std::array<float, 9> image{1, 5, 2, -3, 4, -7, -8, -9, -6};
  const auto out = pool.predict(image);
  CHECK(out == std::array<float, 4>{5, 2, -8, -6});
}

// Teams: the seed CNN's shape (valid convolutions, Dense split by its inputs), Same padding
// (framed images split by rows), a Dense with a softmax split across the team, and the MLP
// (wide Dense layers split by their outputs).
using TeamCnn = Net<Input<28, 28, 1>, Conv<8, 3, Relu>, Conv<16, 3, Relu>, MaxPool<2>, Dropout<25>,
                    Flatten, Dense<32, Relu>, Dense<10, Softmax>>;
using TeamSameCnn = Net<Input<28, 28, 1>, Conv<8, 5, Relu, Same>, MaxPool<2>,
                        Conv<12, 5, Relu, Same, Stride<2>>, Flatten, Dense<128, Softmax>>;
using TeamMlp = Net<Input<784>, Dense<512>, Relu, Dense<512>, Relu, Dense<10>, Softmax>;
// 3x3 convolutions by Winograd's products, the team splitting their filters: Valid and Same,
// 48 filters (a share of 16 and one of 32 for two members) and 32.
using TeamWinogradCnn = Net<Input<20, 20, 3>, Conv<16, 3, Relu>, Conv<48, 3, Relu, Same>,
                            MaxPool<2>, Conv<32, 3, Relu>, Flatten, Dense<10, Softmax>>;

template <class NetT>
void check_team_predict() {
  auto net = std::make_unique<NetT>(5);
  std::vector<float> image(NetT::input_size);
  Rng rng(11);
  for (float& v : image) v = rng.uniform();
  const auto alone = net->predict(image);
  std::vector<std::vector<float>> layers_alone;
  for (std::size_t i = 0; i < NetT::layer_count; ++i)
    layers_alone.emplace_back(net->layer_output(i).begin(), net->layer_output(i).end());
  for (const std::size_t threads : {1, 2, 3, 9}) {  // 9: more than kMaxTeam
    INFO(threads << " threads");
    ThreadPool pool(threads);
    for (int repeat = 0; repeat < 3; ++repeat) {
      const auto together = net->predict(image, pool);
      for (std::size_t j = 0; j < alone.size(); ++j)
        CHECK(together[j] == doctest::Approx(alone[j]).epsilon(1e-5).scale(1.0));
      for (std::size_t i = 0; i < NetT::layer_count; ++i)
        for (std::size_t j = 0; j < layers_alone[i].size(); j += 7)
          REQUIRE(net->layer_output(i)[j] ==
                  doctest::Approx(layers_alone[i][j]).epsilon(1e-5).scale(1.0));
    }
  }
}

TEST_CASE("predict with a team of threads gives what predict alone gives") {
  static_assert(TeamCnn::layer<1>::team_split && TeamCnn::layer<5>::team_split &&
                !TeamCnn::layer<6>::team_split);
  static_assert(TeamSameCnn::layer<4>::team_split, "the softmax Dense splits");
  static_assert(!TeamCnn::layer<5>::team_splits_outputs && TeamMlp::layer<0>::team_splits_outputs &&
                TeamMlp::layer<2>::team_splits_outputs);
  check_team_predict<TeamCnn>();
  check_team_predict<TeamSameCnn>();
  check_team_predict<TeamMlp>();
  static_assert(TeamWinogradCnn::layer<1>::winograd && TeamWinogradCnn::layer<1>::team_split &&
                TeamWinogradCnn::layer<3>::winograd && TeamWinogradCnn::layer<3>::team_split);
  check_team_predict<TeamWinogradCnn>();
}

// The direct convolution's outputs of layer I for the image (Net::forward without the kept
// Winograd forms).
template <class NetT, std::size_t I>
std::vector<float> direct_output(const NetT& net, const std::vector<float>& image) {
  auto buffers = std::make_unique<Buffers<NetT, 1, false>>();
  NetT::forward(net.parameters().data(), image.data(), 1, *buffers, Context{});
  const float* out = buffers->output_of(I);
  return {out, out + NetT::template layer<I>::output_shape::size};
}

TEST_CASE("predict takes Winograd's products from kept kernels, made again when weights change") {
  using NetT = TeamWinogradCnn;
  auto net = std::make_unique<NetT>(3);
  std::vector<float> image(NetT::input_size);
  Rng rng(12);
  for (float& v : image) v = rng.uniform();
  auto conv_output = [](const NetT& of) {
    const auto out = of.layer_output(1);
    return std::vector<float>(out.begin(), out.end());
  };
  // A fresh Net with the same parameters (its kernels transformed at its first prediction).
  auto fresh = [&] {
    auto copy = std::make_unique<NetT>(99);
    std::ranges::copy(net->parameters(), copy->parameters().begin());
    return copy;
  };

  const auto before = net->predict(image);
  const std::vector<float> winograd = conv_output(*net),
                           direct = direct_output<NetT, 1>(*net, image);
  float largest = 0.0f;
  for (const float v : direct) largest = std::max(largest, std::abs(v));
  for (std::size_t j = 0; j < direct.size(); ++j)
    REQUIRE(std::abs(winograd[j] - direct[j]) <= 1e-5f * largest);
  CHECK(!same_bits(winograd, direct));  // rounded as Winograd's products round

  // A weight of the Same convolution changed through a span kept from before the prediction.
  const std::span<float> params = net->parameters();
  float& weight = params[NetT::plan::param_offsets[1] + 5];
  const float original = weight;
  weight += 0.25f;
  const auto changed = net->predict(image);
  CHECK(!same_bits(changed, before));
  CHECK(same_bits(changed, fresh()->predict(image)));

  // A team sees a change too, where only its last member compares the weight that changed; a
  // change undone gives the first bits back.
  weight = original;
  float& last_weight = params[NetT::plan::param_offsets[1] + NetT::layer<1>::kernel_count - 1];
  const float last_original = last_weight;
  last_weight = -1.0f;
  ThreadPool pool(2);
  net->predict(image, pool);
  const auto changed_net = fresh();
  changed_net->predict(image);
  CHECK(same_bits(conv_output(*net), conv_output(*changed_net)));
  CHECK(!same_bits(conv_output(*net), winograd));
  last_weight = last_original;
  net->predict(image, pool);
  CHECK(same_bits(conv_output(*net), winograd));
  CHECK(same_bits(net->predict(image), before));

  // A Frozen's workspace keeps the forms of the parameters it last predicted with.
  auto other = std::make_unique<NetT>(4);
  const Frozen<NetT> frozen(net->parameters().data()), frozen_other(other->parameters().data());
  auto workspace = std::make_unique<Frozen<NetT>::Workspace>();
  for (int round = 0; round < 2; ++round) {
    CHECK(same_bits(frozen.predict(image, *workspace), before));
    CHECK(same_bits(frozen_other.predict(image, *workspace), other->predict(image)));
  }
}

TEST_CASE("Model::predict of one image uses the team: the same outputs") {
  auto net = std::make_unique<TeamCnn>(5);
  std::vector<float> image(TeamCnn::input_size, 0.3f);
  const auto alone = net->predict(image);
  auto model = compile(*net, Adam{}, SparseCategoricalCrossentropy{}, {.threads = 2});
  const std::vector<float> outputs = model.predict(image);
  REQUIRE(outputs.size() == 10);
  for (std::size_t j = 0; j < 10; ++j)
    CHECK(outputs[j] == doctest::Approx(alone[j]).epsilon(1e-5).scale(1.0));
}
