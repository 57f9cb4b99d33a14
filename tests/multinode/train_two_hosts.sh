#!/usr/bin/env bash
# Test 3 of the two-host suite: `esm train` over 4 ranks on two hosts (srun -N 2, 2 ranks each)
# writes the same CV table and the same model as over 4 ranks on one host (srun -N 1 -n 4): the
# fold and member fits are spread by rank, their seeds depend on the fold and member alone, and
# the results are gathered in a fixed order, so where a rank runs changes nothing. The tolerance is
# zero: the metric columns must be byte-identical (the timing column is left out) and the two
# models must predict byte-identical texts. Extra argument: $4 esm_make_synthetic_dataset.
source "$(dirname "$0")/common.sh"
make_dataset=$(realpath "${4:?usage: train_two_hosts.sh ESM H5DUMP SKIP_FILE MAKE_DATASET}")
"$make_dataset" data.h5 160 0.02 9 >/dev/null || fail "making the dataset"
train() {  # NAME SRUN-OPTIONS...
  local name=$1
  shift
  on node1 srun --mpi=pmix --kill-on-bad-exit=1 "$@" "$ESM" train --dataset data.h5 --out "$name.h5" \
    --kinds ridge,xgboost,mlp --folds 4 --members 1 --seed 5 >"$name.log" 2>&1 || { cat "$name.log"; fail "esm train ($name)"; }
}
train two -N 2 --ntasks-per-node=2
train one -N 1 -n 4 --overcommit -w node1
for name in one two; do cut -d, -f1-10 "$name.cv.csv" >"$name.metrics"; done
grep -q '^ensemble,all,' one.metrics || fail "no ensemble row in the CV table"
cmp -s one.metrics two.metrics || { diff one.metrics two.metrics | head; fail "the CV tables of one host and two hosts differ"; }
"$ESM" sample --space ofa-mbv3 --count 20 --seed 77 --out new.txt
"$ESM" predict --model one.h5 --archs new.txt >one.pred && "$ESM" predict --model two.h5 --archs new.txt >two.pred ||
  fail "esm predict"
cmp -s one.pred two.pred || fail "the models of one host and two hosts predict differently"
echo "multinode_train: ok (CV table and predictions identical on 1 and 2 hosts, 4 ranks each)"
