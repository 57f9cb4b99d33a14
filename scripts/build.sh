#!/usr/bin/env bash
# Configures and builds esm into ./build (Release, tests on). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
warnings=OFF
[[ -n ${CI:-} ]] && warnings=ON
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DESM_WARNINGS_AS_ERRORS=$warnings "$@" >/dev/null
cmake --build build -j "$(nproc)"
