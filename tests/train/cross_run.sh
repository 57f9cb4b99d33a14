#!/usr/bin/env bash
# esm train --validate-on: two real CPU profiles of the same 24 archs (the quick-start job made
# small: plain mode, 20 repetitions, no drift guard), a model trained on the first and scored on
# the second beside their test-retest gap (never 0 for real timings); the .cv.csv rows; an
# unreadable validation dataset exits 2 with one line and writes nothing.
#   cross_run.sh ESM MPIEXEC JOBS_DIR
set -euo pipefail
esm=$(realpath "$1") mpiexec=$2 jobs=$(realpath "$3")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
small=(--sample.count=24 --measure.mode=plain --measure.reps=20 --measure.drift_every=0)
for run in a b; do
  "$mpiexec" --oversubscribe -n 2 "$esm" profile --config "$jobs/quickstart-cpu.ini" "${small[@]}" --output $run.h5 \
    >$run.log 2>&1 || { echo "FAIL: esm profile $run"; tail -5 $run.log; exit 1; }
done
"$mpiexec" --oversubscribe -n 2 "$esm" train --dataset a.h5 --out m.h5 --kinds ridge,hybrid --folds 3 --members 1 \
  --validate-on b.h5 >train.log 2>&1 || { echo "FAIL: esm train --validate-on"; cat train.log; exit 1; }
cat train.log
expect() { grep -Eq -- "$1" "$2" || { echo "FAIL: $2 lacks /$1/"; cat "$2"; exit 1; }; }
expect '^folds: by row, stratified by depth bin$' train.log  # plain mode: no measuring groups
expect '^cross-run validation on b.h5 \(label trimmed_mean\): 24 archs in common with the training dataset, 0 new$' train.log
expect '^cross-run model vs B:   MAPE [0-9]+\.[0-9]{2}%, \+-10% [0-9.]+%, median signed error [-+][0-9.]+%, cov90% [0-9.]+$' train.log
expect '^cross-run retest A vs B: MAPE [0-9]+\.[0-9]{2}%, \+-10% [0-9.]+%, median signed error [-+][0-9.]+% \(A.s labels' train.log
expect '^cross-run ratio model/retest MAPE: [0-9]+\.[0-9]{2} \(1: as close to B as re-measuring' train.log
if grep -q '^cross-run retest A vs B: MAPE 0.00%' train.log; then echo "FAIL: two real runs measured identical labels"; exit 1; fi
if grep -q '^cross-run new archs' train.log; then echo "FAIL: new archs reported for the same plan"; exit 1; fi
expect '^crossrun,all,24,.*,rows$' m.cv.csv
expect '^retest,all,24,.*,rows$' m.cv.csv
expect '^stacked,all,24,' m.cv.csv
head -n 1 m.cv.csv | grep -q ',coverage_90,folds_by$' || { echo "FAIL: csv header"; head -n 1 m.cv.csv; exit 1; }

# Bad validation dataset: exit 2, one line from esm, no model or CV table written.
rc=0
"$esm" train --dataset a.h5 --out bad.h5 --kinds ridge --folds 3 --members 1 --validate-on missing.h5 >out.txt 2>err.txt || rc=$?
if [[ $rc -ne 2 || $(wc -l <err.txt) -ne 1 ]] || ! grep -q 'missing.h5' err.txt || [[ -e bad.h5 || -e bad.cv.csv ]]; then
  echo "FAIL ($rc): --validate-on missing.h5"; cat err.txt; exit 1
fi
echo "cross_run: ok"
