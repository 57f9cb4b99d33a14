#!/usr/bin/env bash
# Runs every libFuzzer target of a build (the asan preset) for a bounded time, two at a time, from
# its seed corpus in tests/fuzz/corpus/ (plus jobs/ for the job-config parser). Fails on any crash,
# leak, sanitizer report, timeout or out-of-memory; a reproducer is kept in the artifact folder.
#   tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET] [ARTIFACT_DIR]
set -euo pipefail
shopt -s extglob
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: run.sh BUILD_DIR [SECONDS_PER_TARGET] [ARTIFACT_DIR]}
seconds=${2:-60}
artifacts=${3:-$build/fuzz-artifacts}
mkdir -p "$artifacts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$root/tests/sanitizers/env.sh"
# The HDF5 readers' targets also carry lsan-hdf5.supp (HDF5's own leaks on corrupt files).
cat "$root/tests/sanitizers/lsan.supp" "$here/lsan-hdf5.supp" > "$work/lsan-hdf5.supp"
declare -A lsan_file=([model_file_fuzz]="$work/lsan-hdf5.supp" [dataset_fuzz]="$work/lsan-hdf5.supp")

declare -A extra_seeds=([job_config_fuzz]="$root/jobs")
read -r -a targets <<< "${ESM_FUZZ_TARGETS:-arch_text_fuzz job_config_fuzz model_file_fuzz dataset_fuzz}"

run_one() {
  local t=$1 bin=$build/tests/fuzz/$1 corpus=$work/$1
  [[ -x $bin ]] || { echo "fuzz: $bin not built (configure with the asan preset)" >&2; return 1; }
  mkdir -p "$corpus"
  # The first folder collects new inputs; the repo's seeds are only read.
  local lsan=$LSAN_OPTIONS
  [[ -n ${lsan_file[$t]:-} ]] && lsan=${lsan/suppressions=*([^:])/suppressions=${lsan_file[$t]}}
  LSAN_OPTIONS=$lsan TMPDIR=$work "$bin" "$corpus" "$here/corpus/${t%_fuzz}" ${extra_seeds[$t]:-} \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$t-" > "$work/$t.log" 2>&1
}

pids=() status=0
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  # Two at a time: one per core on the CI machine.
  if (( ${#pids[@]} == 2 )); then
    for p in "${pids[@]}"; do wait "$p" || status=1; done
    pids=()
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done

for t in "${targets[@]}"; do
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$t.log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$work/$t.log" | tail -1 | grep -o '[0-9]*' || echo "?")
  if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|deadly signal' "$work/$t.log"; then
    echo "fuzz: $t FAILED after $runs runs; reproducer in $artifacts:" >&2
    grep -m1 -A25 -E 'ERROR:|runtime error:|deadly signal' "$work/$t.log" >&2
    status=1
  else
    echo "fuzz: $t ok: $runs runs in ${seconds}s, coverage $cov edges"
  fi
done
exit $status
