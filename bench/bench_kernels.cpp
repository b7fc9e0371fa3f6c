// Kernel benchmarks, single-threaded: gemm at the shapes the MNIST layers use (GFLOP/s), the
// scalar reference gemm for scale, OpenBLAS sgemm at the same shapes and the machine's peak
// (a large OpenBLAS sgemm on 1 and 2 threads; when built with OpenBLAS), im2col, maxpool,
// softmax and affine_transform (beside its reference); the 8-bit GEMM (GOP/s, 2 operations a
// multiply-add) on each instruction path this machine has, beside the float gemm and OpenBLAS
// sgemm at its shapes (--benchmark_filter=int8);
// gemm_bf16 and conv_forward_bf16 on each of their paths at the seed CNN's conv2 and Dense 9216
// training products, GFLOP/s counted as the float rows' (--benchmark_filter='bf16|conv2|dense9216');
// conv2's kernel gradient through im2col + gemm or gemm_bf16 and by conv_kernel_grad_bf16
// (--benchmark_filter=conv_kernel_grad).
//
// For a fair OpenBLAS peak on an AVX-512 machine, run with OPENBLAS_CORETYPE=SkylakeX (some
// environments pin an older core type); on an AVX2-only machine use its own core type.
// On a busy machine compare the best_GFLOP/s counters (see FastestCall).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "typenet/kernels/int8.hpp"
#include "typenet/kernels/kernel_paths.hpp"
#include "typenet/kernels/kernels.hpp"
#include "typenet/kernels/winograd.hpp"

#ifdef TYPENET_BENCH_OPENBLAS
#include <cblas.h>
#endif

namespace {

namespace kernels = typenet::kernels;
using kernels::Trans;

struct GemmShape {
  const char* name;
  Trans trans_a, trans_b;
  std::size_t m, n, k;
  float beta;
  bool with_bias;
};

// Row-major, batch 128; conv products are per image.
constexpr GemmShape kGemmShapes[] = {
    {"dense9216_forward_NN", Trans::No, Trans::No, 128, 128, 9216, 0.0f, true},
    {"dense784_forward_NN", Trans::No, Trans::No, 128, 512, 784, 0.0f, true},
    {"dense_output_forward_NN", Trans::No, Trans::No, 128, 10, 128, 0.0f, true},
    {"dense9216_batch1_forward_NN", Trans::No, Trans::No, 1, 128, 9216, 0.0f, true},
    {"dense9216_dW_TN", Trans::Yes, Trans::No, 9216, 128, 128, 1.0f, false},
    {"dense9216_dX_NT", Trans::No, Trans::Yes, 128, 9216, 128, 0.0f, false},
    {"conv2_forward_NN", Trans::No, Trans::No, 576, 64, 288, 0.0f, true},
    {"conv1_forward_NN", Trans::No, Trans::No, 676, 32, 9, 0.0f, true},
    {"conv2_dW_TN", Trans::Yes, Trans::No, 288, 64, 576, 1.0f, false},
    {"conv2_dcol_NT", Trans::No, Trans::Yes, 576, 288, 64, 0.0f, false},
};

std::vector<float> random_floats(std::size_t count) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> values(count);
  for (float& value : values) value = dist(rng);
  return values;
}

// The fastest single call of a benchmark loop. On a shared (virtual) machine other processes
// preempt some calls and CPU time is misaccounted; they can only make a call slower, so the
// fastest call is the kernel's own speed.
class FastestCall {
 public:
  template <class Call>
  void time(const Call& call) {
    const auto start = std::chrono::steady_clock::now();
    call();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    seconds_ = std::min(seconds_, elapsed.count());
  }
  double seconds() const { return seconds_; }

 private:
  double seconds_ = std::numeric_limits<double>::infinity();
};

// The operands of one shape, and its counters: GFLOP/s over all calls (wall clock) and of the
// fastest call.
struct GemmOperands {
  explicit GemmOperands(const GemmShape& s)
      : a(random_floats(s.m * s.k)), b(random_floats(s.k * s.n)), bias(random_floats(s.n)),
        c(s.m * s.n), lda(s.trans_a == Trans::No ? s.k : s.m),
        ldb(s.trans_b == Trans::No ? s.n : s.k) {}
  std::vector<float> a, b, bias, c;
  std::size_t lda, ldb;

  static void set_counters(benchmark::State& state, const GemmShape& s, const FastestCall& best) {
    const double flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
    state.counters["GFLOP/s"] =
        benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["best_GFLOP/s"] = flops / 1e9 / best.seconds();
    // For the batch-1 product, which streams B: how close to memory bandwidth.
    state.counters["best_GB/s"] = 4.0 * double(s.m * s.k + s.k * s.n) / 1e9 / best.seconds();
  }
};

template <decltype(&kernels::gemm) kGemm>
void BM_gemm(benchmark::State& state, const GemmShape& s) {
  GemmOperands x(s);
  FastestCall best;
  for (auto _ : state) {
    best.time([&] {
      kGemm(s.trans_a, s.trans_b, s.m, s.n, s.k, x.a.data(), x.lda, x.b.data(), x.ldb, s.beta,
            x.c.data(), s.n, s.with_bias ? x.bias.data() : nullptr);
    });
    benchmark::DoNotOptimize(x.c.data());
    benchmark::ClobberMemory();
  }
  GemmOperands::set_counters(state, s, best);
}

#ifdef TYPENET_BENCH_OPENBLAS
// No fused bias in BLAS: the peak of the product alone.
void BM_openblas_sgemm(benchmark::State& state, const GemmShape& s) {
  GemmOperands x(s);
  FastestCall best;
  const auto transpose = [](Trans t) { return t == Trans::No ? CblasNoTrans : CblasTrans; };
  for (auto _ : state) {
    best.time([&] {
      cblas_sgemm(CblasRowMajor, transpose(s.trans_a), transpose(s.trans_b), int(s.m), int(s.n),
                  int(s.k), 1.0f, x.a.data(), int(x.lda), x.b.data(), int(x.ldb), s.beta,
                  x.c.data(), int(s.n));
    });
    benchmark::DoNotOptimize(x.c.data());
    benchmark::ClobberMemory();
  }
  GemmOperands::set_counters(state, s, best);
}

// The machine's practical peak, as the issues define it: a large square sgemm of the tuned BLAS
// on state.range(0) threads (the per-shape cases above stay on one thread).
constexpr GemmShape kPeakShape{
    "square1536_NN", Trans::No, Trans::No, 1536, 1536, 1536, 0.0f, false};

void BM_openblas_peak(benchmark::State& state) {
  openblas_set_num_threads(int(state.range(0)));
  BM_openblas_sgemm(state, kPeakShape);
  openblas_set_num_threads(1);
}
#endif

// Runs a benchmark with the bf16 kernels forced to `path`, named in the label; then the
// normal choice again.
class ForcedBf16Path {
 public:
  ForcedBf16Path(benchmark::State& state, kernels::detail::Bf16Path path) {
    kernels::detail::force_path(path);
    state.SetLabel(kernels::bf16_kernel_path());
  }
  ~ForcedBf16Path() { kernels::detail::force_path(kernels::detail::Bf16Path::best); }
  ForcedBf16Path(const ForcedBf16Path&) = delete;
  ForcedBf16Path& operator=(const ForcedBf16Path&) = delete;
};

struct Bf16PathName {
  kernels::detail::Bf16Path path;
  const char* name;
};
constexpr Bf16PathName kBf16Paths[] = {{kernels::detail::Bf16Path::highway, "highway"},
                                       {kernels::detail::Bf16Path::avx512_bf16, "avx512_bf16"},
                                       {kernels::detail::Bf16Path::amx, "amx"}};

// The bf16 rows' shapes among kGemmShapes: conv2's three training products for one image and
// Dense 9216 -> 128's at batch 128.
bool Bf16Shape(const GemmShape& shape) {
  const std::string name = shape.name;
  return name.starts_with("conv2_") || (name.starts_with("dense9216_") && shape.m > 1);
}

void BM_gemm_bf16(benchmark::State& state, const GemmShape& s, kernels::detail::Bf16Path path) {
  const ForcedBf16Path forced(state, path);
  BM_gemm<kernels::gemm_bf16>(state, s);
}

// The 8-bit GEMM's shapes: the seed CNN's conv2 on one image, the MLP's layers at batch 1000
// and its first at batch 1. The float rows at these shapes carry "int8_shapes" in their names.
constexpr GemmShape kInt8Shapes[] = {
    {"conv2_576x64x288", Trans::No, Trans::No, 576, 64, 288, 0.0f, true},
    {"mlp784_1000x512x784", Trans::No, Trans::No, 1000, 512, 784, 0.0f, true},
    {"mlp512_1000x512x512", Trans::No, Trans::No, 1000, 512, 512, 0.0f, true},
    {"mlp784_1x512x784", Trans::No, Trans::No, 1, 512, 784, 0.0f, true},
};

struct Int8PathName {
  kernels::detail::Int8Path path;
  const char* name;
};
constexpr Int8PathName kInt8Paths[] = {{kernels::detail::Int8Path::highway, "highway"},
                                       {kernels::detail::Int8Path::vnni, "vnni"},
                                       {kernels::detail::Int8Path::amx, "amx"}};

// Storage at a 64-byte boundary, as a net lays out its packed weights and activations: AMX's
// tile rows are then whole cache lines (packed weights off the boundary halve its speed).
template <typename T>
class CacheLineArray {
 public:
  explicit CacheLineArray(std::size_t count)
      : data_(static_cast<T*>(std::aligned_alloc(64, (count * sizeof(T) + 63) / 64 * 64))) {}
  T* data() const { return data_.get(); }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
};

// int8_gemm_u8 with a ReLU epilogue (a hidden layer's) on one path; A's rows int8_depth(k)
// bytes apart.
void BM_int8_gemm(benchmark::State& state, const GemmShape& s, kernels::detail::Int8Path path) {
  std::mt19937 rng(42);
  const std::size_t lda = kernels::int8_depth(s.k);
  const CacheLineArray<std::uint8_t> a(s.m * lda);
  std::generate_n(a.data(), s.m * lda, [&] { return std::uint8_t(rng()); });
  std::vector<std::int8_t> w(s.k * s.n);
  for (auto& weight : w) weight = std::int8_t(rng());
  const CacheLineArray<std::int8_t> packed(kernels::int8_packed_size(s.k, s.n));
  kernels::pack_int8_weights(w.data(), s.k, s.n, packed.data());
  const std::vector<float> scale(s.n, 1e-4f), offset(s.n, 0.5f);
  const kernels::Int8Epilogue epilogue{scale.data(), offset.data(), 20.0f, 3.0f, true};
  std::vector<std::uint8_t> c(s.m * s.n);
  kernels::detail::force_path(path);
  state.SetLabel(kernels::int8_kernel_path());
  FastestCall best;
  for (auto _ : state) {
    best.time([&] {
      kernels::int8_gemm_u8(s.m, s.n, s.k, a.data(), lda, packed.data(),
                            kernels::int8_padded_columns(s.n), epilogue, c.data(), s.n);
    });
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  kernels::detail::force_path(kernels::detail::Int8Path::best);
  const double ops = 2.0 * double(s.m) * double(s.n) * double(s.k);
  state.counters["GOP/s"] =
      benchmark::Counter(ops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["best_GOP/s"] = ops / 1e9 / best.seconds();
  state.counters["best_us"] = best.seconds() * 1e6;
}

// conv1 (28x28x1) and conv2 (26x26x32) patches of a 3x3 valid convolution.
void BM_im2col(benchmark::State& state) {
  const auto h = std::size_t(state.range(0)), c = std::size_t(state.range(1));
  const std::size_t out = h - 2;
  const std::vector<float> in = random_floats(h * h * c);
  std::vector<float> col(out * out * 9 * c);
  FastestCall best;
  for (auto _ : state) {
    best.time([&] { kernels::im2col(in.data(), h, h, c, 3, 3, 1, 0, 0, out, out, col.data()); });
    benchmark::DoNotOptimize(col.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(col.size() * 4));
  state.counters["best_us"] = best.seconds() * 1e6;
}

// A 3x3 valid convolution of one h x h x c image to `filters` channels, patches read in place
// (conv_forward): conv1 (28x28x1 -> 32) and conv2 (26x26x32 -> 64) of the seed CNN. Compare
// with im2col + gemm/conv2_forward_NN, the same product through an explicit patch matrix.
template <decltype(&kernels::conv_forward) kConvForward>
void BM_conv_forward(benchmark::State& state) {
  const auto h = std::size_t(state.range(0)), c = std::size_t(state.range(1));
  const auto filters = std::size_t(state.range(2));
  const std::size_t out = h - 2;
  const std::vector<float> image = random_floats(h * h * c);
  const std::vector<float> kernel = random_floats(9 * c * filters), bias = random_floats(filters);
  std::vector<float> y(out * out * filters);
  FastestCall best;
  for (auto _ : state) {
    best.time([&] {
      kConvForward(image.data(), h, c, 3, 3, 1, out, 0, out * out, kernel.data(), filters,
                   bias.data(), y.data());
    });
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * double(out * out) * double(9 * c) * double(filters);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["best_GFLOP/s"] = flops / 1e9 / best.seconds();
}

// The kernel's gradient of conv2 (26x26x32 -> 24x24x64, 3x3) for one image, dkernel += col^T dy:
// im2col then gemm or gemm_bf16 (conv2_dW_TN), or conv_kernel_grad_bf16 from the image itself.
enum class KernelGrad { Im2colGemm, Im2colGemmBf16, FromImageBf16 };

void BM_conv2_kernel_grad(benchmark::State& state, KernelGrad method) {
  constexpr std::size_t h = 26, c = 32, filters = 64, out = h - 2, patch = 9 * c;
  constexpr std::size_t pixels = out * out;
  const std::vector<float> image = random_floats(h * h * c), dy = random_floats(pixels * filters);
  std::vector<float> col(pixels * patch), dkernel(patch * filters);
  FastestCall best;
  for (auto _ : state) {
    best.time([&] {
      if (method == KernelGrad::FromImageBf16) {
        kernels::conv_kernel_grad_bf16(image.data(), h, c, 3, 3, 1, out, pixels, dy.data(), filters,
                                       1.0f, dkernel.data());
        return;
      }
      kernels::im2col(image.data(), h, h, c, 3, 3, 1, 0, 0, out, out, col.data());
      (method == KernelGrad::Im2colGemm ? kernels::gemm : kernels::gemm_bf16)(
          Trans::Yes, Trans::No, patch, filters, pixels, col.data(), patch, dy.data(), filters,
          1.0f, dkernel.data(), filters, nullptr);
    });
    benchmark::DoNotOptimize(dkernel.data());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * double(pixels) * double(patch) * double(filters);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["best_GFLOP/s"] = flops / 1e9 / best.seconds();
  state.counters["best_us"] = best.seconds() * 1e6;
}

// A 3x3 stride-1 convolution of one h x h x c image into `filters` (args h, c, filters), by
// Winograd's F(4x4, 3x3) products (kernel transformed beforehand, as Conv packs it once per
// pass), forward or backward (the kernel's and the image's gradients); or backward directly
// (im2col, the kernel gradient's GEMM, the patch gradients' GEMM, col2im), as Conv does without
// Winograd (the direct forward is conv_forward above). GFLOP/s count the direct convolution's
// multiply-adds, so that rows compare as times.
enum class ConvPass { WinogradForward, WinogradBackward, DirectBackward };

void BM_conv3x3(benchmark::State& state, ConvPass pass) {
  namespace winograd = kernels::winograd;
  const auto h = std::size_t(state.range(0)), c = std::size_t(state.range(1));
  const auto filters = std::size_t(state.range(2));
  const std::size_t out = h - 2, pixels = out * out, patch = 9 * c;
  const std::vector<float> image = random_floats(h * h * c), dy = random_floats(pixels * filters);
  const std::vector<float> kernel = random_floats(patch * filters), bias = random_floats(filters);
  std::vector<float> u(winograd::kernel_floats(c, filters)), ut(u.size()), du(u.size());
  kernels::winograd_kernel_transform(kernel.data(), c, filters, false, u.data());
  kernels::winograd_kernel_transform(kernel.data(), c, filters, true, ut.data());
  std::vector<float> y(pixels * filters), dkernel(patch * filters), dimage(image.size());
  std::vector<float> scratch(
      std::max(winograd::backward_scratch_floats(out, c, filters), pixels * patch));
  FastestCall best;
  for (auto _ : state) {
    best.time([&] {
      switch (pass) {
        case ConvPass::WinogradForward:
          kernels::winograd_conv_forward(image.data(), h, c, out, out, 0, winograd::tiles(out),
                                         u.data(), filters, bias.data(), y.data(), scratch.data());
          break;
        case ConvPass::WinogradBackward:
          std::fill(dimage.begin(), dimage.end(), 0.0f);
          kernels::winograd_conv_backward(image.data(), h, c, out, out, dy.data(), ut.data(),
                                          filters, false, du.data(), dimage.data(), scratch.data());
          kernels::winograd_kernel_gradient(du.data(), c, filters, 1.0f, dkernel.data());
          break;
        case ConvPass::DirectBackward:
          kernels::im2col(image.data(), h, h, c, 3, 3, 1, 0, 0, out, out, scratch.data());
          kernels::gemm(Trans::Yes, Trans::No, patch, filters, pixels, scratch.data(), patch,
                        dy.data(), filters, 1.0f, dkernel.data(), filters, nullptr);
          kernels::gemm(Trans::No, Trans::Yes, pixels, patch, filters, dy.data(), filters,
                        kernel.data(), filters, 0.0f, scratch.data(), patch, nullptr);
          std::fill(dimage.begin(), dimage.end(), 0.0f);
          kernels::col2im_add(scratch.data(), h, h, c, 3, 3, 1, 0, 0, out, out, dimage.data());
          break;
      }
    });
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(dimage.data());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * double(pixels) * double(patch) * double(filters) *
                       (pass == ConvPass::WinogradForward ? 1.0 : 2.0);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["best_GFLOP/s"] = flops / 1e9 / best.seconds();
  state.counters["best_us"] = best.seconds() * 1e6;
}

// The 2x2 pooling after conv2: 24x24x64 -> 12x12x64.
void BM_maxpool_forward(benchmark::State& state) {
  const std::vector<float> in = random_floats(24 * 24 * 64);
  std::vector<float> out(12 * 12 * 64);
  std::vector<std::uint32_t> argmax(out.size());
  FastestCall best;
  for (auto _ : state) {
    best.time([&] {
      kernels::maxpool_forward(in.data(), 24, 24, 64, 2, 2, 12, 12, out.data(), argmax.data());
    });
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(in.size() * 4));
  state.counters["best_us"] = best.seconds() * 1e6;
}

// The output layer's softmax: 128 rows of 10 classes.
void BM_softmax_forward(benchmark::State& state) {
  const std::vector<float> logits = random_floats(128 * 10);
  std::vector<float> y(logits.size());
  FastestCall best;
  for (auto _ : state) {
    y = logits;
    best.time([&] { kernels::softmax_forward(y.data(), 128, 10); });
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(std::int64_t(state.iterations()) * 128);
  state.counters["best_us"] = best.seconds() * 1e6;
}

// One augmentation of an MNIST image as mnist_best draws them (bilinear, Reflect): a rotation by
// 0.1 radian about the centre, a zoom by 1.1 and a shift, on the dispatched kernel or its
// reference.
template <decltype(&kernels::affine_transform) kAffineTransform>
void BM_affine_transform(benchmark::State& state) {
  constexpr std::size_t side = 28;
  const std::vector<float> image = random_floats(side * side);
  std::vector<float> out(image.size());
  const float cos = 1.1f * std::cos(0.1f), sin = 1.1f * std::sin(0.1f), centre = 13.5f;
  const float x_shift = centre - centre * cos + centre * sin + 1.5f;
  const float y_shift = centre - centre * sin - centre * cos - 2.0f;
  const float transform[8] = {cos, -sin, x_shift, sin, cos, y_shift, 0, 0};
  FastestCall best;
  for (auto _ : state) {
    best.time([&] {
      kAffineTransform(image.data(), side, side, 1, transform, kernels::Interpolation::Bilinear,
                       kernels::FillMode::Reflect, 0.0f, out.data());
    });
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(std::int64_t(state.iterations()));
  state.counters["best_us"] = best.seconds() * 1e6;
}

}  // namespace

// Wall-clock time: CPU time is misaccounted on a shared virtual machine.
benchmark::internal::Benchmark* timed(benchmark::internal::Benchmark* bench) {
  return bench->UseRealTime();
}

int main(int argc, char** argv) {
  benchmark::AddCustomContext("highway_target", kernels::simd_target_name());
  for (const GemmShape& shape : kGemmShapes)
    timed(benchmark::RegisterBenchmark((std::string("gemm/") + shape.name).c_str(),
                                       BM_gemm<kernels::gemm>, shape));
  for (const GemmShape& shape : kGemmShapes)
    if (std::string(shape.name) == "conv2_forward_NN")
      timed(benchmark::RegisterBenchmark((std::string("reference_gemm/") + shape.name).c_str(),
                                         BM_gemm<kernels::reference::gemm>, shape));
#ifdef TYPENET_BENCH_OPENBLAS
  openblas_set_num_threads(1);
  benchmark::AddCustomContext("openblas_core", openblas_get_corename());
  for (const GemmShape& shape : kGemmShapes)
    timed(benchmark::RegisterBenchmark((std::string("openblas_sgemm/") + shape.name).c_str(),
                                       BM_openblas_sgemm, shape));
  timed(benchmark::RegisterBenchmark("openblas_peak/square1536", BM_openblas_peak)
            ->ArgName("threads")
            ->Arg(1)
            ->Arg(2));
#endif
  for (const GemmShape& shape : kInt8Shapes) {
    for (const auto& [path, name] : kInt8Paths)
      // AMX takes products of at least 16 rows (VNNI does the others).
      if (kernels::detail::path_available(path) &&
          (path != kernels::detail::Int8Path::amx || shape.m >= 16))
        timed(benchmark::RegisterBenchmark(
            (std::string("int8_gemm/") + name + "/" + shape.name).c_str(), BM_int8_gemm, shape,
            path));
    timed(benchmark::RegisterBenchmark((std::string("gemm/int8_shapes/") + shape.name).c_str(),
                                       BM_gemm<kernels::gemm>, shape));
#ifdef TYPENET_BENCH_OPENBLAS
    timed(benchmark::RegisterBenchmark(
        (std::string("openblas_sgemm/int8_shapes/") + shape.name).c_str(), BM_openblas_sgemm,
        shape));
#endif
  }
  timed(benchmark::RegisterBenchmark("im2col/conv1_28x28x1", BM_im2col)->Args({28, 1}));
  timed(benchmark::RegisterBenchmark("im2col/conv2_26x26x32", BM_im2col)->Args({26, 32}));
  timed(benchmark::RegisterBenchmark("conv_forward/conv1_28x28x1_32",
                                     BM_conv_forward<kernels::conv_forward>)
            ->Args({28, 1, 32}));
  timed(benchmark::RegisterBenchmark("conv_forward/conv2_26x26x32_64",
                                     BM_conv_forward<kernels::conv_forward>)
            ->Args({26, 32, 64}));
  for (const auto& [pass, name] : {std::pair{ConvPass::WinogradForward, "winograd_forward"},
                                   std::pair{ConvPass::WinogradBackward, "winograd_backward"},
                                   std::pair{ConvPass::DirectBackward, "direct_backward"}}) {
    timed(benchmark::RegisterBenchmark(
              (std::string("conv3x3/") + name + "/conv2_26x26x32_64").c_str(), BM_conv3x3, pass)
              ->Args({26, 32, 64}));
    timed(benchmark::RegisterBenchmark(
              (std::string("conv3x3/") + name + "/conv64_26x26x64_64").c_str(), BM_conv3x3, pass)
              ->Args({26, 64, 64}));
    timed(benchmark::RegisterBenchmark(
              (std::string("conv3x3/") + name + "/conv128_10x10x128_128").c_str(), BM_conv3x3, pass)
              ->Args({10, 128, 128}));
  }
  timed(benchmark::RegisterBenchmark("conv_forward/conv64_26x26x64_64",
                                     BM_conv_forward<kernels::conv_forward>)
            ->Args({26, 64, 64}));
  timed(benchmark::RegisterBenchmark("conv_forward/conv128_10x10x128_128",
                                     BM_conv_forward<kernels::conv_forward>)
            ->Args({10, 128, 128}));
  timed(benchmark::RegisterBenchmark("conv_kernel_grad/im2col_gemm/conv2_26x26x32_64",
                                     BM_conv2_kernel_grad, KernelGrad::Im2colGemm));
  for (const auto& [path, name] : kBf16Paths) {
    if (!kernels::detail::path_available(path)) continue;
    for (const auto& [method, method_name] :
         {std::pair{KernelGrad::Im2colGemmBf16, "im2col_gemm_bf16"},
          std::pair{KernelGrad::FromImageBf16, "conv_kernel_grad_bf16"}})
      timed(benchmark::RegisterBenchmark(
          (std::string("conv_kernel_grad/") + method_name + "/" + name + "/conv2_26x26x32_64")
              .c_str(),
          [path = path, method = method](benchmark::State& state) {
            const ForcedBf16Path forced(state, path);
            BM_conv2_kernel_grad(state, method);
          }));
    for (const GemmShape& shape : kGemmShapes)
      if (Bf16Shape(shape))
        timed(benchmark::RegisterBenchmark(
            (std::string("gemm_bf16/") + name + "/" + shape.name).c_str(), BM_gemm_bf16, shape,
            path));
    timed(benchmark::RegisterBenchmark(
              (std::string("conv_forward_bf16/") + name + "/conv2_26x26x32_64").c_str(),
              [path = path](benchmark::State& state) {
                const ForcedBf16Path forced(state, path);
                BM_conv_forward<kernels::conv_forward_bf16>(state);
              })
              ->Args({26, 32, 64}));
  }
  timed(benchmark::RegisterBenchmark("maxpool_forward/24x24x64", BM_maxpool_forward));
  timed(benchmark::RegisterBenchmark("softmax_forward/128x10", BM_softmax_forward));
  timed(benchmark::RegisterBenchmark("affine_transform/28x28x1_bilinear_reflect",
                                     BM_affine_transform<kernels::affine_transform>));
  timed(benchmark::RegisterBenchmark("reference_affine_transform/28x28x1_bilinear_reflect",
                                     BM_affine_transform<kernels::reference::affine_transform>));

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
