#!/usr/bin/env bash
# Open MPI's own launcher across the two hosts, without Slurm: mpirun on node1 starts node2's
# daemon through the cluster's launcher (it enters node2's namespaces where a cluster would ssh),
# and the ranks of the two hosts talk TCP over the veth. A 4-rank synthetic profile completes with
# ranks 0-1 on node1 and 2-3 on node2 in its rank table.
source "$(dirname "$0")/common.sh"
on node1 mpirun --mca plm_rsh_agent "$DIR/launcher" --host node1:2,node2:2 -n 4 \
  --mca oob_tcp_if_include 10.254.0.0/24 "$ESM" profile --config "${SYNTHETIC[@]}" --output mpirun.h5 \
  --sample.count=16 >mpirun.log 2>&1 || { cat mpirun.log; fail "mpirun across node1 and node2"; }
for want in '0 node1' '1 node1' '2 node2' '3 node2'; do
  read -r rank host <<<"$want"
  grep -qE "^#  Rank +$rank Pid +[0-9]+ on $host +local [01]/2 " mpirun.log || { cat mpirun.log; fail "rank $rank is not on $host"; }
done
grep -q 'complete: 16 rows measured' mpirun.log || fail "the run did not complete: $(tail -n 1 mpirun.log)"
echo "multinode_mpirun: ok (mpirun through $DIR/launcher: 2 ranks on each host)"
