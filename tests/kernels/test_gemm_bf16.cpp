// gemm_bf16, conv_forward_bf16 and conv_kernel_grad_bf16 against their references on every
// path this machine has
// (Highway on each target, AVX512_BF16, AMX): odd shapes, all transposes, beta 0/1, bias,
// leading dimensions, column bands and row (pixel) ranges bit for bit, the rounding to bf16
// (ties, NaN, inf, denormals), the bf16 error bound against the float gemm, and op(B) packed once
// (pack_bf16) giving the bits of packing per call.
//
// Tolerances. Against the reference (exact products, one rounding at the end) a path differs
// only by its float additions: k products, the bias and C, each sum rounded with a relative
// error of at most 2^-24 of the running sum, whose size is at most S = sum |a_bf16 b_bf16| +
// |bias| + |C|: |c - ref| <= (k + 2) 2^-24 S. We allow twice that, (k + 2) 2^-23 S, plus 2^-100
// for the hardware paths' flushing of denormal sums. Against the float gemm: rounding a and b
// to bf16 (8 significant bits) changes each by at most 2^-9 of itself, so each product by at
// most (2^-9 + 2^-9 + 2^-18) |a b| < 2^-7.9 |a b|; both sums add their float rounding, at
// most 2 (k + 2) 2^-24 S: for k <= 9216 the total stays below 2^-7 S (0.0039 + 0.0011 <
// 0.0078).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "kernel_test_support.h"
#include "src/kernels/gemm_bf16_blocking.h"
#include "typenet/kernels/kernel_paths.hpp"

namespace {

using typenet::kernels::Trans;
using typenet::kernels::detail::Bf16Path;
namespace kernels = typenet::kernels;
namespace testing = typenet::kernels::testing;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kSentinel = 12345.0f;
constexpr Trans kTransposes[] = {Trans::No, Trans::Yes};

// Runs body(hardware) on every bf16 path this machine has: Highway on each of its targets
// (hardware false), AVX512_BF16 and AMX (true: denormals flushed); then the normal choice.
template <class Body>
void for_each_bf16_path(const Body& body) {
  testing::for_each_forced_path<Bf16Path>(
      {{Bf16Path::avx512_bf16, "avx512_bf16"}, {Bf16Path::amx, "amx"}}, kernels::bf16_kernel_path,
      [&](Bf16Path path) { body(path != Bf16Path::highway); });
}

// Element i passes when |actual - expected| <= relative * bound[i] + absolute (NaN only where
// expected).
void check_within(const std::vector<float>& actual, const std::vector<float>& expected,
                  const std::vector<float>& bound, double relative, double absolute) {
  REQUIRE(actual.size() == expected.size());
  std::size_t failures = 0, first = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (std::isnan(expected[i]) && std::isnan(actual[i])) continue;
    const double error = std::fabs(double(actual[i]) - double(expected[i]));
    if (!(error <= relative * double(bound[i]) + absolute) && failures++ == 0) first = i;
  }
  if (failures != 0) {
    INFO(failures << " failures; first at " << first << ": got " << actual[first] << ", expected "
                  << expected[first] << " (bound " << bound[first] << ")");
    CHECK(failures == 0);
  }
}

// The summation tolerance of a k-deep product (see the top of the file).
double summation_tolerance(std::size_t k) { return double(k + 2) * std::ldexp(1.0, -23); }
constexpr double kFlushedDenormals = 0x1p-100;

struct GemmCase {
  Trans trans_a, trans_b;
  std::size_t m, n, k;
  float beta;
  bool with_bias;
  std::size_t padding;  // extra floats a row of A, B and C
};

std::string describe(const GemmCase& g) {
  return std::string(g.trans_a == Trans::Yes ? "T" : "N") + (g.trans_b == Trans::Yes ? "T" : "N") +
         " m=" + std::to_string(g.m) + " n=" + std::to_string(g.n) + " k=" + std::to_string(g.k) +
         " beta=" + std::to_string(g.beta) + (g.with_bias ? " bias" : "") +
         " padding=" + std::to_string(g.padding);
}

// The operands of a case, padding NaN (reading it would poison the result), C's padding
// columns a sentinel that must survive.
struct Operands {
  explicit Operands(const GemmCase& g, std::mt19937& rng)
      : lda((g.trans_a == Trans::No ? g.k : g.m) + g.padding),
        ldb((g.trans_b == Trans::No ? g.n : g.k) + g.padding), ldc(g.n + g.padding),
        a(padded(g.trans_a == Trans::No ? g.m : g.k, lda - g.padding, lda, rng)),
        b(padded(g.trans_b == Trans::No ? g.k : g.n, ldb - g.padding, ldb, rng)),
        bias(testing::random_floats(g.n, rng)),
        c(g.beta == 0.0f ? std::vector<float>(g.m * ldc, kNaN)
                         : testing::random_floats(g.m * ldc, rng)) {
    for (std::size_t r = 0; r < g.m; ++r)
      for (std::size_t j = g.n; j < ldc; ++j) c[r * ldc + j] = kSentinel;
  }
  static std::vector<float> padded(std::size_t rows, std::size_t cols, std::size_t ld,
                                   std::mt19937& rng) {
    std::vector<float> values = testing::random_floats(rows * ld, rng);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t j = cols; j < ld; ++j) values[r * ld + j] = kNaN;
    return values;
  }
  std::size_t lda, ldb, ldc;
  std::vector<float> a, b, bias, c;
};

void check_gemm_bf16(const GemmCase& g, std::mt19937& rng) {
  INFO(describe(g));
  const Operands x(g, rng);
  const float* bias = g.with_bias ? x.bias.data() : nullptr;
  std::vector<float> expected = x.c, bound = testing::absolute(x.c), fp32 = x.c;
  kernels::reference::gemm_bf16(g.trans_a, g.trans_b, g.m, g.n, g.k, x.a.data(), x.lda, x.b.data(),
                                x.ldb, g.beta, expected.data(), x.ldc, bias);
  kernels::reference::gemm_bf16(g.trans_a, g.trans_b, g.m, g.n, g.k, testing::absolute(x.a).data(),
                                x.lda, testing::absolute(x.b).data(), x.ldb, g.beta, bound.data(),
                                x.ldc, g.with_bias ? testing::absolute(x.bias).data() : nullptr);
  kernels::reference::gemm(g.trans_a, g.trans_b, g.m, g.n, g.k, x.a.data(), x.lda, x.b.data(),
                           x.ldb, g.beta, fp32.data(), x.ldc, bias);
  for_each_bf16_path([&](bool hardware) {
    std::vector<float> actual = x.c;
    kernels::gemm_bf16(g.trans_a, g.trans_b, g.m, g.n, g.k, x.a.data(), x.lda, x.b.data(), x.ldb,
                       g.beta, actual.data(), x.ldc, bias);
    check_within(actual, expected, bound, summation_tolerance(g.k),
                 hardware ? kFlushedDenormals : 0.0);
    check_within(actual, fp32, bound, 0x1p-7, 0.0);
    for (std::size_t r = 0; r < g.m; ++r)
      for (std::size_t j = g.n; j < x.ldc; ++j) REQUIRE(actual[r * x.ldc + j] == kSentinel);
    // op(B) packed once (by one worker or shared by three; unwritten words would be NaNs), then
    // read by gemm_bf16_packed: the same bits.
    for (const std::size_t parts : {1, 3}) {
      std::vector<std::uint32_t> packed(kernels::bf16_packing::PackedLayout{g.k, g.n}.words(),
                                        0xFFFFFFFFu);
      for (std::size_t part = 0; part < parts; ++part)
        kernels::pack_bf16(g.trans_b, g.k, g.n, x.b.data(), x.ldb, packed.data(), part, parts);
      std::vector<float> from_packed = x.c;
      kernels::gemm_bf16_packed(g.trans_a, g.m, g.n, g.k, x.a.data(), x.lda, packed.data(), g.beta,
                                from_packed.data(), x.ldc, bias);
      CHECK(std::memcmp(from_packed.data(), actual.data(), actual.size() * sizeof(float)) == 0);
    }
  });
}

TEST_CASE("gemm_bf16 equals its reference on random shapes, transposes, beta, bias, ld") {
  const std::size_t ms[] = {1, 2, 5, 15, 16, 17, 33, 576};
  const std::size_t ns[] = {1, 10, 16, 17, 32, 64, 100, 288};
  const std::size_t ks[] = {1, 3, 9, 31, 32, 33, 64, 288, 576, 800, 1600, 9216};
  std::mt19937 rng(11);
  const auto pick = [&](const auto& values) {
    return values[std::uniform_int_distribution<std::size_t>(0, std::size(values) - 1)(rng)];
  };
  // Every m, n and k meets random partners in each transpose combination, beta, bias and
  // padding taking turns; the largest products are left to the layer shapes below (the
  // reference costs m n k double multiply-adds).
  std::size_t variant = 0;
  const auto run = [&](std::size_t m, std::size_t n, std::size_t k) {
    constexpr std::size_t kMaxWork = 3'000'000;
    if (m * n * k > kMaxWork) m = std::max<std::size_t>(1, kMaxWork / (n * k));
    if (m * n * k > kMaxWork) n = std::max<std::size_t>(1, kMaxWork / (m * k));
    for (const Trans trans_a : kTransposes)
      for (const Trans trans_b : kTransposes) {
        ++variant;
        check_gemm_bf16({trans_a, trans_b, m, n, k, float(variant % 2), (variant / 2) % 2 == 0,
                         (variant / 4) % 2 == 0 ? 0u : 3u},
                        rng);
      }
  };
  for (const std::size_t m : ms) run(m, pick(ns), pick(ks));
  for (const std::size_t n : ns) run(pick(ms), n, pick(ks));
  for (const std::size_t k : ks) run(pick(ms), pick(ns), k);
}

TEST_CASE("gemm_bf16 at the layer shapes: conv2 and Dense 9216 training products") {
  std::mt19937 rng(12);
  check_gemm_bf16({Trans::No, Trans::No, 576, 64, 288, 0.0f, true, 0}, rng);
  check_gemm_bf16({Trans::Yes, Trans::No, 288, 64, 576, 1.0f, false, 0}, rng);
  check_gemm_bf16({Trans::No, Trans::Yes, 576, 288, 64, 0.0f, false, 0}, rng);
  check_gemm_bf16({Trans::No, Trans::No, 33, 128, 9216, 0.0f, true, 1}, rng);
  check_gemm_bf16({Trans::Yes, Trans::No, 600, 100, 128, 1.0f, false, 0}, rng);
  check_gemm_bf16({Trans::No, Trans::Yes, 128, 600, 100, 0.0f, false, 0}, rng);
}

TEST_CASE("gemm_bf16 with k == 0 is C = beta C + bias") {
  std::mt19937 rng(13);
  for (const float beta : {0.0f, 1.0f})
    for (const bool with_bias : {false, true})
      check_gemm_bf16({Trans::No, Trans::No, 20, 17, 0, beta, with_bias, 2}, rng);
}

TEST_CASE("gemm_bf16 computes an element alike whatever column band or 16-row range a call has") {
  constexpr std::size_t granule = kernels::kGemmColumnGranule;
  constexpr std::size_t rows_granule = kernels::kBf16RowGranule;
  std::mt19937 rng(14);
  for (const Trans trans_a : kTransposes)
    for (const Trans trans_b : kTransposes)
      for (const std::size_t m : {5, 100}) {
        const GemmCase g{trans_a, trans_b, m, 300, 700, 1.0f, true, 0};
        INFO(describe(g));
        const Operands x(g, rng);
        // Column j of op(B) and row i of op(A) start at these offsets.
        const std::size_t b_column = trans_b == Trans::No ? 1 : x.ldb;
        const std::size_t a_row = trans_a == Trans::No ? x.lda : 1;
        for_each_bf16_path([&](bool) {
          std::vector<float> whole = x.c;
          kernels::gemm_bf16(trans_a, trans_b, m, g.n, g.k, x.a.data(), x.lda, x.b.data(), x.ldb,
                             1.0f, whole.data(), x.ldc, x.bias.data());
          for (const std::size_t split : {granule, 3 * granule, 4 * granule}) {
            std::vector<float> parts = x.c;
            for (const auto& [first, end] :
                 {std::pair{std::size_t{0}, split}, std::pair{split, g.n}})
              kernels::gemm_bf16(trans_a, trans_b, m, end - first, g.k, x.a.data(), x.lda,
                                 x.b.data() + first * b_column, x.ldb, 1.0f, parts.data() + first,
                                 x.ldc, x.bias.data() + first);
            CHECK(std::memcmp(whole.data(), parts.data(), whole.size() * sizeof(float)) == 0);
          }
          for (const std::size_t split : {rows_granule, 4 * rows_granule}) {
            if (split >= m) continue;
            std::vector<float> parts = x.c;
            for (const auto& [first, end] : {std::pair{std::size_t{0}, split}, std::pair{split, m}})
              kernels::gemm_bf16(trans_a, trans_b, end - first, g.n, g.k,
                                 x.a.data() + first * a_row, x.lda, x.b.data(), x.ldb, 1.0f,
                                 parts.data() + first * x.ldc, x.ldc, x.bias.data());
            CHECK(std::memcmp(whole.data(), parts.data(), whole.size() * sizeof(float)) == 0);
          }
          std::vector<float> again = x.c;
          kernels::gemm_bf16(trans_a, trans_b, m, g.n, g.k, x.a.data(), x.lda, x.b.data(), x.ldb,
                             1.0f, again.data(), x.ldc, x.bias.data());
          CHECK(std::memcmp(whole.data(), again.data(), whole.size() * sizeof(float)) == 0);
        });
      }
}

// c = round_bf16(a) * b for one element (m = n = k = 1): the rounding itself when b is 1.
float product_of_one(float a, float b) {
  float c = kNaN;
  kernels::gemm_bf16(Trans::No, Trans::No, 1, 1, 1, &a, 1, &b, 1, 0.0f, &c, 1, nullptr);
  return c;
}

TEST_CASE("gemm_bf16 rounds its operands to nearest bf16, ties to even; NaN and inf survive") {
  const float tie_down = 1.0f + 0x1p-8f;              // halfway between 1 and 1 + 2^-7: to 1
  const float tie_up = 1.0f + 3 * 0x1p-8f;            // halfway between 1 + 2^-7 and 1 + 2^-6
  const float above_tie = 1.0f + 0x1p-8f + 0x1p-20f;  // nearer 1 + 2^-7
  const float max_finite = std::numeric_limits<float>::max();
  const float signalling_nan = std::bit_cast<float>(0x7F800001u);  // carries into inf if naive
  const auto check_rounding = [&] {
    CHECK(product_of_one(tie_down, 1.0f) == 1.0f);
    CHECK(product_of_one(-tie_down, 1.0f) == -1.0f);
    CHECK(product_of_one(tie_up, 1.0f) == 1.0f + 0x1p-6f);
    CHECK(product_of_one(above_tie, 1.0f) == 1.0f + 0x1p-7f);
    CHECK(product_of_one(1.0f, tie_down) == 1.0f);  // B is rounded too
    CHECK(product_of_one(3.0f, 1.0f / 3.0f) == 3.0f * 0x1.56p-2f);
    CHECK(product_of_one(max_finite, 1.0f) == kInf);  // past bf16's largest finite value
    CHECK(product_of_one(-kInf, 1.0f) == -kInf);
    CHECK(std::isnan(product_of_one(kNaN, 1.0f)));
    CHECK(std::isnan(product_of_one(signalling_nan, 1.0f)));
    CHECK(std::isnan(product_of_one(1.0f, signalling_nan)));
    CHECK(std::isnan(product_of_one(0.0f, kInf)));  // no step skipped
  };
  for_each_bf16_path([&](bool) { check_rounding(); });
}

TEST_CASE("gemm_bf16 leaves out depth pairs that A's rows all have zero, unless B has an inf") {
  // 130 rows (enough for the check of B: an A block or more; micro-tiles of 6 and a tail), 600
  // deep, 70 columns; depths 2q
  // and 2q + 1 zero in every row where q % 3 == 1 (an MLP input's blank pixels), and in some
  // rows only where q % 3 == 2.
  constexpr std::size_t m = 130, k = 600, n = 70;
  std::mt19937 rng(41);
  std::vector<float> a = testing::random_floats(m * k, rng);
  const std::vector<float> b = testing::random_floats(k * n, rng);
  const std::vector<float> bias = testing::random_floats(n, rng);
  auto blank_everywhere = [](std::size_t p) { return p / 2 % 3 == 1; };
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t p = 0; p < k; ++p)
      if (blank_everywhere(p) || (p / 2 % 3 == 2 && i % 4 != 0)) a[i * k + p] = 0.0f;
  // The same product without those depths: nothing for them to add.
  std::vector<float> a_kept, b_kept;
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t p = 0; p < k; ++p)
      if (!blank_everywhere(p)) a_kept.push_back(a[i * k + p]);
  for (std::size_t p = 0; p < k; ++p)
    if (!blank_everywhere(p))
      b_kept.insert(b_kept.end(), b.begin() + p * n, b.begin() + (p + 1) * n);
  const std::size_t kept = a_kept.size() / m;
  // 600 deep takes two depth blocks and 400 one: the second block's sums go on from C's floats.
  REQUIRE(kept == 400);
  auto product = [&](const std::vector<float>& lhs, const std::vector<float>& rhs,
                     std::size_t depth) {
    std::vector<float> c(m * n, kNaN);
    kernels::gemm_bf16(Trans::No, Trans::No, m, n, depth, lhs.data(), depth, rhs.data(), n, 0.0f,
                       c.data(), n, bias.data());
    return c;
  };
  testing::for_each_forced_path<Bf16Path>(
      {{Bf16Path::avx512_bf16, "avx512_bf16"}}, kernels::bf16_kernel_path, [&](Bf16Path) {
        const std::vector<float> all = product(a, b, k), without = product(a_kept, b_kept, kept);
        CHECK(std::memcmp(all.data(), without.data(), all.size() * sizeof(float)) == 0);
        // An inf against a blank depth: 0 times inf, NaN down its column, whatever is left out.
        std::vector<float> b_inf = b;
        b_inf[3 * n + 33] = kInf;  // depth 3: pair 1, blank everywhere
        const std::vector<float> with_inf = product(a, b_inf, k);
        for (std::size_t i = 0; i < m; ++i)
          for (std::size_t j = 0; j < n; ++j) REQUIRE(std::isnan(with_inf[i * n + j]) == (j == 33));
      });
}

TEST_CASE("gemm_bf16's denormals: kept by the reference and Highway, flushed by the hardware") {
  // 2^-130 is a denormal float and bf16; times 2^100 it is an exact, normal 2^-30.
  const float denormal = 0x1p-130f, scale = 0x1p100f;
  // A float denormal that rounds up to bf16's smallest normal, 2^-126.
  const float rounds_to_normal = std::bit_cast<float>(0x007FFFFFu);
  float reference = kNaN;
  kernels::reference::gemm_bf16(Trans::No, Trans::No, 1, 1, 1, &denormal, 1, &scale, 1, 0.0f,
                                &reference, 1, nullptr);
  CHECK(reference == 0x1p-30f);
  kernels::reference::gemm_bf16(Trans::No, Trans::No, 1, 1, 1, &rounds_to_normal, 1, &scale, 1,
                                0.0f, &reference, 1, nullptr);
  CHECK(reference == 0x1p-26f);
  for_each_bf16_path([&](bool hardware) {
    CHECK(product_of_one(denormal, scale) == (hardware ? 0.0f : 0x1p-30f));
    // The hardware's conversion takes a float denormal for zero before rounding.
    CHECK(product_of_one(rounds_to_normal, scale) == (hardware ? 0.0f : 0x1p-26f));
  });
}

struct ConvCase {
  std::size_t h, w, c, kh, kw, stride, filters;
  std::size_t oh() const { return (h - kh) / stride + 1; }
  std::size_t ow() const { return (w - kw) / stride + 1; }
};

// An image too large to be converted to bf16 once per call (converted patch by patch), whose
// thirds are not.
constexpr ConvCase kLargeImage{130, 130, 8, 3, 3, 1, 8};
static_assert(kLargeImage.h * kLargeImage.w * kLargeImage.c >
                  typenet::kernels::bf16_blocking::kImageValues &&
              kLargeImage.h * kLargeImage.w * kLargeImage.c / 2 <=
                  typenet::kernels::bf16_blocking::kImageValues);

TEST_CASE("conv_forward_bf16 equals im2col + gemm_bf16's reference, on 16-pixel ranges") {
  // The pieces of kLargeImage are converted to bf16 at once, the whole patch by patch.
  std::mt19937 rng(15);
  const ConvCase cases[] = {
      {26, 26, 32, 3, 3, 1, 64},  // conv2 of the seed CNN
      {28, 28, 1, 3, 3, 1, 32},   // conv1: 3-float patch rows
      {16, 16, 24, 5, 5, 1, 20},  // 5x5, K = 600 > one depth block
      {13, 11, 3, 3, 3, 2, 7},    // stride 2, odd filters
      {15, 15, 8, 5, 5, 2, 33},   // 5x5 stride 2
      kLargeImage,  // the whole image converted patch by patch, its pieces at once: same bits
  };
  for (const ConvCase& g : cases) {
    const std::size_t pixels = g.oh() * g.ow(), patch = g.kh * g.kw * g.c;
    INFO("image " << g.h << "x" << g.w << "x" << g.c << " kernel " << g.kh << "x" << g.kw
                  << " stride " << g.stride << " filters " << g.filters);
    const std::vector<float> image = testing::random_floats(g.h * g.w * g.c, rng);
    const std::vector<float> kernel = testing::random_floats(patch * g.filters, rng);
    const std::vector<float> bias = testing::random_floats(g.filters, rng);
    std::vector<float> col(pixels * patch);
    kernels::reference::im2col(image.data(), g.h, g.w, g.c, g.kh, g.kw, g.stride, 0, 0, g.oh(),
                               g.ow(), col.data());
    std::vector<float> expected(pixels * g.filters), bound(pixels * g.filters);
    kernels::reference::gemm_bf16(Trans::No, Trans::No, pixels, g.filters, patch, col.data(), patch,
                                  kernel.data(), g.filters, 0.0f, expected.data(), g.filters,
                                  bias.data());
    kernels::reference::gemm_bf16(Trans::No, Trans::No, pixels, g.filters, patch,
                                  testing::absolute(col).data(), patch,
                                  testing::absolute(kernel).data(), g.filters, 0.0f, bound.data(),
                                  g.filters, testing::absolute(bias).data());
    std::vector<float> reference(pixels * g.filters, kNaN);
    kernels::reference::conv_forward_bf16(image.data(), g.w, g.c, g.kh, g.kw, g.stride, g.ow(), 0,
                                          pixels, kernel.data(), g.filters, bias.data(),
                                          reference.data());
    CHECK(reference == expected);
    for_each_bf16_path([&](bool hardware) {
      std::vector<float> whole(pixels * g.filters, kNaN);
      kernels::conv_forward_bf16(image.data(), g.w, g.c, g.kh, g.kw, g.stride, g.ow(), 0, pixels,
                                 kernel.data(), g.filters, bias.data(), whole.data());
      check_within(whole, expected, bound, summation_tolerance(patch),
                   hardware ? kFlushedDenormals : 0.0);
      // In pieces split at multiples of 16 pixels, as a team of threads splits them; rows
      // outside a piece untouched.
      const std::size_t third = pixels / 3 / kernels::kBf16RowGranule * kernels::kBf16RowGranule;
      const std::size_t cuts[] = {0, third, std::min(pixels, third + kernels::kBf16RowGranule),
                                  pixels};
      std::vector<float> pieces(pixels * g.filters, kSentinel);
      for (std::size_t piece = 0; piece + 1 < std::size(cuts); ++piece) {
        kernels::conv_forward_bf16(image.data(), g.w, g.c, g.kh, g.kw, g.stride, g.ow(),
                                   cuts[piece], cuts[piece + 1], kernel.data(), g.filters,
                                   bias.data(), pieces.data());
        for (std::size_t i = cuts[piece + 1] * g.filters; i < pieces.size(); ++i)
          REQUIRE(pieces[i] == kSentinel);
      }
      CHECK(std::memcmp(whole.data(), pieces.data(), whole.size() * sizeof(float)) == 0);
      // The kernel packed once: the same bits.
      std::vector<std::uint32_t> packed(
          kernels::bf16_packing::PackedLayout{patch, g.filters}.words(), 0xFFFFFFFFu);
      for (std::size_t part = 0; part < 2; ++part)
        kernels::pack_bf16(Trans::No, patch, g.filters, kernel.data(), g.filters, packed.data(),
                           part, 2);
      std::vector<float> from_packed(pixels * g.filters, kNaN);
      kernels::conv_forward_bf16_packed(image.data(), g.w, g.c, g.kh, g.kw, g.stride, g.ow(), 0,
                                        pixels, packed.data(), g.filters, bias.data(),
                                        from_packed.data());
      CHECK(std::memcmp(whole.data(), from_packed.data(), whole.size() * sizeof(float)) == 0);
    });
  }
}

}  // namespace

TEST_CASE("conv_kernel_grad_bf16 has the bits of im2col + gemm_bf16 (col^T dy) on every path") {
  std::mt19937 rng(16);
  const ConvCase cases[] = {
      {26, 26, 32, 3, 3, 1, 64},  // conv2 of the seed CNN: 576 pixels, two depth blocks
      {28, 28, 1, 3, 3, 1, 32},   // conv1: 3-float kernel rows
      {15, 15, 32, 5, 5, 2, 16},  // 5x5 stride 2
      {17, 13, 64, 5, 5, 2, 40},  // 5x5 stride 2, 1600 rows: row blocks across kernel rows
      {12, 10, 24, 3, 3, 1, 17},  // channels not a multiple of 16
      {9, 11, 40, 3, 2, 1, 70},   // nor of 32; 70 filters: two panels
      {10, 10, 3, 3, 3, 1, 5},    // an RGB image
      kLargeImage,
  };
  for (const ConvCase& g : cases)
    for (const float beta : {0.0f, 1.0f}) {
      const std::size_t pixels = g.oh() * g.ow(), patch = g.kh * g.kw * g.c;
      INFO("image " << g.h << "x" << g.w << "x" << g.c << " kernel " << g.kh << "x" << g.kw
                    << " stride " << g.stride << " filters " << g.filters << " beta " << beta);
      const std::vector<float> image = testing::random_floats(g.h * g.w * g.c, rng);
      const std::vector<float> dy = testing::random_floats(pixels * g.filters, rng);
      const std::vector<float> start = beta == 0.0f
                                           ? std::vector<float>(patch * g.filters, kNaN)
                                           : testing::random_floats(patch * g.filters, rng);
      std::vector<float> col(pixels * patch);
      kernels::reference::im2col(image.data(), g.h, g.w, g.c, g.kh, g.kw, g.stride, 0, 0, g.oh(),
                                 g.ow(), col.data());
      std::vector<float> expected = start, bound = testing::absolute(start);
      kernels::reference::gemm_bf16(Trans::Yes, Trans::No, patch, g.filters, pixels, col.data(),
                                    patch, dy.data(), g.filters, beta, expected.data(), g.filters,
                                    nullptr);
      kernels::reference::gemm_bf16(
          Trans::Yes, Trans::No, patch, g.filters, pixels, testing::absolute(col).data(), patch,
          testing::absolute(dy).data(), g.filters, beta, bound.data(), g.filters, nullptr);
      std::vector<float> reference = start;
      kernels::reference::conv_kernel_grad_bf16(image.data(), g.w, g.c, g.kh, g.kw, g.stride,
                                                g.ow(), pixels, dy.data(), g.filters, beta,
                                                reference.data());
      CHECK(std::memcmp(reference.data(), expected.data(), expected.size() * sizeof(float)) == 0);
      for_each_bf16_path([&](bool hardware) {
        std::vector<float> through_col = start, actual = start;
        kernels::gemm_bf16(Trans::Yes, Trans::No, patch, g.filters, pixels, col.data(), patch,
                           dy.data(), g.filters, beta, through_col.data(), g.filters, nullptr);
        kernels::conv_kernel_grad_bf16(image.data(), g.w, g.c, g.kh, g.kw, g.stride, g.ow(), pixels,
                                       dy.data(), g.filters, beta, actual.data());
        CHECK(std::memcmp(actual.data(), through_col.data(), actual.size() * sizeof(float)) == 0);
        check_within(actual, expected, bound, summation_tolerance(pixels),
                     hardware ? kFlushedDenormals : 0.0);
      });
    }
}

TEST_CASE("conv_kernel_grad_bf16 over no pixels is beta * dkernel") {
  for (const float beta : {0.0f, 1.0f}) {
    std::vector<float> dkernel(9 * 2 * 3, 2.5f);
    const float image = 1.0f, dy = 1.0f;
    kernels::conv_kernel_grad_bf16(&image, 3, 2, 3, 3, 1, 1, 0, &dy, 3, beta, dkernel.data());
    CHECK(dkernel == std::vector<float>(dkernel.size(), beta * 2.5f));
  }
}
