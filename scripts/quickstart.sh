#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: dependencies, build, then the CPU pipeline on the
# quickstart configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
esm=build/src/esm
out=${ESM_OUT:-out/quickstart}
mkdir -p "$out"

echo "== search spaces"
$esm spaces
echo "== a depth-balanced sample of ofa-mbv3 w1.2"
$esm sample --space ofa-mbv3 --width w1.2 --policy balanced --count 11 --seed 1 --out "$out/archs.txt"
cat "$out/archs.txt"
echo "== the network of the first one"
$esm describe --arch "$(head -n 1 "$out/archs.txt")" | tail -n 8
