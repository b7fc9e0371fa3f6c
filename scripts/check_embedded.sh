#!/usr/bin/env bash
# Builds examples/embedded, a project of its own with typenet as a subproject whose programs
# carry a Keras model compiled in (typenet export-cpp --embed-weights at build time), runs its
# tests (Keras' classes on the MNIST test set), checks that its correct count is the typenet
# tool's, and that the embedded programs link none of the file formats' libraries.
# The model and MNIST come from ../shared beside this checkout (the example's defaults).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$root/examples/embedded/." "$work/"
mkdir -p "$work/subprojects"
ln -s "$root" "$work/subprojects/typenet"
meson setup "$work/build" "$work" > "$work/setup.log" || { cat "$work/setup.log"; exit 1; }
ninja -C "$work/build"
meson test -C "$work/build" --print-errorlogs

# The embedded net answers as the tool's Keras import does.
build="$work/build"
embedded=$("$build/mnist_embedded" "$build/t10k-images-idx3-ubyte" \
  "$build/t10k-labels-idx1-ubyte" | tail -n 1)
tool=$("$build/subprojects/typenet/typenet" evaluate --model keras-cnn \
  --keras "$root/../shared/keras/keras224_mnist_cnn.h5" --data "$root/../shared/data/mnist" \
  --out "$work/evaluate" |
  tail -n 1)
echo "mnist_embedded: $embedded"
echo "typenet evaluate: $tool"
if [ "$(grep -oE 'correct=[0-9]+' <<< "$embedded")" != "$(grep -oE 'correct=[0-9]+' <<< "$tool")" ]; then
  echo "check_embedded: mnist_embedded and typenet evaluate count different correct answers" >&2
  exit 1
fi
once=$("$build/predict_once")
from_file=$("$build/predict_once_from_file")
if [ "$once" != "$from_file" ]; then
  echo "check_embedded: predict_once says '$once', predict_once_from_file '$from_file'" >&2
  exit 1
fi

io_libraries='libz\.|libcrypto|libssl|hdf5|libzip|png|jpeg|plplot'
for program in mnist_embedded predict_once; do
  if ldd "$build/$program" | grep -E "$io_libraries"; then
    echo "check_embedded: $program, built on typenet alone, loads the libraries above" >&2
    exit 1
  fi
  echo "$program: $(ldd "$build/$program" | awk '{print $1}' | tr '\n' ' ')"
done
