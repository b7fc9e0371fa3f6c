#!/bin/sh
# Compile time and peak compiler memory of embedded weights (export-cpp --embed-weights): the
# seed CNN's 1.2 M parameters and the MLP's 0.67 M, as NAME_parameters.cpp, with the flags of a
# release build; and a program's main that includes the header and predicts.
#   bench/embed_compile_cost.sh [BUILD_DIR]     (default build; needs bench/embed_compile_cost)
# Prints one line per file: embed_compile_NAME seconds=S peak_mib=M bytes=B
set -eu
build=${1:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/bench/embed_compile_cost" "$work"
flags=$(PKG_CONFIG_PATH="$build/meson-uninstalled" pkg-config --cflags typenet)
cxx=${CXX:-c++}
for name in SeedCnn Mlp; do
  cat > "$work/${name}_main.cpp" <<EOF
#include "$name.hpp"
#include <cstdio>
int main() {
  static const std::array<float, $name::input_size> image{};
  std::printf("%f\n", ${name}_net.predict(image)[0]);
}
EOF
  for file in "${name}_parameters" "${name}_main"; do
    /usr/bin/time -f "%e %M" -o "$work/time" $cxx -std=c++20 -O3 -DNDEBUG $flags \
      -c "$work/$file.cpp" -o "$work/$file.o"
    read -r seconds kib < "$work/time"
    echo "embed_compile_$file seconds=$seconds peak_mib=$((kib / 1024)) bytes=$(stat -c %s "$work/$file.cpp")"
  done
done
