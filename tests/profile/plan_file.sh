#!/usr/bin/env bash
# sample.policy = file: esm profile measures the archs of a file, every one once, in file order, on
# 2 ranks (synthetic backend); kill -9 of a rank then --resume, --resume of a complete dataset, and
# --resume with a changed file refused (its SHA-256 is in the config hash). Then, where the shared
# HELP data is present, the first 10 once-for-all configs of its archs.jsonl the same way.
#   plan_file.sh ESM MPIEXEC H5DUMP [SHARED_DIR]
source "$(dirname "$0")/common.sh"
SHARED=${4:-}

# 10 esm texts, reversed so that file order is not the sampler's.
"$ESM" sample --space ofa-mbv3 --count 10 --width w1.0 --resolution 128 --seed 7 --policy uniform | tac > archs.txt
[[ $(wc -l < archs.txt) == 10 ]] || fail "esm sample gave $(wc -l < archs.txt) archs"
# 4 timed passes of 150 ms per arch: about 3 s on 2 ranks, time enough to kill one mid-run.
cat > plan.ini <<'INI'
[space]
name = ofa-mbv3
width = w1.0
[sample]
policy = file
file = archs.txt
[measure]
reps = 3
warmup_runs = 1
warmup_ms = 0
drift_every = 0
[backend]
name = synthetic
[output]
path = plan.h5
[run]
chunk = 1
flush_interval_s = 0
progress_interval_s = 0
synthetic_sleep_ms = 150
INI

start_mpi 2 run1.log "$ESM" profile --config plan.ini
wait_for_table run1.log || { cat run1.log; fail "no rank table"; }
wait_for_done plan.h5 2 || { cat run1.log; fail "no rows done in time"; }
kill -9 "$(rank_pid run1.log 1)"
wait "$launcher" && echo "note: the run ended before the kill landed (the resume below then resumes a complete file)"
done_before=$(count_status plan.h5 done)
((done_before < 10)) || echo "note: all 10 rows were done before the kill"

run_mpi 2 "$ESM" profile --config plan.ini --resume --run.synthetic_sleep_ms=0 > run2.log 2>&1 ||
  { cat run2.log; fail "resume exited $?"; }
check_complete plan.h5 10
texts plan.h5 > rows.txt
cmp -s rows.txt archs.txt || { diff archs.txt rows.txt; fail "/archs/text is not the file's archs in file order"; }
"$ESM" info plan.h5 --provenance > info.txt || fail "esm info"
grep -q "^ *policy = file$" info.txt || fail "provenance lacks policy = file"
grep -q "^ *file_sha256 = $(sha256sum archs.txt | cut -d' ' -f1)$" info.txt || fail "provenance lacks the file's SHA-256"
grep -q "^ *count = 10$" info.txt || fail "the resolved count is not the file's"
"$ESM" info plan.h5 | grep -q "10 archs, from archs.txt (sha256 " || fail "esm info does not name the plan's file"

# A complete dataset resumes to nothing.
run_mpi 2 "$ESM" profile --config plan.ini --resume > run3.log 2>&1 || { cat run3.log; fail "resume of a complete dataset exited $?"; }
grep -q "0 rows measured in this run" run3.log || { cat run3.log; fail "resume of a complete dataset measured again"; }

# The same path, another content: refused, the dataset untouched.
sum=$(sha256sum plan.h5)
{ head -9 archs.txt; "$ESM" sample --space ofa-mbv3 --count 1 --width w1.0 --resolution 128 --seed 8; } > changed.txt
mv changed.txt archs.txt
run_mpi 2 "$ESM" profile --config plan.ini --resume > run4.log 2>&1 && fail "a resume with a changed sample.file was accepted"
grep -q "another configuration" run4.log || { cat run4.log; fail "the changed file was not refused for its configuration"; }
[[ $(sha256sum plan.h5) == "$sum" ]] || fail "the refused resume changed plan.h5"
echo "plan_file: esm texts ok ($done_before rows done before the kill)"

# Once-for-all configs (the shared HELP archs; they are w1.2 and carry their resolution).
help=$SHARED/data/help-ofa/archs.jsonl
if [[ -z $SHARED || ! -f $help ]]; then
  echo "plan_file: OFA configs skipped (no ${help})"
  exit 0
fi
head -10 "$help" > ofa.jsonl
run_mpi 2 "$ESM" profile --config plan.ini --output ofa.h5 --sample.file=ofa.jsonl --space.width=w1.2 \
  --run.synthetic_sleep_ms=0 > run5.log 2>&1 || { cat run5.log; fail "OFA configs exited $?"; }
check_complete ofa.h5 10
# Row i is line i: the same resolution and stage depths.
texts ofa.h5 | sed -E 's/^ofa-mbv3:w1\.2:r([0-9]+):d=([0-9,]+):.*/\1 \2/' > got.txt
sed -E 's/.*"d": \[([0-9, ]+)\].*"r": ([0-9]+).*/\2 \1/; s/, /,/g' ofa.jsonl > want.txt
cmp -s got.txt want.txt || { paste want.txt got.txt; fail "OFA rows are not the file's configs in file order"; }
echo "plan_file: OFA configs ok"
