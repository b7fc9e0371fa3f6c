#!/usr/bin/env bash
# Fuzzes typenet's file loaders with libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   fuzz/run.sh [seconds-per-target] [target...]     (default: 60 seconds, every target)
#
# Targets (fuzz/fuzz_<target>.cpp):
#   model_file  typenet model and checkpoint files (io::decode)
#   idx         IDX files, plain and gzip (read_idx, read_idx_images, read_idx_labels)
#   image       PNG and JPEG files (vis::read_image_rgba, to_gray)
#   keras       Keras .h5 and .keras files, any bytes (load_keras_into)
#   keras_config  Keras' model config: valid .keras files whose config.json is fuzzed
#
# Builds each target with clang++ straight from the sources (no meson), writes its seed corpus
# (generated files, plus the real files of ../shared and tests/golden when they are there), then
# fuzzes it for the given time. Exits 1 when any target crashes, leaks, hangs, runs out of memory
# or trips a sanitizer; the input is saved as <work>/artifacts/<target>/crash-* (or leak-, oom-,
# timeout-) with its report in <work>/logs/. Replay one with: <work>/fuzz_<target> <input>.
#
# libhdf5, which the keras targets reach, is not hardened against malformed files; typenet parses
# HDF5 images in a helper program (typenet-hdf5-reader, built here with the same sanitizers as
# <work>/typenet-hdf5-reader), so that a crash or a sanitizer report inside libhdf5 is the
# helper's, which the fuzzed process gets as a KerasError. Should libhdf5 still crash the fuzzed
# process itself (only its writer is linked there), a report whose innermost frame outside the
# sanitizer runtime and the C/C++ runtime is in libhdf5 is listed as a "third-party finding"
# (input and report kept in <work>/third_party/<target>/), and fuzzing resumes for the time left.
#
# Work files go to build-fuzz/ (or $TYPENET_FUZZ_DIR); corpora grow there across runs. Needs clang,
# libclang-rt-14-dev (the libFuzzer runtime) and the -dev packages of .ci/packages.d/fuzz.txt.
set -euo pipefail

seconds="${1:-60}"
shift || true
all_targets=(model_file idx image keras keras_config)
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${TYPENET_FUZZ_DIR:-$root/build-fuzz}"
shared="${TYPENET_SHARED:-$root/../shared}"
cxx="${CXX_FUZZ:-clang++}"
jobs="${FUZZ_BUILD_JOBS:-2}"

# src/keras but the HDF5 reader's main(), linked on its own (reader_sources).
keras_sources="$(cd "$root" && find src/keras -name '*.cpp' ! -name hdf5_reader_main.cpp | sort | tr '\n' ' ')
               src/layer_info.cpp src/keras_mapping.cpp src/io/atomic_write.cpp src/io/export_cpp.cpp"
reader_sources="src/keras/hdf5_reader_main.cpp src/keras/hdf5.cpp src/keras/hdf5_snapshot.cpp
                src/keras/hdf5_tree.cpp src/keras/hdf5_tree_codec.cpp src/keras/keras_error.cpp"
# What each target compiles (paths from the repository root) and links (pkg-config names).
declare -A sources=(
  [model_file]="fuzz/fuzz_model_file.cpp src/io/model_file.cpp src/io/atomic_write.cpp"
  [idx]="fuzz/fuzz_idx.cpp src/data/idx.cpp src/data/byte_stream.cpp src/data/md5.cpp"
  [image]="fuzz/fuzz_image.cpp src/vis/image_file.cpp src/vis/png_codec.cpp src/vis/jpeg_codec.cpp
           src/vis/file_bytes.cpp src/io/atomic_write.cpp"
  [keras]="fuzz/fuzz_keras.cpp $keras_sources"
  [keras_config]="fuzz/fuzz_keras_config.cpp $keras_sources"
)
declare -A packages=(
  [model_file]="zlib" [idx]="zlib libcrypto" [image]="libpng libjpeg" [keras]="hdf5 libzip"
  [keras_config]="hdf5 libzip zlib"
)
# The programs that write the generated seeds (none for keras: its seeds are real files).
# Seconds an input may take: the keras targets load a file into up to seven Nets, each load
# parsing it in the HDF5 reader, which fuzz_options gives 3 s before it is killed.
declare -A timeout=([keras]=30 [keras_config]=30)

declare -A seed_sources=(
  [model_file]="fuzz/make_model_file_seeds.cpp src/io/model_file.cpp src/io/atomic_write.cpp
                src/io/save_load.cpp src/layer_info.cpp"
  [idx]="fuzz/make_idx_seeds.cpp"
  [image]="fuzz/make_image_seeds.cpp"
  [keras_config]="fuzz/make_keras_config_seeds.cpp"
)
# Real files added to the generated seeds, when present.
declare -A real_seeds=(
  [idx]="$shared/data/mnist/t10k-labels-idx1-ubyte.gz"
  [image]="$shared/keras/photos/*.jpg"
  [keras]="$root/tests/golden/*.h5 $root/tests/golden/*.keras $shared/keras/*.h5 $shared/keras/*.keras"
)
# Largest input the fuzzer makes: a little above the largest seed (keras: the 2.9 MB shared model).
declare -A max_len=([model_file]=4096 [idx]=8192 [image]=8192 [keras]=3145728 [keras_config]=16384)
declare -A dictionaries=([model_file]=model_file.dict [image]=image.dict [keras]=keras.dict
                         [keras_config]=keras.dict)
# Shared libraries whose own crashes are third-party findings (see above).
declare -A trusted=([keras]="libhdf5" [keras_config]="libhdf5")

# shellcheck disable=SC2054 # the commas belong to the flag
sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
# The keras targets find their HDF5 reader here (hdf5_isolation.cpp).
reader="$work/typenet-hdf5-reader"
common=(-std=c++20 -g -O1 -I"$root/include" -DTYPENET_HDF5_READER_BUILD_PATH="\"$reader\""
        -DTYPENET_HDF5_READER_INSTALL_PATH="\"$reader\"")

for target in "${targets[@]}"; do
  [[ -n "${sources[$target]:-}" ]] || { echo "run.sh: unknown target '$target' (targets: ${all_targets[*]})" >&2; exit 2; }
done
mkdir -p "$work/obj" "$work/logs"

# Compiles sources to objects, $jobs at a time, with coverage for the fuzzer. An object is reused
# only when it is newer than its source, every header of the project and this script (a coarse
# rule, but a stale object would fuzz old code).
compile() {
  local -a flags=()
  read -r -a flags <<< "$2"
  local newest_input
  newest_input=$(find "$root/include" "$root/src" "$root/fuzz" \( -name '*.h' -o -name '*.hpp' -o -name run.sh \) \
                   -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
  # shellcheck disable=SC2016,SC2086 # $obj... are the inner sh's; $1 is a list of plain paths
  printf '%s\n' $1 | sort -u | xargs -P "$jobs" -I{} sh -c \
    'obj="$1/obj/$(echo "$2" | tr / _).o"; newest="$3"; shift 3
     if [ "$obj" -nt "$0" ] && [ "$obj" -nt "$newest" ]; then exit 0; fi
     exec "$@" -c -o "$obj" "$0"' \
    "$root/{}" "$work" "{}" "$newest_input" "$cxx" "${common[@]}" "${sanitize[@]}" -fsanitize=fuzzer-no-link "${flags[@]}"
}
# The objects of a list of sources, one path per line.
objects() {
  local file
  for file in $1; do echo "$work/obj/$(echo "$file" | tr / _).o"; done
}
# The compiler or linker flags of a list of pkg-config packages, one per line.
pkg_flags() {
  read -r -a names <<< "$2"
  pkg-config "$1" "${names[@]}" | tr ' ' '\n' | sed '/^$/d'
}

echo "== building ${targets[*]}"
build_start=$SECONDS
all_sources="" all_flags=""
for target in "${targets[@]}"; do
  all_sources+=" ${sources[$target]} ${seed_sources[$target]:-}"
  all_flags+=" $(pkg_flags --cflags "${packages[$target]}" | tr '\n' ' ')"
  [[ ${trusted[$target]:-} != libhdf5 ]] || all_sources+=" $reader_sources"
done
compile "$all_sources" "$all_flags"
if [[ $all_sources == *hdf5_reader_main.cpp* ]]; then
  mapfile -t libs < <(pkg_flags --libs hdf5)
  mapfile -t reader_objects < <(objects "$reader_sources")
  "$cxx" "${sanitize[@]}" -fsanitize=fuzzer-no-link -o "$reader" "${reader_objects[@]}" "${libs[@]}"
fi
for target in "${targets[@]}"; do
  mapfile -t libs < <(pkg_flags --libs "${packages[$target]}")
  mapfile -t target_objects < <(objects "${sources[$target]}")
  "$cxx" "${sanitize[@]}" -fsanitize=fuzzer -o "$work/fuzz_$target" "${target_objects[@]}" "${libs[@]}"
  rm -rf "$work/seeds/$target"
  mkdir -p "$work/seeds/$target" "$work/corpus/$target" "$work/artifacts/$target"
  if [[ -n "${seed_sources[$target]:-}" ]]; then
    mapfile -t seed_objects < <(objects "${seed_sources[$target]}")
    "$cxx" "${sanitize[@]}" -o "$work/make_${target}_seeds" "${seed_objects[@]}" "${libs[@]}"
    "$work/make_${target}_seeds" "$work/seeds/$target"
  fi
  for file in ${real_seeds[$target]:-}; do
    if [[ -f "$file" ]]; then cp "$file" "$work/seeds/$target/"; fi
  done
  echo "   $target: $(find "$work/seeds/$target" -type f | wc -l) seeds"
done
echo "   built in $((SECONDS - build_start)) s"

# Prints "third-party" when the first stack of a report (each stack, for leaks) starts, outside
# the sanitizer runtime and the C/C++ runtime, in a library matching $2; else "ours".
classify() {
  local log=$1 library=$2
  [[ -n "$library" ]] || { echo ours; return; }
  awk -v library="$library" -v binary="$3" '
    function verdict(v) { print v; found = 1; exit }
    /runtime error:/ { verdict("ours") }                       # UBSan: only our code is instrumented
    /ERROR: |Direct leak|Indirect leak|ALARM: / { in_report = 1; stack_done = 0; next }
    in_report && !stack_done && /^ *#[0-9]+ 0x/ {
      if (!match($0, /\(\/[^)+]*\+0x/)) verdict("ours")  # a source line: code compiled in
      module = substr($0, RSTART + 1, RLENGTH - 4)
      if (module == binary || module ~ /\/(libc|libm|libstdc\+\+|libgcc_s)\.so/) next
      if (module ~ library) { stack_done = 1; trusted_stacks++; next }
      verdict("ours")
    }
    END { if (!found) print (trusted_stacks > 0 ? "third-party" : "ours") }
  ' "$log"
}

# Fuzzes one target for $seconds, resuming after third-party findings. Sets target_result.
fuzz() {
  local target=$1 deadline=$((SECONDS + seconds)) round=0 executions=0 third_party=0
  local log status artifact report
  local options=(-max_len="${max_len[$target]}" -timeout="${timeout[$target]:-10}" -rss_limit_mb=2048)
  [[ -z "${dictionaries[$target]:-}" ]] || options+=(-dict="$root/fuzz/${dictionaries[$target]}")
  target_result=""
  while ((SECONDS < deadline)); do
    log="$work/logs/$target.$round.log"
    round=$((round + 1))
    status=0
    "$work/fuzz_$target" "$work/corpus/$target" "$work/seeds/$target" "${options[@]}" \
      -max_total_time=$((deadline - SECONDS)) -artifact_prefix="$work/artifacts/$target/" \
      -print_final_stats=1 > "$log" 2>&1 || status=$?
    executions=$((executions + $(grep -oP 'stat::number_of_executed_units: *\K[0-9]+' "$log" || echo 0)))
    ((status != 0)) || break
    artifact=$(grep -oP 'Test unit written to \K\S+' "$log" | tail -1 || true)
    report=$log
    if [[ -n "$artifact" ]]; then
      # Replayed with full stacks: libFuzzer records allocation stacks with the fast unwinder,
      # which stops at the first frame of a library built without frame pointers (libhdf5).
      report="$log.replay"
      ASAN_OPTIONS=fast_unwind_on_malloc=0 "$work/fuzz_$target" "${options[@]}" "$artifact" > "$report" 2>&1 ||
        true
      grep -q -E 'ERROR: |runtime error:' "$report" || report=$log  # did not reproduce
    fi
    if [[ -n "$artifact" && $(classify "$report" "${trusted[$target]:-}" "$work/fuzz_$target") == third-party ]]; then
      third_party=$((third_party + 1))
      mkdir -p "$work/third_party/$target"
      mv "$artifact" "$work/third_party/$target/"
      cp "$report" "$work/third_party/$target/$(basename "$artifact").log"
      echo "   $target: third-party finding in ${trusted[$target]}: $(grep -m1 -oP 'ERROR: \K.{0,100}' "$report" || echo report) -> $work/third_party/$target/$(basename "$artifact")"
      continue
    fi
    target_result="FAILED (exit $status): ${artifact:-no input saved}; report: $report"
    grep -m1 -A16 -E 'ERROR: |runtime error:' "$report" | sed 's/^/      /' || tail -20 "$report"
    break
  done
  echo "   $target: $executions executions in $seconds s, ${third_party} third-party finding(s), ${target_result:-no failure}"
  summary+=("$(printf '%-12s %10d executions  %s' "$target" "$executions" "${target_result:-ok}")")
  [[ -z "$target_result" ]]
}

summary=()
failed=0
for target in "${targets[@]}"; do
  echo "== fuzzing $target for $seconds s"
  fuzz "$target" || failed=1
done
echo "== summary (${seconds} s per target)"
printf '   %s\n' "${summary[@]}"
if ((failed)); then
  echo "fuzzing found bugs: see the reports above" >&2
  exit 1
fi
