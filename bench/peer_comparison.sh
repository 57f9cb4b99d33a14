#!/usr/bin/env bash
# Surrogate peers vs esm on the same features and folds, plus the wall time of `esm train`.
# Dataset: the synthetic tool (esm profile of 2,000 real archs takes far longer than this bench),
# ROWS rows, noise 0.03, seed 1. Features: fcc, 5 folds, seed 0. esm train: 5 folds x 5 members
# x 3 kinds (ridge, mlp, xgboost) on 2 ranks. Peers (bench/peer_comparison.py) run in the venv
# .bench-venv, created here with scikit-learn, xgboost and lightgbm when missing.
# Usage: bench/peer_comparison.sh   Env: ROWS (2000), VENV (/work/main/.bench-venv)
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
ROWS=${ROWS:-2000}
VENV=${VENV:-$ESM_ROOT/.bench-venv}
SYNTH=${SYNTH:-$ESM_ROOT/build/tests/esm_make_synthetic_dataset}
D=$BENCH_OUT/peer_D.h5; F=$BENCH_OUT/peer_F.csv; M=$BENCH_OUT/peer_M.h5
if ! "$VENV/bin/python" -c 'import sklearn, xgboost, lightgbm' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q numpy scipy scikit-learn xgboost lightgbm
fi
rm -f "$D" "$M"
"$SYNTH" "$D" "$ROWS" 0.03 1 > /dev/null
"$ESM" features --dataset "$D" --encoding fcc --folds 5 --seed 0 --out "$F"
wait_quiet
machine_line
echo "## esm train (mpirun -n 2, 5 folds x 5 members x 3 kinds), load before $(loadavg)"
t0=$(date +%s.%N)
mpirun -n 2 "$ESM" train --dataset "$D" --out "$M" --folds 5 --members 5 --seed 0 \
  --kinds ridge,mlp,xgboost
t1=$(date +%s.%N)
echo "# esm train wall: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s; load after $(loadavg)"
wait_quiet
echo "## peers, load before $(loadavg)"
"$VENV/bin/python" "$ESM_ROOT/bench/peer_comparison.py" "$F" --esm-cv "${M%.h5}.cv.csv"
echo "# load after $(loadavg)"
echo "# command: bench/peer_comparison.sh (ROWS=$ROWS)"
