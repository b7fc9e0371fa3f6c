// Blocking of the bf16 GEMM (gemm_bf16.cpp) and the thread-local buffers it packs into: outside
// the per-target code, so that a thread owns one set of buffers, not one per compiled target.
#pragma once

#include <cstddef>
#include <cstdint>

#include "typenet/kernels/packed_bf16.hpp"

namespace typenet::kernels::bf16_blocking {

using bf16_packing::kKC;
using bf16_packing::kNC;
using bf16_packing::kPanel;
using bf16_packing::kTileDepth;
// Rows and columns of an AMX tile of C (16 x 16 floats).
inline constexpr std::size_t kTile = 16;
// Rows of an A block (128 KiB of bf16, in L2).
inline constexpr std::size_t kMC = 128;
static_assert(kMC % (2 * kTile) == 0, "A blocks must hold whole tiles");

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
