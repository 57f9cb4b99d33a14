#!/usr/bin/env bash
# esm train on 1 and 3 ranks: identical CV metrics and identical predictions (only the timing
# column may differ); then predict, features and bad inputs on the trained model.
set -euo pipefail
esm=$1 mpiexec=$2 make_dataset=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
mpirun() { "$mpiexec" --oversubscribe -n "$@"; }

"$make_dataset" data.h5 220 0.02 9
mpirun 1 "$esm" train --dataset data.h5 --out one.h5 --kinds ridge,xgboost,mlp,hybrid --folds 4 --members 2 --seed 5 >one.log
mpirun 3 "$esm" train --dataset data.h5 --out three.h5 --kinds ridge,xgboost,mlp,hybrid --folds 4 --members 2 --seed 5 >three.log
cut -d, -f1-10 one.cv.csv >one.metrics
cut -d, -f1-10 three.cv.csv >three.metrics
if ! cmp -s one.metrics three.metrics; then
  echo "FAIL: CV metrics differ between 1 and 3 ranks"; diff one.metrics three.metrics | head; exit 1
fi
grep -q "^ensemble,all," one.cv.csv || { echo "FAIL: no ensemble row"; exit 1; }

# Measuring groups (8 rows per reference reading sharing a 4% level error, as in interleaved
# profiles): the label correction's base fits are spread over the ranks too, and its numbers do
# not depend on the rank count; --group-effects off fits the labels as measured.
"$make_dataset" grouped.h5 160 0.01 4 0 0 8 0.04
for n in 1 3; do
  mpirun $n "$esm" train --dataset grouped.h5 --out g$n.h5 --kinds ridge,hybrid --folds 4 --members 2 --seed 5 >g$n.log
  cut -d, -f1-10 g$n.cv.csv >g$n.metrics
done
cmp -s g1.metrics g3.metrics || { echo "FAIL: grouped CV metrics differ between 1 and 3 ranks"; diff g1.metrics g3.metrics | head; exit 1; }
grep -q "^group effects: 20 measuring groups share a level error of" g1.log || { echo "FAIL: no group-effects line"; cat g1.log; exit 1; }
"$esm" train --dataset grouped.h5 --out goff.h5 --kinds ridge,hybrid --folds 4 --members 2 --seed 5 --group-effects off >goff.log
if grep -q "^group effects" goff.log || cmp -s g1.cv.csv goff.cv.csv; then
  echo "FAIL: --group-effects off still corrected the labels"; exit 1
fi
grep -q "+-10% accuracy per depth bin" one.log || { echo "FAIL: no per-bin table printed"; cat one.log; exit 1; }

"$esm" sample --space ofa-mbv3 --count 30 --seed 77 --out new.txt
"$esm" predict --model one.h5 --archs new.txt >p1.txt
"$esm" predict --model three.h5 --archs new.txt >p3.txt
cmp -s p1.txt p3.txt || { echo "FAIL: final models of 1 and 3 ranks predict differently"; exit 1; }
[[ $(wc -l <p1.txt) -eq 30 ]] || { echo "FAIL: predict printed $(wc -l <p1.txt) lines"; exit 1; }
"$esm" predict --model one.h5 --arch "$(head -n 1 new.txt)" --json | grep -q '"latency_ms"' || { echo "FAIL: json"; exit 1; }
"$esm" predict --model one.h5 --arch "$(head -n 1 new.txt)" --json | grep -q '"lo_ms": .*"hi_ms": .*"in_domain"' ||
  { echo "FAIL: json has no interval or domain"; exit 1; }
grep -q '^stacked *.* [0-9.]*$' one.log && grep -q 'cov90%' one.log || { echo "FAIL: no coverage column"; cat one.log; exit 1; }

# Out of the training domain: a model of r192 rows only flags an r212 arch (JSON, text, one
# stderr line with the count) and says nothing for an r192 one.
"$make_dataset" r192.h5 60 0.02 3 0 192
"$esm" train --dataset r192.h5 --out r192_model.h5 --kinds ridge --folds 3 --members 1 >/dev/null
inside=$("$esm" sample --space ofa-mbv3 --count 1 --seed 4 --width w1.2 --resolution 192)
outside=${inside/:r192:/:r212:}
printf '%s\n%s\n' "$inside" "$outside" >mixed.txt
"$esm" predict --model r192_model.h5 --archs mixed.txt --json >mixed.json 2>mixed.err
grep -c '"in_domain": false, "out_of_domain": \["resolution 212 outside 192..192"\]' mixed.json | grep -qx 1 ||
  { echo "FAIL: out-of-domain JSON"; cat mixed.json; exit 1; }
grep -qx 'esm predict: 1 of 2 archs are outside the training domain (.*resolutions 192..192.*)' mixed.err ||
  { echo "FAIL: out-of-domain stderr line"; cat mixed.err; exit 1; }
"$esm" predict --model r192_model.h5 --arch "$inside" 2>in.err | grep -vq OUTSIDE && [[ ! -s in.err ]] ||
  { echo "FAIL: an in-domain arch was flagged"; cat in.err; exit 1; }

"$esm" features --dataset data.h5 --encoding fcc --folds 4 --seed 5 --out f.csv
[[ $(wc -l <f.csv) -eq 221 ]] || { echo "FAIL: features rows $(wc -l <f.csv)"; exit 1; }
head -n 1 f.csv | grep -q '^arch,depth_bin,fold,target,s1.count' || { echo "FAIL: features header"; exit 1; }

# Exit code 2 and exactly one line from esm (mpirun adds its own notice about the exit code).
expect2() {
  local rc=0
  "$@" >out.txt 2>err.txt || rc=$?
  if [[ $rc -ne 2 || $(grep -c '^esm: ' err.txt) -ne 1 ]]; then echo "FAIL ($rc): $*"; cat err.txt; exit 1; fi
  if [[ $1 != mpirun && $(wc -l <err.txt) -ne 1 ]]; then echo "FAIL: more than one line: $*"; cat err.txt; exit 1; fi
}
expect2 "$esm" predict --model one.h5 --arch "ofa-resnet50:r192:d=0,0,0,0,0:w=0,0,0,0,0,0:e=20,20-20,20-20,20,20,20-20,20"
expect2 "$esm" predict --model data.h5 --archs new.txt
expect2 "$esm" predict --model nope.h5 --archs new.txt
expect2 "$esm" predict --model one.h5 --archs new.txt --reference-ms 3
expect2 "$esm" features --dataset data.h5 --encoding magic --out g.csv
expect2 mpirun 1 "$esm" train --dataset one.h5 --out x.h5
expect2 mpirun 1 "$esm" train --dataset data.h5 --out x.h5 --kinds forest
[[ ! -e x.h5 && ! -e g.csv ]] || { echo "FAIL: output written on error"; exit 1; }
echo "train_ranks: ok"
