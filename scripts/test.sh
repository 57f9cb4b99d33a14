#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: dependencies, build, every ctest label, then
# the hardening run (ASan + UBSan build: unit tests, a 2-rank quickstart, the fuzzers).
# ESM_SKIP_SANITIZE=1 leaves the hardening run out (a quicker local loop).
set -euo pipefail
cd "$(dirname "$0")/.."
ESM_WITH_SLURM=1 scripts/install-deps.sh
scripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
scripts/setup-analysis.sh
ctest --test-dir build --output-on-failure -j 2 --timeout 900
if [[ ${ESM_SKIP_SANITIZE:-0} != 1 ]]; then
  scripts/sanitize.sh
fi
