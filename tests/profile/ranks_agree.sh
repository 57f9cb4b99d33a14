#!/usr/bin/env bash
# 1, 2 and 4 ranks (and dynamic hand-out on 2) measure the same plan: the same ids, every row
# done, and the plan is exactly `esm sample` with the same settings.
source "$(dirname "$0")/common.sh"

"$ESM" sample --space ofa-mbv3 --width w1.0 --resolution 128 --count 8 --seed 1 --policy balanced > expected.txt
for n in 1 2 4; do
  run_mpi "$n" "$ESM" profile --config tiny.ini --output "r$n.h5" > "r$n.log" 2>&1 || { cat "r$n.log"; fail "$n ranks exited $?"; }
  texts "r$n.h5" | diff -q - expected.txt > /dev/null || fail "$n ranks: plan differs from esm sample"
  [[ $(count_status "r$n.h5" done) == 8 ]] || fail "$n ranks: not every row done"
  [[ $(grep -c '^#  Rank' "r$n.log") == "$n" ]] || fail "$n ranks: rank table has the wrong length"
  ranks_rows=$("$H5DUMP" -H -d /ranks "r$n.h5" | grep -oE 'SIMPLE \{ \( [0-9]+' | grep -oE '[0-9]+$')
  [[ "$ranks_rows" == "$n" ]] || fail "$n ranks: /ranks has $ranks_rows rows"
done
ids r1.h5 > ids1
ids r2.h5 | diff -q - ids1 > /dev/null || fail "ids differ between 1 and 2 ranks"
ids r4.h5 | diff -q - ids1 > /dev/null || fail "ids differ between 1 and 4 ranks"

run_mpi 2 "$ESM" profile --config tiny.ini --output dyn.h5 --run.partition=dynamic --run.chunk=1 > dyn.log 2>&1 ||
  { cat dyn.log; fail "dynamic partition exited $?"; }
ids dyn.h5 | diff -q - ids1 > /dev/null || fail "ids differ with dynamic hand-out"
[[ $(count_status dyn.h5 done) == 8 ]] || fail "dynamic: not every row done"

# Interleaved groups measure their archs over one shared time span: esm info's per-rank timed share
# is the union of the rows' intervals over the run, never more than 100% (summed, this run gave ~700%).
run_mpi 1 "$ESM" profile --config tiny.ini --output inter.h5 --measure.mode=interleaved --measure.burst_reps=1 \
  --measure.interleave_group=8 --run.chunk=8 > inter.log 2>&1 || { cat inter.log; fail "interleaved run exited $?"; }
[[ $(count_status inter.h5 done) == 8 ]] || fail "interleaved: not every row done"
"$ESM" info inter.h5 > inter_info.txt || fail "esm info failed on the interleaved run"
share=$(awk '/^per rank/ { getline; if (match($0, /\( *[0-9.]+%\)/)) print substr($0, RSTART + 1, RLENGTH - 3) }' \
  inter_info.txt | tr -d ' ')
awk -v s="$share" 'BEGIN { exit !(s > 0 && s <= 100) }' || { cat inter_info.txt; fail "timed share '$share' is not in (0, 100]"; }

"$ESM" info r4.h5 > info.txt || fail "esm info failed"
grep -q "done 8" info.txt || fail "esm info does not count 8 done rows"
grep -q "complete" info.txt || fail "esm info does not show the completed run"
echo "ranks_agree: ok"
