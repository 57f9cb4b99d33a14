#!/usr/bin/env bash
# The hardening run of CI (docs/reliability.md): clang with AddressSanitizer +
# UndefinedBehaviorSanitizer (preset asan, ./build-asan), then
#   1. the unit tests,
#   2. the quickstart pipeline on 2 MPI ranks (bench, profile, info, train, predict),
#   3. the bad-input corpus (tests/cli/bad_inputs.table: every command's error paths; a sanitizer
#      report there breaks the "exit 2, one stderr line" rule and fails the case),
#   4. every libFuzzer target for ESM_FUZZ_SECONDS (default 45) each.
# Open MPI's own leaks are suppressed by tests/sanitizers/lsan.supp; nothing of esm's is.
set -euo pipefail
cd "$(dirname "$0")/.."
ESM_WITH_SANITIZERS=1 scripts/install-deps.sh
cmake --preset asan >/dev/null
cmake --build build-asan -j "$(nproc)"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
source tests/sanitizers/env.sh

echo "== sanitize: unit tests"
# Left out here, run in the Release suite: the 5-fold CV of the self-tuning MLP (about 115 fits,
# 44 s in Release, over 10 minutes under ASan), and the determinism check that runs the tuned
# XGBoost's CV twice (28 s in Release at load 11, over 15 minutes under ASan since each run owns its
# tuning cache). The tuning and fitting code itself runs under ASan in the surrogate tests (Mlp.*,
# XGBoost.*, TuningKind.*: tuning, step budget, kernels, the caller-owned cache).
ctest --test-dir build-asan -L unit -j "$(nproc)" --output-on-failure --timeout 900 \
  -E '^Training\.(MlpReachesTenPercentOnNoiseFreeData|SameSeedSameNumbers)$'

echo "== sanitize: quickstart on 2 ranks"
tests/sanitizers/quickstart.sh build-asan/src/esm

echo "== sanitize: bad-input corpus"
tests/cli/bad_inputs.sh build-asan/src/esm "$(command -v mpirun)" build-asan/tests/esm_test_h5_set_attribute

echo "== sanitize: fuzzers, ${ESM_FUZZ_SECONDS:-45} s each"
tests/fuzz/run.sh build-asan "${ESM_FUZZ_SECONDS:-45}"
