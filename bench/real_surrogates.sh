#!/usr/bin/env bash
# Surrogates on real measured labels (issue 15): esm profile of COUNT depth-balanced ofa-mbv3 w1.2
# archs (resolutions sampled 128..224) on this machine's CPU, MODE, REPS repetitions, 2 ranks x 1
# thread; then esm train --label LABEL (5 folds) and the tuned peers (bench/peer_comparison.py,
# inner-CV grids) on esm features of the same rows and folds. One fold partition moves a tuned
# model's MAPE by several percent: bench/xgboost_vs_peer.sh compares over five.
# Not in CI: the profile takes ~7 minutes (crossed, REPS=200) on a quiet 2-core machine.
# Defaults since 2026-12-07: the crossed mode at 200 repetitions (100 per pass; the drift guard is
# off in that mode) and its fitted label `normalised`: labels with about half the noise of
# interleaved ones at 100-150 reps, in less wall time than interleaved at 200
# (docs/lab/2026-12-07-200-repetitions.md#2026-12-07-200-repetitions-interleaved-and-crossed).
# Usage: bench/real_surrogates.sh [profile|train|all]  Env: COUNT (440), REPS (200), SEED (15),
#        ENCODING (fcc+extras), MODE (crossed; or interleaved, with LABEL=interleaved),
#        LABEL (normalised), VENV (ESM_ROOT/.bench-venv), DATASET (out/bench/real_D.h5)
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
STEP=${1:-all}
COUNT=${COUNT:-440}; REPS=${REPS:-200}; SEED=${SEED:-15}; ENCODING=${ENCODING:-fcc+extras}; LABEL=${LABEL:-normalised}; MODE=${MODE:-crossed}
VENV=${VENV:-$ESM_ROOT/.bench-venv}
D=${DATASET:-$BENCH_OUT/real_D.h5}
F=$BENCH_OUT/real_F_$ENCODING.csv; M=$BENCH_OUT/real_M_$ENCODING.h5

if [[ $STEP == profile || $STEP == all ]]; then
  wait_quiet
  machine_line
  echo "## esm profile: $COUNT balanced ofa-mbv3 w1.2 archs, $MODE, $REPS reps, 2 ranks; load before $(loadavg)"
  t0=$(date +%s)
  mpirun -n 2 "$ESM" profile --config "$ESM_ROOT/bench/retest-interleaved.ini" --output "$D" \
    --sample.count="$COUNT" --sample.seed="$SEED" --space.width=w1.2 --measure.mode="$MODE" --measure.reps="$REPS" \
    --run.progress_interval_s=120
  echo "# profile wall: $(( $(date +%s) - t0 )) s; load after $(loadavg)"
  "$ESM" info "$D" | head -20
fi

if [[ $STEP == train || $STEP == all ]]; then
  if ! "$VENV/bin/python" -c 'import sklearn, xgboost, lightgbm' 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q numpy scipy scikit-learn xgboost lightgbm
  fi
  machine_line
  "$ESM" features --dataset "$D" --encoding "$ENCODING" --label "$LABEL" --folds 5 --seed 0 --out "$F"
  echo "## esm train --label $LABEL --encoding $ENCODING (mpirun -n 2, 5 folds x 5 members); load before $(loadavg)"
  t0=$(date +%s.%N)
  mpirun -n 2 "$ESM" train --dataset "$D" --out "$M" --label "$LABEL" --encoding "$ENCODING" --folds 5 \
    --members 5 --seed 0 ${KINDS:+--kinds "$KINDS"}
  t1=$(date +%s.%N)
  echo "# esm train wall: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s; load after $(loadavg)"
  echo "## tuned peers (inner-CV grids), load before $(loadavg)"
  "$VENV/bin/python" "$ESM_ROOT/bench/peer_comparison.py" "$F" --tuned --esm-cv "${M%.h5}.cv.csv"
  echo "# load after $(loadavg)"
fi
if [[ $STEP == train ]]; then  # the profile's COUNT, REPS, SEED and MODE are the dataset's, not these
  echo "# command: bench/real_surrogates.sh train (DATASET=$D ENCODING=$ENCODING LABEL=$LABEL)"
else
  echo "# command: bench/real_surrogates.sh $STEP (COUNT=$COUNT REPS=$REPS SEED=$SEED MODE=$MODE ENCODING=$ENCODING LABEL=$LABEL)"
fi
