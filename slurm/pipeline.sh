#!/bin/bash
# Submits profile, then train with --dependency=afterok, and prints both job ids.
#
#   slurm/pipeline.sh JOB.ini [OUTDIR]
#
# Site settings come from the environment, never from this file:
#   ESM_PARTITION, ESM_ACCOUNT       partition / account (omitted when unset)
#   ESM_PROFILE_TASKS (4), ESM_TRAIN_TASKS (4), ESM_GPUS_PER_TASK (1; 0 for CPU-only jobs)
#   ESM_PROFILE_TIME, ESM_TRAIN_TIME  time limits (defaults: those in the .sbatch files)
#   ESM_SBATCH_ARGS                  anything else for both sbatch calls
set -euo pipefail
config=${1:?usage: pipeline.sh JOB.ini [OUTDIR]}
[[ -r $config ]] || { echo "pipeline: cannot read $config" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
name=$(basename "$config" .ini)
out=${2:-results/$name}
mkdir -p "$out"
config=$(realpath "$config")
out=$(realpath "$out")

common=(--parsable --chdir="$out")
[[ -n ${ESM_PARTITION:-} ]] && common+=(--partition="$ESM_PARTITION")
[[ -n ${ESM_ACCOUNT:-} ]] && common+=(--account="$ESM_ACCOUNT")
# shellcheck disable=SC2206
[[ -n ${ESM_SBATCH_ARGS:-} ]] && common+=($ESM_SBATCH_ARGS)

profile_args=(--ntasks="${ESM_PROFILE_TASKS:-4}" --gpus-per-task="${ESM_GPUS_PER_TASK:-1}")
[[ ${ESM_GPUS_PER_TASK:-1} == 0 ]] && profile_args+=(--cpus-per-task=1)
[[ -n ${ESM_PROFILE_TIME:-} ]] && profile_args+=(--time="$ESM_PROFILE_TIME")
train_args=(--ntasks="${ESM_TRAIN_TASKS:-4}")
[[ -n ${ESM_TRAIN_TIME:-} ]] && train_args+=(--time="$ESM_TRAIN_TIME")

profile_id=$(sbatch "${common[@]}" "${profile_args[@]}" --output="$out/profile-%j.out" \
  "$here/profile.sbatch" "$config" "$out/$name.h5")
train_id=$(sbatch "${common[@]}" "${train_args[@]}" --output="$out/train-%j.out" \
  --dependency="afterok:${profile_id%%;*}" "$here/train.sbatch" "$out/$name.h5" "$out/$name.model.h5")
echo "profile job: ${profile_id%%;*}"
echo "train job:   ${train_id%%;*}"
echo "results:     $out"
