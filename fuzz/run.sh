#!/usr/bin/env bash
# Fuzzes typenet's model-file decoder with libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   fuzz/run.sh [seconds]      (default 60)
#
# Builds with clang++ straight from the sources (no meson), writes a seed corpus of real files made
# by typenet's own save code, then fuzzes for the given time. Work files go to build-fuzz/ (or
# $TYPENET_FUZZ_DIR); a crashing input is saved there as crash-* and the script fails.
# Needs clang and libclang-rt-14-dev (the libFuzzer runtime).
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${TYPENET_FUZZ_DIR:-$root/build-fuzz}"
cxx="${CXX_FUZZ:-clang++}"
mkdir -p "$work/corpus"

sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
common=(-std=c++20 -g -O1 -I"$root/include")
core=("$root/src/io/model_file.cpp" "$root/src/io/atomic_write.cpp")

"$cxx" "${common[@]}" "${sanitize[@]}" -o "$work/make_seeds" "$root/fuzz/make_seeds.cpp" "${core[@]}" \
  "$root/src/io/save_load.cpp" "$root/src/layer_info.cpp" -lz
"$cxx" "${common[@]}" "${sanitize[@]}" -fsanitize=fuzzer -o "$work/fuzz_model_file" \
  "$root/fuzz/fuzz_model_file.cpp" "${core[@]}" -lz

"$work/make_seeds" "$work/corpus"
"$work/fuzz_model_file" "$work/corpus" \
  -dict="$root/fuzz/model_file.dict" \
  -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$work/" -print_final_stats=1
