// The 8-bit kernels against their scalar references, bit for bit: the GEMMs on every path this
// machine has (Highway on each target, VNNI, AMX) at odd shapes, column and row bands, extreme
// codes, non-finite epilogues; im2col, maxpool, quantize and dequantize on every target.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <thread>

#include "kernel_test_support.h"
#include "typenet/kernels/int8.hpp"
#include "typenet/kernels/kernel_paths.hpp"

namespace {

namespace kernels = typenet::kernels;
namespace testing = typenet::kernels::testing;
using kernels::detail::Int8Path;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<std::uint8_t> random_codes(std::size_t count, std::mt19937& rng) {
  std::uniform_int_distribution<int> code(0, 255);
  std::vector<std::uint8_t> codes(count);
  for (auto& value : codes) value = std::uint8_t(code(rng));
  return codes;
}

std::vector<std::int8_t> random_weights(std::size_t count, std::mt19937& rng) {
  std::uniform_int_distribution<int> weight(-128, 127);
  std::vector<std::int8_t> weights(count);
  for (auto& value : weights) value = std::int8_t(weight(rng));
  return weights;
}

// Equal bit for bit, except that any NaN equals any NaN (the payload of a NaN that goes through
// a fused multiply-add depends on the operand order the compiler picked).
void check_same_floats(const std::vector<float>& actual, const std::vector<float>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (std::isnan(actual[i]) && std::isnan(expected[i])) continue;
    if (std::memcmp(&actual[i], &expected[i], sizeof(float)) != 0) {
      INFO("first difference at " << i << ": got " << actual[i] << ", expected " << expected[i]);
      CHECK(false);
      return;
    }
  }
}

void check_same_codes(const std::vector<std::uint8_t>& actual,
                      const std::vector<std::uint8_t>& expected) {
  REQUIRE(actual.size() == expected.size());
  const auto mismatch = std::mismatch(actual.begin(), actual.end(), expected.begin());
  if (mismatch.first != actual.end()) {
    INFO("first difference at " << mismatch.first - actual.begin() << ": got "
                                << int(*mismatch.first) << ", expected " << int(*mismatch.second));
    CHECK(false);
  }
}

// Runs body() on every GEMM path this machine has: Highway on each of its targets, VNNI, AMX;
// then the normal choice again.
template <class Body>
void for_each_int8_path(const Body& body) {
  testing::for_each_forced_path<Int8Path>({{Int8Path::vnni, "vnni"}, {Int8Path::amx, "amx"}},
                                          kernels::int8_kernel_path, [&](Int8Path) { body(); });
}

// A product: m x k codes (lda apart), the k x n weights packed, the epilogue's parameters.
struct Int8Gemm {
  std::size_t m, n, k, lda;
  std::vector<std::uint8_t> a;
  std::vector<std::int8_t> packed;
  std::vector<float> scale, offset;
  kernels::Int8Epilogue epilogue;

  Int8Gemm(std::size_t m_, std::size_t n_, std::size_t k_, std::mt19937& rng)
      : m(m_), n(n_), k(k_), lda(kernels::int8_depth(k_) + 5), a(random_codes(m_ * lda, rng)),
        packed(kernels::int8_packed_size(k_, n_)), scale(n_), offset(n_) {
    const std::vector<std::int8_t> w = random_weights(k * n, rng);
    kernels::pack_int8_weights(w.data(), k, n, packed.data());
    // Scales that spread the sums (up to ~255 * 128 * k) over the output codes.
    std::uniform_real_distribution<float> unit(0.5f, 1.5f), centre(-40.0f, 40.0f);
    const float typical_sum = 128.0f * 64.0f * std::sqrt(float(k));
    for (std::size_t j = 0; j < n; ++j) {
      scale[j] = unit(rng) / typical_sum;
      offset[j] = centre(rng) / 40.0f;
    }
    epilogue = {scale.data(), offset.data(), 50.0f, 0.0f, false};
  }

  // Rows [i0, i0 + rows) and columns [j0, j0 + columns) (j0 a multiple of 16) of C, at c.
  template <typename Out>
  void run(bool dispatched, std::size_t i0, std::size_t rows, std::size_t j0, std::size_t columns,
           Out* c, std::size_t ldc) const {
    kernels::Int8Epilogue band = epilogue;
    band.scale += j0;
    band.offset += j0;
    const std::int8_t* b = packed.data() + j0 * kernels::kInt8DepthGroup;
    const std::size_t packed_columns = kernels::int8_padded_columns(n);
    const std::uint8_t* rows_a = a.data() + i0 * lda;
    if constexpr (std::is_same_v<Out, float>)
      (dispatched ? kernels::int8_gemm_f32 : kernels::reference::int8_gemm_f32)(
          rows, columns, k, rows_a, lda, b, packed_columns, band, c, ldc);
    else
      (dispatched ? kernels::int8_gemm_u8 : kernels::reference::int8_gemm_u8)(
          rows, columns, k, rows_a, lda, b, packed_columns, band, c, ldc);
  }

  // C as a whole, ldc = n + 3 (the padding must survive).
  template <typename Out>
  std::vector<Out> product(bool dispatched) const {
    std::vector<Out> c(m * (n + 3), Out(77));
    run(dispatched, 0, m, 0, n, c.data(), n + 3);
    return c;
  }
};

// Both outputs of every path equal the reference's.
void check_gemm(const Int8Gemm& gemm) {
  const auto expected_codes = gemm.product<std::uint8_t>(false);
  const auto expected_floats = gemm.product<float>(false);
  for_each_int8_path([&] {
    check_same_codes(gemm.product<std::uint8_t>(true), expected_codes);
    check_same_floats(gemm.product<float>(true), expected_floats);
  });
}

constexpr std::size_t kRowCounts[] = {1, 2, 3, 17, 576};
constexpr std::size_t kColumnCounts[] = {1, 10, 16, 17, 64, 128, 512};
constexpr std::size_t kDepths[] = {1, 3, 9, 31, 64, 65, 288, 784, 9216};
// The reference takes about a nanosecond a multiply-add.
constexpr std::size_t kMaxMultiplyAdds = 4'000'000;

TEST_CASE("int8 GEMMs equal the reference on every path: odd shapes, relu, zero points") {
  std::mt19937 rng(21);
  // Every listed size with random partners, within the reference's budget; plus the shapes
  // that meet every AMX case: row blocks of 32 and 16 and a VNNI remainder, column blocks of
  // 32 and 16 (partial), depths of whole tiles, a tail of 4 bytes, one of 16.
  std::vector<std::array<std::size_t, 3>> shapes = {{576, 64, 288}, {48, 17, 65},   {33, 10, 784},
                                                    {16, 512, 64},  {35, 128, 784}, {1, 128, 9216}};
  const auto pick = [&](const auto& sizes) {
    return sizes[std::uniform_int_distribution<std::size_t>(0, std::size(sizes) - 1)(rng)];
  };
  const auto add_within_budget = [&](auto make) {
    for (;;) {
      const std::array<std::size_t, 3> shape = make();
      if (shape[0] * shape[1] * shape[2] <= kMaxMultiplyAdds) return shapes.push_back(shape);
    }
  };
  for (const std::size_t m : kRowCounts)
    add_within_budget([&] { return std::array{m, pick(kColumnCounts), pick(kDepths)}; });
  for (const std::size_t n : kColumnCounts)
    add_within_budget([&] { return std::array{pick(kRowCounts), n, pick(kDepths)}; });
  for (const std::size_t k : kDepths)
    add_within_budget([&] { return std::array{pick(kRowCounts), pick(kColumnCounts), k}; });

  for (const auto& [m, n, k] : shapes)
    for (const bool relu : {false, true})
      for (const float zero_point : {0.0f, 128.0f}) {
        INFO("m " << m << " n " << n << " k " << k << " relu " << relu << " zero point "
                  << zero_point);
        Int8Gemm gemm(m, n, k, rng);
        gemm.epilogue.relu = relu;
        gemm.epilogue.output_zero_point = zero_point;
        check_gemm(gemm);
      }
}

TEST_CASE("int8 GEMMs: bands of rows and columns give the whole product's values") {
  std::mt19937 rng(22);
  for (const auto& [m, n, k] :
       {std::array<std::size_t, 3>{40, 100, 288}, {576, 64, 288}, {3, 130, 784}}) {
    INFO("m " << m << " n " << n << " k " << k);
    const Int8Gemm gemm(m, n, k, rng);
    const auto whole = gemm.product<std::uint8_t>(false);
    const auto whole_floats = gemm.product<float>(false);
    const std::size_t ldc = n + 3;
    for_each_int8_path([&] {
      // Column bands from multiples of 16, row bands anywhere; each call writes its own part.
      auto banded = std::vector<std::uint8_t>(whole.size(), std::uint8_t(77));
      auto banded_floats = std::vector<float>(whole.size(), 77.0f);
      const std::size_t column_cuts[] = {0, 16, std::min<std::size_t>(48, n), n};
      const std::size_t row_cuts[] = {0, m / 3, m / 3 + 17 < m ? m / 3 + 17 : m, m};
      for (std::size_t jb = 0; jb + 1 < std::size(column_cuts); ++jb)
        for (std::size_t ib = 0; ib + 1 < std::size(row_cuts); ++ib) {
          const std::size_t i0 = row_cuts[ib], j0 = column_cuts[jb];
          const std::size_t rows = row_cuts[ib + 1] - i0, columns = column_cuts[jb + 1] - j0;
          if (rows == 0 || columns == 0) continue;
          gemm.run(true, i0, rows, j0, columns, banded.data() + i0 * ldc + j0, ldc);
          gemm.run(true, i0, rows, j0, columns, banded_floats.data() + i0 * ldc + j0, ldc);
        }
      check_same_codes(banded, whole);
      check_same_floats(banded_floats, whole_floats);
    });
  }
}

TEST_CASE("int8 GEMMs sum exactly in int32: all 255 codes with all -128 or all 127 weights") {
  std::mt19937 rng(23);
  for (const std::int8_t weight : {std::int8_t{-128}, std::int8_t{127}})
    for (const auto& [m, n, k] :
         {std::array<std::size_t, 3>{17, 17, 9216}, {2, 64, 9216}, {32, 16, 784}}) {
      INFO("weight " << int(weight) << " m " << m << " n " << n << " k " << k);
      Int8Gemm gemm(m, n, k, rng);
      std::fill(gemm.a.begin(), gemm.a.end(), std::uint8_t{255});
      const std::vector<std::int8_t> w(k * n, weight);
      kernels::pack_int8_weights(w.data(), k, n, gemm.packed.data());
      // The sum 255 * weight * k (up to -300,810,240) needs all 32 bits' range; a scale of one
      // in floats shows it (rounded to a float the same way everywhere).
      std::fill(gemm.scale.begin(), gemm.scale.end(), 1.0f);
      std::fill(gemm.offset.begin(), gemm.offset.end(), 0.0f);
      const auto floats = gemm.product<float>(false);
      CHECK(floats[0] == float(255 * std::int64_t{weight} * std::int64_t(k)));
      check_gemm(gemm);
    }
}

TEST_CASE("int8 GEMMs: NaN and infinite scales and offsets, saturating output scales") {
  std::mt19937 rng(24);
  Int8Gemm gemm(20, 37, 70, rng);
  // Columns whose y is NaN (code: the zero point), +-inf (255 or the low clamp), huge.
  const float odd_scales[] = {kNaN, kInf, -kInf, 1e30f, -1e30f, 0.0f};
  const float odd_offsets[] = {0.0f, kNaN, kInf, -kInf, 1e30f, -0.0f};
  for (std::size_t j = 0; j < std::size(odd_scales); ++j) {
    gemm.scale[2 * j] = odd_scales[j];
    gemm.offset[2 * j + 1] = odd_offsets[j];
  }
  for (const bool relu : {false, true})
    for (const float inverse_scale : {50.0f, 1e20f, -3.0f}) {
      INFO("relu " << relu << " inverse scale " << inverse_scale);
      gemm.epilogue.relu = relu;
      gemm.epilogue.output_inverse_scale = inverse_scale;
      gemm.epilogue.output_zero_point = 100.0f;
      check_gemm(gemm);
    }
}

TEST_CASE("int8 GEMMs on several threads at once: each has its own tiles and buffers") {
  constexpr std::size_t kThreads = 4;
  std::mt19937 rng(25);
  std::vector<Int8Gemm> gemms;
  std::vector<std::vector<std::uint8_t>> expected, actual;
  for (std::size_t t = 0; t < kThreads; ++t) {
    gemms.emplace_back(67, 130, 300, rng);
    expected.push_back(gemms[t].product<std::uint8_t>(false));
    actual.emplace_back(expected[t].size());
  }
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 20; ++repeat) actual[t] = gemms[t].product<std::uint8_t>(true);
    });
  for (std::thread& thread : threads) thread.join();
  for (std::size_t t = 0; t < kThreads; ++t) {
    INFO("thread " << t);
    check_same_codes(actual[t], expected[t]);
  }
}

TEST_CASE("int8_kernel_path names the best path by default") {
  const std::string path = kernels::int8_kernel_path();
  if (kernels::detail::path_available(Int8Path::amx)) CHECK(path == "amx");
  else if (kernels::detail::path_available(Int8Path::vnni)) CHECK(path == "vnni");
  else CHECK(path == kernels::simd_target_name());
}

struct ConvGeometry {
  std::size_t h, w, c, kh, kw, stride, pad_top, pad_left;
  std::size_t oh() const { return (h + 2 * pad_top - kh) / stride + 1; }
  std::size_t ow() const { return (w + 2 * pad_left - kw) / stride + 1; }
};

TEST_CASE("int8_im2col equals the reference: padding (Same), stride 2, row padding") {
  std::mt19937 rng(26);
  for (const ConvGeometry& g : {ConvGeometry{28, 28, 1, 3, 3, 1, 0, 0},   // conv1, valid
                                ConvGeometry{26, 26, 32, 3, 3, 1, 0, 0},  // conv2
                                ConvGeometry{12, 12, 64, 3, 3, 1, 1, 1},  // Same
                                ConvGeometry{13, 11, 3, 3, 3, 2, 1, 1},   // stride 2, padding
                                ConvGeometry{7, 9, 70, 5, 3, 2, 2, 1},    // odd channels
                                ConvGeometry{4, 4, 1, 3, 3, 1, 3, 3}}) {  // rows all padding
    const std::size_t depth = kernels::int8_depth(g.kh * g.kw * g.c);
    for (const std::size_t ldcol : {depth, depth + 9}) {
      INFO("h " << g.h << " w " << g.w << " c " << g.c << " kernel " << g.kh << "x" << g.kw
                << " stride " << g.stride << " padding " << g.pad_top << "," << g.pad_left
                << " ldcol " << ldcol);
      const std::vector<std::uint8_t> image = random_codes(g.h * g.w * g.c, rng);
      const auto patches = [&](bool dispatched) {
        std::vector<std::uint8_t> col(g.oh() * g.ow() * ldcol, std::uint8_t{0xAB});  // garbage
        (dispatched ? kernels::int8_im2col : kernels::reference::int8_im2col)(
            image.data(), g.h, g.w, g.c, g.kh, g.kw, g.stride, g.pad_top, g.pad_left, g.oh(),
            g.ow(), std::uint8_t{7}, col.data(), ldcol);
        return col;
      };
      const auto expected = patches(false);
      testing::for_each_target([&] { check_same_codes(patches(true), expected); });
    }
  }
}

TEST_CASE("int8_maxpool equals the reference: stride == and != pool size, odd channels") {
  std::mt19937 rng(27);
  struct PoolGeometry {
    std::size_t h, w, c, pool, stride;
  };
  for (const PoolGeometry& g : {PoolGeometry{24, 24, 64, 2, 2}, PoolGeometry{7, 7, 3, 3, 2},
                                PoolGeometry{9, 8, 70, 2, 1}, PoolGeometry{5, 5, 1, 5, 1}}) {
    INFO("h " << g.h << " w " << g.w << " c " << g.c << " pool " << g.pool << " stride "
              << g.stride);
    const std::size_t oh = (g.h - g.pool) / g.stride + 1, ow = (g.w - g.pool) / g.stride + 1;
    const std::vector<std::uint8_t> image = random_codes(g.h * g.w * g.c, rng);
    const auto pooled = [&](bool dispatched) {
      std::vector<std::uint8_t> out(oh * ow * g.c, std::uint8_t{0xAB});
      (dispatched ? kernels::int8_maxpool : kernels::reference::int8_maxpool)(
          image.data(), g.h, g.w, g.c, g.pool, g.stride, oh, ow, out.data());
      return out;
    };
    const auto expected = pooled(false);
    testing::for_each_target([&] { check_same_codes(pooled(true), expected); });
  }
}

TEST_CASE("quantize_u8 and dequantize_u8 equal the reference; codes survive a round trip") {
  std::mt19937 rng(28);
  for (const std::size_t count : {1, 3, 7, 17, 33, 67, 130}) {
    for (const float zero_point : {0.0f, 128.0f, 37.0f})
      for (const float scale : {0.0173f, 0.015625f}) {
        INFO("count " << count << " zero point " << zero_point << " scale " << scale);
        const float inverse_scale = 1.0f / scale;
        // Beyond the codes' range, non-finite values, a halfway code (exactly 2.5 with the scale
        // 1/64: nearest even).
        std::vector<float> x = testing::random_floats(count, rng, -4.0f, 4.0f);
        const float specials[] = {kNaN, kInf, -kInf, (2.5f - zero_point) * scale, 1e30f, -0.0f};
        for (std::size_t i = 0; i < std::min(count, std::size(specials)); ++i)
          x[count - 1 - i] = specials[i];
        const auto quantized = [&](bool dispatched) {
          std::vector<std::uint8_t> q(count);
          (dispatched ? kernels::quantize_u8 : kernels::reference::quantize_u8)(
              x.data(), count, inverse_scale, zero_point, q.data());
          return q;
        };
        const std::vector<std::uint8_t> codes = random_codes(count, rng);
        const auto dequantized = [&](bool dispatched) {
          std::vector<float> values(count);
          (dispatched ? kernels::dequantize_u8 : kernels::reference::dequantize_u8)(
              codes.data(), count, scale, zero_point, values.data());
          return values;
        };
        const auto expected_codes = quantized(false);
        const auto expected_values = dequantized(false);
        testing::for_each_target([&] {
          check_same_codes(quantized(true), expected_codes);
          check_same_floats(dequantized(true), expected_values);
          const std::vector<float> values = dequantized(true);
          std::vector<std::uint8_t> round_trip(count);
          kernels::quantize_u8(values.data(), count, inverse_scale, zero_point, round_trip.data());
          check_same_codes(round_trip, codes);
        });
      }
  }
}

}  // namespace
