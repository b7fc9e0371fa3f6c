#!/usr/bin/env bash
# The typenet tool on every model of a Keras zoo (make_zoo.py), as a user runs it: `typenet
# evaluate --keras FILE` with no --model (a predictor compiled for each architecture that is not
# built in, the input scale and padding taken from the model), against Keras' own correct count on
# the 10,000 MNIST test images. Prints `model keras_correct=N typenet_correct=N` per model and a
# last line `passed=P of M` (passed: the same count).
#   bench/keras_zoo/evaluate.sh ZOO_DIR [--build DIR]      (MNIST from $TYPENET_DATA)
set -uo pipefail
cd "$(dirname "$0")/../.."
zoo=$1; shift
build=build
[ "${1:-}" = --build ] && build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TYPENET_CACHE=${TYPENET_CACHE:-$work/cache}
labels=$work/labels
gzip -dc "$TYPENET_DATA/t10k-labels-idx1-ubyte.gz" | tail -c 10000 | od -An -v -tu1 -w1 |
  tr -d ' ' > "$labels"
passed=0 total=0
while read -r file scale; do
  [ -n "$file" ] || continue
  total=$((total + 1))
  keras=$(paste -d' ' "$zoo/$file.pred.txt" "$labels" | awk '$1 == $2 {n++} END {print n + 0}')
  line=$("$build/typenet" evaluate --keras "$zoo/$file" --out "$work/out" 2> "$work/err" | tail -1)
  typenet=$(grep -oP ' correct=\K[0-9]+' <<< "$line")
  if [ -z "$typenet" ]; then
    echo "$file failed: $(tail -1 "$work/err")"
    continue
  fi
  echo "$file keras_correct=$keras typenet_correct=$typenet"
  [ "$keras" = "$typenet" ] && passed=$((passed + 1))
done < "$zoo/manifest.txt"
echo "passed=$passed of $total"
