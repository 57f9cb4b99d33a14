#!/usr/bin/env bash
# esm select and esm adapt end to end on esm's own measurements (issue 29): the source device is
# this CPU in fp32 with 1 oneDNN thread per rank, the "new device" the same CPU with 2 threads on one
# rank (TARGET=threads) or in bf16 with 1 thread per rank (TARGET=bf16, issue 30's precision).
# A pool of N archs is profiled on the source (2 ranks) and trained on; esm select picks K of the
# pool; those K are profiled on the target; esm adapt fits the target's model; a full profile of
# the pool on the target scores it on the archs not picked, beside the best source rescaled by one
# factor (esm adapt's rescaled_best_source row) and a model trained on the whole target profile
# (its 5-fold CV). Label: normalised (crossed mode, jobs/quickstart-cpu.ini's measurement).
#
# Usage: bench/transfer_cpu.sh   Env: N (150), K (10), SEED (0), TARGET (threads | bf16), REPS (the
#   job's 200; fewer for a short run), ESM, BENCH_OUT (output in BENCH_OUT/transfer_cpu[_bf16])
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
N=${N:-150}; K=${K:-10}; SEED=${SEED:-0}; TARGET=${TARGET:-threads}
ESM=$(realpath "$ESM")  # the script works in its output folder
case $TARGET in
  threads) target_ranks=1 target_threads=2 target_precision=fp32 out=$BENCH_OUT/transfer_cpu ;;
  bf16) target_ranks=2 target_threads=1 target_precision=bf16 out=$BENCH_OUT/transfer_cpu_bf16 ;;
  *) echo "bench/transfer_cpu.sh: TARGET must be threads or bf16, not '$TARGET'" >&2; exit 2 ;;
esac
mkdir -p "$out"
cd "$out"
job=$ESM_ROOT/jobs/quickstart-cpu.ini
profile() {  # RANKS THREADS PRECISION ARCHS COUNT OUT
  mpirun -n "$1" --oversubscribe "$ESM" profile --config "$job" --backend.threads="$2" --backend.precision="$3" \
    ${REPS:+--measure.reps="$REPS"} --sample.policy=file --sample.file="$4" --sample.count="$5" --output "$6" >"$6.log" 2>&1 ||
    { tail -5 "$6.log"; exit 1; }
}
stamp() { echo "# $(date -u +%H:%M:%SZ) load $(loadavg): $*"; }
machine_line
rm -f source.h5 target-full.h5 target-picks.h5
"$ESM" sample --space ofa-mbv3 --count "$N" --width w1.0 --resolution 128 --seed 11 --out pool.txt >/dev/null
stamp "profile the source: $N archs, 2 ranks x 1 thread, fp32${REPS:+, $REPS reps}"
profile 2 1 fp32 pool.txt "$N" source.h5
"$ESM" train --dataset source.h5 --out source.model.h5 --label normalised --encoding fcc+extras --kinds ridge,hybrid \
  --members 1 >source.train.txt
stamp "esm select $K"
"$ESM" select --model source.model.h5 --archs pool.txt --count "$K" --seed "$SEED" --out picks.txt
stamp "profile the $K picks on the target: $target_ranks rank(s) x $target_threads thread(s), $target_precision"
profile "$target_ranks" "$target_threads" "$target_precision" picks.txt "$K" target-picks.h5
"$ESM" adapt --model source.model.h5 --dataset target-picks.h5 --label normalised --out target.model.h5 | tee adapt.txt
stamp "profile the whole pool on the target (the score)"
profile "$target_ranks" "$target_threads" "$target_precision" pool.txt "$N" target-full.h5
mpirun -n 2 --oversubscribe "$ESM" train --dataset target-full.h5 --out target-full.model.h5 --label normalised \
  --encoding fcc+extras --kinds ridge,hybrid --members 1 >target-full.train.txt
stamp "score"
"$ESM" features --dataset target-full.h5 --encoding fcc --label normalised --out target-full.csv >/dev/null
sed -n '2,$s/^"\([^"]*\)".*/\1/p' target-full.csv >texts.txt
sed -n '2,$s/^"[^"]*",[^,]*,[^,]*,\([^,]*\),.*/\1/p' target-full.csv >truth.txt
# Normalised predictions in units of the target's reference latency: compare ratios with ratios.
"$ESM" predict --model target.model.h5 --archs texts.txt --reference-ms 1 >pred.txt 2>/dev/null
"$ESM" predict --model source.model.h5 --archs texts.txt --reference-ms 1 >source-pred.txt 2>/dev/null
score() {  # PREDICTIONS: +-10% and MAPE on the archs not picked
  paste -d' ' <(awk '{print $1}' "$1") truth.txt texts.txt | awk 'NR == FNR { picked[$0] = 1; next }
    !($3 in picked) { n++; r = $1 / $2 - 1; if (r < 0) r = -r; s += r; if (r <= 0.10) ok++ }
    END { printf "n %d  +-10%% %.1f%%  MAPE %.2f%%", n, 100 * ok / n, 100 * s / n }' picks.txt -
  echo
}
echo "adapted (K=$K) on the archs not picked: $(score pred.txt)"
python3 - <<'PY'  # Spearman and the 90% interval's coverage of the adapted model on the same archs
import re
texts = [l.strip() for l in open("texts.txt")]
truth = [float(l) for l in open("truth.txt")]
picks = {l.strip() for l in open("picks.txt")}
rows = [re.match(r"(\S+) ms \+- \S+\s+\[(\S+), (\S+)\]", l).groups() for l in open("pred.txt")]
idx = [i for i, t in enumerate(texts) if t not in picks]
def ranks(v):
    r = [0] * len(v)
    for k, i in enumerate(sorted(range(len(v)), key=lambda i: v[i])): r[i] = k
    return r
p, t = ranks([float(rows[i][0]) for i in idx]), ranks([truth[i] for i in idx])
n = len(idx); mp = sum(p) / n; mt = sum(t) / n
rho = sum((a - mp) * (b - mt) for a, b in zip(p, t)) / (sum((a - mp) ** 2 for a in p) * sum((b - mt) ** 2 for b in t)) ** 0.5
cov = sum(float(rows[i][1]) <= truth[i] <= float(rows[i][2]) for i in idx) / n
print(f"adapted: Spearman {rho:.3f}, 90% interval coverage {100 * cov:.1f}% on the {n} archs not picked")
PY
echo "source model as is (fp32, 1 thread) on the same archs: $(score source-pred.txt)"
grep -E "^leave-one-out" adapt.txt
echo "target trained on all $N (5-fold CV, stacked): $(awk -F, '$1 == "stacked" && $2 == "all" {printf "+-10%% %.1f%%  MAPE %.2f%%  Spearman %.3f", 100 * $5, $6, $10}' target-full.model.cv.csv)"
