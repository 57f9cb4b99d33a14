#!/usr/bin/env bash
# What a second host costs esm's distributed run: the same 4-rank synthetic profile (ofa-mbv3,
# jobs/scale-synthetic.ini with no sleep: coordination and I/O only) on two hosts of
# scripts/two-node-cluster.sh (srun -N 2, 2 ranks each: collectives, the shared counters and MPI-IO
# cross the veth over TCP) and on one host (srun -N 1 -n 4: shared memory only), alternated REPEATS
# times, for two workloads:
#   big:   20,000 archs written in one collective write at the end (the plan broadcast is 6.8 MB)
#   small: 2,000 archs in chunks of 8, a collective write after every round (latency-bound writes)
# Per run, from esm profile --timings: rank 0's plan, the plan broadcast (slowest rank), each
# collective write and flush (slowest rank per write), esm's wall time. Brings the cluster up and
# takes it down if it was not up. Not a ctest (tests/multinode/ are).
#   bench/two_hosts.sh [REPEATS]     (default 3)
set -uo pipefail
source "$(dirname "$0")/bench_common.sh"
out=$BENCH_OUT/two_hosts
mkdir -p "$out"
repeats=${1:-3}
declare -A workload=([big]="--sample.count=20000 --run.flush_interval_s=1e9"
  [small]="--sample.count=2000 --run.chunk=8 --run.flush_interval_s=0")
cluster=$ESM_ROOT/scripts/two-node-cluster.sh
started=0
if [[ ! -f /run/esm-two-node/made ]]; then
  "$cluster" up >/dev/null || exit 1
  started=1
fi
trap '((started)) && "$cluster" down' EXIT
shared=$(sed -n 's/^dir //p' /run/esm-two-node/made | head -n 1)/shared/bench-two-hosts
mkdir -p "$shared"
export OMPI_MCA_btl=self,vader,tcp OMPI_MCA_btl_tcp_if_include=10.254.0.0/24 OMPI_MCA_osc=^ucx
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMP_WAIT_POLICY=passive
declare -A layout=([two]="-N 2 --ntasks-per-node=2" [one]="-N 1 -n 4 --overcommit -w node1")

field() { grep -oE "$2=[0-9.]+" "$1" | head -n 1 | cut -d= -f2; }
machine_line | tee "$out/summary.txt"
printf '%-5s %-4s %3s %7s %7s %8s %9s %6s %8s %8s %8s %8s %5s\n' work hosts run wall_s plan_s bcast_s bcast_MB writes wr_med_s \
  wr_max_s wr_tot_s fl_med_s load1 | tee -a "$out/summary.txt"
for ((i = 1; i <= repeats; i++)); do
  for pair in big:two big:one small:two small:one; do
    work=${pair%:*} hosts=${pair#*:}
    h5=$shared/$work-$hosts-$i.h5 log=$out/$work-$hosts-$i.log
    archs=$(grep -oE 'count=[0-9]+' <<<"${workload[$work]}" | cut -d= -f2)
    rm -f "$h5"
    load=$(load1)
    # shellcheck disable=SC2086  # the layout and the workload are lists of options
    "$cluster" on node1 srun --mpi=pmix --kill-on-bad-exit=1 ${layout[$hosts]} "$ESM" profile \
      --config "$ESM_ROOT/jobs/scale-synthetic.ini" ${workload[$work]} --run.synthetic_sleep_ms=0 \
      --output "$h5" --timings >"$log" 2>&1 || { tail -n 20 "$log"; exit 1; }
    wall=$(grep -oE 'wall [0-9.]+ s' "$log" | head -n 1 | grep -oE '[0-9.]+')  # esm's own, launch excluded
    grep -q "complete: $archs rows measured" "$log" || { tail -n 5 "$log"; exit 1; }
    printf '%-5s %-4s %3d %7s %7s %8s %9.2f %6s %8s %8s %8s %8s %5s\n' "$work" "$hosts" "$i" "$wall" "$(field "$log" plan_s)" \
      "$(field "$log" broadcast_s)" "$(awk -v b="$(field "$log" broadcast_bytes)" 'BEGIN { print b / 1e6 }')" \
      "$(field "$log" writes)" "$(field "$log" write_s_median)" "$(field "$log" write_s_max)" \
      "$(field "$log" write_s_total)" "$(field "$log" flush_s_median)" "$load" | tee -a "$out/summary.txt"
    rm -f "$h5"
  done
done
echo "# logs: $out" | tee -a "$out/summary.txt"
