// One model exported by `typenet export-cpp --embed-weights` (its header included first, its
// NAME_parameters.cpp compiled beside): the predictor NAME_net is a constant, reads the embedded
// parameters in place, and predicts bit for bit as a Net of the same type loaded from the file,
// on every MNIST test image (as the tool feeds the model: cli/commands.hpp's DigitAdapter), from
// two threads at once, with its per-thread workspace, a caller's workspace and in batches. Built
// once per model with EMBEDDED_HEADER, EMBEDDED_TYPE, EMBEDDED_FILE (the Keras file).
#include EMBEDDED_HEADER

#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <thread>

#include "../keras/keras_outputs.hpp"
#include "../same_bits.hpp"
#include "typenet/cli/commands.hpp"

#define EMBEDDED_JOIN(a, b) a##b
#define EMBEDDED_NAME(type, suffix) EMBEDDED_JOIN(type, suffix)
#define EMBEDDED_NET EMBEDDED_NAME(EMBEDDED_TYPE, _net)
#define EMBEDDED_PARAMETERS EMBEDDED_NAME(EMBEDDED_TYPE, _parameters)

// Constant-initialised: the object and the address of its parameters are compile-time constants.
static_assert(EMBEDDED_NET.parameters().data() == EMBEDDED_PARAMETERS);
static_assert(std::is_trivially_destructible_v<decltype(EMBEDDED_NET)>);

namespace {

using typenet::testing::same_bits;

}  // namespace

TEST_CASE("the net export-cpp embedded from " EMBEDDED_FILE " predicts as the file loaded") {
  using typenet::keras_test::shared_dir;
  auto loaded = std::make_unique<EMBEDDED_TYPE>(7);
  typenet::load_keras(*loaded, EMBEDDED_FILE);
  CHECK(same_bits(loaded->parameters(), EMBEDDED_NET.parameters()));

  const auto shared = shared_dir();
  REQUIRE(shared);
  const std::filesystem::path mnist = *shared / "data" / "mnist";
  const typenet::Dataset test = typenet::load_idx_dataset(mnist / "t10k-images-idx3-ubyte.gz",
                                                          mnist / "t10k-labels-idx1-ubyte.gz");
  const std::vector<float> inputs =
      typenet::cli::DigitAdapter<EMBEDDED_TYPE>(typenet::cli::Options{}).all(test);
  constexpr std::size_t in = EMBEDDED_TYPE::input_size, out = EMBEDDED_TYPE::output_size;

  std::vector<float> expected(test.count * out);
  loaded->predict(inputs, expected);

  // Two threads at once on the one constant predictor, each with its own workspace.
  std::vector<float> embedded(test.count * out);
  const std::size_t half = test.count / 2;
  auto predict_range = [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      const auto output = EMBEDDED_NET.predict(std::span(inputs).subspan(i * in, in));
      std::copy(output.begin(), output.end(), embedded.begin() + i * out);
    }
  };
  std::thread second(predict_range, half, test.count);
  predict_range(0, half);
  second.join();
  CHECK(same_bits(embedded, expected));

  // A caller's workspace, and batches.
  auto workspace = std::make_unique<decltype(EMBEDDED_NET)::Workspace>();
  std::vector<float> batch(100 * out);
  EMBEDDED_NET.predict(std::span(inputs).first(100 * in), batch);
  CHECK(same_bits(batch, std::span(expected).first(100 * out)));
  for (std::size_t i = 0; i < 100; ++i) {
    const auto output = EMBEDDED_NET.predict(std::span(inputs).subspan(i * in, in), *workspace);
    CHECK(same_bits(output, std::span(expected).subspan(i * out, out)));
  }
  CHECK_THROWS_AS(EMBEDDED_NET.predict(std::span(inputs).first(in - 1)), std::invalid_argument);
}
