#!/usr/bin/env bash
# Builds tests/subproject, a project of its own that takes typenet with dependency('typenet')
# as a subproject, and runs its test.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$root/tests/subproject/." "$work/"
mkdir -p "$work/subprojects"
ln -s "$root" "$work/subprojects/typenet"
meson setup "$work/build" "$work" > "$work/setup.log" || { cat "$work/setup.log"; exit 1; }
ninja -C "$work/build" consumer
meson test -C "$work/build" --print-errorlogs
