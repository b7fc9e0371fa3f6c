// Which path a family of dispatched kernels takes (typenet/kernels/kernel_paths.hpp): the one a
// test or benchmark forced, else the best this CPU offers. Shared by src/kernels/int8.cpp and
// src/kernels/gemm_bf16.cpp.
#pragma once

#include <atomic>

namespace typenet::kernels {

// Path: an enum with a `best` value (no path forced).
template <class Path>
class PathChoice {
 public:
  // The forced path, else best_here() (asked only when nothing is forced).
  template <class BestHere>
  Path chosen(BestHere best_here) const noexcept {
    const Path forced = forced_.load(std::memory_order_relaxed);
    return forced != Path::best ? forced : best_here();
  }
  // Forces `path` from now on, on every thread, when it is available; false, and nothing
  // changes, when it is not.
  bool force(Path path, bool available) noexcept {
    if (!available) return false;
    forced_.store(path, std::memory_order_relaxed);
    return true;
  }

 private:
  std::atomic<Path> forced_{Path::best};
};

}  // namespace typenet::kernels
