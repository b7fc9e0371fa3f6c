#!/usr/bin/env bash
# Startup of a net compiled in against one loaded from its Keras file: runs predict_once and
# predict_once_from_file (built in BUILD_DIR) RUNS times each, after one warm-up run, and prints
# the median wall time of one process start, prediction and exit, the executables' sizes
# (unstripped as built, and stripped), and which file formats' libraries predict_once loads.
#
#   examples/embedded/bench_startup.sh BUILD_DIR [RUNS]   (RUNS: 200)
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 BUILD_DIR [RUNS]" >&2; exit 2; }
build=$1
runs=${2:-200}

# Median milliseconds of `runs` runs of the program, timed with bash's EPOCHREALTIME (µs).
median_ms() {
  local program=$1 times=() start end
  "$program" > /dev/null
  for ((i = 0; i < runs; ++i)); do
    start=${EPOCHREALTIME/[.,]/}
    "$program" > /dev/null
    end=${EPOCHREALTIME/[.,]/}
    times+=($((end - start)))
  done
  printf '%s\n' "${times[@]}" | sort -n |
    awk '{t[NR] = $1} END {m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2;
                           printf "%.2f", m / 1000}'
}

stripped_bytes() {
  local copy
  copy=$(mktemp)
  strip -o "$copy" "$1"
  stat -c %s "$copy"
  rm -f "$copy"
}

embedded=$build/predict_once
load_file=$build/predict_once_from_file
echo "startup_embedded_ms=$(median_ms "$embedded") startup_load_file_ms=$(median_ms "$load_file")" \
  "(median of $runs runs)"
echo "binary_bytes_embedded=$(stat -c %s "$embedded") binary_bytes_load_file=$(stat -c %s "$load_file") (unstripped)"
echo "binary_bytes_embedded=$(stripped_bytes "$embedded") binary_bytes_load_file=$(stripped_bytes "$load_file") (stripped)"
io=$(ldd "$embedded" | grep -oE 'lib(z|crypto|ssl|hdf5[^ ]*|zip|png[^ ]*|jpeg|plplot[^ ]*)\.so[^ ]*' |
  tr '\n' ' ' || true)
echo "io_libraries_linked=${io:-none}"
