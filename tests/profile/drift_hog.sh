#!/usr/bin/env bash
# Fault injection: a CPU hog started mid-run, after every rank took its drift guard's baseline,
# must make the guard react: a /drift check after the hog started reads the reference beyond the
# threshold (ESM's 3 %) and re-measures its window (verdict drift, then remeasured or gave_up), rows
# carry remeasures > 0, and the run's summary and `esm info` report them. The hog (busy loops
# pinned to the ranks' own CPUs, 3 per CPU) slows the ranks about 4x, far beyond any noise, so the
# test needs no quiet machine; it fails when the guard does not react.
source "$(dirname "$0")/common.sh"

count=8
HOGS=()
stop_hogs() {
  local pid
  for pid in "${HOGS[@]}"; do { kill -9 "$pid" && wait "$pid"; } 2> /dev/null; done
  HOGS=()
}
trap 'stop_hogs; cleanup' EXIT

start_mpi 2 run.log "$ESM" profile --config tiny.ini --sample.count=$count --measure.reps=10 \
  --measure.drift_every=2 --measure.drift_threshold=0.03 --measure.drift_max_retries=2 --measure.drift_reps=10 \
  --run.progress_interval_s=0
wait_for_table run.log || { cat run.log; fail "no rank table"; }
# Two archs measured: every rank has its baseline (taken before its first arch).
wait_measured_or_exit run.log 2 || { cat run.log; fail "the run ended before the hog could start"; }
hog_start=$(date +%s.%N)
for cpus in $(grep -E '^#  Rank' run.log | awk '{print $NF}'); do
  for _ in 1 2 3; do
    if command -v taskset > /dev/null; then
      taskset -c "$cpus" bash -c 'while :; do :; done' &
    else
      bash -c 'while :; do :; done' &
    fi
    HOGS+=($!)
    STARTED+=($!)
  done
done
echo "hog: ${#HOGS[@]} busy loops on the ranks' CPUs from $hog_start"
measured_at_hog=$(measured_now run.log)
wait "$launcher" || { rc=$?; stop_hogs; cat run.log; fail "the run exited $rc"; }
stop_hogs
((measured_at_hog < count)) || fail "the run was over before the hog started: nothing tested"

# /drift, one check a line: time reference baseline relative_change arch_row run rank verdict window
# threshold.
table_rows tiny.h5 /drift > drift.txt
[[ -s drift.txt ]] || fail "no /drift rows"
echo "drift checks (time ref_ms baseline_ms change arch_row run rank verdict window threshold):"
sed 's/^/  /' drift.txt
reacted=$(awk -v t="$hog_start" '$1 > t && $4 > 0.03 && $8 == "drift"' drift.txt | wc -l)
settled=$(awk -v t="$hog_start" '$1 > t && ($8 == "remeasured" || $8 == "gave_up")' drift.txt | wc -l)
((reacted > 0)) || fail "no check after the hog started read the reference >3% slower with verdict drift"
# Every rank checking after the hog must see it against the baseline it took before the hog (one
# baseline per rank and run, moved only by gave_up, to the median of that window's drifted
# readings, or back to the calibrated home level by a drifted reading within the threshold ($10)
# of home): a baseline re-taken under the hog hides it.
for rank in $(awk -v t="$hog_start" '$1 > t {print $7}' drift.txt | sort -u); do
  awk -v t="$hog_start" -v r="$rank" '
    function median(   i, j, x) {  # of v[1..n], insertion-sorted in place
      for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
      return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    $7 != r { next }
    $1 < t {                                          # the baseline in force when the hog started
      if (home == "") home = $3                       # the first check compares with the calibration
      b = $3
      if ($8 == "drift" || $8 == "gave_up") {
        v[++n] = $2
        if (b != home && ($2 - home) ^ 2 <= ($10 * home) ^ 2) b = home
      }
      if ($8 == "gave_up") b = median()
      if ($8 != "drift") n = 0
      next
    }
    b == "" { b = $3 }                                # no check before it: the start baseline
    ($3 - b) ^ 2 <= (1e-9 * b) ^ 2 && $4 > 0.03 && ($8 == "drift" || $8 == "gave_up") { hit = 1 }
    END { exit !hit }' drift.txt ||
    fail "rank $rank did not see the hog against its pre-hog baseline"
done
((settled > 0)) || fail "no re-measured window was settled (remeasured or gave_up) after the hog started"

# remeasures of every /results row (field 19, docs/dataset.md).
remeasured_rows=$(table_rows tiny.h5 /results | awk '$19 > 0' | wc -l)
((remeasured_rows > 0)) || fail "no /results row has remeasures > 0"
summary=$(grep -oE '[0-9]+ re-measured' run.log | grep -oE '^[0-9]+')
((${summary:-0} > 0)) || { tail -3 run.log; fail "the run's summary reports no re-measurement"; }
"$ESM" info tiny.h5 > info.txt || fail "esm info failed"
grep -qE '^drift checks [0-9]+ .* drift [1-9]' info.txt || { cat info.txt; fail "esm info reports no drift"; }
grep -qE -- '-> (drift|remeasured|gave_up)' info.txt || { cat info.txt; fail "esm info lists no drift event"; }
check_complete tiny.h5 "$count"
echo "drift_hog: ok ($reacted drift checks after the hog, $settled settled, $remeasured_rows rows re-measured, summary $summary re-measurements)"
