#!/usr/bin/env bash
# A throwaway single-node Slurm cluster on this machine (Debian's slurm-wlm + munge, as root),
# for esm's tests. Every cluster gets its own state and spool directories, and `stop` kills
# exactly the daemons `start` started, by pid.
#
#   scripts/slurm-cluster.sh start DIR   # prints "export SLURM_CONF=DIR/slurm.conf"
#   scripts/slurm-cluster.sh stop DIR
set -euo pipefail
cmd=${1:?usage: slurm-cluster.sh start|stop DIR}
dir=$(realpath -m "${2:?usage: slurm-cluster.sh start|stop DIR}")

source "$(dirname "$0")/slurm-common.sh"

stop_pidfile() {
  [[ -f $1 ]] || return 0
  stop_pid "$(cat "$1")"
  rm -f "$1"
}

case $cmd in
start)
  [[ $(id -u) -eq 0 ]] || { echo "slurm-cluster: needs root" >&2; exit 1; }
  command -v slurmctld >/dev/null || { echo "slurm-cluster: slurm-wlm is not installed (ESM_WITH_SLURM=1 scripts/install-deps.sh)" >&2; exit 1; }
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  host=$(hostname -s)
  # munge: reuse a running munged; otherwise start one and remember its pid for `stop`.
  [[ -f /etc/munge/munge.key ]] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; }
  munged_pid=$(start_munge)
  [[ -z $munged_pid ]] || echo "$munged_pid" >"$dir/munged.pid"
  mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
  cat > "$dir/slurm.conf" <<CONF
ClusterName=esm$(date +%s%N | tail -c 9)
SlurmctldHost=$host
$(slurm_conf_common)
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
  export SLURM_CONF=$dir/slurm.conf
  slurmctld -f "$SLURM_CONF"
  slurmd -f "$SLURM_CONF"
  for _ in $(seq 100); do
    if sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
      echo "export SLURM_CONF=$SLURM_CONF"
      exit 0
    fi
    sleep 0.2
  done
  echo "slurm-cluster: node did not become idle; logs in $dir/log" >&2
  exit 1
  ;;
stop)
  stop_pidfile "$dir/slurmd.pid"
  stop_pidfile "$dir/slurmctld.pid"
  stop_pidfile "$dir/munged.pid"
  ;;
*)
  echo "usage: slurm-cluster.sh start|stop DIR" >&2
  exit 2
  ;;
esac
