#!/usr/bin/env bash
# Cross-run validation (issue 27): profile a plan twice (A, then its re-measurement B with the
# measuring groups redrawn), then `esm train` on A scored on B's labels beside the A-vs-B
# test-retest gap. Also prints each run's wall time and timed share (esm info).
# Usage: bench/cross_run.sh [all|profile NAME GROUP_SEED|train A B|report A B]
#   all: profile A (group seed 1), profile B (group seed 2), train A B.
# Env: SEED (plan seed, 11), COUNT (440), REPS (100), RANKS (2), TAG (run name prefix, "run"),
#   LABELS ("normalised interleaved"), ENCODING (fcc+extras), KINDS (esm's default).
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
SEED=${SEED:-11}; COUNT=${COUNT:-440}; REPS=${REPS:-100}; RANKS=${RANKS:-2}; TAG=${TAG:-run}
LABELS=${LABELS:-normalised interleaved}; ENCODING=${ENCODING:-fcc+extras}
DIR=$BENCH_OUT/cross_run; mkdir -p "$DIR"

profile() {  # profile NAME GROUP_SEED -> $DIR/NAME.h5, NAME.log
  local name=$1 g=$2 h5=$DIR/$1.h5
  rm -f "$h5"
  wait_quiet
  { machine_line; echo "# profile $name: seed $SEED, count $COUNT, reps $REPS, group_seed $g, $RANKS ranks"; } \
    | tee "$DIR/$name.log"
  local t0; t0=$(date +%s.%N)
  mpirun -n "$RANKS" --oversubscribe "$ESM" profile --config "$ESM_ROOT/bench/cross-run.ini" \
    --output "$h5" --sample.seed="$SEED" --sample.count="$COUNT" --measure.reps="$REPS" \
    --measure.group_seed="$g" >> "$DIR/$name.log" 2>&1
  echo "# profile $name end $(date -u +%FT%TZ) load $(loadavg) wall $(echo "$(date +%s.%N) - $t0" | bc) s" \
    | tee -a "$DIR/$name.log"
  "$ESM" info "$h5" > "$DIR/$name.info.txt"
  grep -iE "timed share|re-measured|drift|threshold" "$DIR/$name.info.txt" | head -20 || true
}

train() {  # train A B: a model per label on A, scored on B
  local a=$1 b=$2
  for label in $LABELS; do
    local out=$DIR/$a-on-$b.$label
    echo "# train $a, validate on $b, label $label, encoding $ENCODING $(date -u +%FT%TZ) load $(loadavg)"
    mpirun -n "$RANKS" --oversubscribe "$ESM" train --dataset "$DIR/$a.h5" --validate-on "$DIR/$b.h5" \
      --label "$label" --encoding "$ENCODING" ${KINDS:+--kinds "$KINDS"} --out "$out.model.h5" \
      > "$out.log" 2>&1
    grep -E "^(kind|all|crossrun|retest)|cross-run|test-retest" "$out.log" | head -20 || true
  done
  report "$a" "$b"
}

report() {  # report A B: the cross-run rows of each label's .cv.csv
  local a=$1 b=$2
  for label in $LABELS; do
    local csv=$DIR/$a-on-$b.$label.model.cv.csv
    [[ -f $csv ]] || continue
    python3 - "$csv" "$label" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["bin"] == "all"]
print(f"# label {sys.argv[2]}: {sys.argv[1]} (stacked: CV on A; crossrun: the model on B; retest: A's labels on B)")
cols = ["model", "n", "mape_percent", "within_10", "within_5", "spearman_rho", "coverage_90", "folds_by"]
print(",".join(cols))
for r in rows:
    if r["model"] in ("stacked", "crossrun", "retest", "crossrun_new"):
        print(",".join(r[c] for c in cols))
by = {r["model"]: r for r in rows}
if "crossrun" in by and "retest" in by:
    ratio = float(by["crossrun"]["mape_percent"]) / float(by["retest"]["mape_percent"])
    print(f"# cross-run MAPE / test-retest gap: {ratio:.3f} (target <= 0.85); cross-run within +-10%: "
          f"{100 * float(by['crossrun']['within_10']):.1f}% (target >= 98%)")
PY
  done
}

case ${1:-all} in
  all) profile "${TAG}A" 1; profile "${TAG}B" 2; train "${TAG}A" "${TAG}B" ;;
  profile) profile "$2" "$3" ;;
  train) train "$2" "$3" ;;
  report) report "$2" "$3" ;;
  *) echo "usage: $0 [all|profile NAME GROUP_SEED|train A B|report A B]" >&2; exit 2 ;;
esac
