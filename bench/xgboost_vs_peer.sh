#!/usr/bin/env bash
# esm's XGBoost kind against a tuned XGBoost (bench/peer_comparison.py --tuned: GridSearchCV over
# depth, learning rate and min_child_weight, 600 trees, the bench venv's xgboost) on the same
# esm features and the same folds, repeated over several fold seeds (repeated k-fold CV). One
# partition's score moves by up to ±8% of the MAPE with the folds and inner splits it happens to
# draw, as much as the gaps being compared; the mean over SEEDS less so
# (docs/lab/2026-12-07-xgboost-vs-tuned-peer.md#2026-12-07-esms-xgboost-kind-against-a-tuned-xgboost-on-a-quieter-host).
# Not in CI: about 25 s per seed on 440 rows, 2 cores.
# Usage: DATASET=out/bench/real_X7.h5 bench/xgboost_vs_peer.sh
# Env: SEEDS ("0 1 2 3 4"), ENCODING (fcc+extras), LABEL (normalised; interleaved for interleaved
#      datasets), FOLDS (5), MEMBERS (5), VENV (ESM_ROOT/.bench-venv)
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
D=${DATASET:?DATASET=path/to/profile.h5 is required}
SEEDS=${SEEDS:-0 1 2 3 4}; ENCODING=${ENCODING:-fcc+extras}; LABEL=${LABEL:-normalised}
FOLDS=${FOLDS:-5}; MEMBERS=${MEMBERS:-5}; VENV=${VENV:-$ESM_ROOT/.bench-venv}
[[ -f $D ]] || { echo "xgboost_vs_peer: no dataset at $D" >&2; exit 2; }
if ! "$VENV/bin/python" -c 'import sklearn, xgboost' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q numpy scipy scikit-learn xgboost lightgbm
fi
work=$(mktemp -d "$BENCH_OUT/xgb_vs_peer.XXXXXX")
trap 'rm -rf "$work"' EXIT
wait_quiet
machine_line
echo "# dataset $D, label $LABEL, encoding $ENCODING, $FOLDS folds, esm $MEMBERS members; peer xgboost $("$VENV/bin/python" -c 'import xgboost; print(xgboost.__version__)')"
echo "| fold seed | esm XGBoost kind MAPE | tuned XGBoost MAPE | esm / peer |"
echo "|---|---|---|---|"
for s in $SEEDS; do
  "$ESM" features --dataset "$D" --encoding "$ENCODING" --label "$LABEL" --folds "$FOLDS" --seed "$s" --out "$work/F.csv" >/dev/null
  mpirun -n 2 "$ESM" train --dataset "$D" --out "$work/M.h5" --label "$LABEL" --encoding "$ENCODING" --folds "$FOLDS" \
    --members "$MEMBERS" --seed "$s" --kinds xgboost >/dev/null
  esm=$(awk -F, '$1 == "xgboost" && $2 == "all" {print $6}' "$work/M.cv.csv")
  peer=$("$VENV/bin/python" "$ESM_ROOT/bench/peer_comparison.py" "$work/F.csv" --tuned --only "XGBoost" --seed "$s" |
         awk -F'|' '/^\| XGBoost/ {gsub(/[ %]/, "", $3); print $3}')
  echo "| $s | $(printf %.3f "$esm")% | $(printf %.3f "$peer")% | $(awk -v a="$esm" -v b="$peer" 'BEGIN{printf "%.3f", a/b}') |"
  echo "$esm $peer" >> "$work/pairs"
done
awk '{e += $1; p += $2; r = $1 / $2; sr += r; srr += r * r; n++}
     END {m = sr / n; sd = n > 1 ? sqrt((srr - n * m * m) / (n - 1)) : 0;
          printf "| mean of %d | %.3f%% | %.3f%% | %.3f (sd %.3f, se %.3f) |\n", n, e / n, p / n, (e / n) / (p / n), sd, sd / sqrt(n)}' "$work/pairs"
echo "# load after $(loadavg)"
echo "# command: DATASET=$D SEEDS=\"$SEEDS\" ENCODING=$ENCODING LABEL=$LABEL bench/xgboost_vs_peer.sh"
