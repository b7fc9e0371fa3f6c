#!/usr/bin/env bash
# Sets typenet up on a fresh Debian 12 machine: installs the Debian packages it needs
# (.ci/packages.txt and .ci/packages.d/*.txt), builds everything into build/, and makes sure MNIST
# is at hand (downloaded into ~/.cache/typenet/mnist unless $TYPENET_DATA already holds it).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=$(cat .ci/packages.txt .ci/packages.d/*.txt | sed 's/#.*//' | tr -s ' \n' '\n' | sort -u)
if ! dpkg -s $packages > /dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages
fi

[ -f build/build.ninja ] || meson setup build
ninja -C build

if [ -n "${TYPENET_DATA:-}" ]; then
  echo "MNIST: using TYPENET_DATA=$TYPENET_DATA"
elif ! scripts/fetch_mnist; then
  echo "MNIST could not be downloaded. Put the four MNIST files (plain or .gz) in a folder and" \
       "export TYPENET_DATA=that/folder (in the typenet sandbox: ../shared/data/mnist)." >&2
fi
