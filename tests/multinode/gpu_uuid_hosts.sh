#!/usr/bin/env bash
# Test 4 of the two-host suite: device grouping is per host. With the synthetic backend's simulated
# device query (run.synthetic_gpus: every rank is shown GPU-a and GPU-b, as on a node whose ranks
# see all its GPUs), 2 ranks on each of node1 and node2 bind by local rank, so both hosts use
# GPU-a and GPU-b: the same UUIDs on two hosts are not a conflict. Two ranks of one host shown
# only GPU-a must share it: refused (exit 2, one line naming the ranks, the host and the UUID), and
# no dataset is left behind.
source "$(dirname "$0")/common.sh"
srun_profile() {  # OUTPUT LOG SRUN-OPTIONS... -- ESM-OPTIONS...
  local out=$1 log=$2
  shift 2
  local opts=()
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  on node1 srun --mpi=pmix --kill-on-bad-exit=1 "${opts[@]}" "$ESM" profile --config "${SYNTHETIC[@]}" --output "$out" \
    --sample.count=8 "$@" >"$log" 2>&1
}

srun_profile both.h5 both.log -N 2 --ntasks-per-node=2 -- --run.synthetic_gpus=GPU-a,GPU-b ||
  { cat both.log; fail "2 ranks on each host with GPU-a and GPU-b were refused"; }
for want in '0 node1 0 GPU-a' '1 node1 1 GPU-b' '2 node2 0 GPU-a' '3 node2 1 GPU-b'; do
  read -r rank host ordinal uuid <<<"$want"
  grep -qE "^#  Rank +$rank Pid +[0-9]+ on $host +local $ordinal/2 device +$ordinal \[[^]]+\] simulated GPU $uuid " both.log ||
    { grep '^#  Rank' both.log; fail "rank $rank is not on $host with device $ordinal = $uuid"; }
done
grep -q 'done 8 ' <("$ESM" info both.h5) || fail "the run on two hosts did not complete"

if srun_profile one.h5 one.log -N 1 -n 2 -w node1 -- --run.synthetic_gpus=GPU-a; then
  cat one.log; fail "two ranks of node1 on GPU-a were not refused"
fi
grep -qE 'ranks 0 and 1 on host node1 share GPU GPU-a ' one.log || { cat one.log; fail "no refusal naming ranks, host and UUID"; }
[[ ! -e one.h5 && ! -e one.h5.lock ]] || fail "the refused run left one.h5 or its lock"
echo "multinode_gpu_uuid: ok (GPU-a/GPU-b on both hosts accepted; GPU-a twice on node1 refused)"
