#!/usr/bin/env bash
# Harness efficiency of `esm bench`: share of the wall time spent running the network
# ((warm-up + timed) / wall), with and without the one-off compile/setup, as esm reports it in
# its "harness" JSON object. One typical OFA-MBv3 w1.2 arch, 1 thread and the default (all cores).
# Usage: bench/harness_efficiency.sh   Env: RUNS (3), ARCH (default: sample seed 1, w1.2, r192)
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
RUNS=${RUNS:-3}
# one table row from esm bench's JSON on stdin; argv: threads run load1 nproc
ROW_PY=$(cat <<'PY'
import json, sys
h = json.load(sys.stdin)["harness"]
busy = h["warmup_ms"] + h["timed_ms"]
t = "1" if sys.argv[1] == "1" else "default (" + sys.argv[4] + ")"
print(f"| {t} | {sys.argv[2]} | {sys.argv[3]} | {h['compile_ms']:.0f} | {h['warmup_ms']:.0f} | "
      f"{h['timed_ms']:.0f} | {h['measure_wall_ms']:.0f} | {h['wall_ms']:.0f} | {h['efficiency']:.3f} | "
      f"{busy / h['measure_wall_ms']:.3f} |")
PY
)
ARCH=${ARCH:-$("$ESM" sample --space ofa-mbv3 --count 1 --seed 1 --width w1.2 --resolution 192)}
machine_line
echo "# arch: $ARCH"
echo "| threads | run | load1 | compile_ms | warmup_ms | timed_ms | measure_wall_ms | wall_ms | eff. incl. setup (esm) | eff. excl. setup |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for threads in 1 0; do
  for run in $(seq "$RUNS"); do
    wait_quiet
    l=$(load1)
    "$ESM" bench --arch "$ARCH" --backend cpu --threads "$threads" --json |
      python3 -c "$ROW_PY" "$threads" "$run" "$l" "$(nproc)"
  done
done
echo "# eff. incl. setup = esm's harness.efficiency = (warmup+timed)/wall_ms (wall includes compile);"
echo "# eff. excl. setup = (warmup+timed)/measure_wall_ms (wall of the measurement phase only)"
echo "# command: bench/harness_efficiency.sh (RUNS=$RUNS) -> esm bench --arch \"$ARCH\" --backend cpu --threads {1,0} --json"
