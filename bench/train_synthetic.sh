#!/usr/bin/env bash
# esm train at scale: a 100,000-row synthetic dataset made by a real `esm profile --backend
# synthetic` run (jobs/scale-synthetic.ini, no sleep), then `esm train --allow-synthetic` on 2
# ranks with the default kinds, folds and members; wall time and peak memory (GNU time: the largest
# rank's maximum RSS) of both, with the load average. Not a ctest.
#   bench/train_synthetic.sh [ROWS] [KINDS]      (default 100000 rows, esm train's default kinds)
set -uo pipefail
source "$(dirname "$0")/bench_common.sh"
out=$BENCH_OUT/train-synthetic
mkdir -p "$out"
rows=${1:-100000}
kinds=(${2:+--kinds "$2"})
h5=$out/synthetic-$rows.h5 model=$out/model-$rows.h5
rm -f "$h5" "$h5.lock" "$model"
machine_line | tee "$out/summary.txt"
timed() {  # $1 label, then the command; GNU time's figures go to $out/$1.time
  local label=$1 load
  shift
  load=$(loadavg)
  /usr/bin/time -f "%e s wall, %M KiB max RSS (largest process), %U s user, %S s system" -o "$out/$label.time" "$@" \
    > "$out/$label.log" 2>&1 || { echo "FAIL: $label: $(tail -3 "$out/$label.log")"; exit 1; }
  echo "$label: $(cat "$out/$label.time")  (load before: $load)" | tee -a "$out/summary.txt"
}
timed profile mpirun -n 2 "$ESM" profile --config "$ESM_ROOT/jobs/scale-synthetic.ini" --sample.count="$rows" \
  --run.synthetic_sleep_ms=0 --output "$h5" --timings
grep -E 'complete:|timings' "$out/profile.log" | tee -a "$out/summary.txt"
timed train mpirun -n 2 "$ESM" train --dataset "$h5" --out "$model" --allow-synthetic "${kinds[@]}"
sed -n '1,6p' "$out/train.log" | tee -a "$out/summary.txt"
echo "command: bench/train_synthetic.sh $rows ${2:-}" | tee -a "$out/summary.txt"
