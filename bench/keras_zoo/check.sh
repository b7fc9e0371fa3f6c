#!/usr/bin/env bash
# Runs every model of a Keras zoo (make_zoo.py) through export-cpp + load_keras + predict, and
# compares the predicted classes with Keras' own on the 10,000 MNIST test images. Prints one line
# per model, `model ... agree=N typenet_correct=N keras_correct=N` or the error that stopped it, and
# a last line `passed=P of M` (passed: agree >= 9995 and |typenet - keras correct| <= 2).
#   bench/keras_zoo/check.sh ZOO_DIR [--build DIR]      (MNIST from $TYPENET_DATA)
set -uo pipefail
cd "$(dirname "$0")/../.."
zoo=$1; shift
build=build
[ "${1:-}" = --build ] && build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PKG_CONFIG_PATH="$PWD/$build/meson-uninstalled"
flags=$(pkg-config --cflags --libs typenet-keras typenet-io)
passed=0 total=0
while read -r file scale; do
  [ -n "$file" ] || continue
  total=$((total + 1))
  header=$work/model.hpp
  if ! "$build/typenet" export-cpp "$zoo/$file" --name ZooModel --out "$header" \
      2> "$work/err"; then
    echo "$file export-cpp failed: $(tail -1 "$work/err")"
    continue
  fi
  if ! g++ -std=c++20 -O2 -DZOO_HEADER="\"$header\"" bench/keras_zoo/check_model.cpp $flags \
      -o "$work/check" 2> "$work/err"; then
    echo "$file does not compile: $(grep -m1 error "$work/err")"
    continue
  fi
  line=$("$work/check" "$zoo/$file" "$zoo/$file.pred.txt" "$scale" 2>&1 | tail -1)
  echo "$file $(grep -o 'using ZooModel.*' "$header" | head -c 200) $line"
  if [[ $line =~ agree=([0-9]+)\ typenet_correct=([0-9]+)\ keras_correct=([0-9]+) ]]; then
    gap=$((BASH_REMATCH[2] - BASH_REMATCH[3]))
    [ "${BASH_REMATCH[1]}" -ge 9995 ] && [ "${gap#-}" -le 2 ] && passed=$((passed + 1))
  fi
done < "$zoo/manifest.txt"
echo "passed=$passed of $total"
