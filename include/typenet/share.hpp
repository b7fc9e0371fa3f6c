// How work splits between threads: contiguous, balanced, and the same on every run (which is what
// makes results reproducible for a fixed thread count).
#pragma once

#include <cstddef>
#include <utility>

namespace typenet {

// The part [begin, end) of `count` items that `part` of `parts` takes. With a granule, parts
// start on multiples of it (aligned SIMD slices); the last part takes the remainder.
constexpr std::pair<std::size_t, std::size_t> share_of(std::size_t count, std::size_t part,
                                                       std::size_t parts,
                                                       std::size_t granule = 1) noexcept {
  const std::size_t granules = count / granule;
  const std::size_t begin = granules * part / parts * granule;
  const std::size_t end = part + 1 == parts ? count : granules * (part + 1) / parts * granule;
  return {begin, end};
}

// A team of threads that all call one kernel, each computing its part of the work and waiting
// for the others where the kernel needs their parts: member `member` of `members`.
struct KernelTeam {
  std::size_t member = 0, members = 1;
  void (*barrier)(const void* team) = nullptr;  // returns once every member has called it
  const void* team = nullptr;

  void sync() const noexcept {
    if (members > 1) barrier(team);
  }
  constexpr std::pair<std::size_t, std::size_t> part(std::size_t count,
                                                     std::size_t granule = 1) const noexcept {
    return share_of(count, member, members, granule);
  }
};

}  // namespace typenet
