// gemm against the reference: odd sizes, all transposes, beta 0 and 1, bias, padded leading
// dimensions, products larger than one cache block, on every Highway target; and a check that
// it (and the 8-bit and bf16 GEMMs, on every path) never allocates.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <thread>

#include "kernel_test_support.h"
#include "typenet/kernels/int8.hpp"
#include "typenet/kernels/kernel_paths.hpp"

namespace {

using typenet::kernels::Trans;
namespace kernels = typenet::kernels;
namespace testing = typenet::kernels::testing;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
// In C's padding columns: must survive gemm bit for bit.
constexpr float kSentinel = 12345.0f;

struct GemmCase {
  Trans trans_a;
  Trans trans_b;
  std::size_t m, n, k;
  float beta;
  bool with_bias;
  std::size_t padding;  // extra floats per row of A, B and C beyond the row length
  // Sparse A, as batch-1 inputs are (an image's background, ReLU outputs): the fraction of
  // depth steps zero in every row of op(A); the others have about half their values zero.
  double zero_steps = 0.0;
};

std::string describe(const GemmCase& g) {
  return std::string(g.trans_a == Trans::Yes ? "T" : "N") + (g.trans_b == Trans::Yes ? "T" : "N") +
         " m=" + std::to_string(g.m) + " n=" + std::to_string(g.n) + " k=" + std::to_string(g.k) +
         " beta=" + std::to_string(g.beta) + (g.with_bias ? " bias" : "") +
         " padding=" + std::to_string(g.padding) + " zero_steps=" + std::to_string(g.zero_steps);
}

// Zeros (and negative zeros) in op(A), whole depth steps at a time and scattered.
void sparsify(const GemmCase& g, std::vector<float>& a, std::size_t lda, std::mt19937& rng) {
  std::bernoulli_distribution zero_step(g.zero_steps), zero_value(0.5), negative(0.5);
  for (std::size_t p = 0; p < g.k; ++p) {
    const bool whole_step = zero_step(rng);
    for (std::size_t i = 0; i < g.m; ++i) {
      float& value = g.trans_a == Trans::No ? a[i * lda + p] : a[p * lda + i];
      if (whole_step || zero_value(rng)) value = negative(rng) ? -0.0f : 0.0f;
    }
  }
}

// A stored rows x cols with leading dimension ld; the padding holds NaN, so that reading it
// would poison the result.
std::vector<float> padded_matrix(std::size_t rows, std::size_t cols, std::size_t ld,
                                 std::mt19937& rng) {
  std::vector<float> values = testing::random_floats(rows * ld, rng);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = cols; c < ld; ++c) values[r * ld + c] = kNaN;
  return values;
}

std::vector<float> top_left(const std::vector<float>& matrix, std::size_t rows, std::size_t cols,
                            std::size_t ld) {
  std::vector<float> part;
  for (std::size_t r = 0; r < rows; ++r)
    part.insert(part.end(), matrix.begin() + long(r * ld), matrix.begin() + long(r * ld + cols));
  return part;
}

void check_gemm(const GemmCase& g, std::mt19937& rng) {
  INFO(describe(g));
  const std::size_t a_rows = g.trans_a == Trans::No ? g.m : g.k;
  const std::size_t a_cols = g.trans_a == Trans::No ? g.k : g.m;
  const std::size_t b_rows = g.trans_b == Trans::No ? g.k : g.n;
  const std::size_t b_cols = g.trans_b == Trans::No ? g.n : g.k;
  const std::size_t lda = a_cols + g.padding, ldb = b_cols + g.padding, ldc = g.n + g.padding;
  std::vector<float> a = padded_matrix(a_rows, a_cols, lda, rng);
  if (g.zero_steps > 0.0) sparsify(g, a, lda, rng);
  const std::vector<float> b = padded_matrix(b_rows, b_cols, ldb, rng);
  const std::vector<float> bias = testing::random_floats(g.n, rng);
  // With beta == 0, C must not be read: it starts as NaN.
  std::vector<float> c_initial = g.beta == 0.0f ? std::vector<float>(g.m * ldc, kNaN)
                                                : testing::random_floats(g.m * ldc, rng);
  for (std::size_t r = 0; r < g.m; ++r)
    for (std::size_t col = g.n; col < ldc; ++col) c_initial[r * ldc + col] = kSentinel;
  const float* bias_ptr = g.with_bias ? bias.data() : nullptr;

  std::vector<float> expected = c_initial;
  kernels::reference::gemm(g.trans_a, g.trans_b, g.m, g.n, g.k, a.data(), lda, b.data(), ldb,
                           g.beta, expected.data(), ldc, bias_ptr);
  // The same sum over absolute values: the size of the terms, which bounds the rounding error.
  const std::vector<float> abs_a = testing::absolute(a), abs_b = testing::absolute(b);
  const std::vector<float> abs_bias = testing::absolute(bias);
  std::vector<float> bound = testing::absolute(c_initial);
  kernels::reference::gemm(g.trans_a, g.trans_b, g.m, g.n, g.k, abs_a.data(), lda, abs_b.data(),
                           ldb, g.beta, bound.data(), ldc, g.with_bias ? abs_bias.data() : nullptr);

  testing::for_each_target([&] {
    std::vector<float> actual = c_initial;
    kernels::gemm(g.trans_a, g.trans_b, g.m, g.n, g.k, a.data(), lda, b.data(), ldb, g.beta,
                  actual.data(), ldc, bias_ptr);
    testing::check_close(top_left(actual, g.m, g.n, ldc), top_left(expected, g.m, g.n, ldc),
                         top_left(bound, g.m, g.n, ldc));
    for (std::size_t r = 0; r < g.m; ++r)
      for (std::size_t col = g.n; col < ldc; ++col) REQUIRE(actual[r * ldc + col] == kSentinel);
  });
}

constexpr Trans kTransposes[] = {Trans::No, Trans::Yes};

TEST_CASE("gemm equals the reference on odd sizes, all transposes, beta 0/1, with/without bias") {
  std::mt19937 rng(1);
  std::size_t variant = 0;
  for (const std::size_t m : {1, 3, 4, 7, 17, 33, 67, 130})
    for (const std::size_t n : {1, 3, 7, 17, 33, 67, 130})
      for (const std::size_t k : {1, 7, 33, 130})
        for (const Trans trans_a : kTransposes)
          for (const Trans trans_b : kTransposes) {
            // beta, bias and padding take turns, so that every combination meets every shape
            // class without multiplying the run time by 8.
            ++variant;
            check_gemm({trans_a, trans_b, m, n, k, float(variant % 2), (variant / 2) % 2 == 0,
                        (variant / 4) % 2 == 0 ? 0u : 3u},
                       rng);
          }
}

TEST_CASE("gemm equals the reference across cache blocks (m > 144, n > 512, k > 256)") {
  std::mt19937 rng(2);
  for (const Trans trans_a : kTransposes)
    for (const Trans trans_b : kTransposes)
      for (const float beta : {0.0f, 1.0f})
        check_gemm({trans_a, trans_b, 150, 530, 300, beta, true, 1}, rng);
}

TEST_CASE("gemm at the layer shapes: conv2 forward, dense backward") {
  std::mt19937 rng(3);
  check_gemm({Trans::No, Trans::No, 576, 64, 288, 0.0f, true, 0}, rng);
  check_gemm({Trans::Yes, Trans::No, 288, 64, 576, 1.0f, false, 0}, rng);
  check_gemm({Trans::No, Trans::Yes, 576, 288, 64, 0.0f, false, 0}, rng);
  check_gemm({Trans::No, Trans::No, 1, 128, 2000, 0.0f, true, 0}, rng);
}

TEST_CASE("gemm with few rows on a sparse A (its zero depth steps skipped) equals the reference") {
  std::mt19937 rng(4);
  for (const std::size_t m : {1, 2, 3, 4, 5})
    for (const std::size_t n : {10, 128, 130, 512})
      for (const Trans trans_a : kTransposes)
        for (const double zero_steps : {0.3, 0.8, 1.0})
          check_gemm({trans_a, Trans::No, m, n, 784, float(n % 2), n != 130, 0, zero_steps}, rng);
  // Deeper than one block of listed steps (4096), as the seed CNN's Dense (9216 inputs).
  for (const double zero_steps : {0.0, 0.6})
    check_gemm({Trans::No, Trans::No, 1, 128, 9216, 0.0f, true, 1, zero_steps}, rng);
}

TEST_CASE("gemm with many rows on a mostly-zero A (pixels) equals the reference") {
  // Mostly zero steps take the few-rows path four rows at a time (0.3 does not: the packed one).
  std::mt19937 rng(5);
  for (const std::size_t m : {5, 17, 67, 130})
    for (const std::size_t n : {10, 64, 130, 512})
      for (const Trans trans_a : kTransposes)
        for (const double zero_steps : {0.3, 0.7, 0.9, 1.0})
          check_gemm({trans_a, Trans::No, m, n, 784, float(m % 2), n != 130, n == 64 ? 3u : 0u,
                      zero_steps},
                     rng);
}

TEST_CASE("gemm sums a column alike whatever range of columns a call covers (from a granule on)") {
  // What a team splitting a product by columns relies on to get one thread's bits.
  constexpr std::size_t granule = kernels::kGemmColumnGranule;
  std::mt19937 rng(6);
  for (const std::size_t m : {5, 128})
    for (const std::size_t n : {300, 512})
      for (const Trans trans_a : kTransposes)
        for (const double zero_steps : {0.0, 0.8}) {
          const GemmCase g{trans_a, Trans::No, m, n, 784, 0.0f, true, 0, zero_steps};
          INFO(describe(g));
          std::vector<float> a = testing::random_floats(m * 784, rng);
          if (zero_steps > 0.0) sparsify(g, a, trans_a == Trans::No ? 784 : m, rng);
          const std::size_t lda = trans_a == Trans::No ? 784 : m;
          const std::vector<float> b = testing::random_floats(784 * n, rng);
          const std::vector<float> bias = testing::random_floats(n, rng);
          testing::for_each_target([&] {
            std::vector<float> whole(m * n), parts(m * n);
            kernels::gemm(trans_a, Trans::No, m, n, 784, a.data(), lda, b.data(), n, 0.0f,
                          whole.data(), n, bias.data());
            for (const std::size_t split : {granule, 3 * granule, 4 * granule}) {
              for (const auto [first, end] :
                   {std::pair{std::size_t{0}, split}, std::pair{split, n}})
                kernels::gemm(trans_a, Trans::No, m, end - first, 784, a.data(), lda,
                              b.data() + first, n, 0.0f, parts.data() + first, n,
                              bias.data() + first);
              CHECK(std::memcmp(whole.data(), parts.data(), whole.size() * sizeof(float)) == 0);
            }
          });
        }
}

struct ConvCase {
  std::size_t h, w, c, kh, kw, stride, filters;
  std::size_t oh() const { return (h - kh) / stride + 1; }
  std::size_t ow() const { return (w - kw) / stride + 1; }
};

// conv_forward reads the patches in place; it must compute what im2col + gemm computes, on
// every pixel range, without touching the rows outside it.
TEST_CASE("conv_forward equals the reference and im2col + gemm, on pixel ranges") {
  std::mt19937 rng(7);
  const ConvCase cases[] = {
      {28, 28, 1, 3, 3, 1, 32},    // conv1 of the seed CNN: 3-float patch rows
      {26, 26, 32, 3, 3, 1, 64},   // conv2
      {12, 12, 64, 3, 3, 1, 128},  // K = 576 > one depth block
      {32, 32, 1, 5, 5, 1, 16},    // 5x5 (on a padded 28x28)
      {13, 11, 3, 3, 2, 2, 7},     // stride 2, rectangular kernel, odd filters
      {9, 9, 5, 1, 1, 1, 33},      // 1x1
      // Patches of at most 9 values are convolved directly (with the GEMM's bits): stride 2 and
      // a partial vector of filters; 8-value patches and a partial pair of vectors.
      {15, 14, 1, 3, 3, 2, 7},
      {10, 9, 2, 2, 2, 1, 40},
  };
  for (const ConvCase& g : cases) {
    const std::size_t pixels = g.oh() * g.ow(), patch = g.kh * g.kw * g.c;
    INFO("image " << g.h << "x" << g.w << "x" << g.c << " kernel " << g.kh << "x" << g.kw
                  << " stride " << g.stride << " filters " << g.filters);
    const std::vector<float> image = testing::random_floats(g.h * g.w * g.c, rng);
    const std::vector<float> kernel = testing::random_floats(patch * g.filters, rng);
    const std::vector<float> bias = testing::random_floats(g.filters, rng);
    std::vector<float> expected(pixels * g.filters), bound(pixels * g.filters);
    kernels::reference::conv_forward(image.data(), g.w, g.c, g.kh, g.kw, g.stride, g.ow(), 0,
                                     pixels, kernel.data(), g.filters, bias.data(),
                                     expected.data());
    kernels::reference::conv_forward(testing::absolute(image).data(), g.w, g.c, g.kh, g.kw,
                                     g.stride, g.ow(), 0, pixels, testing::absolute(kernel).data(),
                                     g.filters, testing::absolute(bias).data(), bound.data());
    testing::for_each_target([&] {
      std::vector<float> col(pixels * patch), explicit_patches(pixels * g.filters);
      kernels::im2col(image.data(), g.h, g.w, g.c, g.kh, g.kw, g.stride, 0, 0, g.oh(), g.ow(),
                      col.data());
      kernels::gemm(Trans::No, Trans::No, pixels, g.filters, patch, col.data(), patch,
                    kernel.data(), g.filters, 0.0f, explicit_patches.data(), g.filters,
                    bias.data());
      // The whole image, then in three pieces (as a team of threads splits it).
      std::vector<float> whole(pixels * g.filters, kNaN);
      kernels::conv_forward(image.data(), g.w, g.c, g.kh, g.kw, g.stride, g.ow(), 0, pixels,
                            kernel.data(), g.filters, bias.data(), whole.data());
      testing::check_close(whole, expected, bound);
      CHECK(whole == explicit_patches);
      const std::size_t cuts[] = {0, pixels / 3, pixels / 3 + 7 < pixels ? pixels / 3 + 7 : pixels,
                                  pixels};
      std::vector<float> pieces(pixels * g.filters, kSentinel);
      for (std::size_t piece = 0; piece + 1 < std::size(cuts); ++piece) {
        kernels::conv_forward(image.data(), g.w, g.c, g.kh, g.kw, g.stride, g.ow(), cuts[piece],
                              cuts[piece + 1], kernel.data(), g.filters, bias.data(),
                              pieces.data());
        for (std::size_t i = cuts[piece + 1] * g.filters; i < pieces.size(); ++i)
          REQUIRE(pieces[i] == kSentinel);
      }
      CHECK(pieces == whole);
    });
  }
}

TEST_CASE("gemm with k == 0 is C = beta C + bias") {
  std::mt19937 rng(4);
  for (const std::size_t m : {1, 7})
    for (const Trans trans_b : kTransposes)
      for (const float beta : {0.0f, 1.0f})
        for (const bool with_bias : {false, true})
          check_gemm({Trans::No, trans_b, m, 17, 0, beta, with_bias, 2}, rng);
  // Empty A and B may come as null pointers: they must not be touched.
  const std::vector<float> bias = testing::random_floats(5, rng);
  std::vector<float> c = testing::random_floats(3 * 5, rng);
  std::vector<float> expected = c;
  kernels::reference::gemm(Trans::No, Trans::No, 3, 5, 0, nullptr, 0, nullptr, 5, 1.0f,
                           expected.data(), 5, bias.data());
  testing::for_each_target([&] {
    std::vector<float> actual = c;
    kernels::gemm(Trans::No, Trans::No, 3, 5, 0, nullptr, 0, nullptr, 5, 1.0f, actual.data(), 5,
                  bias.data());
    testing::check_close(actual, expected, testing::own_magnitude(expected, 1.0f));
  });
}

TEST_CASE("gemm on several threads at once: each has its own packing buffers") {
  constexpr std::size_t kThreads = 4, m = 67, n = 130, k = 300;
  std::mt19937 rng(6);
  const std::vector<float> b = testing::random_floats(n * k, rng);
  std::vector<std::vector<float>> a, expected, actual;
  for (std::size_t t = 0; t < kThreads; ++t) {
    a.push_back(testing::random_floats(k * m, rng));
    expected.emplace_back(m * n);
    actual.emplace_back(m * n);
    kernels::reference::gemm(Trans::Yes, Trans::Yes, m, n, k, a[t].data(), m, b.data(), k, 0.0f,
                             expected[t].data(), n, nullptr);
  }
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 20; ++repeat)
        kernels::gemm(Trans::Yes, Trans::Yes, m, n, k, a[t].data(), m, b.data(), k, 0.0f,
                      actual[t].data(), n, nullptr);
    });
  for (std::thread& thread : threads) thread.join();
  for (std::size_t t = 0; t < kThreads; ++t) {
    INFO("thread " << t);
    testing::check_close(actual[t], expected[t], testing::own_magnitude(expected[t], 1.0f));
  }
}

// Counting allocations: every operator new of the binary, and malloc where it can be wrapped
// (glibc without a sanitizer, which has its own malloc).
std::atomic<bool> counting_allocations{false};
std::atomic<std::size_t> allocations{0};

void note_allocation() noexcept {
  if (counting_allocations.load(std::memory_order_relaxed)) allocations.fetch_add(1);
}

}  // namespace

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
extern "C" void* __libc_malloc(std::size_t size);
extern "C" void* malloc(std::size_t size) noexcept {
  note_allocation();
  return __libc_malloc(size);
}
#endif

void* operator new(std::size_t size) {
  note_allocation();
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, std::align_val_t alignment) {
  note_allocation();
  const auto align = std::size_t(alignment);
  if (void* p = std::aligned_alloc(align, (size + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return operator new(size, alignment);
}
// Out of line, or GCC pairs the inlined free() with the new-expression and warns of a mismatch.
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

TEST_CASE("gemm allocates no memory") {
  std::mt19937 rng(5);
  const std::size_t m = 150, n = 530, k = 300;
  const std::vector<float> a = testing::random_floats(m * k, rng);
  const std::vector<float> b = testing::random_floats(k * n, rng);
  const std::vector<float> bias = testing::random_floats(n, rng);
  std::vector<float> c(m * n);
  const auto run_all = [&] {
    for (const Trans trans_a : kTransposes)
      for (const Trans trans_b : kTransposes) {
        const std::size_t lda = trans_a == Trans::No ? k : m, ldb = trans_b == Trans::No ? n : k;
        kernels::gemm(trans_a, trans_b, m, n, k, a.data(), lda, b.data(), ldb, 0.0f, c.data(), n,
                      bias.data());
        kernels::gemm(trans_a, trans_b, 1, n, k, a.data(), lda, b.data(), ldb, 1.0f, c.data(), n,
                      nullptr);
      }
  };
  run_all();  // warm-up: dispatch chosen, thread-local buffers in place
  // The counter itself must see an allocation, or a zero below would prove nothing.
  counting_allocations = true;
  void* volatile probe = ::operator new(16);  // a call, not a new-expression: not elided
  ::operator delete(probe);
  counting_allocations = false;
  REQUIRE(allocations.load() > 0);
  allocations = 0;

  counting_allocations = true;
  run_all();
  counting_allocations = false;
  CHECK(allocations.load() == 0);
}

TEST_CASE("gemm_bf16, conv_forward_bf16 and conv_kernel_grad_bf16 allocate no memory, any path") {
  using typenet::kernels::detail::Bf16Path;
  std::mt19937 rng(8);
  const std::size_t m = 70, n = 100, k = 600;
  const std::vector<float> a = testing::random_floats(m * k, rng);
  const std::vector<float> b = testing::random_floats(k * n, rng);
  const std::vector<float> bias = testing::random_floats(n, rng);
  std::vector<float> c(m * n);
  const auto run_all = [&] {
    for (const Bf16Path path :
         {Bf16Path::highway, Bf16Path::avx512_bf16, Bf16Path::amx, Bf16Path::best})
      if (kernels::detail::force_path(path)) {
        for (const Trans trans_a : kTransposes)
          for (const Trans trans_b : kTransposes) {
            const std::size_t lda = trans_a == Trans::No ? k : m;
            const std::size_t ldb = trans_b == Trans::No ? n : k;
            kernels::gemm_bf16(trans_a, trans_b, m, n, k, a.data(), lda, b.data(), ldb, 0.0f,
                               c.data(), n, bias.data());
          }
        // A 10 x 10 image of 6 channels, 5 x 5 kernel: 36 pixels of 150-deep patches.
        kernels::conv_forward_bf16(a.data(), 10, 6, 5, 5, 1, 6, 0, 36, b.data(), 16, bias.data(),
                                   c.data());
        kernels::conv_kernel_grad_bf16(a.data(), 10, 6, 5, 5, 1, 6, 36, b.data(), 16, 1.0f,
                                       c.data());
      }
  };
  run_all();  // warm-up: CPU features detected, AMX permission asked, buffers in place
  allocations = 0;
  counting_allocations = true;
  run_all();
  counting_allocations = false;
  CHECK(allocations.load() == 0);
}

TEST_CASE("int8 GEMMs allocate no memory, on any path") {
  using typenet::kernels::detail::Int8Path;
  std::mt19937 rng(7);
  const std::size_t m = 70, n = 100, k = 300;
  std::vector<std::uint8_t> a(m * kernels::int8_depth(k));
  for (auto& code : a) code = std::uint8_t(rng());
  const std::vector<std::int8_t> packed(kernels::int8_packed_size(k, n), std::int8_t{3});
  const std::vector<float> scale(n, 0.01f), offset(n, 0.5f);
  const kernels::Int8Epilogue epilogue{scale.data(), offset.data(), 2.0f, 10.0f, true};
  std::vector<std::uint8_t> codes(m * n);
  std::vector<float> values(m * n);
  const auto run_all = [&] {
    for (const Int8Path path : {Int8Path::highway, Int8Path::vnni, Int8Path::amx, Int8Path::best})
      if (kernels::detail::force_path(path))
        for (const std::size_t rows : {m, std::size_t{1}}) {
          kernels::int8_gemm_u8(rows, n, k, a.data(), kernels::int8_depth(k), packed.data(),
                                kernels::int8_padded_columns(n), epilogue, codes.data(), n);
          kernels::int8_gemm_f32(rows, n, k, a.data(), kernels::int8_depth(k), packed.data(),
                                 kernels::int8_padded_columns(n), epilogue, values.data(), n);
        }
  };
  run_all();  // warm-up: CPU features detected, AMX permission asked
  allocations = 0;
  counting_allocations = true;
  run_all();
  counting_allocations = false;
  CHECK(allocations.load() == 0);
}
