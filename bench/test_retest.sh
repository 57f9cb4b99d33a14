#!/usr/bin/env bash
# Test-retest agreement of esm CPU timings: N ofa-mbv3 archs timed twice, >= GAP_S apart, with
# `esm bench --mode plain` and `--mode normalised` (bracketed by a fixed reference; the normalised
# value arch/reference is compared). Both modes run back to back per arch so they share drift.
# Usage: bench/test_retest.sh [all|run1|run2|report|prof1|prof2|report_prof]
#   all = run1, sleep GAP_S, run2, report. profN: the same archs through `esm profile` with
#   --measure.mode=interleaved (bench/retest-interleaved.ini, 1 rank, 1 thread).
# Env: COUNT (40), SEED (5), REPS (100; esm's default is 150, reduced for wall time), GAP_S (300).
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
COUNT=${COUNT:-40}; SEED=${SEED:-5}; REPS=${REPS:-100}; GAP_S=${GAP_S:-300}
DIR=$BENCH_OUT/test_retest; mkdir -p "$DIR"
ARCHS=$DIR/archs.txt

# gap_guard KIND N: the second measurement starts at least GAP_S after the first one ended.
gap_guard() {
  [[ $2 == 2 && -f $DIR/$1_1.end ]] || return 0
  local left=$(( $(cat "$DIR/$1_1.end") + GAP_S - $(date +%s) ))
  if (( left > 0 )); then echo "# waiting ${left}s for the ${GAP_S}s gap" >&2; sleep "$left"; fi
}

pass() {  # pass N -> $DIR/passN.csv
  local n=$1 out=$DIR/pass$1.csv
  gap_guard pass "$n"
  "$ESM" sample --space ofa-mbv3 --count "$COUNT" --seed "$SEED" --policy balanced > "$ARCHS"
  wait_quiet
  echo "# pass $n start $(date -u +%FT%TZ) load $(loadavg)" | tee "$DIR/pass$n.log"
  echo "arch,plain_ms,normalised,ref_ms,load1,unix_s" > "$out"
  while read -r a; do
    p=$("$ESM" bench --arch "$a" --threads 1 --reps "$REPS" --mode plain --json)
    q=$("$ESM" bench --arch "$a" --threads 1 --reps "$REPS" --mode normalised --json)
    python3 - "$a" "$(load1)" <<PY >> "$out"
import json, sys, time
p = json.loads('''$p'''); q = json.loads('''$q''')
print(f'"{sys.argv[1]}",{p["stats"]["trimmed_mean_ms"]},{q["reference"]["normalised"]},{q["reference"]["ms"]},{sys.argv[2]},{time.time():.0f}')
PY
  done < "$ARCHS"
  echo "# pass $n end $(date -u +%FT%TZ) load $(loadavg)" | tee -a "$DIR/pass$n.log"
  date +%s > "$DIR/pass_$n.end"
}

prof() {  # prof N: the same plan through `esm profile --measure.mode=interleaved` -> $DIR/profN.csv
  local n=$1 h5=$DIR/prof$1.h5
  rm -f "$h5"
  gap_guard prof "$n"
  wait_quiet
  echo "# prof $n start $(date -u +%FT%TZ) load $(loadavg)" | tee "$DIR/prof$n.log"
  mpirun -n 1 "$ESM" profile --config "$ESM_ROOT/bench/retest-interleaved.ini" --output "$h5" \
    --sample.count="$COUNT" --sample.seed="$SEED" --measure.reps="$REPS" >> "$DIR/prof$n.log" 2>&1
  echo "# prof $n end $(date -u +%FT%TZ) load $(loadavg)" | tee -a "$DIR/prof$n.log"
  date +%s > "$DIR/prof_$n.end"
  prof_export "$n"
}

prof_export() {  # rows esm features exports (it leaves out rows of drift windows that gave up)
  "$ESM" features --dataset "$DIR/prof$1.h5" --encoding fcc --folds 2 --label trimmed --out "$DIR/prof$1.features.csv"
  "$ESM" features --dataset "$DIR/prof$1.h5" --encoding fcc --folds 2 --label normalised --out "$DIR/prof$1.norm.csv"
}

report_prof() {
  prof_export 1; prof_export 2
  python3 - "$DIR" <<'PY'
import csv, sys, os
sys.path.insert(0, os.environ['ESM_ROOT'] + '/bench')
from bench_stats import spearman, within
d = sys.argv[1]
for label, suffix in (('interleaved, trimmed ms', 'features'), ('interleaved, normalised', 'norm')):
    a, b = ({r['arch']: float(r['target']) for r in csv.DictReader(open(f'{d}/prof{i}.{suffix}.csv'))} for i in (1, 2))
    keys = sorted(set(a) & set(b))
    x = [a[k] for k in keys]; y = [b[k] for k in keys]
    mad = sum(abs(v / u - 1) for u, v in zip(x, y)) / len(x)
    print(f'| {label} (esm profile; {len(keys)} of {len(a)}/{len(b)} exported rows) | {within(x, y):.0%} | {mad:.1%} | {spearman(x, y):.3f} |')
PY
}

report() {
  python3 - "$DIR" <<'PY'
import csv, sys, os
sys.path.insert(0, os.environ['ESM_ROOT'] + '/bench')
from bench_stats import spearman, within
d = sys.argv[1]
rows = [list(csv.DictReader(open(f'{d}/pass{i}.csv'))) for i in (1, 2)]
a, b = rows
assert [r['arch'] for r in a] == [r['arch'] for r in b]
gap = (float(b[0]['unix_s']) - float(a[-1]['unix_s'])) / 60
print(f'archs {len(a)}; gap between end of pass 1 and start of pass 2: {gap:.1f} min')
print(f'pass 1 load1 range {min(float(r["load1"]) for r in a):.2f}..{max(float(r["load1"]) for r in a):.2f}; '
      f'pass 2 {min(float(r["load1"]) for r in b):.2f}..{max(float(r["load1"]) for r in b):.2f}')
print('| mode | within ±10% | mean abs diff | Spearman (pass1 vs pass2) |')
print('|---|---|---|---|')
for mode, key in (('plain (ms)', 'plain_ms'), ('normalised (arch/ref)', 'normalised'), ('reference alone (ms)', 'ref_ms')):
    x = [float(r[key]) for r in a]; y = [float(r[key]) for r in b]
    mad = sum(abs(v / u - 1) for u, v in zip(x, y)) / len(x)
    print(f'| {mode} | {within(x, y):.0%} | {mad:.1%} | {spearman(x, y):.3f} |')
PY
}

case ${1:-all} in
  run1) pass 1 ;;
  run2) pass 2 ;;
  prof1) prof 1 ;;
  prof2) prof 2 ;;
  report_prof) report_prof ;;
  report) report ;;
  all) pass 1; echo "# sleeping ${GAP_S}s"; sleep "$GAP_S"; pass 2; report ;;
esac
echo "# command: bench/test_retest.sh $* (COUNT=$COUNT SEED=$SEED REPS=$REPS GAP_S=$GAP_S)"
