#!/usr/bin/env bash
# The crossed mode end to end on 2 ranks: with run.chunk and measure.drift_every left unset, each
# rank measures one full window of interleave_group^2 archs (both passes) with the drift guard off,
# every row gets its fitted label, and esm train finds no measuring groups to correct on it.
#   crossed_defaults.sh ESM MPIEXEC [H5DUMP]
source "$(dirname "$0")/common.sh"

cat > crossed.ini <<'INI'
[space]
name = ofa-mbv3
width = w1.0
resolution = 128
[sample]
policy = balanced
count = 18
seed = 4
[measure]
mode = crossed
reps = 4
warmup_runs = 1
warmup_ms = 0
burst_reps = 1
bracket_reps = 1
interleave_group = 3
[backend]
name = cpu
threads = 1
[output]
path = crossed.h5
[run]
flush_interval_s = 0
progress_interval_s = 0
INI

run_mpi 2 "$ESM" profile --config crossed.ini > profile.log 2>&1 || { cat profile.log; fail "crossed profile"; }
grep -q "chunk 9" profile.log || { cat profile.log; fail "a chunk is not one 3^2-arch window"; }
"$ESM" info crossed.h5 > info.txt || fail "esm info"
grep -q "drift=off" info.txt || { cat info.txt; fail "the drift guard is on in crossed mode"; }
grep -q "mode=crossed" info.txt || fail "policy text lacks mode=crossed"
grep -Eq "done +18 +failed +0 +pending +0" info.txt || { cat info.txt; fail "not every row done"; }
"$ESM" features --dataset crossed.h5 --label normalised --encoding fcc --out f.csv || fail "features"
[[ $(wc -l < f.csv) -eq 19 ]] || fail "features: not a header and 18 labelled rows"
run_mpi 2 "$ESM" train --dataset crossed.h5 --label normalised --kinds ridge --folds 3 --members 1 --out m.h5 \
  > train.log 2>&1 || { cat train.log; fail "esm train"; }
if grep -q "^group effects" train.log; then cat train.log; fail "measuring groups formed on a crossed dataset"; fi
echo "crossed_defaults: ok"
