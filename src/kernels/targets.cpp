// Highway's run-time choice of target, defined here so that typenet does not link libhwy.
//
// The kernels' HWY_DYNAMIC_DISPATCH needs exactly two functions of the library,
// hwy::SupportedTargets and hwy::GetChosenTarget; loading Debian's libhwy.so.1 also runs its
// nanobenchmark's static initializer, a timer calibration of about 4 ms in every process: more
// than a whole start, prediction and exit of a program with embedded weights takes without it.
// A target counts as supported when the CPU and the operating system support every instruction
// set its code may use: the features of Highway's HWY_TARGET_STR_* (hwy/ops/set_macros-inl.h)
// for the x86 targets Highway 1.0.3 compiles (SSSE3, SSE4, AVX2, AVX3).
#include <hwy/targets.h>

#include <cstdint>

#if HWY_ARCH_X86
#include <cpuid.h>
#endif

namespace hwy {

namespace {

#if HWY_ARCH_X86
struct CpuFeatures {
  std::uint32_t leaf1_ecx = 0, leaf1_edx = 0, leaf7_ebx = 0;
  std::uint64_t os_state = 0;  // XCR0: the register state the OS saves on a context switch

  CpuFeatures() {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    leaf1_ecx = c;
    leaf1_edx = d;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) leaf7_ebx = b;
    constexpr std::uint32_t osxsave = 1u << 27;
    if (leaf1_ecx & osxsave) {
      std::uint32_t low = 0, high = 0;
      __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
      os_state = (std::uint64_t{high} << 32) | low;
    }
  }
  static constexpr bool all(std::uint64_t bits, std::uint64_t wanted) {
    return (bits & wanted) == wanted;
  }
};

std::int64_t x86_targets() {
  const CpuFeatures cpu;
  constexpr auto bit = [](unsigned n) { return std::uint32_t{1} << n; };
  // sse2 (EDX 26); ssse3 (ECX 9); sse4.1, sse4.2 (ECX 19, 20); pclmul, aes (ECX 1, 25).
  const bool ssse3 = CpuFeatures::all(cpu.leaf1_edx, bit(26)) &&
                     CpuFeatures::all(cpu.leaf1_ecx, bit(9));
  const bool sse4 = ssse3 && CpuFeatures::all(cpu.leaf1_ecx, bit(19) | bit(20) | bit(1) | bit(25));
  // avx, fma, f16c (ECX 28, 12, 29); avx2, bmi, bmi2 (leaf 7 EBX 5, 3, 8); the OS saves the
  // XMM and YMM state (XCR0 bits 1, 2).
  const bool avx2 = sse4 && CpuFeatures::all(cpu.leaf1_ecx, bit(28) | bit(12) | bit(29)) &&
                    CpuFeatures::all(cpu.leaf7_ebx, bit(5) | bit(3) | bit(8)) &&
                    CpuFeatures::all(cpu.os_state, 0x6);
  // avx512f, dq, bw, vl (leaf 7 EBX 16, 17, 30, 31); the OS saves the opmask and ZMM state
  // (XCR0 bits 5, 6, 7).
  const bool avx3 = avx2 &&
                    CpuFeatures::all(cpu.leaf7_ebx, bit(16) | bit(17) | bit(30) | bit(31)) &&
                    CpuFeatures::all(cpu.os_state, 0xE0);
  std::int64_t targets = 0;
  if (ssse3) targets |= HWY_SSSE3;
  if (sse4) targets |= HWY_SSE4;
  if (avx2) targets |= HWY_AVX2;
  if (avx3) targets |= HWY_AVX3;
  return targets;
}
#endif

}  // namespace

int64_t SupportedTargets() {
  std::int64_t targets = HWY_EMU128 | HWY_SCALAR;
#if HWY_ARCH_X86
  targets |= x86_targets();
#endif
  return targets;
}

ChosenTarget& GetChosenTarget() {
  static ChosenTarget chosen;
  return chosen;
}

}  // namespace hwy
