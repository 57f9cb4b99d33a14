#!/usr/bin/env bash
# Test 1 of the two-host suite: `sbatch -N 2 --ntasks-per-node=2` of slurm/profile.sbatch profiles
# a plan on the CPU backend into one parallel-HDF5 dataset on the shared file system: the rank
# table names both hosts (two local ranks each), every arch is written exactly once
# (scale_check.py), and `esm info` shows each host's throughput.
source "$(dirname "$0")/common.sh"
id=$(on node1 sbatch --parsable --chdir="$WORK" -N 2 --ntasks-per-node=2 --gpus-per-task=0 --cpus-per-task=1 \
  --output="$WORK/profile-%j.out" "$REPO/slurm/profile.sbatch" "${CPU[0]}" two.h5 "${CPU[@]:1}") || fail "sbatch"
wait_for_state "$id" COMPLETED 240 || fail "profile job $id"
log=$(ls "$WORK"/logs/esm-profile-"$id"-task0.out) || fail "no rank-0 log"
# The rank table (rank 0 prints it): ranks 0-1 on node1, 2-3 on node2, local ranks 0 and 1 on each.
for want in '0 node1 0' '1 node1 1' '2 node2 0' '3 node2 1'; do
  read -r rank host lrank <<<"$want"
  grep -qE "^#  Rank +$rank Pid +[0-9]+ on $host +local $lrank/2 " "$log" ||
    { grep '^#  Rank' "$log"; fail "the rank table does not put rank $rank on $host as local rank $lrank of 2"; }
done
dump_rows two.h5 two || fail "h5dump two.h5"
python3 "$REPO/tests/profile/scale_check.py" two.ids two.results --measured "$(measured "$log")" ||
  fail "not every arch written exactly once"
"$ESM" info two.h5 >info.txt || fail "esm info"
grep -q 'done 16 ' info.txt || fail "dataset incomplete: $(grep status info.txt)"
for host in node1 node2; do
  grep -qE "^ +0 +2 +[0-9]+ +[0-9.]+ +$host\$" info.txt || { sed -n '/^per host/,/^$/p' info.txt; fail "esm info: no per-host line for $host"; }
done
rows=$(awk '/^per host/ {on = 1; next} on && NF == 0 {on = 0} on {s += $3} END {print s + 0}' info.txt)
[[ $rows == 16 ]] || fail "the per-host rows add up to $rows, not 16"
sed -n '/^per host/,/^$/p' info.txt
echo "multinode_profile: ok (job $id: 4 ranks on node1 and node2, 16 archs each written once)"
