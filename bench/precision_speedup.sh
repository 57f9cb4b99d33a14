#!/usr/bin/env bash
# bf16 and int8 speed-ups over fp32 on the oneDNN backend, per space: ARCHS archs per space
# (esm sample, seed 1, the space's default width and resolution), each timed with esm bench in
# fp32, bf16 and int8 on one thread, precisions interleaved per arch and their order rotated per
# round so that load drift falls on all three alike. A speed-up is fp32 / P of the same arch,
# trimmed means of REPS timed passes; the table gives their geometric mean, min and max per space.
# Usage: bench/precision_speedup.sh   Env: ARCHS (6), ROUNDS (2), REPS (60), THREADS (1),
#   SPACES ("ofa-mbv3 ofa-resnet50 densenet": one space a run keeps each run short enough for a quiet window)
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
ARCHS=${ARCHS:-6} ROUNDS=${ROUNDS:-2} REPS=${REPS:-60} THREADS=${THREADS:-1}
SPACES=${SPACES:-ofa-mbv3 ofa-resnet50 densenet}
raw=$BENCH_OUT/precision_speedup_${SPACES// /_}.tsv
: >"$raw"
machine_line
wait_quiet
echo "# $(lscpu | grep -o 'avx512_bf16\|avx512_vnni\|avx_vnni\|amx_bf16\|amx_int8' | sort -u | tr '\n' ' ')(lscpu flags)"
precisions=(fp32 bf16 int8)
for space in $SPACES; do
  "$ESM" sample --space "$space" --count "$ARCHS" --seed 1 >"$BENCH_OUT/precision_archs_$space.txt"
  while read -r arch; do
    for round in $(seq "$ROUNDS"); do
      for k in 0 1 2; do
        p=${precisions[$(((k + round) % 3))]}
        ms=$("$ESM" bench --arch "$arch" --precision "$p" --threads "$THREADS" --reps "$REPS" --json |
          python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["stats"]["trimmed_mean_ms"], d["backend"]["description"].split(", kernels ")[1].replace(" ", "_"))')
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$space" "$arch" "$round" "$p" "${ms% *}" "${ms#* }" >>"$raw"
      done
    done
  done <"$BENCH_OUT/precision_archs_$space.txt"
done
echo "# load after: $(loadavg)"
python3 - "$raw" <<'PY'
import collections, math, statistics, sys
ms = collections.defaultdict(list)  # (space, arch, precision) -> trimmed means over rounds
kernels = {}
for line in open(sys.argv[1]):
    space, arch, _, p, t, k = line.rstrip("\n").split("\t")
    ms[(space, arch, p)].append(float(t))
    kernels[(space, p)] = k
print("| space | archs | fp32 ms (median) | bf16 speed-up: geo. mean (min-max) | int8 speed-up: geo. mean (min-max) |")
print("|---|---|---|---|---|")
for space in sorted({s for (s, a, p) in ms}):
    archs = sorted({a for (s, a, p) in ms if s == space})
    fp32 = {a: statistics.median(ms[(space, a, "fp32")]) for a in archs}
    cells = []
    for p in ("bf16", "int8"):
        s = [fp32[a] / statistics.median(ms[(space, a, p)]) for a in archs]
        geo = math.exp(sum(map(math.log, s)) / len(s))
        cells.append(f"{geo:.2f}x ({min(s):.2f}-{max(s):.2f})")
    print(f"| {space} | {len(archs)} | {statistics.median(fp32.values()):.2f} | {cells[0]} | {cells[1]} |")
for (space, p), k in sorted(kernels.items()):
    print(f"# kernels {space} {p} (last arch): {k.replace('_x', ' x').replace(',_', ', ')}")
PY
echo "# command: bench/precision_speedup.sh (SPACES=\"$SPACES\" ARCHS=$ARCHS ROUNDS=$ROUNDS REPS=$REPS THREADS=$THREADS) -> esm bench --arch A --precision {fp32,bf16,int8} --threads $THREADS --reps $REPS --json"
