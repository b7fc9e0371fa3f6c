// Which instructions the dispatched 8-bit GEMMs (typenet/kernels/int8.hpp) use: normally the
// best this CPU offers (int8_kernel_path() names it). Tests force each available path in turn
// to compare it with the scalar reference, benchmarks to time each; nothing else should.
#pragma once

namespace typenet::kernels::detail {

enum class Int8Path {
  best,     // AMX, else VNNI, else Highway
  highway,  // widening multiplies on the Highway target of the run-time dispatch
  vnni,     // AVX-512 VNNI
  amx,      // AMX tiles for the whole 16-row tiles of products at least 64 deep, VNNI elsewhere
};

// Whether this build, CPU and operating system can run `path` (best and highway: always).
bool int8_path_available(Int8Path path) noexcept;

// Makes the dispatched int8 GEMMs of every thread take `path` from now on (Int8Path::best: the
// normal choice again); false, and nothing changes, when the path is not available. Not to be
// called while GEMMs run.
bool force_int8_path(Int8Path path) noexcept;

}  // namespace typenet::kernels::detail
