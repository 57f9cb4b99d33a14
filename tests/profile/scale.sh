#!/usr/bin/env bash
# Scale (label scale): esm profile with the synthetic backend on many ranks oversubscribed onto
# this machine's cores (jobs/scale-synthetic.ini, made small): the run completes, every arch is
# measured exactly once (scale_check.py: all rows done, arch ids match, and the rows measured,
# summed over the ranks, equal the plan), the dataset is marked synthetic, --timings reports its
# phases, and the values equal a 2-rank run of the same plan (the rank count changes nothing).
#   scale.sh ESM MPIEXEC H5DUMP RANKS [ARCHS]
source "$(dirname "$0")/common.sh"
ranks=${4:?usage: scale.sh ESM MPIEXEC H5DUMP RANKS [ARCHS]}
archs=${5:-3000}
# Shared memory and loopback only; no single-copy (CMA) transfers, which some containers forbid.
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none

# A collective write every 0.2 s: several rounds even on few archs.
job=(--config "$HERE/../../jobs/scale-synthetic.ini" --sample.count="$archs" --run.flush_interval_s=0.2
  --run.progress_interval_s=30)
profile() {  # $1 ranks, $2 output; prints the log on failure
  local start=$SECONDS
  if ! run_mpi "$1" "$ESM" profile "${job[@]}" --output "$2" --timings > "$2.log" 2>&1; then
    tail -20 "$2.log"
    fail "esm profile on $1 ranks failed"
  fi
  echo "    $1 ranks: $((SECONDS - start)) s; $(grep -oE 'wall [0-9.]+ s, HDF5 [0-9.]+ s' "$2.log")"
}
measured() { grep -oE '[0-9]+ rows measured in this run' "$1" | grep -oE '^[0-9]+'; }
check_once() {  # $1 dataset: every arch done exactly once
  "$H5DUMP" -d /archs/id -b LE -o "$1.ids" "$1" > /dev/null && "$H5DUMP" -d /results -b FILE -o "$1.results" "$1" > /dev/null ||
    fail "h5dump $1"
  python3 "$HERE/scale_check.py" "$1.ids" "$1.results" --measured "$(measured "$1.log")" || fail "$1: not every arch exactly once"
}

profile "$ranks" many.h5
check_once many.h5
grep -qE "esm profile: complete: $archs rows measured in this run \(0 failed" many.h5.log || fail "not complete: $(tail -1 many.h5.log)"
grep -qE "$ranks ranks, dynamic partition" many.h5.log || fail "rank count not in the log"
[[ $(attr many.h5 synthetic) == 1 ]] || fail "dataset not marked synthetic"
grep -qE "timings: plan_s=[0-9.]+ inspect_s=[0-9.]+ broadcast_s=[0-9.]+ broadcast_bytes=[1-9][0-9]* " many.h5.log ||
  fail "no phase timings"
grep -qE "timings: writes=([2-9]|[1-9][0-9]+) write_s_median=[0-9.]+ " many.h5.log || fail "no write timings"
grep -qE "timings: vmhwm_mib_rank0=[1-9][0-9.]* .* ranks=$ranks\$" many.h5.log || fail "no memory of all $ranks ranks"
grep "timings:" many.h5.log | sed 's/^/    /'

profile 2 two.h5
check_once two.h5
# Same plan, same synthetic values, whichever rank measured an arch: /samples byte for byte.
for f in many two; do
  "$H5DUMP" -d /samples -b LE -o "$f.samples" "$f.h5" > /dev/null || fail "h5dump $f.h5 /samples"
done
cmp -s many.samples two.samples || fail "the $ranks-rank run's samples differ from the 2-rank run's"
cmp -s many.h5.ids two.h5.ids || fail "the plans differ"
echo "ok: $ranks ranks, $archs archs, each once; samples identical to a 2-rank run"
