#!/usr/bin/env bash
# The test suite under sanitizers, as CI runs it:
#   asan  AddressSanitizer + UndefinedBehaviorSanitizer (build-asan): the whole suite.
#   tsan  ThreadSanitizer (build-tsan): the tests that train with several threads.
# Any report fails the run (halt_on_error). Benchmarks and examples are not built. Prints how
# long each build and each test run took.
#
# Usage: scripts/ci_sanitizers.sh [asan] [tsan]    (both when none is named)
# Environment: JOBS (ninja's -j, default 2), TYPENET_DATA (MNIST; default ../shared/data/mnist).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${JOBS:-2}
if [ -z "${TYPENET_DATA:-}" ] && [ -d ../shared/data/mnist ]; then
  export TYPENET_DATA="$(cd ../shared/data/mnist && pwd)"
fi
# -O2 -g with assertions: stack traces with lines, at a bearable speed. Meson needs b_lundef=false
# with sanitizers.
common_options=(-Dbenchmarks=false -Dexamples=false -Dbuildtype=debugoptimized -Db_lundef=false)
# The tests that run Model with more than one thread, and what they need built (checkpoint_writer
# is the helper process of reliability).
threaded_tests=(core allocation reliability)
threaded_targets=(tests/core/test_core tests/core/test_allocation
                  tests/reliability/test_reliability tests/reliability/checkpoint_writer)

elapsed() { echo "$(( $(date +%s) - $1 ))"; }

# setup_and_build DIR SANITIZER [NINJA TARGETS...]: configures DIR (once), then builds the targets
# (everything when none is named).
setup_and_build() {
  local dir=$1 sanitize=$2
  shift 2
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "${common_options[@]}" -Db_sanitize="$sanitize" || return
  else
    meson configure "$dir" "${common_options[@]}" -Db_sanitize="$sanitize" || return
  fi
  ninja -C "$dir" -j "$jobs" "$@"
}

run_asan() {
  local start status=0
  start=$(date +%s)
  setup_and_build build-asan address,undefined || return
  echo "asan: build took $(elapsed "$start") s"
  # fontconfig (under plplot's cairo driver, in the vis and cli tests) keeps its configuration
  # cache until exit by design; it is not ours to free.
  printf 'leak:libfontconfig.so\n' > build-asan/lsan_suppressions.txt
  start=$(date +%s)
  ASAN_OPTIONS=halt_on_error=1:print_stacktrace=1:detect_leaks=1:strict_string_checks=1 \
  LSAN_OPTIONS=suppressions="$PWD/build-asan/lsan_suppressions.txt":print_suppressions=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-asan --no-rebuild --print-errorlogs --timeout-multiplier 3 || status=$?
  echo "asan: tests took $(elapsed "$start") s"
  return "$status"
}

run_tsan() {
  local start status=0
  start=$(date +%s)
  setup_and_build build-tsan thread "${threaded_targets[@]}" || return
  echo "tsan: build took $(elapsed "$start") s"
  start=$(date +%s)
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    meson test -C build-tsan --no-rebuild --print-errorlogs --timeout-multiplier 5 \
      "${threaded_tests[@]}" || status=$?
  echo "tsan: tests took $(elapsed "$start") s"
  return "$status"
}

# Both parts run even when the first fails, so that one CI run shows everything. (Called after
# `||`, the functions run without `set -e`: they check each step themselves.)
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(asan tsan)
failed=()
for part in "${parts[@]}"; do
  case $part in
    asan) run_asan || failed+=(asan) ;;
    tsan) run_tsan || failed+=(tsan) ;;
    *) echo "unknown part '$part' (asan or tsan)" >&2; exit 64 ;;
  esac
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "sanitizers: ${failed[*]} failed"
  exit 1
fi
echo "sanitizers: clean"
