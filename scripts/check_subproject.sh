#!/usr/bin/env bash
# Builds tests/subproject, a project of its own that takes typenet's four libraries by name
# (dependency('typenet'), 'typenet-io', 'typenet-keras', 'typenet-vis') with typenet as a
# subproject, runs its tests, and checks that the program built on `typenet` alone links none of
# the file formats' libraries.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$root/tests/subproject/." "$work/"
mkdir -p "$work/subprojects"
ln -s "$root" "$work/subprojects/typenet"
meson setup "$work/build" "$work" > "$work/setup.log" || { cat "$work/setup.log"; exit 1; }
ninja -C "$work/build" consumer consumer_io consumer_keras consumer_vis
meson test -C "$work/build" --print-errorlogs

io_libraries='libz\.|libcrypto|hdf5|libzip|png|jpeg|plplot'
if ldd "$work/build/consumer" | grep -E "$io_libraries"; then
  echo "check_subproject: consumer, built on typenet alone, loads the libraries above" >&2
  exit 1
fi
io_code='typenet::(io|vis|keras_detail)::|load_keras|load_mnist'
if nm -C "$work/build/consumer" | grep -E "$io_code"; then
  echo "check_subproject: consumer, built on typenet alone, holds the code above" >&2
  exit 1
fi
echo "consumer (typenet alone): $(ldd "$work/build/consumer" | awk '{print $1}' | tr '\n' ' ')"
