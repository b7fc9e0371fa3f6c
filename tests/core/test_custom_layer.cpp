// A layer defined in this file alone, as a user would write one: it must work end to end
// (summary, model files, training's gradients) without touching typenet's sources. What its
// author writes is the layer contract of typenet/layers/layer.hpp, nothing else.
#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <string>

#include <typenet/typenet.hpp>

#include "gradient_check.hpp"

namespace {

using namespace typenet;

// Scale<K>: y = x * s, with one learned factor s per channel (per feature of a flat input),
// initialised to K.
template <std::size_t K>
struct Scale {
  template <class In>
  struct bind {
    static constexpr std::size_t channels = In::rank == 3 ? In::channels : In::size;
    using input_shape = In;
    using output_shape = In;
    using activation = Linear;
    static constexpr std::size_t param_count = channels;
    static constexpr std::size_t scratch_floats = 0;
    static constexpr std::size_t cache_words = 0;
    static constexpr std::size_t flops = In::size;

    static constexpr LayerInfo info() {
      LayerInfo layer = layer_info<bind>("Scale", "Scale");
      layer.arguments << "(" << K << ")";
      return layer;
    }
    static void init(float* params, Rng&) noexcept { std::fill_n(params, channels, float(K)); }
    static void forward(const float* params, const float* in, float* out, std::size_t n,
                        const Context&) noexcept {
      for (std::size_t i = 0; i < n * In::size; ++i) out[i] = in[i] * params[i % channels];
    }
    static void backward(const float* params, const float* in, float* dout, float* din,
                         float* dparams, std::size_t n, const Context& ctx) noexcept {
      if (ctx.assign_grads) std::fill_n(dparams, channels, 0.0f);
      for (std::size_t i = 0; i < n * In::size; ++i) {
        dparams[i % channels] += dout[i] * in[i];
        if (din) din[i] = dout[i] * params[i % channels];
      }
    }
  };
};

using Scaled = Net<Input<6, 5, 2>, Conv<3, 3, Tanh>, Scale<2>, Flatten, Dense<4>>;
static_assert(BoundLayer<Scale<2>::bind<Shape<4, 4, 3>>>);
static_assert(Scaled::param_count_at<1> == 3);
static_assert(Scaled::param_count == (3 * 3 * 2 * 3 + 3) + 3 + (4 * 3 * 3 * 4 + 4));

}  // namespace

TEST_CASE("a layer defined in a test file: summary and layer records") {
  const std::string summary = Scaled::summary_string();
  CAPTURE(summary);
  CHECK(summary.find(" scale (Scale)") != std::string::npos);
  CHECK(summary.find("(None, 4, 3, 3)") != std::string::npos);
  CHECK(describe(Scaled::layer_infos[2]) == "Scale(2) 4x3x3->4x3x3");
  auto net = std::make_unique<Scaled>(3);
  const auto factors = net->parameters().subspan(Scaled::layer_infos[2].param_offset, 3);
  CHECK(std::ranges::all_of(factors, [](float f) { return f == 2.0f; }));
}

TEST_CASE("a layer defined in a test file: its gradients") {
  typenet::testing::check_gradients<Scaled>(11);
  typenet::testing::check_gradients<Net<Input<7>, Scale<1>, Dense<3, Sigmoid>>>(12);
}

TEST_CASE("a layer defined in a test file: saved, loaded, and refused by another architecture") {
  const auto path = std::filesystem::temp_directory_path() /
                    ("typenet_custom_layer_" + std::to_string(::getpid()) + ".tnet");
  auto net = std::make_unique<Scaled>(5);
  net->parameters()[Scaled::layer_infos[2].param_offset] = 0.75f;
  save(*net, path);
  auto loaded = std::make_unique<Scaled>(6);
  load(*loaded, path);
  CHECK(std::ranges::equal(net->parameters(), loaded->parameters()));
  auto other =
      std::make_unique<Net<Input<6, 5, 2>, Conv<3, 3, Tanh>, Scale<3>, Flatten, Dense<4>>>();
  CHECK_THROWS_WITH_AS(load(*other, path), doctest::Contains("Scale(3) 4x3x3->4x3x3"),
                       ModelFileError);
  std::filesystem::remove(path);
}
