// How the bf16 products (gemm_bf16, conv_forward_bf16) pack op(B), and where a B packed once
// lies: layers size the storage of their packed weights from it at compile time
// (typenet/kernels/products.hpp), the kernels block their loops by it (src/kernels/gemm_bf16.cpp).
//
// op(B), k deep and n wide, goes in blocks of up to kNC columns by up to kKC depths (the lengths
// split k and n as evenly as possible). A block is panels of kPanel columns, each the block's
// depth in (bf16, bf16) pairs (rounded up to whole AMX tiles, zeros after) of kPanel columns:
// pair q of column j holds depths 2q (low half) and 2q + 1. A B packed whole holds its column
// blocks one after the other, each its depth blocks in order.
#pragma once

#include <algorithm>
#include <cstddef>

namespace typenet::kernels::bf16_packing {

// Depth of an AMX tile (32 bf16 = 64 bytes a tile row). Depth blocks are multiples of it, so
// that the tiles of every block line up with the depth counted from 0, and a block's packed
// depth is padded with zeros to a multiple of it.
inline constexpr std::size_t kTileDepth = 32;
// Columns of a packed panel of B: four 16-float vectors (AVX512_BF16), four C tiles (AMX).
inline constexpr std::size_t kPanel = 64;
// Depth of a block: a 32-column slice of B (32 KiB of bf16) stays in L1 while the AMX tiles of
// the rows go by.
inline constexpr std::size_t kKC = 512;
// Columns of a B block (512 KiB of bf16).
inline constexpr std::size_t kNC = 512;
static_assert(kKC % kTileDepth == 0 && kNC % kPanel == 0,
              "blocks must hold whole tiles and panels");

constexpr std::size_t round_up(std::size_t value, std::size_t granule) noexcept {
  return (value + granule - 1) / granule * granule;
}

// Block length for splitting `total` into blocks of at most `max_block` (a multiple of
// `granule`) as evenly as possible.
constexpr std::size_t block_length(std::size_t total, std::size_t max_block,
                                   std::size_t granule) noexcept {
  const std::size_t blocks = (total + max_block - 1) / max_block;
  return blocks == 0 ? granule : round_up((total + blocks - 1) / blocks, granule);
}

// The blocks of a k x n op(B).
struct PackedLayout {
  std::size_t k, n;

  constexpr std::size_t column_block() const noexcept { return block_length(n, kNC, kPanel); }
  constexpr std::size_t depth_block() const noexcept { return block_length(k, kKC, kTileDepth); }
  // The depth of every block together, each rounded up to whole tiles.
  constexpr std::size_t padded_depth() const noexcept {
    const std::size_t full = k / depth_block() * depth_block();
    return full + round_up(k - full, kTileDepth);
  }
  // Where the block of columns from jc and depths from pc (multiples of the block lengths)
  // starts in a B packed whole.
  constexpr std::size_t offset(std::size_t jc, std::size_t pc) const noexcept {
    const std::size_t columns = jc < n ? std::min(column_block(), n - jc) : 0;
    return jc * padded_depth() / 2 + round_up(columns, kPanel) * pc / 2;
  }
  // The 32-bit words of a B packed whole.
  constexpr std::size_t words() const noexcept {
    const std::size_t full = n / column_block() * column_block();
    return offset(full, 0) + round_up(n - full, kPanel) * padded_depth() / 2;
  }
};

}  // namespace typenet::kernels::bf16_packing
