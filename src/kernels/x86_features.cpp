// CPUID, XCR0 and Linux's AMX permission, for src/kernels/x86_features.h.
#include "src/kernels/x86_features.h"
#include "typenet/precision.hpp"

#include <hwy/targets.h>

#include <cstring>

#if HWY_ARCH_X86
#include <cpuid.h>
#endif
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace typenet::kernels::x86 {

namespace {

// The AVX-512 target's code holds the kernels; without it (a build whose baseline excludes
// it), none of the features is usable.
#if HWY_ARCH_X86 && (HWY_TARGETS & HWY_AVX3)
constexpr bool kAvx512Compiled = true;
#else
constexpr bool kAvx512Compiled = false;
#endif

// Asks Linux for the AMX tile data state (its 8 KB are given to a process only on request).
bool amx_granted() {
#if defined(__linux__) && HWY_ARCH_X86
  constexpr long kArchRequestXcompPermission = 0x1023;  // ARCH_REQ_XCOMP_PERM
  constexpr long kXfeatureTileData = 18;                // XFEATURE_XTILEDATA
  return syscall(SYS_arch_prctl, kArchRequestXcompPermission, kXfeatureTileData) == 0;
#else
  return false;
#endif
}

Features detect() {
  Features found;
#if HWY_ARCH_X86
  if (!kAvx512Compiled || (hwy::SupportedTargets() & HWY_AVX3) == 0) return found;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return found;
  const unsigned max_subleaf = eax;
  found.avx512_vnni = (ecx & (1u << 11)) != 0;
  // AMX-BF16, AMX-TILE, AMX-INT8: leaf 7 EDX bits 22, 24, 25.
  const bool amx_tile = (edx & (1u << 24)) != 0;
  const bool amx_int8_cpu = amx_tile && (edx & (1u << 25)) != 0;
  const bool amx_bf16_cpu = amx_tile && (edx & (1u << 22)) != 0;
  // AVX512_BF16: leaf 7 subleaf 1 EAX bit 5.
  if (max_subleaf >= 1 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx))
    found.avx512_bf16 = (eax & (1u << 5)) != 0;
  // The vendor, "AuthenticAMD", in leaf 0's EBX, EDX, ECX.
  unsigned vendor[3] = {};
  if (__get_cpuid(0, &eax, &vendor[0], &vendor[2], &vendor[1]))
    found.avx512_bf16_full_rate = found.avx512_bf16 &&
                                  std::memcmp(vendor, "AuthenticAMD", sizeof vendor) == 0;
  // The OS manages the tile configuration and data state (XCR0 bits 17, 18).
  std::uint32_t xcr0_low = 0, xcr0_high = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
  const bool amx_os = (xcr0_low & (3u << 17)) == (3u << 17);
  // Each AMX kernel hands its rows that fill no whole tile to the vector instructions of its
  // kind, which AMX CPUs have.
  if ((amx_int8_cpu || amx_bf16_cpu) && amx_os && amx_granted()) {
    found.amx_int8 = amx_int8_cpu && found.avx512_vnni;
    found.amx_bf16 = amx_bf16_cpu && found.avx512_bf16;
  }
#endif
  return found;
}

}  // namespace

const Features& features() noexcept {
  static const Features detected = detect();
  return detected;
}

}  // namespace typenet::kernels::x86

namespace typenet::kernels {

bool bf16_faster_than_float() noexcept {
  return x86::features().amx_bf16 || x86::features().avx512_bf16_full_rate;
}

bool bf16_faster_than_winograd() noexcept { return x86::features().amx_bf16; }

}  // namespace typenet::kernels
