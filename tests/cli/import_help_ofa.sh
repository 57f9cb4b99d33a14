#!/usr/bin/env bash
# esm import on a 200-arch slice of the shared HELP data (GPU latencies measured by others), then
# the commands that read datasets: info, train (5-fold CV table), compare of two imported columns,
# features. Exits 77 (skipped) when the shared data is absent.
#   import_help_ofa.sh ESM SHARED_DIR
set -u
esm=$(realpath "${1:?usage: import_help_ofa.sh ESM SHARED_DIR}")
source "$(dirname "$0")/help_ofa_slice.sh" "${2:?usage: import_help_ofa.sh ESM SHARED_DIR}"
import() {  # COLUMN DEVICE OUT
  "$esm" import --archs archs.jsonl --latencies latency_ms.csv --column "$1" --index-column arch_index \
    --space ofa-mbv3 --width w1.2 --device "$2" --batch 64 --source "HELP (NeurIPS 2021), data/ofa, MIT" --out "$3"
}
import v100_64 "Tesla V100" v100.h5 >import.log 2>&1 || fail "esm import v100_64: $(cat import.log)"
import titan_xp_64 "Titan Xp" titan.h5 >>import.log 2>&1 || fail "esm import titan_xp_64: $(cat import.log)"
[[ -f v100.h5 && -f titan.h5 ]] || { echo "FAIL: no dataset written"; exit 1; }
ls | grep -q '\.import\.' && fail "a temporary file was left: $(ls)"

"$esm" info v100.h5 >info.txt 2>&1 || fail "esm info: $(cat info.txt)"
for want in "IMPORTED     measured elsewhere, not by esm: Tesla V100" "done 200   failed 0   pending 0" \
            "archs.jsonl=$(sha256sum <archs.jsonl | cut -c1-64)" "imported: not measured by esm"; do
  grep -qF -- "$want" info.txt || { fail "esm info lacks '$want'"; cat info.txt; }
done
"$esm" info --provenance v100.h5 >prov.txt 2>&1 || fail "esm info --provenance"
for want in "backend = imported" "max_samples = 0" "device = Tesla V100" "batch_size = 64"; do
  grep -qF -- "$want" prov.txt || fail "provenance lacks '$want'"
done

# The row claims only the latency: done, n = 0, no reference, normalised NaN.
if command -v h5dump >/dev/null; then
  h5dump -d /results -s 0 -c 1 v100.h5 >row.txt 2>&1 || fail "h5dump /results"
  grep -q 'H5T_STD_I32LE "n"' row.txt || fail "h5dump: no /results.n"
  # After the arch id: trimmed_mean_ms (v100_64 of arch_index 0), 11 NaNs (statistics, reference,
  # normalised, times), then status done, run 0, rank 0, device -1, n 0.
  want="21.8071 $(printf 'nan %.0s' {1..11})done 0 0 -1 0 "
  sed -n '/DATA {/,$p' row.txt | sed -n '4,20p' | tr -d ' ,' | tr '\n' ' ' | grep -qxF -- "$want" ||
    { fail "h5dump: row 0 is not '$want'"; cat row.txt; }
fi

"$esm" train --dataset v100.h5 --out model.h5 --folds 5 --members 1 --kinds ridge >train.txt 2>&1 ||
  fail "esm train: $(tail -3 train.txt)"
grep -q '^cross-validation: 200 archs, label trimmed_mean' train.txt || { fail "no CV header with label trimmed_mean"; cat train.txt; }
grep -qE '^ridge +200 ' train.txt || { fail "no CV table row for ridge"; cat train.txt; }

"$esm" compare v100.h5 titan.h5 >compare.txt 2>&1 || fail "esm compare: $(cat compare.txt)"
tr -s ' ' <compare.txt | grep -qx 'n_common 200' || { fail "compare: not 200 archs in common"; cat compare.txt; }

"$esm" features --dataset v100.h5 --encoding fcc --out features.csv >features.log 2>&1 || fail "esm features: $(cat features.log)"
[[ $(wc -l <features.csv) -eq 201 ]] || fail "features.csv has $(wc -l <features.csv) lines, expected 201"

# By line instead of an index column: the same dataset rows (the slice is in arch_index order).
"$esm" import --archs archs.jsonl --latencies latency_ms.csv --column v100_64 --space ofa-mbv3 --width w1.2 \
  --device "Tesla V100" --batch 64 --source test --out byline.h5 >/dev/null 2>&1 || fail "esm import by line"
"$esm" compare v100.h5 byline.h5 | tr -s ' ' | grep -qx 'mean_abs_rel_diff 0' || fail "by line differs from by index"

echo "import_help_ofa: $fails failures"
[[ $fails -eq 0 ]]
