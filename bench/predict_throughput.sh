#!/usr/bin/env bash
# Batched surrogate predict throughput (rows/s) with esm_bench_predict (bench/surrogate_throughput.cpp:
# default ensemble, 100 one-hot features, one core). RUNS runs per batch size.
# Usage: bench/predict_throughput.sh   Env: RUNS (3), BATCHES ("1024 65536"), SECONDS_MIN (2)
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
PRED=${PRED:-$ESM_ROOT/build/src/esm_bench_predict}
RUNS=${RUNS:-3}; BATCHES=${BATCHES:-"1024 65536"}; SECONDS_MIN=${SECONDS_MIN:-2}
machine_line
echo "| batch_rows | run | load1 | model | rows/s (wall) | rows/CPU-s | ns/row | check within ±10% |"
echo "|---|---|---|---|---|---|---|---|"
for b in $BATCHES; do
  for run in $(seq "$RUNS"); do
    wait_quiet
    l=$(load1)
    out=$("$PRED" "$b" "$SECONDS_MIN")
    get() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<< "$out" | head -1; }
    echo "| $b | $run | $l | $(get model) x$(get members) | $(get rows_per_s) | $(get rows_per_cpu_s) | $(get ns_per_row) | $(get check_within_10) |"
  done
done
echo "# command: bench/predict_throughput.sh (RUNS=$RUNS BATCHES=\"$BATCHES\" SECONDS_MIN=$SECONDS_MIN)"
