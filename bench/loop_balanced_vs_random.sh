#!/usr/bin/env bash
# ESM's depth-weighted next batches against uniform ones: the same closed loop (jobs/loop-cpu.ini,
# CPU backend, 2 ranks) run twice, differing only in loop.strategy; prints for each how many
# archs it measured until every depth bin reached the threshold (or that the budget ran out).
# A few minutes on 2 cores. Extra arguments go to both loops (e.g. --loop.threshold=0.85).
#   bench/loop_balanced_vs_random.sh [--section.key=value ...]
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
RANKS=${ESM_BENCH_RANKS:-2}
CONFIG=${ESM_LOOP_CONFIG:-$ESM_ROOT/jobs/loop-cpu.ini}
OUT=$BENCH_OUT/loop_balanced_vs_random
mkdir -p "$OUT"

wait_quiet
machine_line
printf '%-10s %8s %12s %8s %s\n' strategy archs iterations wall_s outcome
for strategy in weighted random; do
  dataset=$OUT/$strategy.h5
  rm -f "$dataset" "$dataset.lock" "$dataset.partial"
  start=$(date +%s.%N)
  mpiexec -n "$RANKS" --oversubscribe "$ESM" loop --config "$CONFIG" --output "$dataset" \
    --loop.strategy="$strategy" "$@" > "$OUT/$strategy.log" 2>&1 || { cat "$OUT/$strategy.log"; exit 1; }
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  last=$(grep -E '^iter [0-9]+:' "$OUT/$strategy.log" | tail -1)
  archs=$(sed -E 's/^iter [0-9]+: ([0-9]+) archs.*/\1/' <<< "$last")
  iterations=$(($(grep -cE '^iter [0-9]+:' "$OUT/$strategy.log")))
  if grep -q 'stop: all ' <<< "$last"; then outcome="threshold reached"; else outcome="${last#*stop: }"; fi
  printf '%-10s %8s %12s %8.0f %s\n' "$strategy" "$archs" "$iterations" "$wall" "$outcome"
done
echo "# per-iteration lines: $OUT/{weighted,random}.log; datasets (with /loop): $OUT/*.h5; load $(loadavg)"
