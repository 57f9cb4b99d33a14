#!/usr/bin/env bash
# Test 2 of the two-host suite: a profile job on node1 and node2 (slurm/profile.sbatch, 2 ranks
# each) loses node1's ranks to kill -9 mid-run, which ends the job (srun --kill-on-bad-exit). A new
# job on node2 alone resumes the dataset. Rank 0 (on node1) held the run lock, so node2 finds a
# record of another host whose process it cannot check and whose heartbeat is fresh; Slurm reports
# the recorded job FAILED, so the lock is stale: taken over, with the reason printed. Then nothing
# is lost (every arch done), nothing is measured twice (the rows measured by both runs add up to the
# plan) and the rows done before the kill are byte-identical after the resume.
source "$(dirname "$0")/common.sh"
id=$(on node1 sbatch --parsable --chdir="$WORK" -N 2 --ntasks-per-node=2 --gpus-per-task=0 --cpus-per-task=1 \
  --output="$WORK/profile-%j.out" "$REPO/slurm/profile.sbatch" "${SYNTHETIC[0]}" data.h5 "${SYNTHETIC[@]:1}" \
  --sample.count=40 --run.synthetic_sleep_ms=150) || fail "sbatch"
wait_for_state "$id" RUNNING 60 || fail "the job never ran"
for _ in $(seq 240); do
  n=$(done_rows data.h5)
  [[ -n $n && $n -ge 8 ]] && break
  sleep 0.25
done
[[ -n $n && $n -ge 8 ]] || fail "fewer than 8 rows done after 60 s"
# node1's esm ranks: the esm processes inside node1's network namespace (this job's only ones).
victims=()
for pid in $(ip netns pids esm-node1); do
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$ESM" ]] && victims+=("$pid")
done
[[ ${#victims[@]} -eq 2 ]] || fail "expected 2 esm ranks on node1, found ${#victims[@]}"
kill -9 "${victims[@]}"
wait_for_state "$id" FAILED 60 || fail "the job did not end after node1's ranks were killed"
dump_rows data.h5 before || fail "h5dump after the kill"
kept=$(python3 "$REPO/tests/profile/scale_check.py" before.ids before.results --count-done)
((kept >= 8 && kept < 40)) || fail "expected a partial dataset after the kill, found $kept rows done"
[[ -e data.h5.lock ]] || fail "the killed run left no lock file"
grep -q '^host=node1$' data.h5.lock || fail "the lock does not name node1: $(cat data.h5.lock)"

# A new job on node2 alone: profile.sbatch resumes the dataset it finds.
id2=$(on node1 sbatch --parsable --chdir="$WORK" -w node2 -N 1 -n 2 --gpus-per-task=0 --cpus-per-task=1 \
  --output="$WORK/profile-%j.out" "$REPO/slurm/profile.sbatch" "${SYNTHETIC[0]}" data.h5 "${SYNTHETIC[@]:1}" --sample.count=40) ||
  fail "sbatch (resume)"
wait_for_state "$id2" COMPLETED 120 || fail "the resuming job did not complete"
log=$WORK/logs/esm-profile-$id2-task0.out
grep -qE "taking over the lock of a run that ended without releasing it \(host node1 pid [0-9]+ .*Slurm job $id\); Slurm reports job $id FAILED" "$log" ||
  fail "no takeover of node1's stale lock printed"
grep -qE "^esm profile: resuming data.h5: $kept done, $((40 - kept)) to measure" "$log" || fail "the resume did not start from the kept rows"
# The rerun's rank table: both ranks on node2.
[[ $(grep -cE '^#  Rank +[01] Pid +[0-9]+ on node2 +local [01]/2 ' "$log") == 2 ]] || fail "the resume's ranks are not both on node2"
dump_rows data.h5 after || fail "h5dump after the resume"
resumed=$(grep -oE '[0-9]+ rows measured in this run' "$log" | tail -n 1 | grep -oE '^[0-9]+')
python3 "$REPO/tests/profile/scale_check.py" after.ids after.results --measured "$((kept + resumed))" --kept before.results ||
  fail "rows lost, changed or measured twice"
[[ ! -e data.h5.lock ]] || fail "lock file left after the resume ended cleanly"
echo "multinode_resume: ok (job $id: $kept rows before node1's ranks died; job $id2: $resumed measured on node2)"
