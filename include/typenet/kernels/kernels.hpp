// Compute kernels: what the layers call to do their arithmetic.
//
// Layers (include/typenet/layers/) decide *what* to compute from compile-time shapes; these
// functions decide *how fast*. They are plain functions over raw row-major float arrays with
// sizes as arguments, compiled once in src/kernels/ and dispatched at run time to the best
// Highway target of the machine (AVX-512, AVX2, ...). Each has a scalar twin in
// `typenet::kernels::reference` with the same signature, used by the tests as the oracle.
//
// None of them allocates (packing buffers are fixed-size and thread-local) and none throws.
#pragma once

#include <cstddef>
#include <cstdint>

#include "typenet/kernels/packed_bf16.hpp"
#include "typenet/share.hpp"

namespace typenet::kernels {

enum class Trans : std::uint8_t { No, Yes };

// gemm sums each element of C the same way whatever range of columns of C (and B) a call covers,
// provided the range starts at a multiple of this (and ends at one or at the matrix's right
// edge) and op(A) has more than 4 rows: a team that splits a product by columns gets the bits
// one thread gets.
inline constexpr std::size_t kGemmColumnGranule = 64;

// A team computing winograd_conv_forward splits the filters at multiples of this (whole vectors).
inline constexpr std::size_t kWinogradFilterGranule = 16;

// Batch normalization's training sums add this many rows in float (a vector of channels per row:
// cheap), then the run's sum in double (add_channel_sums and its twins below).
inline constexpr std::size_t kBatchNormRun = 16;

// gemm_bf16 and conv_forward_bf16 (declared in the list below): gemm and conv_forward (same
// arguments, same meaning) in mixed precision, as PyTorch's CPU autocast: every element of op(A)
// and op(B) (of the image and the kernel) is rounded to bfloat16 (to nearest, ties to even; NaN
// stays NaN, finite values past bf16's range become inf), products are exact, sums are in float;
// C and out stay float. The reference rounds, multiplies exactly, sums in double and rounds once
// to float. The AMX and AVX512_BF16 paths, as their instructions do, take denormal operands
// (float or bf16) for zeros and flush denormal sums to zero. AVX512_BF16 leaves out a depth pair
// whose A values are zero in all rows of a micro-tile where B's block is finite (its products are
// zeros; a zero times an inf still gives NaN): the same sums, except that a sum whose every pair
// is left out keeps a denormal or negative-zero starting value (bias, C) that the instruction
// would have made +0. Deterministic, and each element is computed the same way whatever
// column range a call covers (as gemm, from a kGemmColumnGranule multiple on) and whatever row
// (pixel) range, split at multiples of kBf16RowGranule, a call covers: the rows of op(A) go to
// AMX in whole tiles of this many counted from the call's first row, the last ones to vector
// instructions.
inline constexpr std::size_t kBf16RowGranule = 16;

// How affine_transform (declared in the list below) reads between pixels and beyond the image's
// edges (Keras' and TensorFlow's `interpolation` and `fill_mode`).
enum class Interpolation : std::uint8_t { Bilinear, Nearest };
enum class FillMode : std::uint8_t {
  Reflect,   // (d c b a | a b c d | d c b a): about the edge of the last pixel
  Wrap,      // (a b c d | a b c d | a b c d)
  Constant,  // (k k k k | a b c d | k k k k), k the fill value
  Nearest,   // (a a a a | a b c d | d d d d)
};

// affine_transform: one channels-last image (h, w, c) resampled through a projective transform,
// as TensorFlow's ImageProjectiveTransformV3 (what Keras 3's affine_transform and its
// RandomTranslation, RandomRotation and RandomZoom layers run): the output pixel at column x,
// row y (integers: the pixel centres) reads the input at
//   x' = (t[0] x + t[1] y + t[2]) / k,  y' = (t[3] x + t[4] y + t[5]) / k,  k = t[6] x + t[7] y + 1,
// each coordinate first mapped into [0, extent - 1] by the fill mode (Constant leaves it), then
// interpolated, pixels outside the image reading fill_value (bilinear: a point half a pixel
// beyond the edge is half the edge pixel, half fill_value; nearest: rounded half away from
// zero). k == 0, or a coordinate beyond +-2^40 (no image reaches it), gives fill_value. out must
// not overlap in. The reference is TensorFlow's float operations in its order, none fused; the
// SIMD version, a vector of a row's pixels at a time, gives its bits on every target (below 2^22
// its float lanes provably follow the reference's truncations through int64; the rare pixels
// whose coordinates pass 2^22 are the reference's own).

// Every kernel is declared twice, once in each namespace, from this single list.
#define TYPENET_KERNEL_DECLARATIONS                                                                \
  /* C[M,N] = op(A)[M,K] * op(B)[K,N] + beta * C (+ bias[n] when bias != nullptr).            \
     op(A) = A (lda >= K) or A^T (A stored K x M, lda >= M); likewise B. beta is 0 or 1; with \
     beta == 0, C is written without being read. With few rows (batch-1 inference) or an     \
     op(A) that is mostly zeros (pixels), depth steps where every row of a group of op(A)'s    \
     rows is zero are skipped: a zero there times an inf or NaN in op(B) then adds nothing     \
     rather than NaN. */    \
  void gemm(Trans trans_a, Trans trans_b, std::size_t m, std::size_t n, std::size_t k,             \
            const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta,          \
            float* c, std::size_t ldc, const float* bias) noexcept;                                \
  /* A convolution of one channels-last image, as a GEMM whose A rows (the patches) are read \
     from the image where they are (no im2col): for the output pixels p = oy * ow + ox in      \
     [first_pixel, end_pixel), out[p, f] = bias[f] + sum over (ky, kx, ch) of                 \
     image[(oy * stride + ky) * w + ox * stride + kx, ch] * kernel[(ky * kw + kx) * c + ch, f]. \
     The image is w pixels wide and already padded (every window lies inside it); the kernel \
     is (kh * kw * c) x filters; bias may be null. Rows outside the range are not touched. */     \
  void conv_forward(const float* image, std::size_t w, std::size_t c, std::size_t kh,              \
                    std::size_t kw, std::size_t stride, std::size_t ow, std::size_t first_pixel,   \
                    std::size_t end_pixel, const float* kernel, std::size_t filters,               \
                    const float* bias, float* out) noexcept;                                       \
  /* gemm and conv_forward on bf16-rounded operands: see kBf16RowGranule above. */                 \
  void gemm_bf16(Trans trans_a, Trans trans_b, std::size_t m, std::size_t n, std::size_t k,        \
                 const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta,     \
                 float* c, std::size_t ldc, const float* bias) noexcept;                           \
  void conv_forward_bf16(const float* image, std::size_t w, std::size_t c, std::size_t kh,         \
                         std::size_t kw, std::size_t stride, std::size_t ow,                       \
                         std::size_t first_pixel, std::size_t end_pixel, const float* kernel,      \
                         std::size_t filters, const float* bias, float* out) noexcept;             \
  /* The kernel's gradient of a convolution of one image (conv_forward's arguments; dy the   \
     output's gradient, pixels x filters): dkernel[(ky * kw + kx) * c + ch, f] = beta * dkernel \
     + sum over pixels p < `pixels` (p = oy * ow + ox) of                                      \
     image[(oy * stride + ky) * w + ox * stride + kx, ch] * dy[p * filters + f], beta 0 or 1,  \
     operands rounded to bf16: the bits of gemm_bf16(Trans::Yes, Trans::No, kh * kw * c,       \
     filters, pixels, col, kh * kw * c, dy, filters, beta, dkernel, filters, nullptr) on the   \
     patch matrix col that im2col makes of the image, with no col. */     \
  void conv_kernel_grad_bf16(const float* image, std::size_t w, std::size_t c, std::size_t kh,     \
                             std::size_t kw, std::size_t stride, std::size_t ow,                   \
                             std::size_t pixels, const float* dy, std::size_t filters, float beta, \
                             float* dkernel) noexcept;                                             \
  /* bias_grad[j] += sum over rows i < m of dy[i * ldy + j], for j < n (dy row-major, rows   \
     ldy >= n floats apart: a band of columns of a wider matrix). */     \
  void add_column_sums(const float* dy, std::size_t m, std::size_t n, std::size_t ldy,             \
                       float* bias_grad) noexcept;                                                 \
  /* dst[i] += src[i] */                                                                           \
  void add_to(float* dst, const float* src, std::size_t count) noexcept;                           \
  /* One channels-last image (H,W,C) to patch rows: col[(oy*OW+ox), (ky*KW+kx)*C + c] =       \
     in[oy*stride - pad_top + ky, ox*stride - pad_left + kx, c], zero outside the image. */    \
  void im2col(const float* in, std::size_t h, std::size_t w, std::size_t c, std::size_t kh,        \
              std::size_t kw, std::size_t stride, std::size_t pad_top, std::size_t pad_left,       \
              std::size_t oh, std::size_t ow, float* col) noexcept;                                \
  /* Winograd's F(4x4, 3x3) convolution (typenet/kernels/winograd.hpp) of a 3x3 kernel at      \
     stride 1. winograd_kernel_transform: the 3 x 3 x c x filters kernel's u (transposed: ut).  \
     winograd_conv_forward: as conv_forward(image, w, c, 3, 3, 1, ow, ...) for the output rows   \
     of tile rows [first_tile_row, end_tile_row), from the kernel's u; the image's first oh + 2 \
     rows and ow + 2 columns are read (w pixels a row). A team's members, all called with the   \
     same arguments, each compute a part of the filters (multiples of kWinogradFilterGranule),  \
     sharing scratch: the bits of one thread. winograd_conv_backward: from dy (oh x             \
     ow x filters), the kernel gradient's points into du (winograd::kernel_floats; assigned, or \
     added when accumulate: an image after the first of a batch) and, when dimage is not null,  \
     the image's gradient added into dimage (the image's geometry), from ut.                    \
     winograd_kernel_gradient: the kernel's gradient from du into dkernel (beta 0: assigned;    \
     1: added). scratch: winograd::forward_scratch_floats, backward_scratch_floats. */   \
  void winograd_kernel_transform(const float* kernel, std::size_t c, std::size_t filters,          \
                                 bool transposed, float* out) noexcept;                            \
  void winograd_conv_forward(const float* image, std::size_t w, std::size_t c, std::size_t oh,     \
                             std::size_t ow, std::size_t first_tile_row, std::size_t end_tile_row, \
                             const float* u, std::size_t filters, const float* bias, float* out,   \
                             float* scratch, const KernelTeam& team = {}) noexcept;                \
  void winograd_conv_backward(const float* image, std::size_t w, std::size_t c, std::size_t oh,    \
                              std::size_t ow, const float* dy, const float* ut,                    \
                              std::size_t filters, bool accumulate, float* du, float* dimage,      \
                              float* scratch) noexcept;                                            \
  void winograd_kernel_gradient(const float* du, std::size_t c, std::size_t filters, float beta,   \
                                float* dkernel) noexcept;                                          \
  /* The adjoint of im2col: din[...] += col[...] for every patch element inside the image. */      \
  void col2im_add(const float* col, std::size_t h, std::size_t w, std::size_t c, std::size_t kh,   \
                  std::size_t kw, std::size_t stride, std::size_t pad_top, std::size_t pad_left,   \
                  std::size_t oh, std::size_t ow, float* din) noexcept;                            \
  /* Max pooling of one channels-last image, windows pool x pool moved by stride, no padding. \
     argmax[i] receives the index (into in) of the winner of output i (argmax null: none,    \
     inference); the first maximum wins. */    \
  void maxpool_forward(const float* in, std::size_t h, std::size_t w, std::size_t c,               \
                       std::size_t pool, std::size_t stride, std::size_t oh, std::size_t ow,       \
                       float* out, std::uint32_t* argmax) noexcept;                                \
  /* din (h x w x c, one image) assigned the gradient of maxpool_forward's input from its     \
     outputs' gradient dout and winners argmax (maxpool_forward's geometry; argmax indices into \
     din): each input the sum of the gradients of the outputs it won, zero where none. */    \
  void maxpool_backward(const float* dout, const std::uint32_t* argmax, std::size_t h,             \
                        std::size_t w, std::size_t c, std::size_t pool, std::size_t stride,        \
                        std::size_t oh, std::size_t ow, float* din) noexcept;                      \
  /* out[c] = mean over the h*w pixels of channel c, one channels-last image. */                   \
  void global_avg_pool_forward(const float* in, std::size_t pixels, std::size_t c,                 \
                               float* out) noexcept;                                               \
  /* din[p, c] = dout[c] / pixels (assigned, not accumulated). */                                  \
  void global_avg_pool_backward(const float* dout, std::size_t pixels, std::size_t c,              \
                                float* din) noexcept;                                              \
  /* Activations in place on y (count values); backward turns dy (gradient w.r.t. the         \
     activation's output y) into the gradient w.r.t. its input, in place, from y alone. */    \
  void relu_forward(float* y, std::size_t count) noexcept;                                         \
  void relu_backward(const float* y, float* dy, std::size_t count) noexcept;                       \
  /* The same, the signs kept aside for backward: bit i % 8 of signs[i / 8] set where y[i] > 0 \
     ((count + 7) / 8 bytes; the last one's bits past count left as they are or zero), and     \
     backward from those bits alone: the bits of relu_backward, 1/32 of the floats read. */   \
  void relu_forward_signs(float* y, std::size_t count, std::uint8_t* signs) noexcept;              \
  void relu_backward_signs(const std::uint8_t* signs, float* dy, std::size_t count) noexcept;      \
  void sigmoid_forward(float* y, std::size_t count) noexcept;                                      \
  void sigmoid_backward(const float* y, float* dy, std::size_t count) noexcept;                    \
  void tanh_forward(float* y, std::size_t count) noexcept;                                         \
  void tanh_backward(const float* y, float* dy, std::size_t count) noexcept;                       \
  /* elu and selu: y = x > 0 ? positive_scale * x : negative_scale * expm1(x) (elu: 1 and    \
     alpha; selu: scale and scale * alpha); backward from y: positive_scale, or y +           \
     negative_scale. */     \
  void elu_forward(float* y, std::size_t count, float positive_scale,                              \
                   float negative_scale) noexcept;                                                 \
  void elu_backward(const float* y, float* dy, std::size_t count, float positive_scale,            \
                    float negative_scale) noexcept;                                                \
  /* y = x > 0 ? x : slope * x, slope >= 0 (so that y > 0 exactly where x > 0). */                 \
  void leaky_relu_forward(float* y, std::size_t count, float slope) noexcept;                      \
  void leaky_relu_backward(const float* y, float* dy, std::size_t count, float slope) noexcept;    \
  /* softplus y = log(1 + exp(x)), as max(x, 0) + log1p(exp(-|x|)); backward from y:          \
     dy * (1 - exp(-y)). */    \
  void softplus_forward(float* y, std::size_t count) noexcept;                                     \
  void softplus_backward(const float* y, float* dy, std::size_t count) noexcept;                   \
  /* gelu (exact: x * Phi(x), Phi the standard normal CDF) and swish (silu: x * sigmoid(x)),   \
     which their output does not determine the slope of: backward turns dy into the gradient \
     w.r.t. x from x itself (the pre-activation the Net kept). */   \
  void gelu_forward(float* y, std::size_t count) noexcept;                                         \
  void gelu_backward(const float* x, float* dy, std::size_t count) noexcept;                       \
  void swish_forward(float* y, std::size_t count) noexcept;                                        \
  void swish_backward(const float* x, float* dy, std::size_t count) noexcept;                      \
  /* y[i] = x[i] * scale + offset (Keras' Rescaling rounds twice; the compiler may fuse the  \
     SIMD version into one rounding, which differs in the last bit); x may be y. */     \
  void scale_shift(const float* x, float* y, std::size_t count, float scale,                       \
                   float offset) noexcept;                                                         \
  /* Average pooling of one channels-last image: output (oy, ox) averages the pool x pool      \
     window at (oy * stride - pad_top, ox * stride - pad_left) over its pixels inside the      \
     image (padding is not counted, as TensorFlow). Backward adds each output's gradient,     \
     divided by that count, to din over the same pixels. */   \
  void avg_pool_forward(const float* in, std::size_t h, std::size_t w, std::size_t c,              \
                        std::size_t pool, std::size_t stride, std::size_t pad_top,                 \
                        std::size_t pad_left, std::size_t oh, std::size_t ow,                      \
                        float* out) noexcept;                                                      \
  void avg_pool_backward_add(const float* dout, std::size_t h, std::size_t w, std::size_t c,       \
                             std::size_t pool, std::size_t stride, std::size_t pad_top,            \
                             std::size_t pad_left, std::size_t oh, std::size_t ow,                 \
                             float* din) noexcept;                                                 \
  /* Inverted dropout of count values: value i is kept when dropout_bits(seed, i) >=          \
     threshold, y[i] = kept ? x[i] * scale : 0. The mask depends on (seed, i) alone, so that    \
     backward makes it again rather than reading it back: dx[i] = kept ? dy[i] * scale : 0. */    \
  void dropout_forward(const float* x, float* y, std::size_t count, std::uint64_t seed,            \
                       std::uint32_t threshold, float scale) noexcept;                             \
  void dropout_backward(const float* dy, float* dx, std::size_t count, std::uint64_t seed,         \
                        std::uint32_t threshold, float scale) noexcept;                            \
  /* Row-wise softmax of a rows x cols matrix, in place, max-subtracted for stability. */          \
  void softmax_forward(float* y, std::size_t rows, std::size_t cols) noexcept;                     \
  /* dy[r, i] = y[r, i] * (dy[r, i] - sum_j dy[r, j] * y[r, j]), in place. */                      \
  void softmax_backward(const float* y, float* dy, std::size_t rows, std::size_t cols) noexcept;   \
  /* Optimizer updates over count parameters p with gradients g (see include/typenet/optim/). \
     Each reads p, g and the optimizer's slots and writes the updated parameters and slots to \
     the *_out arrays: the inputs themselves (in place), or other arrays, so that a step is   \
     computed aside and checked before anything changes. Returns the index of the first       \
     non-finite updated parameter (count when all are finite).                                \
     Adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr_t m / (sqrt(v) + eps_t), with  \
     the bias corrections folded into lr_t and eps_t by the caller (Keras' formulation). */    \
  std::size_t adam_update(const float* p, const float* g, const float* m, const float* v,          \
                          float* p_out, float* m_out, float* v_out, std::size_t count, float lr_t, \
                          float beta1, float beta2, float eps_t) noexcept;                         \
  /* RMSprop: v = rho v + (1-rho) g^2; p -= lr g / (sqrt(v) + eps). */                             \
  std::size_t rmsprop_update(const float* p, const float* g, const float* v, float* p_out,         \
                             float* v_out, std::size_t count, float lr, float rho,                 \
                             float eps) noexcept;                                                  \
  /* SGD with momentum mu (velocity vel; mu == 0 is plain SGD) as Keras does it:              \
     vel = mu vel - lr g; p += nesterov ? mu vel - lr g : vel. */    \
  std::size_t sgd_update(const float* p, const float* g, const float* vel, float* p_out,           \
                         float* vel_out, std::size_t count, float lr, float mu,                    \
                         bool nesterov) noexcept;                                                  \
  /* Batch normalization at inference, channels last: out[r, ch] = in[r, ch] * scale[ch] +   \
     shift[ch] for the rows r < rows (out may be in). */     \
  void scale_shift_channels(const float* in, std::size_t rows, std::size_t channels,               \
                            const float* scale, const float* shift, float* out) noexcept;          \
  /* Batch normalization in training, channels last (rows x channels), per channel c, the   \
     sums down the rows in order: each run of kBatchNormRun rows summed in float from zero,   \
     each run's sum added in double: sums[c] += x[r, c]; m2[c] += (x[r, c] - float(means[c]))^2;\
     dy_sum[c] += dy[r, c] and dy_xhat_sum[c] += dy[r, c] * xhat, with xhat = (x[r, c] -     \
     mean[c]) * inv_std[c] (a product and its addition fused, as std::fma, on targets with     \
     FMA); and the input gradient dx[r, c] = k[c] * ((dy[r, c] - a[c]) - xhat * b[c]) in     \
     float. */      \
  void add_channel_sums(const float* x, std::size_t rows, std::size_t channels,                    \
                        double* sums) noexcept;                                                    \
  void add_channel_squared_deviations(const float* x, std::size_t rows, std::size_t channels,      \
                                      const double* means, double* m2) noexcept;                   \
  void add_batch_norm_grad_sums(const float* x, const float* dy, std::size_t rows,                 \
                                std::size_t channels, const float* mean, const float* inv_std,     \
                                double* dy_sum, double* dy_xhat_sum) noexcept;                     \
  void batch_norm_input_grad(const float* x, const float* dy, std::size_t rows,                    \
                             std::size_t channels, const float* mean, const float* inv_std,        \
                             const float* k, const float* a, const float* b, float* dx) noexcept;  \
  /* One LSTM step of `rows` sequences, Keras' gate order i, f, c, o: row r of z (4 * units   \
     floats, rows ldz apart) holds x W + h U + b of the step. With s the recurrent activation  \
     (sigmoid, or Keras 2's hard sigmoid clip(0.2 x + 0.5, 0, 1) when hard_sigmoid):           \
     c = s(z_f) c + s(z_i) tanh(z_c), h = s(z_o) tanh(c). c is rows x units (updated in place);  \
     row r of h is written at h + r * ldh. */    \
  void lstm_cell(const float* z, std::size_t ldz, std::size_t rows, std::size_t units,             \
                 bool hard_sigmoid, float* c, float* h, std::size_t ldh) noexcept;                 \
  /* One image through a projective transform: see Interpolation and FillMode above. */            \
  void affine_transform(const float* in, std::size_t h, std::size_t w, std::size_t c,              \
                        const float* transform, Interpolation interpolation, FillMode fill_mode,   \
                        float fill_value, float* out) noexcept;

// The dispatched, SIMD versions (src/kernels/: simd.cpp, gemm*.cpp, affine_transform_simd.cpp).
TYPENET_KERNEL_DECLARATIONS

// The 32 random bits of element i of a dropout mask: two rounds of MurmurHash3's finaliser over
// a Weyl sequence, keyed by the 64-bit seed. A function of (seed, i) alone, in 32-bit integer
// arithmetic that every SIMD target has, so masks are computed a vector at a time.
constexpr std::uint32_t murmur3_mix(std::uint32_t h) noexcept {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  return h ^ (h >> 16);
}
constexpr std::uint32_t dropout_bits(std::uint64_t seed, std::uint32_t i) noexcept {
  return murmur3_mix(murmur3_mix(i * 0x9e3779b9u + std::uint32_t(seed)) ^
                     std::uint32_t(seed >> 32));
}

// Name of the Highway target the dispatched kernels run on here, e.g. "AVX3".
const char* simd_target_name() noexcept;

// A bf16 product's op(B) (k x n) packed once for many products, where gemm_bf16 and
// conv_forward_bf16 would convert and pack it at every call: a layer's weights over a training
// step's or a prediction's images (products.hpp). pack_bf16 writes the blocks of part `part` of
// `parts` (workers pack one B together) into bf16_packing::PackedLayout{k, n}.words() words,
// converting as the path chosen at that time does. gemm_bf16_packed and conv_forward_bf16_packed
// (op(B), the kernel, packed with Trans::No) then give the bits of gemm_bf16 and
// conv_forward_bf16 on that B, whose reference twins are theirs.
void pack_bf16(Trans trans_b, std::size_t k, std::size_t n, const float* b, std::size_t ldb,
               std::uint32_t* packed, std::size_t part, std::size_t parts) noexcept;
void gemm_bf16_packed(Trans trans_a, std::size_t m, std::size_t n, std::size_t k, const float* a,
                      std::size_t lda, const std::uint32_t* packed_b, float beta, float* c,
                      std::size_t ldc, const float* bias) noexcept;
void conv_forward_bf16_packed(const float* image, std::size_t w, std::size_t c, std::size_t kh,
                              std::size_t kw, std::size_t stride, std::size_t ow,
                              std::size_t first_pixel, std::size_t end_pixel,
                              const std::uint32_t* packed_kernel, std::size_t filters,
                              const float* bias, float* out) noexcept;

// The instructions gemm_bf16 and conv_forward_bf16 run on here: "amx", "avx512_bf16", or the
// Highway target's name (simd_target_name()).
const char* bf16_kernel_path() noexcept;

// Plain scalar versions (src/kernels/reference.cpp, and affine_transform.cpp): the oracle of the
// kernel tests.
namespace reference {
TYPENET_KERNEL_DECLARATIONS
}  // namespace reference

#undef TYPENET_KERNEL_DECLARATIONS

}  // namespace typenet::kernels
