// Helpers of the kernel tests: random data, a tolerance that means something, and running a
// check on every Highway target the machine supports.
#pragma once

#include <doctest/doctest.h>
#include <hwy/targets.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "typenet/kernels/kernel_paths.hpp"
#include "typenet/kernels/kernels.hpp"

namespace typenet::kernels::testing {

inline constexpr double kRelativeTolerance = 1e-5;

inline std::vector<float> random_floats(std::size_t count, std::mt19937& rng, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> values(count);
  for (float& value : values) value = dist(rng);
  return values;
}

inline std::vector<float> absolute(std::span<const float> values) {
  std::vector<float> result(values.begin(), values.end());
  for (float& value : result) value = std::fabs(value);
  return result;
}

// |values| + floor: the error bound scale for results computed without cancellation.
inline std::vector<float> own_magnitude(std::span<const float> values, float floor) {
  std::vector<float> result = absolute(values);
  for (float& value : result) value += floor;
  return result;
}

// Element i passes when |actual - expected| <= kRelativeTolerance * bound[i], where bound[i] is
// the size of the terms that make up the element (a sum of products may cancel to almost zero;
// its rounding error is relative to the terms, not to the result). A NaN fails unless expected.
inline void check_close(std::span<const float> actual, std::span<const float> expected,
                        std::span<const float> bound) {
  REQUIRE(actual.size() == expected.size());
  REQUIRE(bound.size() == expected.size());
  std::size_t failures = 0;
  std::size_t first_failure = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (std::isnan(expected[i]) && std::isnan(actual[i])) continue;
    const double error = std::fabs(double(actual[i]) - double(expected[i]));
    if (!(error <= kRelativeTolerance * double(bound[i]))) {
      if (failures++ == 0) first_failure = i;
    }
  }
  if (failures != 0) {
    INFO("first failure at index " << first_failure << ": got " << actual[first_failure]
                                   << ", expected " << expected[first_failure] << " (bound "
                                   << bound[first_failure] << ")");
    CHECK(failures == 0);
  }
}

// Runs body() once per Highway target this machine supports and the library was compiled for,
// with the run-time dispatch forced to that target; restores the normal dispatch afterwards.
template <class Body>
void for_each_target(const Body& body) {
  struct RestoreDispatch {
    ~RestoreDispatch() { hwy::GetChosenTarget().Update(hwy::SupportedTargets()); }
  } restore;
  for (const std::int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::GetChosenTarget().Update(target);
    INFO("Highway target " << hwy::TargetName(target));
    REQUIRE(std::string(simd_target_name()) == hwy::TargetName(target));
    body();
  }
}

// Runs body(path) on every path of a family of kernels (kernel_paths.hpp) this machine has:
// Path::highway on each Highway target, then each of `hardware` (path, the name kernel_path()
// gives it) that is available; then the normal choice again.
template <class Path, class KernelPath, class Body>
void for_each_forced_path(std::initializer_list<std::pair<Path, const char*>> hardware,
                          KernelPath kernel_path, const Body& body) {
  struct RestorePath {
    ~RestorePath() { detail::force_path(Path::best); }
  } restore;
  REQUIRE(detail::force_path(Path::highway));
  for_each_target([&] {
    REQUIRE(std::string(kernel_path()) == simd_target_name());
    body(Path::highway);
  });
  for (const auto& [path, name] : hardware) {
    if (!detail::path_available(path)) {
      MESSAGE("no " << name << " on this machine: not tested");
      continue;
    }
    REQUIRE(detail::force_path(path));
    INFO("path " << name);
    REQUIRE(std::string(kernel_path()) == name);
    body(path);
  }
}

}  // namespace typenet::kernels::testing
