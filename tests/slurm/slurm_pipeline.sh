#!/usr/bin/env bash
# esm's Slurm scripts on a real single-node Slurm (scripts/slurm-cluster.sh): pipeline.sh runs
# profile (2 tasks, srun + PMIx) then train with afterok; then the signal path: USR1 to a running
# profile.sbatch makes the ranks checkpoint (exit 3), the script requeues the job and the
# requeued job resumes the dataset to completion. Every daemon started is stopped by pid.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
esm=$(realpath "${1:?usage: slurm_pipeline.sh ESM}")
command -v slurmctld >/dev/null || { echo "SKIP: slurm-wlm not installed"; exit 77; }
[[ $(id -u) -eq 0 ]] || { echo "SKIP: the test cluster needs root"; exit 77; }
work=$(mktemp -d /tmp/esm-slurm.XXXXXX)
cleanup() {
  [[ -n ${SLURM_CONF:-} ]] && scancel --full "$(squeue -h -o %i | tr '\n' ' ')" 2>/dev/null || true
  "$repo/scripts/slurm-cluster.sh" stop "$work/cluster" || true
  [[ ${ESM_KEEP_TEST_DIR:-0} == 1 ]] || rm -rf "$work"
}
trap cleanup EXIT
eval "$("$repo/scripts/slurm-cluster.sh" start "$work/cluster")"
export ESM=$esm ESM_GPUS_PER_TASK=0 ESM_PROFILE_TASKS=2 ESM_TRAIN_TASKS=2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive

state_of() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n 1; }
wait_for() {  # JOBID STATE TIMEOUT_S
  local s
  for _ in $(seq $(( $3 * 2 ))); do
    s=$(state_of "$1")
    [[ $s == "$2" ]] && return 0
    [[ $s == FAILED || $s == CANCELLED || $s == TIMEOUT || $s == NODE_FAIL ]] && { echo "job $1 ended $s"; return 1; }
    sleep 0.5
  done
  echo "job $1 still $s after $3 s"; return 1
}
fail() { echo "FAIL: $*"; for f in "$work"/out/*.out "$work"/sig/*.out "$work"/*/logs/*; do [[ -f $f ]] && { echo "== $f"; tail -n 20 "$f"; }; done; exit 1; }

# The shipped quickstart job as it was before it turned crossed (128 archs, 200 repetitions): 32
# archs, plain, 30 repetitions, drift guard every 6. Same file name: the outputs are named after it.
job=$work/quickstart-cpu.ini
sed -e 's/^count = .*/count = 32/' -e 's/^mode = .*/mode = plain/' -e 's/^reps = .*/reps = 30/' \
  -e 's/^drift_every = .*/drift_every = 6/' "$repo/jobs/quickstart-cpu.ini" >"$job"
for line in 'count = 32' 'mode = plain' 'reps = 30' 'drift_every = 6'; do
  grep -qx "$line" "$job" || fail "jobs/quickstart-cpu.ini changed shape (no '$line' after sed)"
done

# 1. pipeline: profile -> train (afterok)
"$repo/slurm/pipeline.sh" "$job" "$work/out" | tee "$work/pipeline.txt"
profile_id=$(awk '/profile job/ {print $3}' "$work/pipeline.txt")
train_id=$(awk '/train job/ {print $3}' "$work/pipeline.txt")
[[ -n $profile_id && -n $train_id ]] || fail "pipeline.sh printed no job ids"
scontrol show job "$train_id" | grep -q "Dependency=afterok:$profile_id" || fail "train does not depend on profile"
wait_for "$profile_id" COMPLETED 300 || fail "profile job"
wait_for "$train_id" COMPLETED 180 || fail "train job"
"$esm" info "$work/out/quickstart-cpu.h5" | grep -q "done 32 " || fail "dataset incomplete"
"$esm" predict --model "$work/out/quickstart-cpu.model.h5" --arch "$("$esm" sample --space ofa-mbv3 --width w1.0 --count 1 --seed 99)" \
  | grep -q " ms " || fail "predict"
ls "$work"/out/logs/esm-profile-*-task0.out "$work"/out/logs/esm-profile-*-task1.out >/dev/null || fail "no per-task logs"

# 2. signal path: USR1 -> checkpoint (exit 3) -> requeue -> resume -> complete
mkdir -p "$work/sig"
sig_id=$(sbatch --parsable --chdir="$work/sig" --ntasks=2 --gpus-per-task=0 --cpus-per-task=1 --output="$work/sig/profile-%j.out" \
  "$repo/slurm/profile.sbatch" "$job" "$work/sig/sig.h5" --sample.count=44 --run.flush_interval_s=2)
wait_for "$sig_id" RUNNING 60 || fail "signal job never ran"
for _ in $(seq 120); do
  [[ -f $work/sig/sig.h5 ]] && "$esm" info "$work/sig/sig.h5" 2>/dev/null | grep -qE "done [1-9]" && break
  sleep 0.5
done
scancel --signal=USR1 --batch "$sig_id"
for _ in $(seq 240); do
  [[ $(scontrol show job "$sig_id" | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p') -ge 1 ]] && break
  sleep 0.5
done
wait_for "$sig_id" COMPLETED 300 || fail "requeued job did not complete"
grep -q "interrupted (exit 3)" "$work"/sig/profile-"$sig_id".out || fail "no checkpoint exit 3 in the batch log"
"$esm" info "$work/sig/sig.h5" >"$work/sig/info.txt"
grep -q "done 44 " "$work/sig/info.txt" || fail "resumed dataset incomplete: $(grep status "$work/sig/info.txt")"
grep -q "interrupted" "$work/sig/info.txt" || fail "the first run is not recorded as interrupted"
echo "slurm_pipeline: ok (pipeline $profile_id -> $train_id, signal job $sig_id requeued and resumed)"
