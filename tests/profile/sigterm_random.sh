#!/usr/bin/env bash
# Fault injection: SIGTERM at a random point (at start, mid-run, near the end) to the launcher (as
# Slurm's scancel reaches mpirun) or to one random rank, on 2 or 3 ranks. The run must end
# interrupted (esm's exit code 3) or complete (0), closed: outcome recorded, lock and active_run
# marker gone. --resume then completes the plan: every arch exactly once, every row done before the
# signal byte-identical. Seeds as in kill_random.sh (ESM_FAULT_SEED, ESM_FAULT_ITERATIONS).
source "$(dirname "$0")/common.sh"

count=6

fault_seeds sigterm_random 6
for ((k = 0; k < iterations; k++)); do
  seed=$((base + k))
  fault_iteration "$seed"
  points=(start mid late)
  point=${points[$((RANDOM % 3))]}
  args=(--sample.count=$count --measure.reps=30 --run.chunk=$chunk)
  echo "  seed $seed: $n ranks, chunk $chunk, SIGTERM at $point"

  # Signals arrive after the rank table: esm installs its handlers before it prints the table, and
  # a SIGTERM before that ends a process the default way (kill_random.sh covers such deaths).
  fault_run -TERM "$n" run1.log "$point" "${args[@]}"
  outcome=$(attr tiny.h5 /runs/0/outcome)
  case "$fault_target:$fault_rc:$outcome" in
    *:3:interrupted | *:0:complete) ;;
    # mpirun (Open MPI 4.1) forwards SIGTERM to the ranks and then exits 1 whatever they returned:
    # the file and the log tell how the ranks ended.
    launcher:1:interrupted | launcher:1:complete) ;;
    *) cat run1.log; fail "seed $seed: SIGTERM to $fault_target: exit $fault_rc, outcome '$outcome'" ;;
  esac
  if [[ $outcome == interrupted ]]; then
    grep -q "interrupted; continue with --resume" run1.log || { cat run1.log; fail "seed $seed: no interruption message"; }
  fi
  [[ -e tiny.h5.lock ]] && fail "seed $seed: lock file left after SIGTERM"
  "$H5DUMP" -A tiny.h5 | grep -q '"active_run"' && fail "seed $seed: active_run marker left after SIGTERM"
  snapshot tiny.h5 before || fail "seed $seed: h5dump after SIGTERM"

  run_mpi "$n" "$ESM" profile --config tiny.ini "${args[@]}" --resume > final.log 2>&1 ||
    { rc=$?; cat run1.log final.log; fail "seed $seed: resume exited $rc"; }
  grep -q "taking over" final.log && fail "seed $seed: resume found a stale lock after a clean SIGTERM"
  check_complete tiny.h5 "$count" || fail "seed $seed: incomplete"
  snapshot tiny.h5 after || fail "seed $seed: h5dump after resume"
  kept=$(same_done_rows before after) || fail "seed $seed: a row done before SIGTERM changed on resume"
  echo "    resumed: $count/$count done, ids unique, $kept rows done before the signal byte-identical ($((SECONDS - fault_t0)) s)"
  cd "$WORK" || exit 1
  rm -rf "iter.$seed"
done
((fault_landed * 2 >= iterations)) || fail "only $fault_landed signals hit a running run in $iterations iterations"
echo "sigterm_random: ok ($iterations iterations, $fault_landed signals hit a running run, $((SECONDS - fault_start)) s)"
