#!/usr/bin/env bash
# esm's reduction stage on GPU latencies measured by others (issue 28): the 5,000 once-for-all
# MobileNetV3 w1.2 archs of HELP (../shared/data/help-ofa/, MIT; 3 GPUs x batch 1, 32, 64), each
# column imported with `esm import`, then `esm train` 5-fold CV over SEEDS fold partitions. Prints
# one line per column: the stacked model's within ±5%, within ±10% and MAPE, mean and range over
# the partitions. With PEERS=1 every column also goes through bench/peer_repeat.sh (fair peers on the
# same folds; about 4-5 hours per column on a 2-core VM: see docs/lab/2026-12-07-fair-peers.md).
#
# Usage: bench/help_ofa.sh   Env: SHARED (ESM_ROOT/../shared), SEEDS (3), KINDS (ridge,hybrid),
#   MEMBERS (1), ENCODING (fcc+extras), COLUMNS (all nine), PEERS (empty), ESM, BENCH_OUT
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
source "$(dirname "$0")/help_ofa_common.sh"
SEEDS=${SEEDS:-3}; KINDS=${KINDS:-ridge,hybrid}; MEMBERS=${MEMBERS:-1}; ENCODING=${ENCODING:-fcc+extras}
COLUMNS=${COLUMNS:-"2080ti_1 2080ti_32 2080ti_64 titan_xp_1 titan_xp_32 titan_xp_64 v100_1 v100_32 v100_64"}
out=$BENCH_OUT/help_ofa
mkdir -p "$out"

machine_line
echo "# esm train --kinds $KINDS --members $MEMBERS --folds 5 --encoding $ENCODING, seeds 0..$((SEEDS - 1)); stacked model"
printf '%-12s %16s %16s %16s\n' column "+-5% (range)" "+-10% (range)" "MAPE% (range)"
for c in $COLUMNS; do
  d=$out/$c.h5
  help_import "$c" "$d"
  for ((s = 0; s < SEEDS; ++s)); do
    mpirun -n 2 "$ESM" train --dataset "$d" --out "$out/$c.s$s.h5" --kinds "$KINDS" --members "$MEMBERS" --folds 5 \
      --seed "$s" --encoding "$ENCODING" >"$out/$c.s$s.txt"
  done
  # The CV table esm train writes beside each model: model,bin,n,within_5,within_10,mape_percent,...
  for ((s = 0; s < SEEDS; ++s)); do awk -F, '$1 == "stacked" && $2 == "all"' "$out/$c.s$s.cv.csv"; done |
    awk -F, -v c="$c" '
      { w5[NR] = 100 * $4; w10[NR] = 100 * $5; m[NR] = $6 }
      function stat(a,   i, s, lo, hi) { lo = hi = a[1]; for (i = 1; i <= NR; ++i) { s += a[i]; if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
                                         return sprintf("%.2f (%.2f-%.2f)", s / NR, lo, hi) }
      END { printf "%-12s %16s %16s %16s\n", c, stat(w5), stat(w10), stat(m) }'
  if [[ -n ${PEERS:-} ]]; then
    KEEP=$out/$c.peers bash "$ESM_ROOT/bench/peer_repeat.sh" "$d" 5 trimmed "$ENCODING" >"$out/$c.peers.txt"
  fi
done
