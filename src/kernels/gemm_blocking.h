// Blocking of the packed GEMM (gemm.cpp) and the thread-local buffers it packs into.
//
// Kept outside the per-target code that Highway compiles once per instruction set, so that a
// thread owns one set of buffers, not one per compiled target. The sizes bound every target:
// the widest micro-tile is 2 vectors of at most 16 floats (gemm.cpp caps its vectors at 512 bits).
#pragma once

#include <cstddef>

namespace typenet::kernels::gemm_blocking {

// Rows of a micro-tile: 6 rows x 2 vectors = 12 accumulators, which with 2 B vectors and one
// broadcast A value fill the 16 registers of AVX2 / SSE.
inline constexpr std::size_t kMR = 6;
// Widest micro-tile (columns): 2 vectors of 16 floats.
inline constexpr std::size_t kMaxNR = 32;
// Depth of a block. A kKC x NR panel of B (24 KiB on AVX2) stays in L1 while the micro-kernel
// sweeps the row panels of A. 384 rather than 256: conv2's K = 288 then takes one block, not
// two (C written once): +4% there, no loss elsewhere (measured, AVX2).
inline constexpr std::size_t kKC = 384;
// Rows of an A block: kMC x kKC floats (216 KiB) stay in L2 (512 KiB and more).
inline constexpr std::size_t kMC = 144;
// Columns of a packed B block: kKC x kNC floats (768 KiB), read from L2/L3 once per A block.
inline constexpr std::size_t kNC = 512;
static_assert(kMC % kMR == 0 && kNC % kMaxNR == 0, "blocks must hold whole micro-panels");

struct PackingBuffers {
  alignas(64) float a[kMC * kKC];
  alignas(64) float b[kKC * kNC];
};

// Zero-initialised thread-local storage: no allocation, no lock, no constructor to guard.
inline PackingBuffers& packing_buffers() noexcept {
  thread_local PackingBuffers buffers;
  return buffers;
}

}  // namespace typenet::kernels::gemm_blocking
