#!/usr/bin/env bash
# esm select and esm adapt on a 300-arch slice of the shared HELP data (issue 29): two source
# devices (V100 and RTX 2080 Ti at batch 64, ridge models), the Titan Xp at batch 64 as the new
# device. Picks are deterministic for a seed and lines of the pool; the adapted model is written
# with its leave-one-out table, esm info and esm predict say it is adapted, its predictions of the
# archs not picked are within ±10% for most of them, and re-running gives the same model
# predictions. Exits 77 (skipped) when the shared data is absent.
#   adapt_help_ofa.sh ESM SHARED_DIR
set -u
esm=$(realpath "${1:?usage: adapt_help_ofa.sh ESM SHARED_DIR}")
source "$(dirname "$0")/help_ofa_slice.sh" "${2:?usage: adapt_help_ofa.sh ESM SHARED_DIR}" 300
mv archs.jsonl pool.jsonl
import() {  # ARCHS LATENCIES COLUMN OUT
  "$esm" import --archs "$1" --latencies "$2" --column "$3" --index-column arch_index --space ofa-mbv3 --width w1.2 \
    --device "$3" --batch 64 --source "HELP (NeurIPS 2021), data/ofa, MIT" --out "$4" >>import.log 2>&1 || fail "esm import $3: $(cat import.log)"
}
for c in v100_64 2080ti_64 titan_xp_64; do import pool.jsonl latency_ms.csv "$c" "$c.h5"; done
for c in v100_64 2080ti_64; do
  "$esm" train --dataset "$c.h5" --out "$c.model.h5" --kinds ridge --members 1 --folds 3 --encoding fcc+extras >train.log 2>&1 ||
    fail "esm train $c: $(tail -2 train.log)"
done
sources=(--model v100_64.model.h5 --model 2080ti_64.model.h5)

"$esm" select "${sources[@]}" --archs pool.jsonl --width w1.2 --count 10 --seed 3 --out picks.jsonl >select.log 2>&1 ||
  fail "esm select: $(cat select.log)"
"$esm" select "${sources[@]}" --archs pool.jsonl --width w1.2 --count 10 --seed 3 --out again.jsonl >/dev/null 2>&1
"$esm" select "${sources[@]}" --archs pool.jsonl --width w1.2 --count 10 --seed 4 --out other.jsonl >/dev/null 2>&1
[[ $(wc -l <picks.jsonl) == 10 ]] || fail "esm select wrote $(wc -l <picks.jsonl) lines, not 10"
cmp -s picks.jsonl again.jsonl || fail "esm select is not deterministic for a seed"
cmp -s picks.jsonl other.jsonl && fail "esm select gave seed 4 the picks of seed 3"
[[ $(grep -cxFf picks.jsonl pool.jsonl) == 10 ]] || fail "the picks are not lines of the pool"

# The new device's 10 rows: the picks' latencies, re-indexed to the picks file.
awk 'NR == FNR { want[$0] = 1; next } ($0 in want) { print FNR - 1 }' picks.jsonl pool.jsonl >picks.index
awk -F, 'NR == FNR { row[$1 + 1] = ++n; next } FNR == 1 { print; next } (FNR - 1 in row) { $1 = row[FNR - 1] - 1; print }' OFS=, \
  picks.index latency_ms.csv >picks.csv
import picks.jsonl picks.csv titan_xp_64 target.h5
"$esm" adapt "${sources[@]}" --dataset target.h5 --out target.model.h5 >adapt.txt 2>&1 || fail "esm adapt: $(cat adapt.txt)"
for want in "adapted from 2 source models on 10 rows" "leave-one-out adapted" "90% interval coverage"; do
  grep -qF -- "$want" adapt.txt || { fail "esm adapt's summary lacks '$want'"; cat adapt.txt; }
done
[[ -f target.model.h5 && -f target.model.cv.csv ]] || fail "no model or leave-one-out table written"
"$esm" info target.model.h5 >info.txt 2>&1 || fail "esm info on the model: $(cat info.txt)"
for want in "ADAPTED      by esm adapt from 2 source models on 10 rows" "source 1     $work/2080ti_64.model.h5"; do
  grep -qF -- "$want" info.txt || { fail "esm info lacks '$want'"; cat info.txt; }
done

# Predictions of the 290 archs not picked (texts from esm features, in pool order).
"$esm" features --dataset titan_xp_64.h5 --encoding fcc --out full.csv >/dev/null 2>&1 || fail "esm features"
sed -n '2,$s/^"\([^"]*\)".*/\1/p' full.csv >texts.txt  # arch,depth_bin,fold,target,...; the text is quoted
sed -n '2,$s/^"[^"]*",[^,]*,[^,]*,\([^,]*\),.*/\1/p' full.csv >truth.txt
[[ $(wc -l <texts.txt) == 300 && $(wc -l <truth.txt) == 300 ]] || fail "esm features: $(wc -l <texts.txt) texts"
"$esm" predict --model target.model.h5 --archs texts.txt >pred.txt 2>pred.err || fail "esm predict: $(cat pred.err)"
grep -qF "adapted model (esm adapt): 10 rows of the target device, 2 source models" pred.err || fail "esm predict does not say adapted"
share=$(paste -d' ' <(awk '{print $1}' pred.txt) truth.txt | awk -v picks="$(tr '\n' ' ' <picks.index)" '
    BEGIN { n = split(picks, p, " "); for (i = 1; i <= n; ++i) picked[p[i] + 1] = 1 }
    !(NR in picked) { total++; r = $1 / $2 - 1; if (r < 0) r = -r; if (r <= 0.10) ok++ }
    END { printf "%.1f", 100 * ok / total }')
echo "adapted model on the 290 archs not picked: $share% within ±10%"
awk -v s="$share" 'BEGIN { exit !(s >= 80) }' || fail "only $share% within ±10% (expected >= 80%)"
"$esm" adapt "${sources[@]}" --dataset target.h5 --out again.model.h5 >/dev/null 2>&1
"$esm" predict --model again.model.h5 --archs texts.txt 2>/dev/null | cmp -s - pred.txt || fail "esm adapt twice: other predictions"

((fails == 0)) && echo "PASS" || exit 1
