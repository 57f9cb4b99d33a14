# Shared helpers of the two-host tests (sourced): the cluster of scripts/two-node-cluster.sh, brought
# up once by the ctest fixture multinode_up (cluster.sh). Arguments of every test script:
#   $1 esm binary   $2 h5dump   $3 the fixture's skip file (holds the reason when no cluster could be made)
# Each test works in its own folder of the cluster's shared file system and only signals processes
# of the jobs it submitted.
set -uo pipefail
ESM=$(realpath "$1")
H5DUMP=${2:-h5dump}
SKIP_FILE=$3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CLUSTER=$REPO/scripts/two-node-cluster.sh
if [[ -f $SKIP_FILE ]]; then cat "$SKIP_FILE"; exit 77; fi
[[ -f /run/esm-two-node/made ]] || { echo "FAIL: no two-node cluster is up (the multinode_up fixture failed)"; exit 1; }
DIR=$(sed -n 's/^dir //p' /run/esm-two-node/made | head -n 1)
WORK=$(mktemp -d "$DIR/shared/$(basename "$0" .sh).XXXXXX")
cd "$WORK"
export ESM OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
# MPI between the hosts over TCP on the veth pair; shared memory between ranks of one host.
export OMPI_MCA_btl=self,vader,tcp OMPI_MCA_btl_tcp_if_include=10.254.0.0/24
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# One-sided MPI (esm's shared counters) through Open MPI 4.1's point-to-point component: its UCX
# component is chosen first and fails between hosts linked by TCP alone (MPI_Win_allocate:
# MPI_ERR_WIN), as on any cluster without an RDMA network (docs/cluster.md).
export OMPI_MCA_osc=^ucx

fail() {
  echo "FAIL: $*"
  for f in "$WORK"/*.out "$WORK"/logs/*; do [[ -f $f ]] && { echo "== $f"; tail -n 15 "$f"; }; done
  exit 1
}
on() { "$CLUSTER" on "$@"; }  # on node1|node2 COMMAND...
job_state() { on node1 scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n 1; }
wait_for_state() {  # JOBID STATE TIMEOUT_S
  local s
  for _ in $(seq $(($3 * 2))); do
    s=$(job_state "$1")
    [[ $s == "$2" ]] && return 0
    [[ $2 != FAILED && ($s == FAILED || $s == CANCELLED || $s == TIMEOUT || $s == NODE_FAIL) ]] &&
      { echo "job $1 ended $s"; return 1; }
    sleep 0.5
  done
  echo "job $1 still $s after $3 s"
  return 1
}
done_rows() { "$ESM" info "$1" 2>/dev/null | grep -oE 'done [0-9]+' | head -n 1 | grep -oE '[0-9]+'; }
# Raw dumps of /archs/id and /results for tests/profile/scale_check.py.
dump_rows() {  # DATASET PREFIX
  "$H5DUMP" -d /archs/id -b LE -o "$2.ids" "$1" >/dev/null && "$H5DUMP" -d /results -b FILE -o "$2.results" "$1" >/dev/null
}
measured() { grep -ohE '[0-9]+ rows measured in this run' "$@" | awk '{ s += $1 } END { print s + 0 }'; }

# The shipped jobs made small. SYNTHETIC: computed latencies after a sleep per pass (the ranks wait,
# the CPUs stay free), dynamic partition (a shared counter: one-sided MPI across the hosts). CPU:
# the quickstart job, plain mode, 3 repetitions. A collective write after every chunk of 2.
SMALL=(--run.chunk=2 --run.flush_interval_s=0 --run.progress_interval_s=0)
SYNTHETIC=("$REPO/jobs/scale-synthetic.ini" "${SMALL[@]}")
CPU=("$REPO/jobs/quickstart-cpu.ini" "${SMALL[@]}" --sample.count=16 --measure.mode=plain --measure.reps=3
  --measure.warmup_runs=1 --measure.warmup_ms=0 --backend.threads=1)
