// Blocking of the bf16 GEMM (gemm_bf16.cpp) and the thread-local buffers it packs into: outside
// the per-target code, so that a thread owns one set of buffers, not one per compiled target.
#pragma once

#include <cstddef>
#include <cstdint>

namespace typenet::kernels::bf16_blocking {

// Depth of an AMX tile (32 bf16 = 64 bytes a tile row). Depth blocks are multiples of it, so
// that the tiles of every block line up with the depth counted from 0, and a block's packed
// depth is padded with zeros to a multiple of it.
inline constexpr std::size_t kTileDepth = 32;
// Rows and columns of an AMX tile of C (16 x 16 floats).
inline constexpr std::size_t kTile = 16;
// Columns of a packed panel of B: four 16-float vectors (AVX512_BF16), four C tiles (AMX).
inline constexpr std::size_t kPanel = 64;
// Depth of a block: a 32-column slice of B (32 KiB of bf16) stays in L1 while the AMX tiles of
// the rows go by.
inline constexpr std::size_t kKC = 512;
// Rows of an A block (128 KiB of bf16, in L2).
inline constexpr std::size_t kMC = 128;
// Columns of a B block (512 KiB of bf16).
inline constexpr std::size_t kNC = 512;
static_assert(kKC % kTileDepth == 0 && kMC % (2 * kTile) == 0 && kNC % kPanel == 0,
              "blocks must hold whole tiles and panels");

// bf16 values of a convolution's image (the rows its windows cover), converted once per call
// (256 KiB: a 64 x 64 x 32 image); a larger one is converted patch by patch.
inline constexpr std::size_t kImageValues = 128 * 1024;

struct PackingBuffers {
  // A block: kMC rows of kKC bf16 (row-major, as AMX's A tiles read it).
  alignas(64) std::uint16_t a[kMC * kKC];
  // B block: panels of kPanel columns, each kKC / 2 depth pairs of kPanel (bf16, bf16) pairs.
  alignas(64) std::uint32_t b[kKC / 2 * kNC];
  alignas(64) std::uint16_t image[kImageValues];
};

// Zero-initialised thread-local storage: no allocation, no lock, no constructor to guard.
inline PackingBuffers& packing_buffers() noexcept {
  thread_local PackingBuffers buffers;
  return buffers;
}

}  // namespace typenet::kernels::bf16_blocking
