#!/usr/bin/env bash
# A second writer is refused while a run holds the dataset; an existing file needs --resume; a
# resume with another configuration is refused and leaves the file untouched.
source "$(dirname "$0")/common.sh"

start_mpi 1 run1.log "$ESM" profile --config tiny.ini --run.chunk=1 --measure.reps=40
wait_for_table run1.log || { cat run1.log; fail "no rank table"; }
wait_for_done tiny.h5 1 || { cat run1.log; fail "no rows done in time"; }

run_mpi 1 "$ESM" profile --config tiny.ini --measure.reps=40 --resume > second.log 2>&1
rc=$?
[[ $rc == 2 ]] || { cat second.log; fail "second writer: exit code $rc, expected 2"; }
grep -q "being written by another run" second.log || { cat second.log; fail "no clear refusal"; }
grep -q "pid $(rank_pid run1.log 0)" second.log || { cat second.log; fail "refusal does not name the holder"; }

wait "$launcher" || { cat run1.log; fail "first run exited $?"; }
[[ $(count_status tiny.h5 done) == 8 ]] || fail "first run incomplete"

run_mpi 1 "$ESM" profile --config tiny.ini --measure.reps=40 > exists.log 2>&1
rc=$?
[[ $rc == 2 ]] || fail "existing file without --resume: exit code $rc, expected 2"
grep -q "exists: pass --resume" exists.log || { cat exists.log; fail "no clear message for an existing file"; }

sum_before=$(md5sum < tiny.h5)
run_mpi 1 "$ESM" profile --config tiny.ini --resume --measure.reps=4 > mismatch.log 2>&1
rc=$?
[[ $rc == 2 ]] || { cat mismatch.log; fail "mismatching resume: exit code $rc, expected 2"; }
grep -q "another configuration" mismatch.log || { cat mismatch.log; fail "no clear message for a mismatch"; }
[[ "$(md5sum < tiny.h5)" == "$sum_before" ]] || fail "a refused resume modified the file"
[[ -e tiny.h5.lock ]] && fail "a refused resume left a lock file"

run_mpi 1 "$ESM" profile --config tiny.ini --measure.reps=40 --resume > nothing.log 2>&1 || { cat nothing.log; fail "no-op resume failed"; }
grep -q "8 done, 0 to measure" nothing.log || { cat nothing.log; fail "no-op resume did not see the finished plan"; }
echo "second_writer: ok"
