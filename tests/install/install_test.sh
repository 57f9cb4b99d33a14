#!/usr/bin/env bash
# The exported package: `cmake --install` the build into a fresh prefix, configure and build
# tests/install/consumer (find_package(esm), esm::train) against it, and check that its
# esm::predictor gives the installed `esm predict`'s latency for a model and arch.
# Usage: install_test.sh BUILD_DIR GENERATOR
set -euo pipefail
build=$1 generator=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/esm_install.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$work/prefix" > "$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }
for f in bin/esm include/esm/predictor.hpp lib/cmake/esm/esmConfig.cmake lib/cmake/esm/esmConfigVersion.cmake \
  lib/cmake/esm/esmTargets.cmake; do
  [[ -e "$work/prefix/$f" ]] || fail "the install has no $f"
done
cmake -S "$here/consumer" -B "$work/consumer" -G "$generator" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/configure.log" 2>&1 || { cat "$work/configure.log"; fail "configure"; }
cmake --build "$work/consumer" > "$work/build.log" 2>&1 || { cat "$work/build.log"; fail "build"; }

model=$here/../fuzz/corpus/model_file/ridge-fcc.h5
arch=$("$work/prefix/bin/esm" sample --space ofa-mbv3 --count 1 --seed 2)
read -r mine spread < <("$work/consumer/esm_consumer" "$model" "$arch") || fail "esm_consumer failed"
theirs=$("$work/prefix/bin/esm" predict --model "$model" --arch "$arch" --json |
  sed -E 's/.*"latency_ms": ([^,]+),.*/\1/')
# esm predict prints 6 significant digits.
awk -v a="$mine" -v b="$theirs" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= 1e-5 * b) }' ||
  fail "esm_consumer predicts $mine ms, esm predict $theirs ms"
# A version the package does not claim (0.x: the minor must match) is refused.
mkdir -p "$work/newer" && sed 's/find_package(esm 0.1 REQUIRED)/find_package(esm 0.2 REQUIRED)/' "$here/consumer/CMakeLists.txt" \
  > "$work/newer/CMakeLists.txt" && cp "$here/consumer/main.cpp" "$work/newer/"
if cmake -S "$work/newer" -B "$work/newer/build" -G "$generator" -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/newer.log" 2>&1; then
  fail "find_package(esm 0.2) accepted the 0.1 package"
fi
echo "install: ok (esm::predictor from the installed package: $mine ms, esm predict: $theirs ms)"
