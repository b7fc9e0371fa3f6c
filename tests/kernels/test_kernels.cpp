// The kernels other than gemm against their references, on odd sizes (vector tails), every
// Highway target, convolution geometries with stride and padding, pooling with stride != size.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>

#include "kernel_test_support.h"
#include "../same_bits.hpp"

namespace {

namespace kernels = typenet::kernels;
namespace testing = typenet::kernels::testing;
using Buffers = std::vector<std::vector<float>>;

constexpr std::size_t kCounts[] = {1, 3, 7, 17, 33, 67, 130};

// Runs `run` once with the reference kernels (run(false, buffers)) and once per target with the
// SIMD ones (run(true, buffers)), each time on a fresh copy of `inputs`, and compares every
// buffer: the error bound of an element is `bound(expected buffers)[buffer][element]`.
void compare_with_reference(const Buffers& inputs,
                            const std::function<void(bool simd, Buffers&)>& run,
                            const std::function<Buffers(const Buffers& expected)>& bound) {
  Buffers expected = inputs;
  run(false, expected);
  const Buffers bounds = bound(expected);
  testing::for_each_target([&] {
    Buffers actual = inputs;
    run(true, actual);
    for (std::size_t i = 0; i < actual.size(); ++i) {
      INFO("buffer " << i);
      testing::check_close(actual[i], expected[i], bounds[i]);
    }
  });
}

// The usual bound: |expected| + floor, `floor` being the magnitude of the data (an absolute
// tolerance where a result is near zero).
std::function<Buffers(const Buffers&)> magnitude_plus(float floor) {
  return [floor](const Buffers& expected) {
    Buffers bounds;
    for (const auto& buffer : expected) bounds.push_back(testing::own_magnitude(buffer, floor));
    return bounds;
  };
}

// Results that are copies or the same sequence of operations as the reference: exact.
Buffers exact(const Buffers& expected) {
  Buffers bounds;
  for (const auto& buffer : expected) bounds.emplace_back(buffer.size(), 0.0f);
  return bounds;
}

TEST_CASE("add_to and add_column_sums") {
  std::mt19937 rng(11);
  for (const std::size_t count : kCounts) {
    INFO("count " << count);
    compare_with_reference(
        {testing::random_floats(count, rng), testing::random_floats(count, rng)},
        [&](bool simd, Buffers& b) {
          (simd ? kernels::add_to : kernels::reference::add_to)(b[0].data(), b[1].data(), count);
        },
        magnitude_plus(1.0f));
  }
  // ldy > n: a band of columns of a wider matrix (a team member's outputs).
  for (const std::size_t m : {1, 3, 17, 130})
    for (const std::size_t n : kCounts)
      for (const std::size_t ldy : {n, n + 7}) {
        INFO("m " << m << " n " << n << " ldy " << ldy);
        const auto run = [&](bool simd, Buffers& b) {
          (simd ? kernels::add_column_sums : kernels::reference::add_column_sums)(b[0].data(), m, n,
                                                                                  ldy, b[1].data());
        };
        const Buffers inputs{testing::random_floats(m * ldy, rng), testing::random_floats(n, rng)};
        compare_with_reference(inputs, run, [&](const Buffers&) {
          // The same sums over absolute values: the size of the terms.
          Buffers abs_inputs{testing::absolute(inputs[0]), testing::absolute(inputs[1])};
          run(false, abs_inputs);
          return abs_inputs;
        });
      }
}

struct ConvGeometry {
  std::size_t h, w, c, kh, kw, stride, pad_top, pad_left;
  std::size_t oh() const { return (h + 2 * pad_top - kh) / stride + 1; }
  std::size_t ow() const { return (w + 2 * pad_left - kw) / stride + 1; }
};

constexpr ConvGeometry kConvGeometries[] = {
    {28, 28, 1, 3, 3, 1, 0, 0},   // MNIST conv1, valid
    {12, 12, 64, 3, 3, 1, 1, 1},  // same padding, 64 channels
    {13, 11, 3, 3, 3, 2, 1, 1},   // stride 2, padding
    {7, 9, 32, 5, 3, 2, 2, 1},    // rectangular kernel, stride 2
    {5, 6, 33, 2, 4, 3, 0, 2},    // stride larger than the kernel
    {4, 4, 1, 3, 3, 1, 3, 3},     // padding so wide that whole patch rows fall outside
};

TEST_CASE("im2col and col2im_add, with stride and padding") {
  std::mt19937 rng(12);
  for (const ConvGeometry& g : kConvGeometries) {
    INFO("h " << g.h << " w " << g.w << " c " << g.c << " kernel " << g.kh << "x" << g.kw
              << " stride " << g.stride << " padding " << g.pad_top << "," << g.pad_left);
    const std::size_t col_size = g.oh() * g.ow() * g.kh * g.kw * g.c;
    // im2col overwrites every element of col: it starts as NaN garbage.
    compare_with_reference(
        {testing::random_floats(g.h * g.w * g.c, rng),
         std::vector<float>(col_size, std::numeric_limits<float>::quiet_NaN())},
        [&](bool simd, Buffers& b) {
          (simd ? kernels::im2col : kernels::reference::im2col)(
              b[0].data(), g.h, g.w, g.c, g.kh, g.kw, g.stride, g.pad_top, g.pad_left, g.oh(),
              g.ow(), b[1].data());
        },
        exact);
    const auto run_col2im = [&](bool simd, Buffers& b) {
      (simd ? kernels::col2im_add : kernels::reference::col2im_add)(
          b[0].data(), g.h, g.w, g.c, g.kh, g.kw, g.stride, g.pad_top, g.pad_left, g.oh(), g.ow(),
          b[1].data());
    };
    const Buffers inputs{testing::random_floats(col_size, rng),
                         testing::random_floats(g.h * g.w * g.c, rng)};
    compare_with_reference(inputs, run_col2im, [&](const Buffers&) {
      Buffers abs_inputs{testing::absolute(inputs[0]), testing::absolute(inputs[1])};
      run_col2im(false, abs_inputs);
      return abs_inputs;
    });
  }
}

struct PoolGeometry {
  std::size_t h, w, c, pool, stride;
  std::size_t oh() const { return (h - pool) / stride + 1; }
  std::size_t ow() const { return (w - pool) / stride + 1; }
};

TEST_CASE("maxpool forward (with and without argmax) and backward, strides, ties, NaN, -0") {
  std::mt19937 rng(13);
  std::uniform_int_distribution<int> few_values(0, 3);  // many ties: the first maximum wins
  for (const PoolGeometry& g :
       {PoolGeometry{26, 26, 32, 2, 2}, PoolGeometry{7, 7, 3, 3, 2}, PoolGeometry{9, 8, 17, 2, 3},
        PoolGeometry{5, 5, 1, 2, 1}, PoolGeometry{6, 6, 33, 3, 3}, PoolGeometry{11, 11, 64, 3, 2},
        PoolGeometry{7, 9, 20, 2, 2}}) {
    INFO("h " << g.h << " w " << g.w << " c " << g.c << " pool " << g.pool << " stride "
              << g.stride);
    std::vector<float> in(g.h * g.w * g.c);
    for (float& value : in) value = float(few_values(rng));
    // NaN loses every comparison (but as a window's first value), -0 ties with 0.
    for (std::size_t i = 5; i < in.size(); i += 37) in[i] = std::numeric_limits<float>::quiet_NaN();
    for (std::size_t i = 3; i < in.size(); i += 11) in[i] = in[i] == 0.0f ? -0.0f : in[i];
    const std::size_t out_count = g.oh() * g.ow() * g.c;
    std::vector<float> expected_out(out_count);
    std::vector<std::uint32_t> expected_argmax(out_count);
    kernels::reference::maxpool_forward(in.data(), g.h, g.w, g.c, g.pool, g.stride, g.oh(), g.ow(),
                                        expected_out.data(), expected_argmax.data());
    testing::for_each_target([&] {
      std::vector<float> out(out_count, -1.0f);
      std::vector<std::uint32_t> argmax(out_count, 0xFFFFFFFFu);
      kernels::maxpool_forward(in.data(), g.h, g.w, g.c, g.pool, g.stride, g.oh(), g.ow(),
                               out.data(), argmax.data());
      CHECK(std::memcmp(out.data(), expected_out.data(), out_count * sizeof(float)) == 0);
      CHECK(argmax == expected_argmax);
      // Inference: the winners' values alone, the same bits.
      std::vector<float> values(out_count, -1.0f);
      kernels::maxpool_forward(in.data(), g.h, g.w, g.c, g.pool, g.stride, g.oh(), g.ow(),
                               values.data(), nullptr);
      CHECK(std::memcmp(values.data(), expected_out.data(), out_count * sizeof(float)) == 0);
    });
    // Overlapping windows send several gradients to one input, windows that tile the image
    // (vectors) one, and inputs no window covers get zero: the reference's bits. din is
    // assigned, whatever it held.
    compare_with_reference(
        {testing::random_floats(out_count, rng), testing::random_floats(in.size(), rng)},
        [&](bool simd, Buffers& b) {
          (simd ? kernels::maxpool_backward : kernels::reference::maxpool_backward)(
              b[0].data(), expected_argmax.data(), g.h, g.w, g.c, g.pool, g.stride, g.oh(), g.ow(),
              b[1].data());
        },
        exact);
  }
}

TEST_CASE("global average pooling forward and backward") {
  std::mt19937 rng(14);
  for (const std::size_t pixels : {1, 7, 169})
    for (const std::size_t c : {1, 3, 17, 64}) {
      INFO("pixels " << pixels << " channels " << c);
      const auto run_forward = [&](bool simd, Buffers& b) {
        (simd ? kernels::global_avg_pool_forward : kernels::reference::global_avg_pool_forward)(
            b[0].data(), pixels, c, b[1].data());
      };
      const Buffers inputs{testing::random_floats(pixels * c, rng), std::vector<float>(c)};
      compare_with_reference(inputs, run_forward, [&](const Buffers&) {
        Buffers abs_inputs{testing::absolute(inputs[0]), inputs[1]};
        run_forward(false, abs_inputs);
        return abs_inputs;
      });
      compare_with_reference(
          {testing::random_floats(c, rng), testing::random_floats(pixels * c, rng)},
          [&](bool simd, Buffers& b) {
            (simd ? kernels::global_avg_pool_backward
                  : kernels::reference::global_avg_pool_backward)(b[0].data(), pixels, c,
                                                                  b[1].data());
          },
          magnitude_plus(0.0f));
    }
}

TEST_CASE("avg_pool forward and backward_add: stride == and != pool size, padding") {
  struct Geometry {
    std::size_t h, w, c, pool, stride, pad_top, pad_left, oh, ow;
  };
  std::mt19937 rng(23);
  for (const Geometry& g :
       {Geometry{6, 6, 3, 2, 2, 0, 0, 3, 3}, Geometry{7, 5, 17, 3, 2, 1, 1, 4, 3},
        Geometry{5, 5, 1, 2, 1, 0, 0, 4, 4}, Geometry{7, 7, 33, 2, 2, 0, 0, 4, 4},
        Geometry{4, 4, 9, 3, 1, 1, 1, 4, 4}}) {
    INFO("h " << g.h << " w " << g.w << " c " << g.c << " pool " << g.pool << " stride " << g.stride
              << " padding " << g.pad_top << "," << g.pad_left);
    compare_with_reference(
        {testing::random_floats(g.h * g.w * g.c, rng),
         std::vector<float>(g.oh * g.ow * g.c, std::numeric_limits<float>::quiet_NaN())},
        [&](bool simd, Buffers& b) {
          (simd ? kernels::avg_pool_forward : kernels::reference::avg_pool_forward)(
              b[0].data(), g.h, g.w, g.c, g.pool, g.stride, g.pad_top, g.pad_left, g.oh, g.ow,
              b[1].data());
        },
        magnitude_plus(1.0f));
    compare_with_reference(
        {testing::random_floats(g.oh * g.ow * g.c, rng),
         testing::random_floats(g.h * g.w * g.c, rng)},
        [&](bool simd, Buffers& b) {
          (simd ? kernels::avg_pool_backward_add : kernels::reference::avg_pool_backward_add)(
              b[0].data(), g.h, g.w, g.c, g.pool, g.stride, g.pad_top, g.pad_left, g.oh, g.ow,
              b[1].data());
        },
        magnitude_plus(1.0f));
  }
}

// Activation inputs: a spread of ordinary values and the extremes where exp overflows.
std::vector<float> activation_inputs(std::size_t count, std::mt19937& rng) {
  std::vector<float> values = testing::random_floats(count, rng, -6.0f, 6.0f);
  const float extremes[] = {-100.0f, 100.0f, -89.0f, 89.0f, 0.0f, -1e-20f};
  for (std::size_t i = 0; i < count && i < std::size(extremes); ++i)
    values[i * 2 % count] = extremes[i];
  return values;
}

TEST_CASE("activations forward and backward") {
  std::mt19937 rng(15);
  using Forward = std::function<void(bool simd, float*, std::size_t)>;
  using Backward = std::function<void(bool simd, const float*, float*, std::size_t)>;
  // The plain kernels as one function of `simd`.
  const auto plain_forward = [](auto simd_kernel, auto reference_kernel) -> Forward {
    return [=](bool simd, float* y, std::size_t count) {
      (simd ? simd_kernel : reference_kernel)(y, count);
    };
  };
  const auto plain_backward = [](auto simd_kernel, auto reference_kernel) -> Backward {
    return [=](bool simd, const float* from, float* dy, std::size_t count) {
      (simd ? simd_kernel : reference_kernel)(from, dy, count);
    };
  };
  // elu with (positive, negative) scales: elu alpha 1 and 0.3, selu.
  const auto elu = [](float positive, float negative) {
    return std::pair<Forward, Backward>{
        [=](bool simd, float* y, std::size_t count) {
          (simd ? kernels::elu_forward : kernels::reference::elu_forward)(y, count, positive,
                                                                          negative);
        },
        [=](bool simd, const float* y, float* dy, std::size_t count) {
          (simd ? kernels::elu_backward : kernels::reference::elu_backward)(y, dy, count, positive,
                                                                            negative);
        }};
  };
  const auto leaky_relu = [](float slope) {
    return std::pair<Forward, Backward>{
        [=](bool simd, float* y, std::size_t count) {
          (simd ? kernels::leaky_relu_forward : kernels::reference::leaky_relu_forward)(y, count,
                                                                                        slope);
        },
        [=](bool simd, const float* y, float* dy, std::size_t count) {
          (simd ? kernels::leaky_relu_backward : kernels::reference::leaky_relu_backward)(
              y, dy, count, slope);
        }};
  };
  struct Activation {
    const char* name;
    Forward forward;
    Backward backward;
    bool backward_from_input = false;  // gelu and swish: from x, not from y
  };
  const Activation activations[] = {
      {"relu", plain_forward(kernels::relu_forward, kernels::reference::relu_forward),
       plain_backward(kernels::relu_backward, kernels::reference::relu_backward)},
      {"sigmoid", plain_forward(kernels::sigmoid_forward, kernels::reference::sigmoid_forward),
       plain_backward(kernels::sigmoid_backward, kernels::reference::sigmoid_backward)},
      {"tanh", plain_forward(kernels::tanh_forward, kernels::reference::tanh_forward),
       plain_backward(kernels::tanh_backward, kernels::reference::tanh_backward)},
      {"elu", elu(1.0f, 1.0f).first, elu(1.0f, 1.0f).second},
      {"elu 0.3", elu(1.0f, 0.3f).first, elu(1.0f, 0.3f).second},
      {"selu", elu(1.0507009f, 1.7580993f).first, elu(1.0507009f, 1.7580993f).second},
      {"leaky_relu 0.2", leaky_relu(0.2f).first, leaky_relu(0.2f).second},
      {"leaky_relu 0", leaky_relu(0.0f).first, leaky_relu(0.0f).second},
      {"softplus", plain_forward(kernels::softplus_forward, kernels::reference::softplus_forward),
       plain_backward(kernels::softplus_backward, kernels::reference::softplus_backward)},
      {"gelu", plain_forward(kernels::gelu_forward, kernels::reference::gelu_forward),
       plain_backward(kernels::gelu_backward, kernels::reference::gelu_backward), true},
      {"swish", plain_forward(kernels::swish_forward, kernels::reference::swish_forward),
       plain_backward(kernels::swish_backward, kernels::reference::swish_backward), true},
  };
  for (const Activation& activation : activations)
    for (const std::size_t count : kCounts) {
      INFO(activation.name << " count " << count);
      const std::vector<float> x = activation_inputs(count, rng);
      // Forward: relative accuracy, down to values of 1e-30.
      compare_with_reference(
          {x}, [&](bool simd, Buffers& b) { activation.forward(simd, b[0].data(), count); },
          magnitude_plus(1e-30f));
      // Backward from the activation's outputs y (or its inputs x, for gelu and swish).
      std::vector<float> from = x;
      if (!activation.backward_from_input) activation.forward(false, from.data(), count);
      compare_with_reference(
          {from, testing::random_floats(count, rng)},
          [&](bool simd, Buffers& b) {
            activation.backward(simd, b[0].data(), b[1].data(), count);
          },
          magnitude_plus(1.0f));
    }
}

TEST_CASE("relu with its signs kept aside: relu's bits forward and backward") {
  std::mt19937 rng(16);
  for (const std::size_t count : {1, 7, 8, 15, 16, 17, 33, 48, 67, 130}) {
    INFO("count " << count);
    std::vector<float> x = activation_inputs(count, rng);
    x[count / 2] = std::numeric_limits<float>::quiet_NaN();
    if (count > 2) x[count / 3] = -0.0f;
    const std::vector<float> dy = testing::random_floats(count, rng);
    // Each pair against relu_forward and relu_backward of its own kind (reference or SIMD,
    // which differ on NaN and -0).
    const auto check = [&](auto forward, auto backward, auto forward_signs, auto backward_signs) {
      std::vector<float> y = x, dx = dy, y_signs = x, dx_signs = dy;
      forward(y.data(), count);
      backward(y.data(), dx.data(), count);
      std::vector<std::uint8_t> signs((count + 7) / 8, 0xA5);
      forward_signs(y_signs.data(), count, signs.data());
      CHECK(typenet::testing::same_bits(y_signs, y));
      for (std::size_t i = 0; i < count; ++i)
        CHECK((signs[i / 8] >> (i % 8) & 1u) == (y[i] > 0.0f));
      backward_signs(signs.data(), dx_signs.data(), count);
      CHECK(typenet::testing::same_bits(dx_signs, dx));
    };
    namespace reference = kernels::reference;
    check(reference::relu_forward, reference::relu_backward, reference::relu_forward_signs,
          reference::relu_backward_signs);
    testing::for_each_target([&] {
      check(kernels::relu_forward, kernels::relu_backward, kernels::relu_forward_signs,
            kernels::relu_backward_signs);
    });
  }
}

TEST_CASE("scale_shift_channels (BatchNorm), out of place and in place") {
  std::mt19937 rng(21);
  for (const std::size_t rows : {1, 5})
    for (const std::size_t channels : kCounts) {
      INFO("rows " << rows << " channels " << channels);
      const Buffers inputs{
          testing::random_floats(rows * channels, rng), testing::random_floats(channels, rng),
          testing::random_floats(channels, rng), std::vector<float>(rows * channels)};
      // |x scale| + |shift| bounds the rounding of a fused or unfused multiply-add.
      const auto bound = [&](const Buffers& expected) {
        Buffers bounds = exact(expected);
        for (std::size_t i = 0; i < rows * channels; ++i)
          bounds[3][i] = bounds[0][i] = std::fabs(inputs[0][i] * inputs[1][i % channels]) +
                                        std::fabs(inputs[2][i % channels]);
        return bounds;
      };
      compare_with_reference(
          inputs,
          [&](bool simd, Buffers& b) {
            (simd ? kernels::scale_shift_channels : kernels::reference::scale_shift_channels)(
                b[0].data(), rows, channels, b[1].data(), b[2].data(), b[3].data());
          },
          bound);
      compare_with_reference(
          inputs,
          [&](bool simd, Buffers& b) {
            (simd ? kernels::scale_shift_channels : kernels::reference::scale_shift_channels)(
                b[0].data(), rows, channels, b[1].data(), b[2].data(), b[0].data());
          },
          bound);
    }
}

// Each channel's sums run down the rows in order on every target: the plain sums are the
// reference's bits exactly.
TEST_CASE("BatchNorm's training sums and input gradient") {
  std::mt19937 rng(23);
  for (const std::size_t rows : {1, 7, 300})
    for (const std::size_t channels : {1, 3, 8, 16, 31, 32, 64, 70}) {
      INFO("rows " << rows << " channels " << channels);
      const std::vector<float> x = testing::random_floats(rows * channels, rng, -3.0f, 5.0f);
      const std::vector<float> dy = testing::random_floats(rows * channels, rng);
      const std::vector<float> mean = testing::random_floats(channels, rng);
      const std::vector<float> inv_std = testing::random_floats(channels, rng, 0.5f, 2.0f);
      const std::vector<float> k = testing::random_floats(channels, rng);
      const std::vector<float> a = testing::random_floats(channels, rng);
      const std::vector<float> b = testing::random_floats(channels, rng);
      std::vector<double> start(channels);
      for (std::size_t c = 0; c < channels; ++c) start[c] = 0.25 * double(c) - 1.0;
      auto sums = [&](auto add) {
        std::vector<double> out = start;
        add(x.data(), rows, channels, out.data());
        return out;
      };
      CHECK(sums(kernels::add_channel_sums) == sums(kernels::reference::add_channel_sums));
      auto deviations = [&](auto add) {
        std::vector<double> out = start;
        add(x.data(), rows, channels, start.data(), out.data());
        return out;
      };
      // The products' additions are fused (std::fma) on targets with FMA, the reference's bits
      // there; without FMA within float roundings of each run of rows.
      const std::string_view target = kernels::simd_target_name();
      const bool fused = target != "SSE4" && target != "SSSE3" && target != "SSE2" &&
                         target != "EMU128" && target != "SCALAR";
      auto check_close = [&](const std::vector<double>& got, const std::vector<double>& expected) {
        for (std::size_t i = 0; i < got.size(); ++i) {
          if (fused) CHECK(got[i] == expected[i]);
          else CHECK(std::fabs(got[i] - expected[i]) <= 1e-5 * (std::fabs(expected[i]) + rows));
        }
      };
      check_close(deviations(kernels::add_channel_squared_deviations),
                  deviations(kernels::reference::add_channel_squared_deviations));
      auto gradient_sums = [&](auto add) {
        std::vector<double> dy_sum = start, dy_xhat_sum = start;
        add(x.data(), dy.data(), rows, channels, mean.data(), inv_std.data(), dy_sum.data(),
            dy_xhat_sum.data());
        dy_sum.insert(dy_sum.end(), dy_xhat_sum.begin(), dy_xhat_sum.end());
        return dy_sum;
      };
      check_close(gradient_sums(kernels::add_batch_norm_grad_sums),
                  gradient_sums(kernels::reference::add_batch_norm_grad_sums));
      auto input_gradient = [&](auto compute) {
        std::vector<float> dx(rows * channels, -7.0f);
        compute(x.data(), dy.data(), rows, channels, mean.data(), inv_std.data(), k.data(),
                a.data(), b.data(), dx.data());
        return dx;
      };
      // The input gradient may fuse its multiply-subtract: within a few roundings of its terms.
      const std::vector<float> dx = input_gradient(kernels::batch_norm_input_grad);
      const std::vector<float> expected = input_gradient(kernels::reference::batch_norm_input_grad);
      for (std::size_t i = 0; i < dx.size(); ++i) {
        const std::size_t c = i % channels;
        const float xhat = (x[i] - mean[c]) * inv_std[c];
        const float terms = std::fabs(k[c]) * (std::fabs(dy[i] - a[c]) + std::fabs(xhat * b[c]));
        CHECK(std::fabs(dx[i] - expected[i]) <= 4e-7f * terms + 1e-30f);
      }
    }
}

TEST_CASE("lstm_cell: sigmoid and hard sigmoid gates, strided gates and hidden rows") {
  std::mt19937 rng(22);
  for (const bool hard_sigmoid : {false, true})
    for (const std::size_t rows : {1, 3})
      for (const std::size_t units : kCounts) {
        INFO("hard_sigmoid " << hard_sigmoid << " rows " << rows << " units " << units);
        // Gate rows and hidden rows further apart than they are long (as an LSTM's steps).
        const std::size_t ldz = 4 * units + 5, ldh = units + 3;
        std::vector<float> z = activation_inputs(rows * ldz, rng);
        const Buffers inputs{z, testing::random_floats(rows * units, rng, -2.0f, 2.0f),
                             testing::random_floats(rows * ldh, rng)};
        compare_with_reference(
            inputs,
            [&](bool simd, Buffers& b) {
              (simd ? kernels::lstm_cell : kernels::reference::lstm_cell)(
                  b[0].data(), ldz, rows, units, hard_sigmoid, b[1].data(), b[2].data(), ldh);
            },
            // c is a sum of two products of magnitude <= |c| + 1, h a product of values <= 1.
            // The padding between hidden rows stays as it was.
            [&](const Buffers& expected) {
              Buffers bounds = exact(expected);
              for (std::size_t i = 0; i < bounds[1].size(); ++i)
                bounds[1][i] = std::fabs(inputs[1][i]) + 1.0f;
              for (std::size_t r = 0; r < rows; ++r)
                std::fill_n(bounds[2].begin() + std::ptrdiff_t(r * ldh), units, 1.0f);
              return bounds;
            });
      }
}

TEST_CASE("scale_shift: x * scale + offset") {
  std::mt19937 rng(22);
  for (const std::size_t count : kCounts) {
    const std::vector<float> x = testing::random_floats(count, rng, -300.0f, 300.0f);
    compare_with_reference(
        {x, std::vector<float>(count)},
        [&](bool simd, Buffers& b) {
          (simd ? kernels::scale_shift : kernels::reference::scale_shift)(
              b[0].data(), b[1].data(), count, 1.0f / 127.5f, -1.0f);
        },
        magnitude_plus(1.0f));
  }
}

TEST_CASE("dropout forward and backward: the reference's mask, its rate, (seed, index) alone") {
  std::mt19937 rng(21);
  for (const std::uint32_t percent : {0u, 25u, 50u, 90u}) {
    const auto threshold = std::uint32_t((std::uint64_t(percent) << 32) / 100);
    const float scale = 100.0f / float(100 - percent);
    for (const std::size_t count : {std::size_t{1}, std::size_t{67}, std::size_t{9216}}) {
      INFO(percent << "% of " << count);
      const std::uint64_t seed = rng();
      // No zero among the values: a zero output is a dropped value.
      std::vector<float> x = testing::random_floats(count, rng);
      for (float& value : x) value = value == 0.0f ? 1.0f : value;
      const std::vector<float> dy = testing::random_floats(count, rng);
      std::vector<float> y_expected(count), y(count), dx_expected(count), dx(count);
      kernels::reference::dropout_forward(x.data(), y_expected.data(), count, seed, threshold,
                                          scale);
      kernels::reference::dropout_backward(dy.data(), dx_expected.data(), count, seed, threshold,
                                           scale);
      // Backward drops what forward dropped.
      for (std::size_t i = 0; i < count; ++i)
        CHECK(dx_expected[i] == (y_expected[i] != 0.0f ? dy[i] * scale : 0.0f));
      testing::for_each_target([&] {
        kernels::dropout_forward(x.data(), y.data(), count, seed, threshold, scale);
        CHECK(y == y_expected);
        kernels::dropout_backward(dy.data(), dx.data(), count, seed, threshold, scale);
        CHECK(dx == dx_expected);
      });
      const auto kept =
          std::size_t(std::count_if(y.begin(), y.end(), [](float v) { return v != 0.0f; }));
      if (count == 9216) {  // 3 standard deviations of a binomial at most
        const double expected_kept = double(count) * (100 - percent) / 100.0;
        const double sd = std::sqrt(double(count) * percent * (100 - percent)) / 100.0;
        CHECK(std::abs(double(kept) - expected_kept) <= 3 * sd + 1e-9);
      }
      // A prefix of the mask is the mask of the prefix: element i depends on (seed, i) alone.
      std::vector<float> prefix(count / 2);
      kernels::dropout_forward(x.data(), prefix.data(), count / 2, seed, threshold, scale);
      CHECK(std::equal(prefix.begin(), prefix.end(), y.begin()));
    }
  }
}

TEST_CASE("softmax forward and backward") {
  std::mt19937 rng(16);
  for (const std::size_t rows : {1, 3, 7})
    for (const std::size_t cols : {1, 3, 7, 10, 17, 33, 130}) {
      INFO("rows " << rows << " cols " << cols);
      // Large logits: only a max-subtracted softmax stays finite.
      std::vector<float> logits = testing::random_floats(rows * cols, rng, -10.0f, 10.0f);
      for (std::size_t i = 0; i < logits.size(); i += 3) logits[i] += 1000.0f;
      compare_with_reference(
          {logits},
          [&](bool simd, Buffers& b) {
            (simd ? kernels::softmax_forward : kernels::reference::softmax_forward)(b[0].data(),
                                                                                    rows, cols);
          },
          magnitude_plus(1e-30f));
      std::vector<float> y = logits;
      kernels::reference::softmax_forward(y.data(), rows, cols);
      compare_with_reference(
          {y, testing::random_floats(rows * cols, rng)},
          [&](bool simd, Buffers& b) {
            (simd ? kernels::softmax_backward : kernels::reference::softmax_backward)(
                b[0].data(), b[1].data(), rows, cols);
          },
          magnitude_plus(1.0f));
    }
}

// An optimizer update that reads buffers {params, grads, slots...} from `in` and writes the
// updated params and slots to the same places in `out` (`in` itself: in place): the SIMD or the
// reference kernel.
using OptimizerRun =
    std::function<std::size_t(bool simd, Buffers& in, Buffers& out, std::size_t count)>;

struct NamedOptimizerRun {
  const char* name;
  std::size_t slots;
  bool squares_slot;  // the last slot holds running squares of gradients: never negative
  OptimizerRun run;
};

// Large learning rates, so that the steps are large enough for their errors to show.
std::vector<NamedOptimizerRun> optimizer_runs() {
  std::vector<NamedOptimizerRun> runs{
      {"adam", 2, true,
       [](bool simd, Buffers& in, Buffers& out, std::size_t count) {
         return (simd ? kernels::adam_update : kernels::reference::adam_update)(
             in[0].data(), in[1].data(), in[2].data(), in[3].data(), out[0].data(), out[2].data(),
             out[3].data(), count, 0.1f, 0.9f, 0.999f, 1e-7f);
       }},
      {"rmsprop", 1, true, [](bool simd, Buffers& in, Buffers& out, std::size_t count) {
         return (simd ? kernels::rmsprop_update : kernels::reference::rmsprop_update)(
             in[0].data(), in[1].data(), in[2].data(), out[0].data(), out[2].data(), count, 0.1f,
             0.9f, 1e-7f);
       }}};
  for (const float mu : {0.0f, 0.9f})
    for (const bool nesterov : {false, true})
      runs.push_back({mu == 0 ? (nesterov ? "sgd nesterov" : "sgd")
                              : (nesterov ? "sgd momentum nesterov" : "sgd momentum"),
                      1, false,
                      [mu, nesterov](bool simd, Buffers& in, Buffers& out, std::size_t count) {
                        return (simd ? kernels::sgd_update : kernels::reference::sgd_update)(
                            in[0].data(), in[1].data(), in[2].data(), out[0].data(), out[2].data(),
                            count, 0.5f, mu, nesterov);
                      }});
  return runs;
}

// {params, grads, slots...} for an update of `count` parameters.
Buffers optimizer_inputs(const NamedOptimizerRun& optimizer, std::size_t count, std::mt19937& rng) {
  Buffers inputs;
  for (std::size_t buffer = 0; buffer < 2 + optimizer.slots; ++buffer)
    inputs.push_back(testing::random_floats(count, rng));
  if (optimizer.squares_slot) inputs.back() = testing::random_floats(count, rng, 0.0f, 1.0f);
  return inputs;
}

// Buffers of the inputs' sizes, all NaN: what an update into them must overwrite.
Buffers nan_buffers(const Buffers& like) {
  Buffers out = like;
  for (auto& buffer : out) std::fill(buffer.begin(), buffer.end(), std::nanf(""));
  return out;
}

TEST_CASE("optimizer updates: Adam, RMSprop, SGD with and without (Nesterov) momentum") {
  std::mt19937 rng(17);
  for (const auto& optimizer : optimizer_runs())
    for (const std::size_t count : kCounts) {
      INFO(optimizer.name << ", count " << count);
      const auto& run = optimizer.run;
      const Buffers inputs = optimizer_inputs(optimizer, count, rng);
      compare_with_reference(
          inputs, [&](bool simd, Buffers& b) { CHECK(run(simd, b, b, count) == count); },
          magnitude_plus(1.0f));
      // Into other arrays: the same numbers there, the inputs untouched.
      for (const bool simd : {false, true}) {
        Buffers in_place = inputs, untouched = inputs, aside = nan_buffers(inputs);
        run(simd, in_place, in_place, count);
        CHECK(run(simd, untouched, aside, count) == count);
        CHECK(untouched == inputs);
        for (std::size_t i = 0; i < inputs.size(); ++i)
          if (i != 1)  // buffer 1, the gradients, is read only
            CHECK(std::memcmp(aside[i].data(), in_place[i].data(), count * sizeof(float)) == 0);
      }
    }
}

TEST_CASE("optimizer updates name the first parameter they make non-finite") {
  std::mt19937 rng(18);
  for (const auto& optimizer : optimizer_runs())
    for (const std::size_t count : kCounts)
      for (const std::size_t bad : {count - 1, count / 2}) {
        INFO(optimizer.name << ", count " << count << ", NaN gradient at " << bad);
        const auto& run = optimizer.run;
        Buffers inputs = optimizer_inputs(optimizer, count, rng);
        inputs[1][bad] = std::numeric_limits<float>::quiet_NaN();
        inputs[1][count - 1] = inputs[1][bad];  // a later one too: the first is named
        testing::for_each_target([&] {
          for (const bool simd : {false, true}) {
            Buffers untouched = inputs, aside = nan_buffers(inputs);
            CHECK(run(simd, untouched, aside, count) == bad);
            CHECK(std::isnan(aside[0][bad]));
            for (std::size_t i = 0; i < inputs.size(); ++i)
              CHECK(std::memcmp(untouched[i].data(), inputs[i].data(), count * sizeof(float)) == 0);
            Buffers applied = inputs;
            CHECK(run(simd, applied, applied, count) == bad);
            CHECK(std::isnan(applied[0][bad]));
          }
        });
      }
}

using AffineTransform = std::array<float, 8>;

// Transforms that reach every path of affine_transform in an h x w image: Nearest's ties, the
// image's edges and whole extents beyond them, folds over many periods, coordinates on both
// sides of 2^22 (where the SIMD version hands pixels to the reference) and of 2^40 (fill),
// projections that are 0 at a pixel or cross 0 inside the image, NaN and infinite entries,
// coordinates of -0, and random rotations, zooms, shears and shifts, affine and projective.
std::vector<AffineTransform> affine_test_transforms(std::size_t h, std::size_t w,
                                                    std::mt19937& rng) {
  const float fh = float(h), fw = float(w);
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float below_2_40 = std::nextafter(0x1p40f, 0.0f);
  std::vector<AffineTransform> transforms = {
      {1, 0, 0, 0, 1, 0, 0, 0},
      {1, 0, 0.5f, 0, 1, -0.5f, 0, 0},
      {0.5f, 0, -3.5f, 0, -1.5f, 2.5f, 0, 0},
      {1, 0, -fw, 0, 1, fh, 0, 0},
      {-1, 0, fw - 1, 0, -1, 2 * fh - 1, 0, 0},
      {3, 0, -7.25f, 0, 2.5f, -4.75f, 0, 0},
      {37, 0.5f, -400.3f, -0.25f, 41, 333.7f, 0, 0},
      {1e6f, 0, -5e5f, 0, 1, 1e5f, 0, 0},
      {1, 0, 0x1p22f - 3, 0, 1, 2 - 0x1p22f, 0, 0},
      {1, 0, 0.5f - 0x1p22f, 0, -1, 0x1p22f - 0.5f, 0, 0},
      {1e9f, 0, 0, 0, -1e9f, 1, 0, 0},
      {1e12f, 0, 1, 0, 1e12f, -1, 0, 0},
      {1, 0, below_2_40, 0, 1, 0, 0, 0},
      {1, 0, 0, 0, 1, -0x1p40f, 0, 0},
      {1, 0, 0, 0, 1, 0, -0.25f, 0},
      {1, 0.2f, 0, -0.1f, 1, 0, -2 / fw, 0.05f},
      {0.9f, 0, 1, 0, 1.1f, -1, 0.01f, -1.5f / fh},
      {1, 0, nan, 0, 1, 0, 0, 0},
      {inf, 0, 0, 0, 1, 0, 0, 0},
      {1, 0, 0, 0, 1, 0, nan, 0},
      {1, 0, 0, 0, 1, 0, 0, -inf},
      {-0.0f, -0.0f, -0.0f, 0, 1, 0, 0, 0},
      {1, 0, 0, -0.0f, -0.0f, -0.0f, 0, 0},
      {1, 0, 0, 0, 1, 0, -1, -1},
  };
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  for (int i = 0; i < 12; ++i) {
    const float angle = 3.14159265f * unit(rng), zoom = std::exp(1.2f * unit(rng));
    const float cos = zoom * std::cos(angle), sin = zoom * std::sin(angle);
    const float cx = 0.5f * (fw - 1), cy = 0.5f * (fh - 1);
    const float shear = i % 3 == 0 ? 0.5f * unit(rng) : 0.0f;
    const float shift_x = 2 * fw * unit(rng), shift_y = 2 * fh * unit(rng);
    // Every other one projective, enough to cross 0 inside the image now and then.
    const float t6 = i % 2 ? 2 * unit(rng) / fw : 0.0f, t7 = i % 2 ? 2 * unit(rng) / fh : 0.0f;
    transforms.push_back({cos, -sin + shear, cx - cx * cos + cy * sin + shift_x, sin, cos,
                          cy - cx * sin - cy * cos + shift_y, t6, t7});
  }
  return transforms;
}

// Random pixels, a tenth of them zeros of either sign, three in a hundred infinities or NaN.
std::vector<float> affine_test_image(std::size_t count, std::mt19937& rng) {
  std::vector<float> pixels = testing::random_floats(count, rng);
  const float specials[] = {std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN()};
  std::uniform_int_distribution<int> percent(0, 99);
  for (float& pixel : pixels) {
    const int draw = percent(rng);
    if (draw < 10) pixel = draw % 2 ? 0.0f : -0.0f;
    else if (draw < 13) pixel = specials[draw % 3];
  }
  return pixels;
}

std::string describe(const AffineTransform& transform) {
  std::ostringstream text;
  text.precision(9);
  for (const float t : transform) text << t << ' ';
  return text.str();
}

// The index of the first element whose bits differ, NaNs aside (size() when none does): which
// of two NaN operands an instruction passes on depends on the order the compiler gives them.
std::size_t first_bit_difference(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  std::size_t i = 0;
  while (i < a.size() &&
         (std::bit_cast<std::uint32_t>(a[i]) == std::bit_cast<std::uint32_t>(b[i]) ||
          (std::isnan(a[i]) && std::isnan(b[i]))))
    ++i;
  return i;
}

// The SIMD version does the reference's float operations in its order on every target: its
// outputs are the reference's bits, the signs of zeros included (and NaN where it has NaN).
TEST_CASE("affine_transform: the reference's bits in every mode, on every target") {
  using kernels::FillMode;
  using kernels::Interpolation;
  struct Size {
    std::size_t h, w;
  };
  constexpr Size kSizes[] = {{1, 1}, {1, 19}, {19, 1}, {2, 2}, {5, 7}, {9, 33}, {28, 28}};
  const float fills[] = {0.0f, 0.5f, -2.0f, std::numeric_limits<float>::infinity(),
                         std::numeric_limits<float>::quiet_NaN()};
  std::mt19937 rng(29);
  std::size_t cases = 0;
  for (const Size size : kSizes)
    for (const std::size_t c : {1, 2, 3}) {
      const std::size_t h = size.h, w = size.w;
      // A random image, and one of -0s, where a weight of -0 for the reference's +0 shows.
      for (const std::vector<float>& image :
           {affine_test_image(h * w * c, rng), std::vector<float>(h * w * c, -0.0f)})
        for (const AffineTransform& transform : affine_test_transforms(h, w, rng))
          for (const Interpolation interpolation :
               {Interpolation::Bilinear, Interpolation::Nearest})
            for (const FillMode fill_mode :
                 {FillMode::Reflect, FillMode::Wrap, FillMode::Constant, FillMode::Nearest}) {
              const float fill_value = fills[cases++ % std::size(fills)];
              INFO("h " << h << " w " << w << " c " << c << ", interpolation " << int(interpolation)
                        << ", fill mode " << int(fill_mode) << ", fill value " << fill_value
                        << ", transform " << describe(transform));
              const auto run = [&](auto affine_transform) {
                std::vector<float> out(image.size(), 12345.0f);
                affine_transform(image.data(), h, w, c, transform.data(), interpolation, fill_mode,
                                 fill_value, out.data());
                return out;
              };
              const std::vector<float> expected = run(kernels::reference::affine_transform);
              testing::for_each_target([&] {
                const std::vector<float> actual = run(kernels::affine_transform);
                const std::size_t i = first_bit_difference(actual, expected);
                if (i == actual.size()) return;
                INFO("first difference at pixel " << i / c << " channel " << i % c << ": got "
                                                  << actual[i] << ", expected " << expected[i]);
                CHECK(i == actual.size());
              });
            }
    }
}

}  // namespace
