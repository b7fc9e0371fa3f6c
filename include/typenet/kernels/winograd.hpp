// Winograd's F(4x4, 3x3) convolution (Lavin and Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016), the Float32 products of 3x3 stride-1 Conv layers: each 4x4 tile of output
// pixels comes from the 6x6 window of input pixels under it. The window is transformed
// (V = B^T d B), multiplied point by point with the transformed kernel (U = G g G^T) and summed
// over the input channels, one small GEMM per point of the 36 (M = V U), and transformed back
// (Y = A^T M A): 36 multiplies per tile and channel pair where the direct convolution takes 144.
// The backward passes are the same products transposed. Rounding: each output within about 1e-6
// of the sum of its direct terms' magnitudes (the tests hold it to 1e-5; docs/performance.md).
//
// Layouts (channels last throughout):
//   transformed kernel u: points x c x filters (a point's c x filters matrix whole), and its
//     transpose ut: points x filters x c, for the input gradient; the kernel gradient's points
//     du as u;
//   the kernels work a block of tile rows at a time in the scratch sized below, points x
//     tiles x channels;
//   consecutive points point_stride apart.
// The transformed kernel is computed once per pass (Conv's packed weights).
#pragma once

#include <cstddef>

namespace typenet::kernels::winograd {

inline constexpr std::size_t kTile = 4;                    // output pixels per tile side
inline constexpr std::size_t kWindow = kTile + 2;          // input pixels per window side
inline constexpr std::size_t kPoints = kWindow * kWindow;  // products per tile

// Tiles covering `extent` output pixels (the last one clipped).
constexpr std::size_t tiles(std::size_t extent) noexcept { return (extent + kTile - 1) / kTile; }

// Floats from one point's matrix of `floats` to the next: rounded up to an odd number of
// 64-byte lines, so that the 36 points of a tile, which each transform reads or writes
// together, fall in 36 different sets of the L1 cache (a stride of a power-of-two multiple of
// lines crowds them into a few sets, and each transform then misses on most of its loads).
constexpr std::size_t point_stride(std::size_t floats) noexcept {
  return ((floats + 15) / 16 | 1) * 16;
}

// Floats of a transformed kernel (u, or ut) and of the kernel gradient's points (du).
constexpr std::size_t kernel_floats(std::size_t c, std::size_t filters) noexcept {
  return kPoints * point_stride(c * filters);
}
// The kernels take the tiles a block of whole tile rows at a time, about kBlockTiles tiles (at
// least one row): enough rows for each product to reuse its point of the kernel, few enough
// that a block's points stay in cache.
inline constexpr std::size_t kBlockTiles = 48;
constexpr std::size_t block_rows(std::size_t ow) noexcept {
  return tiles(ow) >= kBlockTiles ? 1 : kBlockTiles / tiles(ow);
}
constexpr std::size_t block_tiles(std::size_t ow) noexcept { return block_rows(ow) * tiles(ow); }

// Scratch floats of conv_forward and of conv_backward for an output ow pixels wide.
constexpr std::size_t forward_scratch_floats(std::size_t ow, std::size_t c,
                                             std::size_t filters) noexcept {
  return kPoints * (point_stride(block_tiles(ow) * c) + point_stride(block_tiles(ow) * filters));
}
constexpr std::size_t backward_scratch_floats(std::size_t ow, std::size_t c,
                                              std::size_t filters) noexcept {
  return kPoints *
         (2 * point_stride(block_tiles(ow) * c) + point_stride(block_tiles(ow) * filters));
}

// Whether a convolution takes these products: a 3x3 kernel at stride 1, with channels and
// filters enough (a vector of 8 floats each) that the 36 products outweigh the transforms.
constexpr bool suits(std::size_t kernel, std::size_t stride, std::size_t c,
                     std::size_t filters) noexcept {
  return kernel == 3 && stride == 1 && c >= 8 && filters >= 8;
}

// Whether its backward pass takes them too: the kernel gradient's products are as deep as an
// image has tiles, and only enough tiles repay their transforms (a 10x10x128 -> 8x8x128 layer,
// 4 tiles, computed its gradients faster directly).
constexpr bool suits_backward(std::size_t oh, std::size_t ow) noexcept {
  return tiles(oh) * tiles(ow) >= 16;
}

}  // namespace typenet::kernels::winograd
