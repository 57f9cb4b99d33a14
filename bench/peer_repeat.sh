#!/usr/bin/env bash
# esm against fair peers over repeated fold partitions (issue 27 "Peers"; issue 28 reuses it on
# imported GPU labels). For each fold seed s: `esm features --seed s` and `esm train --seed s` with
# the same --folds, --encoding and --label (both sides use surrogate::stratified_folds(depth bins,
# folds, seed) on the same rows: the same folds), then bench/peer_comparison.py --fair on those
# folds (esm's logged columns, ridge, SVR, bagged early-stopped XGBoost and LightGBM, an nnls-stacked
# peer, a peer selected on inner CV). bench/peer_repeat.py prints one table: per seed, and the
# paired difference esm - peer over seeds with its standard error.
#
# Group effects are off on both sides (`esm train --group-effects off`). There is no option to give
# both sides the correction: `esm features` does not export measuring groups or corrected labels, so
# a peer cannot be given it.
#
# Usage: bench/peer_repeat.sh DATASET [SEEDS=5] [LABEL=trimmed] [ENCODING=fcc+extras] [KINDS=esm's default]
#   SEEDS: a count (seeds 0..SEEDS-1) or a quoted list ("3 4 5").
# Env: ESM (build/src/esm), RANKS (2), FOLDS (5), MEMBERS (5), THREADS (1: peers' threads per fit;
#      scores do not depend on it), VENV (ESM_ROOT/.bench-venv), KEEP (a folder to keep the per-seed files in),
#      ALLOW_SYNTHETIC (non-empty: pass --allow-synthetic to esm train; for timing runs only),
#      CHEAP (non-empty: peer_comparison.py --fair --cheap, a cheaper peer set for 5,000-row tables)
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
D=${1:?usage: bench/peer_repeat.sh DATASET [SEEDS] [LABEL] [ENCODING] [KINDS]}
SEEDS=${2:-5}; LABEL=${3:-trimmed}; ENCODING=${4:-fcc+extras}; KINDS=${5:-}
RANKS=${RANKS:-2}; FOLDS=${FOLDS:-5}; MEMBERS=${MEMBERS:-5}; THREADS=${THREADS:-1}
VENV=${VENV:-$ESM_ROOT/.bench-venv}
[[ -f $D ]] || { echo "peer_repeat: no dataset at $D" >&2; exit 2; }
[[ $SEEDS =~ ^[0-9]+$ ]] && SEEDS=$(seq -s' ' 0 $((SEEDS - 1)))
if ! "$VENV/bin/python" -c 'import sklearn, xgboost, lightgbm, scipy' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q numpy scipy scikit-learn xgboost lightgbm
fi
if [[ -n ${KEEP:-} ]]; then work=$KEEP; mkdir -p "$work"; else
  work=$(mktemp -d "$BENCH_OUT/peer_repeat.XXXXXX"); trap 'rm -rf "$work"' EXIT; fi
kinds_arg=(); [[ -n $KINDS ]] && kinds_arg=(--kinds "$KINDS")
[[ -n ${ALLOW_SYNTHETIC:-} ]] && kinds_arg+=(--allow-synthetic)  # timing runs on esm_make_synthetic_dataset only
now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }

machine_line
echo "# dataset $D ($(realpath "$D")), label $LABEL, encoding $ENCODING, $FOLDS folds, fold seeds: $SEEDS"
echo "# esm: $ESM ($("$ESM" --version 2>&1 | head -1); dataset made by $("$ESM" info "$D" 2>/dev/null | sed -n 's/^made by *//p' | head -1); trains with mpirun -n $RANKS, $MEMBERS members, kinds ${KINDS:-default}, --group-effects off)"
echo "# peers: $("$VENV/bin/python" -c 'import sklearn, xgboost, lightgbm, scipy; print(f"scikit-learn {sklearn.__version__}, xgboost {xgboost.__version__}, lightgbm {lightgbm.__version__}, scipy {scipy.__version__}")'), $THREADS thread(s) per fit"
t_all=$(now)
for s in $SEEDS; do
  l0=$(loadavg); t0=$(now)
  "$ESM" features --dataset "$D" --encoding "$ENCODING" --label "$LABEL" --folds "$FOLDS" --seed "$s" \
    --out "$work/s$s.features.csv" >/dev/null
  t1=$(now)
  mpirun -n "$RANKS" "$ESM" train --dataset "$D" --out "$work/s$s.h5" --label "$LABEL" --encoding "$ENCODING" \
    --folds "$FOLDS" --members "$MEMBERS" --seed "$s" --group-effects off "${kinds_arg[@]}" > "$work/s$s.train.txt"
  t2=$(now)
  "$VENV/bin/python" "$ESM_ROOT/bench/peer_comparison.py" "$work/s$s.features.csv" --fair ${CHEAP:+--cheap} --seed "$s" \
    --threads "$THREADS" --json "$work/s$s.peers.json" > "$work/s$s.peers.txt"
  t3=$(now)
  echo "# seed $s: esm features $(dt "$t0" "$t1") s, esm train $(dt "$t1" "$t2") s, peers $(dt "$t2" "$t3") s; load before $l0, after $(loadavg)"
done
echo "# total $(dt "$t_all" "$(now)") s"
echo
"$VENV/bin/python" "$ESM_ROOT/bench/peer_repeat.py" "$work"
echo
echo "# command: ESM=$ESM bench/peer_repeat.sh $D \"$SEEDS\" $LABEL $ENCODING ${KINDS:-}"
echo "# per seed: esm features --dataset D --encoding $ENCODING --label $LABEL --folds $FOLDS --seed s --out F.csv;" \
     "mpirun -n $RANKS esm train --dataset D --out M.h5 --label $LABEL --encoding $ENCODING --folds $FOLDS" \
     "--members $MEMBERS --seed s --group-effects off ${kinds_arg[*]};" \
     "peer_comparison.py F.csv --fair ${CHEAP:+--cheap }--seed s --threads $THREADS"
