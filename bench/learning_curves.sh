#!/usr/bin/env bash
# Sample efficiency on GPU latencies measured by others (issue 28): learning curves of esm's
# surrogate on the HELP columns, with `esm loop` in pool mode (labels looked up in the imported
# column, never timed). For each column and seed, training sizes n in SIZES drawn four ways from
# the 5,000 pool archs: uniform random and depth-balanced (one loop iteration of loop.initial = n),
# and the loop's weighted and uncertainty strategies (one loop grown through loop.sizes = SIZES
# from a depth-balanced start). Every point is scored on all pool archs not used for training,
# overall and per depth bin (esm loop --scores); bench/learning_curves.py prints the tables, the
# ceiling (uniform at the largest n) and the n from which each policy is within 1 point of it.
#
# The model is deliberately cheap (KINDS=ridge, 5 folds for the loop's own judgement): 2 shared
# cores. Usage: bench/learning_curves.sh
# Env: SHARED (ESM_ROOT/../shared), COLUMNS (the six batch-32/64 columns and 2080ti_1), SEEDS (5),
#   SIZES ("10 20 50 100 200 500 1000 4000"), POLICIES, KINDS (ridge), ENCODING (fcc+extras),
#   FOLDS (5), ESM, BENCH_OUT
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
source "$(dirname "$0")/help_ofa_common.sh"
COLUMNS=${COLUMNS:-"2080ti_32 2080ti_64 titan_xp_32 titan_xp_64 v100_32 v100_64 2080ti_1"}
SEEDS=${SEEDS:-5}; SIZES=${SIZES:-"10 20 50 100 200 500 1000 4000"}
POLICIES=${POLICIES:-"uniform balanced weighted uncertainty"}
KINDS=${KINDS:-ridge}; ENCODING=${ENCODING:-fcc+extras}; FOLDS=${FOLDS:-5}
out=$BENCH_OUT/learning_curves/$ENCODING-$KINDS
mkdir -p "$out"
read -r -a sizes <<<"$SIZES"
rest=$(IFS=,; echo "${sizes[*]:1}")
cat >"$out/curve.ini" <<INI
[space]
name = ofa-mbv3
width = w1.2
[sample]
policy = balanced
seed = 0
[loop]
kinds = $KINDS
members = 1
folds = $FOLDS
encoding = $ENCODING
threshold = 1.0
budget = 5000
candidate_pool = 5000
INI

machine_line
echo "# esm loop pool mode, kinds $KINDS, encoding $ENCODING, $FOLDS folds; seeds 0..$((SEEDS - 1)); sizes $SIZES"
for c in $COLUMNS; do
  d=$out/$c
  rm -rf "$d" && mkdir -p "$d"
  help_import "$c" "$d/pool.h5"
  start=$SECONDS
  for p in $POLICIES; do
    for ((s = 0; s < SEEDS; ++s)); do
      loop=("$ESM" loop --config "$out/curve.ini" --loop.pool="$d/pool.h5" --sample.seed=$s --loop.seed=$s --scores "$d/$p.s$s.csv")
      case $p in
        uniform | balanced)
          for n in "${sizes[@]}"; do
            rm -f "$d/run.h5"
            "${loop[@]}" --output "$d/run.h5" --sample.policy=$p --loop.initial=$n --loop.max_iterations=1 >>"$d/$p.log"
          done ;;
        *)
          rm -f "$d/run.h5"
          "${loop[@]}" --output "$d/run.h5" --loop.strategy=$p --loop.initial="${sizes[0]}" --loop.sizes="$rest" \
            --loop.max_iterations=${#sizes[@]} >>"$d/$p.log" ;;
      esac
    done
  done
  rm -f "$d/run.h5"
  echo "# $c: $((SECONDS - start)) s, load $(loadavg)"
  python3 "$ESM_ROOT/bench/learning_curves.py" "$d"
done
