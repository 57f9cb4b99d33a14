#!/usr/bin/env bash
# Fault injection: kill -9 of a random rank or of the launcher at a random point (before the first
# write, mid-run, near the end), on 2 or 3 ranks, then --resume (itself killed again in some
# iterations): every arch exactly once with status done, and every row done before a kill
# byte-identical at the end. Iteration k uses seed ESM_FAULT_SEED + k (default: from the clock,
# printed); ESM_FAULT_SEED=S ESM_FAULT_ITERATIONS=1 replays the choices of a failed iteration.
source "$(dirname "$0")/common.sh"

count=6

fault_seeds kill_random 10
for ((k = 0; k < iterations; k++)); do
  seed=$((base + k))
  fault_iteration "$seed"
  partitions=(lpt dynamic)
  partition=${partitions[$((RANDOM % 2))]}
  points=(early mid late)
  point=${points[$((RANDOM % 3))]}
  twice=$((RANDOM % 3 == 0))
  args=(--sample.count=$count --measure.reps=100 --run.chunk=$chunk --run.partition=$partition)
  echo "  seed $seed: $n ranks, chunk $chunk, $partition, kill at $point$( ((twice)) && echo ', resume killed too')"

  fault_run -KILL "$n" run1.log "$point" "${args[@]}"
  snapshot tiny.h5 before1 || fail "seed $seed: h5dump after the first kill"
  if ((twice)); then
    fault_run -KILL "$n" run2.log "${points[$((RANDOM % 3))]}" "${args[@]}" --resume
    snapshot tiny.h5 before2 || fail "seed $seed: h5dump after the second kill"
    if [[ -s before1.status ]]; then
      (same_done_rows before1 before2 > /dev/null) || fail "seed $seed: a done row changed in the killed resume"
    fi
  fi
  run_mpi "$n" "$ESM" profile --config tiny.ini "${args[@]}" --resume > final.log 2>&1 ||
    { rc=$?; cat run*.log final.log; fail "seed $seed: resume exited $rc"; }
  check_complete tiny.h5 "$count" || fail "seed $seed: incomplete"
  snapshot tiny.h5 after || fail "seed $seed: h5dump after resume"
  kept=0
  for before in before1 before2; do
    if [[ -s $before.status ]]; then
      kept=$(same_done_rows "$before" after) || fail "seed $seed: a row done before a kill changed on resume"
    fi
  done
  echo "    resumed: $count/$count done, ids unique, $kept rows done before the kill byte-identical ($((SECONDS - fault_t0)) s)"
  cd "$WORK" || exit 1
  rm -rf "iter.$seed"
done
# A kill after the run had ended tests nothing; timing on a loaded machine may make a few of them.
((fault_landed * 2 >= iterations)) || fail "only $fault_landed kills hit a running run in $iterations iterations"
echo "kill_random: ok ($iterations iterations, $fault_landed kills hit a running run, $((SECONDS - fault_start)) s)"
