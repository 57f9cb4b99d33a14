#!/usr/bin/env bash
# Scale of the distributed run beyond one node's worth of ranks, by oversubscription: esm profile
# with the synthetic backend (jobs/scale-synthetic.ini: 20,000 ofa-mbv3 archs, 6 passes of 1 ms
# "device time" each) on 8, 32, 64, 128 and 256 ranks sharing this machine's cores. Per rank count:
# every arch exactly once (tests/profile/scale_check.py), wall time against the ideal (device time /
# ranks), rank 0's plan and broadcast time, each collective write + flush, file size and peak
# memory per rank (esm profile --timings), and the load average. At 128 ranks also a kill -9 of a
# random rank mid-run and a --resume that must lose nothing. Not a ctest (tests/profile/scale.sh is).
#   bench/scale.sh [RANKS...]        (default: 8 32 64 128 256; ESM_SCALE_ARCHS to change 20000)
#   bench/scale.sh kill              (only the kill -9 + resume at 128 ranks)
set -uo pipefail
source "$(dirname "$0")/bench_common.sh"
out=$BENCH_OUT/scale
mkdir -p "$out"
archs=${ESM_SCALE_ARCHS:-20000}
counts=("$@")
((${#counts[@]})) || counts=(8 32 64 128 256)
kill_only=0
[[ ${counts[0]} == kill ]] && kill_only=1 counts=(128)
job="$ESM_ROOT/jobs/scale-synthetic.ini"
check=$ESM_ROOT/tests/profile/scale_check.py
h5dump=$(command -v h5dump || command -v h5dump.openmpi)
# Shared memory and loopback only, no single-copy (CMA) transfers: what 256 ranks on one VM need.
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
passes=6 sleep_ms=1  # jobs/scale-synthetic.ini: warmup_runs 1 + reps 5, synthetic_sleep_ms 1

now() { date +%s.%N; }
field() { grep -oE "$2=[0-9.]+" "$1" | head -1 | cut -d= -f2; }
dump() { "$h5dump" -d /archs/id -b LE -o "$1.ids" "$1" > /dev/null && "$h5dump" -d /results -b FILE -o "$1.results" "$1" > /dev/null; }
measured() { grep -oE '[0-9]+ rows measured in this run' "$1" | grep -oE '^[0-9]+' | paste -sd+ | bc; }
profile() {  # $1 ranks $2 output $3 log, more arguments after
  local n=$1 h5=$2 log=$3
  shift 3
  mpirun --oversubscribe -n "$n" "$ESM" profile --config "$job" --sample.count="$archs" --output "$h5" --timings "$@" > "$log" 2>&1
}

machine_line | tee "$out/summary.txt"
printf '%-5s %8s %7s %7s %6s %7s %7s %7s %7s %6s %8s %8s %8s %7s %7s %7s %7s %6s\n' ranks launch_s esm_s ideal_s eff% cpu_fl plan_s bcast_s decode writes wr_med_s wr_max_s fl_med_s wait_mx file_MB rss0_MB rss_med load1 | tee -a "$out/summary.txt"
for n in "${counts[@]}"; do
  ((kill_only)) && break
  h5=$out/scale-$n.h5 log=$out/scale-$n.log
  rm -f "$h5" "$h5.lock"
  load=$(load1)
  t0=$(now)
  profile "$n" "$h5" "$log" || { echo "FAIL: $n ranks: $(tail -3 "$log")"; continue; }
  launch=$(echo "$(now) - $t0" | bc)
  dump "$h5" && python3 "$check" "$h5.ids" "$h5.results" --measured "$(measured "$log")" > "$log.check" ||
    echo "FAIL: $n ranks: $(cat "$log.check")"
  esm_s=$(grep -oE 'wall [0-9.]+ s' "$log" | grep -oE '[0-9.]+')
  ideal=$(echo "$archs * $passes * $sleep_ms / 1000 / $n" | bc -l)
  wr_total=$(field "$log" write_s_total) fl_total=$(field "$log" flush_s_total)
  # cpu_fl: all ranks' CPU seconds over the cores, the wall time this machine cannot beat
  cpu_floor=$(echo "$(field "$log" cpu_s_total) / $(nproc)" | bc -l)
  printf '%-5s %8.1f %7.1f %7.2f %6.1f %7.1f %7.3f %7.3f %7.3f %6s %8.4f %8.4f %8.4f %7.2f %7.1f %7.1f %7.1f %6s  (writes+flushes %s+%s s; broadcast %.2f MB)\n' \
    "$n" "$launch" "$esm_s" "$ideal" "$(echo "100 * $ideal / $esm_s" | bc -l)" "$cpu_floor" "$(field "$log" plan_s)" \
    "$(field "$log" broadcast_s)" "$(field "$log" decode_s)" "$(field "$log" writes)" "$(field "$log" write_s_median)" \
    "$(field "$log" write_s_max)" "$(field "$log" flush_s_median)" "$(field "$log" round_wait_s_max)" \
    "$(echo "$(stat -c %s "$h5") / 1048576" | bc -l)" "$(field "$log" vmhwm_mib_rank0)" "$(field "$log" vmhwm_mib_median)" \
    "$load" "$wr_total" "$fl_total" "$(echo "$(field "$log" broadcast_bytes) / 1048576" | bc -l)" | tee -a "$out/summary.txt"
  cat "$log.check" | sed 's/^/      /' | tee -a "$out/summary.txt"
done

# kill -9 of a random rank at 128 ranks, then --resume on 128 ranks: nothing done is lost or redone.
if [[ " ${counts[*]} " == *" 128 "* ]]; then
  h5=$out/kill-128.h5 log=$out/kill-128.log
  rm -f "$h5" "$h5.lock"
  mpirun --oversubscribe -n 128 "$ESM" profile --config "$job" --sample.count="$archs" --output "$h5" \
    --run.progress_interval_s=0.5 > "$log" 2>&1 &
  launcher=$!
  # Wait for a third of the plan to be written (not only measured: the kill must find rows in the
  # file to keep), then kill one rank (bash's RANDOM picks it).
  until (($(grep -oE '[0-9]+ written' "$log" 2> /dev/null | tail -1 | cut -d' ' -f1 || echo 0) >= archs / 3)); do
    kill -0 "$launcher" 2> /dev/null || break
    sleep 0.2
  done
  mapfile -t pids < <(grep -E '^#  Rank +[0-9]+ Pid' "$log" | awk '{print $5}')
  victim=$((RANDOM % ${#pids[@]}))
  kill -9 "${pids[$victim]}"
  wait "$launcher"
  rc=$?
  sleep 2  # the other ranks are aborted by mpirun
  dump "$h5" && cp "$h5.results" "$h5.before"
  done_before=$(python3 "$check" "$h5.ids" "$h5.before" --count-done)
  t0=$(now)
  profile 128 "$h5" "$log.resume" --resume
  resume_rc=$?
  launch=$(echo "$(now) - $t0" | bc)
  dump "$h5"
  python3 "$check" "$h5.ids" "$h5.results" --measured "$((done_before + $(measured "$log.resume")))" --kept "$h5.before" > "$log.check"
  check_rc=$?
  {
    echo "kill -9 rank $victim of 128 (pid ${pids[$victim]}) at >= $((archs / 3)) archs written: launcher exit $rc, $done_before rows done in the file"
    echo "resume on 128 ranks: exit $resume_rc, $(grep -E 'resuming' "$log.resume" | sed 's/esm profile: //'), launch $launch s"
    grep -E 'complete:|timings' "$log.resume" | sed 's/^/  /'
    sed 's/^/  /' "$log.check"
    ((check_rc == 0)) && echo "kill + resume: ok (nothing lost, nothing measured twice)" || echo "kill + resume: FAIL"
  } | tee -a "$out/summary.txt"
fi
echo "command: bench/scale.sh ${counts[*]}   (ESM_SCALE_ARCHS=$archs; logs in $out)" | tee -a "$out/summary.txt"
