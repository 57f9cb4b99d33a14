#!/usr/bin/env bash
# Few-shot transfer on HELP's GPU latencies (issue 29): leave one GPU out. The 9 columns of
# ../shared/data/help-ofa are imported and each trained on all its 5,000 archs (bench/help_ofa.sh
# with SEEDS=1: that model's 5-fold CV is the target's ceiling); for every target column the
# sources are the other two GPUs' models at all three batch sizes. esm_bench_transfer then runs
# K in KS, SEEDS seeds, random picks and esm select's picks, and scores adapt, the best source
# rescaled by one factor and a from-scratch ridge on compact features on every arch not picked.
# Ends with a CLI check on one target (esm select, esm import of the picks, esm adapt, esm
# predict): the command path gives the library path's figures. Tables: bench/transfer_tables.py.
#
# Usage: bench/transfer.sh   Env: SHARED (ESM_ROOT/../shared), KS (5,10,20,50,100), SEEDS (20),
#   TARGETS (all nine), ESM, BENCH_OUT; REUSE=1 keeps the imported datasets and source models
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
SHARED=${SHARED:-$ESM_ROOT/../shared}
export KS=${KS:-5,10,20,50,100} SEEDS=${SEEDS:-20}
ALL="2080ti_1 2080ti_32 2080ti_64 titan_xp_1 titan_xp_32 titan_xp_64 v100_1 v100_32 v100_64"
TARGETS=${TARGETS:-$ALL}
SWEEP=${SWEEP:-$(dirname "$ESM")/esm_bench_transfer}
src=$BENCH_OUT/help_ofa
out=$BENCH_OUT/transfer
mkdir -p "$out"
machine_line
if [[ -z ${REUSE:-} || ! -f $src/v100_64.s0.h5 ]]; then
  SHARED=$SHARED SEEDS=1 bash "$ESM_ROOT/bench/help_ofa.sh" >"$out/sources.txt"
fi
for t in $TARGETS; do
  models=()
  for c in $ALL; do [[ ${c%_*} == "${t%_*}" ]] || models+=("$src/$c.s0.h5"); done
  start=$(date +%s.%N)
  "$SWEEP" "$src/$t.h5" "${models[@]}" >"$out/$t.csv"
  echo "# $t: ${#models[@]} sources, KS=$KS, SEEDS=$SEEDS, $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e - s}') s, load $(loadavg)"
done

# The command path on one target: esm select 10 archs of the pool, esm import their latencies,
# esm adapt, esm predict on the whole pool; the MAPE on the archs not picked is printed.
t=${CHECK_TARGET:-titan_xp_64}
models=()
for c in $ALL; do [[ ${c%_*} == "${t%_*}" ]] || models+=(--model "$src/$c.s0.h5"); done
archs=$SHARED/data/help-ofa/archs.jsonl
table=$SHARED/data/help-ofa/latency_ms.csv
"$ESM" select "${models[@]}" --archs "$archs" --width w1.2 --count 10 --seed 0 --out "$out/picks.jsonl" >/dev/null
awk 'NR == FNR { want[$0] = 1; next } ($0 in want) { print FNR - 1 }' "$out/picks.jsonl" "$archs" >"$out/picks.index"
awk -F, 'NR == FNR { row[$1 + 1] = ++n; next } FNR == 1 { print; next } (FNR - 1 in row) { $1 = row[FNR - 1] - 1; print }' OFS=, \
  "$out/picks.index" "$table" >"$out/picks.csv"
"$ESM" import --archs "$out/picks.jsonl" --latencies "$out/picks.csv" --column "$t" --index-column arch_index \
  --space ofa-mbv3 --width w1.2 --device "target $t" --batch "${t##*_}" --source "HELP, data/ofa, MIT" --out "$out/target.h5" >/dev/null
"$ESM" adapt "${models[@]}" --dataset "$out/target.h5" --out "$out/target.model.h5" >"$out/adapt.txt"
"$ESM" info "$out/target.model.h5" >"$out/info.txt"
"$ESM" import --archs "$archs" --latencies "$table" --column "$t" --index-column arch_index --space ofa-mbv3 --width w1.2 \
  --device "target $t" --batch "${t##*_}" --source "HELP, data/ofa, MIT" --out "$out/full.h5" >/dev/null
"$ESM" features --dataset "$out/full.h5" --encoding fcc --out "$out/full.csv" >/dev/null
python3 "$ESM_ROOT/bench/transfer_tables.py" --check "$ESM" "$out" "$t"
python3 "$ESM_ROOT/bench/transfer_tables.py" "$src" "$out" $TARGETS
