// What the x86 CPU and the operating system offer beyond the Highway targets: the instruction
// sets of the int8 (VNNI, AMX-INT8) and bf16 (AVX512_BF16, AMX-BF16) kernels, and AMX's tile
// configuration. Shared by src/kernels/int8.cpp and src/kernels/gemm_bf16.cpp.
#pragma once

#include <cstdint>

namespace typenet::kernels::x86 {

// Each flag: the CPU has the instructions, the OS saves their state, and the library was built
// with the AVX-512 Highway target whose code holds the kernels using them. The AMX flags also
// mean that Linux granted this process the tile data state (asked for once, on first use).
struct Features {
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
  // AVX512_BF16 where vdpbf16ps does twice the multiply-adds of a float FMA per cycle (AMD Zen
  // 4 on: its dot products run on both FMA pipes; Intel's on one port of two).
  bool avx512_bf16_full_rate = false;
  bool amx_int8 = false;
  bool amx_bf16 = false;
};

// Detected once, on first call; thread-safe.
const Features& features() noexcept;

// The operand of _tile_loadconfig (palette 1): every tile used `rows` rows of
// `bytes_per_row` bytes.
struct alignas(64) TileConfig {
  std::uint8_t palette = 1;
  std::uint8_t start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t bytes_per_row[16] = {};
  std::uint8_t rows[16] = {};

  constexpr TileConfig(int tiles, std::uint8_t rows_per_tile, std::uint16_t row_bytes) {
    for (int t = 0; t < tiles; ++t) {
      rows[t] = rows_per_tile;
      bytes_per_row[t] = row_bytes;
    }
  }
};

}  // namespace typenet::kernels::x86
