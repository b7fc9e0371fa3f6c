// Which instructions the dispatched 8-bit GEMMs (typenet/kernels/int8.hpp) and bf16 GEMMs
// (gemm_bf16 and conv_forward_bf16, typenet/kernels/kernels.hpp) use: normally the best this
// CPU offers (int8_kernel_path() and bf16_kernel_path() name it). Tests force each available
// path in turn to compare it with the scalar reference, benchmarks to time each; nothing else
// should.
#pragma once

namespace typenet::kernels::detail {

enum class Int8Path {
  best,     // AMX, else VNNI, else Highway
  highway,  // widening multiplies on the Highway target of the run-time dispatch
  vnni,     // AVX-512 VNNI
  amx,      // AMX tiles for the whole 16-row tiles of products at least 64 deep, VNNI elsewhere
};

enum class Bf16Path {
  best,         // AMX, else AVX512_BF16, else Highway
  highway,      // float multiply-adds of the bf16 values on the Highway target of the dispatch
  avx512_bf16,  // vdpbf16ps
  amx,          // AMX tiles for the whole 16-row tiles of products, AVX512_BF16 elsewhere
};

// Whether this build, CPU and operating system can run `path` (best and highway: always).
bool path_available(Int8Path path) noexcept;
bool path_available(Bf16Path path) noexcept;

// Makes the dispatched GEMMs of the path's kind (int8 or bf16) take `path` on every thread from
// now on (best: the normal choice again); false, and nothing changes, when the path is not
// available. Not to be called while GEMMs run.
bool force_path(Int8Path path) noexcept;
bool force_path(Bf16Path path) noexcept;

}  // namespace typenet::kernels::detail
