#!/usr/bin/env bash
# Two hosts on this machine, for esm's multi-node tests: hosts node1 and node2, each its own network
# and UTS namespace (so its own hostname), joined by a veth pair whose addresses (10.254.0.1 and
# 10.254.0.2) exist only inside the two namespaces; DIR/shared as the cluster file system; munge;
# a two-node Slurm (slurmctld and slurmd -N node1 on node1, slurmd -N node2 on node2). Open MPI
# crosses the hosts over TCP, launched by srun (PMIx) or by mpirun whose remote shell is
# DIR/launcher (it enters the target host's namespaces instead of ssh-ing).
#
#   scripts/two-node-cluster.sh up [DIR]      # idempotent; a failed up undoes itself. Exit 77: cannot
#                                             # be made here (the one line says why)
#   scripts/two-node-cluster.sh on NODE CMD   # run CMD on node1|node2 (SLURM_CONF set)
#   scripts/two-node-cluster.sh down          # stops everything up started, by pid; removes the
#                                             # namespaces and DIR (ESM_KEEP_TEST_DIR=1 keeps DIR)
#
# Root only. What `up` made is listed in /run/esm-two-node/made, which `down` reads and undoes, so
# `down` after any partial `up` leaves the machine as it was. Default DIR: /tmp/esm-two-node.
set -euo pipefail
source "$(dirname "$0")/slurm-common.sh"
run=/run/esm-two-node          # UTS namespace files, the record of what was made
made=$run/made
nodes=(node1 node2)
declare -A addr=([node1]=10.254.0.1 [node2]=10.254.0.2)
declare -A veth=([node1]=esmveth1 [node2]=esmveth2)
netns_of() { echo "esm-$1"; }

say() { echo "two-node-cluster: $*" >&2; }
record() { echo "$*" >>"$made"; }
recorded() { [[ -f $made ]] && grep -qxF "$*" "$made"; }
cluster_dir() { sed -n 's/^dir //p' "$made" 2>/dev/null | head -n 1; }

# Runs a command inside a host's namespaces (network + UTS); the mount and pid namespaces stay the
# machine's, so files and the munge socket are shared as on a cluster file system.
on_node() {
  local node=$1
  shift
  nsenter --net="/run/netns/$(netns_of "$node")" --uts="$run/uts-$node" "$@"
}

down() {
  [[ -f $made ]] || return 0
  local dir node ns pid
  dir=$(cluster_dir)
  if [[ -n $dir && -f $dir/slurm.conf ]] && recorded slurmctld; then
    on_node node1 env SLURM_CONF="$dir/slurm.conf" scancel --quiet --full --state=RUNNING,PENDING,SUSPENDED \
      --user=root 2>/dev/null || true
  fi
  for f in slurmd-node2 slurmd-node1 slurmctld; do
    [[ -n $dir && -f $dir/$f.pid ]] && stop_pid "$(cat "$dir/$f.pid")"
  done
  # Whatever still runs inside the hosts (job steps, a killed job's leftovers) was started here.
  for node in "${nodes[@]}"; do
    ns=$(netns_of "$node")
    recorded "netns $ns" || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  done
  pid=$(sed -n 's/^munged //p' "$made" | head -n 1)
  [[ -n $pid ]] && stop_pid "$pid"
  for node in "${nodes[@]}"; do
    ns=$(netns_of "$node")
    recorded "netns $ns" && ip netns delete "$ns" 2>/dev/null || true
    if recorded "uts $node"; then umount "$run/uts-$node" 2>/dev/null || true; fi
  done
  if recorded "created /run/netns" && [[ -z $(ls -A /run/netns 2>/dev/null) ]]; then
    umount /run/netns 2>/dev/null || true
    rmdir /run/netns 2>/dev/null || true
  fi
  if [[ -n $dir ]] && recorded "created $dir" && [[ ${ESM_KEEP_TEST_DIR:-0} != 1 ]]; then rm -rf "$dir"; fi
  umount "$run" 2>/dev/null || true
  rm -rf "$run"
}

write_slurm_conf() {  # DIR
  local dir=$1 mem
  mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.4)}' /proc/meminfo)
  cat >"$dir/slurm.conf" <<CONF
ClusterName=esm2n$(date +%s%N | tail -c 7)
SlurmctldHost=node1(${addr[node1]})
$(slurm_conf_common)
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool/%n
TmpFS=$dir/tmp/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
NodeName=node1 NodeAddr=${addr[node1]} CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
NodeName=node2 NodeAddr=${addr[node2]} CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=two Nodes=node1,node2 Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
}

# mpirun's remote shell: "launcher HOST COMMAND..." runs COMMAND on HOST as ssh would (one shell
# line), inside that host's namespaces.
write_launcher() {  # DIR
  cat >"$1/launcher" <<EOF
#!/bin/sh
host=\$1
shift
exec nsenter --net=/run/netns/esm-\$host --uts=$run/uts-\$host /bin/sh -c "\$*"
EOF
  chmod +x "$1/launcher"
}

cluster_idle() {  # DIR
  local states
  states=$(on_node node1 env SLURM_CONF="$1/slurm.conf" sinfo -h -N -o '%N %t' 2>/dev/null | sort -u)
  grep -qE '^node1 (idle|mix|alloc)' <<<"$states" && grep -qE '^node2 (idle|mix|alloc)' <<<"$states"
}

up() {
  local dir=$1 node ns
  [[ $(id -u) -eq 0 ]] || { echo "SKIP: two-node-cluster needs root (namespaces, daemons)"; exit 77; }
  for tool in ip nsenter unshare slurmctld slurmd munged; do
    command -v "$tool" >/dev/null || { echo "SKIP: two-node-cluster: $tool is not installed"; exit 77; }
  done
  local why
  why=$(unshare --net --uts true 2>&1) || { echo "SKIP: cannot make network and UTS namespaces here: ${why:-unshare failed}"; exit 77; }
  if [[ -f $made ]]; then
    if [[ $(cluster_dir) == "$dir" ]] && cluster_idle "$dir"; then
      echo "export SLURM_CONF=$dir/slurm.conf ESM_TWO_NODE_DIR=$dir"
      return 0
    fi
    say "a previous cluster ($(cluster_dir)) is not whole: taking it down first"
    down
  fi
  if [[ -e $dir && -n $(ls -A "$dir" 2>/dev/null) ]]; then
    say "$dir exists and is not empty; choose another DIR"
    exit 1
  fi
  up_done=0
  trap '[[ $up_done == 1 ]] || { say "up failed: undoing what it made"; down; }' EXIT
  mkdir -p "$run"
  : >"$made"
  mount --bind "$run" "$run" && mount --make-private "$run"
  record "mount $run"
  mkdir -p "$dir"/{shared,log,ctld} "$dir"/{spool,tmp}/{node1,node2}
  record "dir $dir"
  record "created $dir"
  [[ -d /run/netns ]] || record "created /run/netns"
  for node in "${nodes[@]}"; do
    ns=$(netns_of "$node")
    ip netns add "$ns"
    record "netns $ns"
    touch "$run/uts-$node"
    unshare --uts="$run/uts-$node" hostname "$node"
    record "uts $node"
    ip -n "$ns" link set lo up
  done
  # Made inside the namespaces: neither end ever exists in the machine's own network namespace.
  ip link add "${veth[node1]}" netns "$(netns_of node1)" type veth peer name "${veth[node2]}" netns "$(netns_of node2)"
  for node in "${nodes[@]}"; do
    ns=$(netns_of "$node")
    ip -n "$ns" addr add "${addr[$node]}/24" dev "${veth[$node]}"
    ip -n "$ns" link set "${veth[$node]}" up
  done
  # munge: one daemon serves both hosts through its socket on the shared file system.
  [[ -f /etc/munge/munge.key ]] || { say "/etc/munge/munge.key is missing (install munge)"; false; }
  local munged_pid
  munged_pid=$(start_munge)
  [[ -z $munged_pid ]] || record "munged $munged_pid"
  write_slurm_conf "$dir"
  write_launcher "$dir"
  export SLURM_CONF=$dir/slurm.conf
  on_node node1 slurmctld -f "$SLURM_CONF"
  record slurmctld
  for node in "${nodes[@]}"; do on_node "$node" slurmd -f "$SLURM_CONF" -N "$node"; done
  for _ in $(seq 150); do
    if cluster_idle "$dir"; then
      up_done=1
      echo "export SLURM_CONF=$SLURM_CONF ESM_TWO_NODE_DIR=$dir"
      return 0
    fi
    sleep 0.2
  done
  say "the nodes did not become idle in 30 s; logs in $dir/log"
  false
}

case ${1:-} in
up) up "$(realpath -m "${2:-/tmp/esm-two-node}")" ;;
down) down ;;
on)
  node=${2:?usage: two-node-cluster.sh on node1|node2 COMMAND...}
  shift 2
  [[ -f $made ]] || { say "no cluster is up"; exit 1; }
  [[ $node == node1 || $node == node2 ]] || { say "no host '$node' (node1, node2)"; exit 2; }
  SLURM_CONF=$(cluster_dir)/slurm.conf on_node "$node" "$@"
  ;;
*)
  echo "usage: two-node-cluster.sh up [DIR] | on node1|node2 COMMAND... | down" >&2
  exit 2
  ;;
esac
