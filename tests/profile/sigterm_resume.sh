#!/usr/bin/env bash
# SIGTERM to every rank (what Slurm does) and SIGUSR1 to the launcher (forwarded by mpirun):
# both write what is final, release the lock and exit 3; --resume completes the plan.
source "$(dirname "$0")/common.sh"

start_mpi 2 run1.log "$ESM" profile --config tiny.ini --run.chunk=1 --measure.reps=40
wait_for_table run1.log || { cat run1.log; fail "no rank table"; }
wait_for_done tiny.h5 1 || { cat run1.log; fail "no rows done in time"; }
kill -TERM "$(rank_pid run1.log 0)" "$(rank_pid run1.log 1)"
wait "$launcher"
rc=$?
[[ $rc == 3 ]] || { cat run1.log; fail "SIGTERM: exit code $rc, expected 3"; }
grep -q "interrupted; continue with --resume" run1.log || fail "no interruption message"
[[ "$(attr tiny.h5 /runs/0/outcome)" == interrupted ]] || fail "run 0 not marked interrupted"
[[ -e tiny.h5.lock ]] && fail "lock file left after SIGTERM"
done1=$(count_status tiny.h5 done)
((done1 >= 1 && done1 < 8)) || fail "after SIGTERM $done1 rows done"

# 40 reps (was 15): the resumed run has only the rest to do, and at 15 reps it could finish before
# the signal landed (then mpirun, tearing down, dies of SIGUSR1 itself: exit 138, seen in CI).
start_mpi 2 run2.log "$ESM" profile --config tiny.ini --run.chunk=1 --measure.reps=40 --resume
wait_for_table run2.log || { cat run2.log; fail "no rank table (resume)"; }
wait_for_done tiny.h5 $((done1 + 1)) || { cat run2.log; fail "resume made no progress"; }
kill -USR1 "$launcher"
wait "$launcher"
rc=$?
if [[ $rc == 0 ]] || { [[ $rc == 138 ]] && grep -q "esm profile: complete" run2.log; }; then
  echo "note: the resumed run finished before SIGUSR1 arrived (exit $rc)"
else
  [[ $rc == 3 ]] || { cat run2.log; fail "SIGUSR1: exit code $rc, expected 3"; }
  [[ "$(attr tiny.h5 /runs/1/outcome)" == interrupted ]] || fail "run 1 not marked interrupted"
fi

run_mpi 2 "$ESM" profile --config tiny.ini --run.chunk=1 --measure.reps=40 --resume > run3.log 2>&1 ||
  { cat run3.log; fail "final resume exited $?"; }
[[ $(count_status tiny.h5 done) == 8 ]] || fail "not every row done at the end"
[[ $(ids tiny.h5 | sort -u | wc -l) == 8 ]] || fail "ids not unique"
echo "sigterm_resume: ok"
