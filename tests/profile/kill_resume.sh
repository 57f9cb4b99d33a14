#!/usr/bin/env bash
# kill -9 of one rank mid-run, then --resume: every arch exactly once with status done, and the
# rows written before the kill byte-identical afterwards (h5dump's raw bytes); the resume keeps the
# dataset's measuring groups (drawn with its seed and size) even when asked for another chunk.
source "$(dirname "$0")/common.sh"

start_mpi 2 run1.log "$ESM" profile --config tiny.ini --run.chunk=1 --measure.reps=40
wait_for_table run1.log || { cat run1.log; fail "no rank table"; }
wait_for_done tiny.h5 2 || { cat run1.log; fail "no rows done in time"; }
kill -9 "$(rank_pid run1.log 1)"
wait "$launcher" && fail "the launcher exited 0 after a rank was killed"

before=()
for i in $(seq 0 7); do
  if [[ $(row_status tiny.h5 "$i") == done ]]; then
    dump_row tiny.h5 "$i" "before.$i" || fail "h5dump of row $i"
    before+=("$i")
  fi
done
((${#before[@]} >= 2)) || fail "expected at least 2 rows done before the kill, found ${#before[@]}"
((${#before[@]} < 8)) || fail "the run finished before the kill: nothing tested"
[[ -n "$(attr tiny.h5 /active_run)" ]] || fail "the killed run left no active_run marker"

run_mpi 2 "$ESM" profile --config tiny.ini --run.chunk=3 --measure.reps=40 --resume > run2.log 2>&1 ||
  { cat run2.log; fail "resume exited $?"; }
grep -q "chunk 1 (groups drawn with seed 0)" run2.log || { cat run2.log; fail "the resume did not keep the groups of 1"; }
[[ "$(attr tiny.h5 /group_size)" == 1 && "$(attr tiny.h5 /group_seed)" == 0 ]] || fail "group_size/group_seed not recorded"
grep -q "taking over the lock" run2.log || fail "resume did not report the stale lock"
[[ $(count_status tiny.h5 done) == 8 ]] || fail "not every row done after resume"
[[ $(ids tiny.h5 | sort -u | wc -l) == 8 ]] || fail "ids not unique"
for i in "${before[@]}"; do
  dump_row tiny.h5 "$i" "after.$i"
  for part in results samples results.txt samples.txt; do
    cmp -s "before.$i.$part" "after.$i.$part" || fail "row $i changed on resume ($part)"
  done
done
[[ "$(attr tiny.h5 /runs/0/outcome)" == running ]] || fail "run 0 should stay marked running (killed)"
[[ "$(attr tiny.h5 /runs/1/outcome)" == complete ]] || fail "run 1 should be complete"
"$H5DUMP" -A tiny.h5 | grep -q '"active_run"' && fail "active_run marker left after a clean end"
[[ -e tiny.h5.lock ]] && fail "lock file left after a clean end"
echo "kill_resume: ok (${#before[@]} rows kept byte-identical)"
