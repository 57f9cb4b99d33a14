#!/usr/bin/env bash
# Configures and builds esm into ./build (Release, tests on). Extra arguments go to cmake.
# Env: ESM_BUILD_TARGETS (space-separated) builds only those targets (the quickstart needs `esm`).
set -euo pipefail
cd "$(dirname "$0")/.."
warnings=OFF
[[ -n ${CI:-} ]] && warnings=ON
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DESM_WARNINGS_AS_ERRORS=$warnings "$@" >/dev/null
targets=()
for t in ${ESM_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build build -j "$(nproc)" "${targets[@]}"
