#!/usr/bin/env bash
# esm compare: a dataset against itself agrees exactly; bad inputs exit 2 with one line on stderr
# naming the problem and print nothing on stdout.
#   compare.sh PATH/TO/esm PATH/TO/esm_make_synthetic_dataset PATH/TO/esm_test_h5_set_attribute
set -u
usage="usage: compare.sh ESM MAKE_SYNTHETIC_DATASET H5_SET_ATTRIBUTE"
esm=${1:?$usage} make_dataset=${2:?$usage} set_attribute=${3:?$usage}
esm=$(realpath "$esm") make_dataset=$(realpath "$make_dataset") set_attribute=$(realpath "$set_attribute")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fails=0 cases=0

"$make_dataset" a.h5 40 0.02 3 >/dev/null || { echo "FAIL: synthetic dataset"; exit 1; }
"$make_dataset" other.h5 40 0.02 1000 >/dev/null || { echo "FAIL: synthetic dataset"; exit 1; }
printf 'not hdf5\n' >text.txt
cp a.h5 bf16.h5 && "$set_attribute" bf16.h5 precision text bf16 || { echo "FAIL: bf16.h5"; exit 1; }

# A dataset against itself: every arch in common, no difference, perfect rank agreement.
if ! "$esm" compare a.h5 a.h5 >same.txt 2>err.txt; then
  echo "FAIL: esm compare a.h5 a.h5: $(cat err.txt)"; fails=$((fails + 1))
fi
for expected in "n_common 40" "mean_abs_rel_diff 0" "within_5 1" "spearman 1" "kendall_tau_b 1"; do
  cases=$((cases + 1))
  if ! tr -s ' ' <same.txt | grep -qx -- "$expected"; then
    echo "FAIL: self-comparison lacks '$expected'"; cat same.txt; fails=$((fails + 1))
  fi
done

# Two precisions (two devices): compared only when asked, and the report says so.
cases=$((cases + 1))
if ! "$esm" compare a.h5 bf16.h5 --across-precisions >across.txt 2>err.txt ||
  ! grep -q "^# precisions differ: A fp32, B bf16" across.txt || ! tr -s ' ' <across.txt | grep -qx "n_common 40"; then
  echo "FAIL: esm compare --across-precisions: $(cat err.txt across.txt)"; fails=$((fails + 1))
fi

# expect TOKEN ARGS...: exit 2, one line on stderr containing TOKEN, nothing on stdout.
expect() {
  local token=$1; shift
  cases=$((cases + 1))
  "$esm" compare "$@" >stdout.txt 2>stderr.txt
  local rc=$? lines
  lines=$(wc -l <stderr.txt)
  if [[ $rc -ne 2 || $lines -ne 1 || -s stdout.txt ]] || ! grep -qF -- "$token" stderr.txt; then
    echo "FAIL: esm compare $* -> rc=$rc, stderr lines=$lines: $(head -c 300 stderr.txt)"
    fails=$((fails + 1))
  fi
}

expect "missing.h5" a.h5 missing.h5
expect "missing.h5" missing.h5 a.h5
expect "text.txt" a.h5 text.txt
expect "got 1" a.h5
expect "got 3" a.h5 a.h5 a.h5
expect "got 0"
expect "sideways" a.h5 a.h5 --label sideways
expect "in common" a.h5 other.h5
expect "--across-precisions" a.h5 bf16.h5
expect "bogus" a.h5 a.h5 --bogus
expect "missing.h5" a.h5 missing.h5 --out out.txt
[[ -e out.txt ]] && { echo "FAIL: output file written on error"; fails=$((fails + 1)); }

echo "compare: $cases cases, $fails failures"
[[ $fails -eq 0 ]]
