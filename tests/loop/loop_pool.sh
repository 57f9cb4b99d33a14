#!/usr/bin/env bash
# esm loop in pool mode on a 200-arch slice of the shared HELP data (GPU latencies measured by
# others): the loop's labels are looked up in an imported dataset, never timed. Checks that the
# output says so (stdout, esm info), that every row holds exactly the pool's latency, that draws
# come from the pool and never repeat, that loop.sizes schedules the batches, that the held-out
# scores cover exactly the pool's archs left out, that a run repeats bit for bit, and that 2 ranks
# give the same dataset as 1. Exits 77 (skipped) when the shared data is absent.
#   loop_pool.sh ESM MPIEXEC SHARED_DIR
set -u
esm=$(realpath "${1:?usage: loop_pool.sh ESM MPIEXEC SHARED_DIR}")
mpiexec=${2:?usage: loop_pool.sh ESM MPIEXEC SHARED_DIR}
source "$(dirname "$0")/../cli/help_ofa_slice.sh" "${3:?usage: loop_pool.sh ESM MPIEXEC SHARED_DIR}"
"$esm" import --archs archs.jsonl --latencies latency_ms.csv --column titan_xp_1 --index-column arch_index \
  --space ofa-mbv3 --width w1.2 --device "Titan Xp" --batch 1 --source "HELP slice" --out pool.h5 >import.log 2>&1 ||
  { cat import.log; echo "FAIL: esm import"; exit 1; }
cat >pool.ini <<'INI'
[space]
name = ofa-mbv3
width = w1.2
[sample]
policy = balanced
seed = 3
[loop]
pool = pool.h5
threshold = 1.0
initial = 20
sizes = 40,80
min_per_bin = 1
kinds = ridge
folds = 5
encoding = fcc+extras
INI

# One loop per strategy, each to the end of loop.sizes (threshold 100%: never met on these labels).
for s in weighted random uncertainty; do
  "$esm" loop --config pool.ini --output "$s.h5" --loop.strategy=$s --scores "$s.csv" >"$s.log" 2>&1 ||
    { fail "$s: esm loop exited $?"; cat "$s.log"; continue; }
  grep -q '^esm loop: POOL MODE: no latency is measured; labels are looked up in pool.h5 (200 archs, Titan Xp, HELP slice)' "$s.log" ||
    { fail "$s: no pool-mode banner"; cat "$s.log"; }
  for n in 20 40 80; do
    grep -qE "^iter [0-9]: $n archs, " "$s.log" || { fail "$s: no iteration at $n archs"; cat "$s.log"; }
    grep -qE "^  pool held-out: $((200 - n)) archs, within 10% [0-9.]+%" "$s.log" ||
      { fail "$s: no held-out line for $((200 - n)) archs"; cat "$s.log"; }
    # The CSV: the "all" row scores every pool arch left out, the depth rows add up to it.
    awk -F, -v n=$n '$2 == n && $3 == "all" {all = $4} $2 == n && $3 != "all" {sum += $4} END {exit !(all == 200 - n && sum == all)}' "$s.csv" ||
      { fail "$s.csv: the rows at $n archs do not cover the $((200 - n)) left"; cat "$s.csv"; }
  done
  grep -q 'stop: last of loop.sizes reached' "$s.log" || { fail "$s: did not stop at the end of loop.sizes"; cat "$s.log"; }
  head -1 "$s.csv" | grep -qx 'iteration,archs,bin,n,within_5,within_10,mape_percent' || fail "$s.csv: header"
  # Every row is the pool's own latency of that arch, and no arch is there twice.
  "$esm" compare "$s.h5" pool.h5 >"$s.compare" 2>&1 || { fail "$s: esm compare"; cat "$s.compare"; }
  tr -s ' ' <"$s.compare" | grep -qx 'n_common 80' || { fail "$s: not 80 archs of the pool"; cat "$s.compare"; }
  tr -s ' ' <"$s.compare" | grep -qx 'mean_abs_rel_diff 0' || { fail "$s: labels differ from the pool's"; cat "$s.compare"; }
  "$esm" info "$s.h5" >"$s.info" 2>&1 || fail "$s: esm info"
  for want in "IMPORTED     measured elsewhere, not by esm: Titan Xp; source: HELP slice" "done 80   failed 0   pending 0" \
              "measurement  pool: looked up in pool.h5 by esm loop (loop.pool), not measured here"; do
    grep -qF -- "$want" "$s.info" || { fail "$s: esm info lacks '$want'"; cat "$s.info"; }
  done
done

# The initial sample is depth-balanced from the pool: the same 20 archs for every strategy.
texts() {  # DATASET -> its arch texts in row order (esm features' first, quoted field)
  "$esm" features --dataset "$1" --encoding fcc --out "$1.csv" >/dev/null 2>&1 || fail "esm features $1"
  awk -F'"' 'NR > 1 {print $2}' "$1.csv"
}
texts weighted.h5 >w.txt && texts random.h5 >r.txt
[[ "$(head -20 w.txt)" == "$(head -20 r.txt)" ]] || fail "the initial 20 archs differ between strategies"
[[ "$(tail -n +21 w.txt)" != "$(tail -n +21 r.txt)" ]] || fail "weighted and random drew the same batches"
# Depth-balanced: the 20 initial archs spread over at least 8 depth bins (a uniform draw of this
# slice would put about a fifth of them at depth 15).
[[ $(head -20 w.txt | sed 's/.*:d=\([0-9,]*\):.*/\1/' | awk -F, '{print $1+$2+$3+$4+$5}' | sort -u | wc -l) -ge 8 ]] ||
  fail "the initial sample is not spread over the depth bins"

# Bit for bit again, and on 2 ranks.
"$esm" loop --config pool.ini --output again.h5 --scores again.csv >again.log 2>&1 || fail "second run"
cmp -s weighted.csv again.csv || fail "a second run scored differently"
[[ "$(texts again.h5)" == "$(cat w.txt)" ]] || fail "a second run drew other archs"
"$mpiexec" -n 2 --oversubscribe "$esm" loop --config pool.ini --output two.h5 --scores two.csv >two.log 2>&1 ||
  { fail "2 ranks: esm loop exited $?"; cat two.log; }
cmp -s weighted.csv two.csv || { fail "2 ranks scored differently"; diff weighted.csv two.csv | head; }
"$esm" loop --config pool.ini --output weighted.h5 --resume >resume.log 2>&1 && grep -q "already stopped" resume.log ||
  { fail "--resume of a finished pool loop"; cat resume.log; }

# A loop that asks for more than the pool holds takes all of it, then stops.
"$esm" loop --config pool.ini --output dry.h5 --loop.sizes=100,300,400 --loop.strategy=random >dry.log 2>&1 ||
  { fail "a loop past the pool's end exited $?"; cat dry.log; }
grep -q '^esm loop: the pool has no arch left to draw; stopping' dry.log || { fail "no 'no arch left' line"; cat dry.log; }
"$esm" compare dry.h5 pool.h5 2>&1 | tr -s ' ' | grep -qx 'n_common 200' || fail "the dry loop does not hold all 200 pool archs"

echo "loop_pool: $fails failures"
[[ $fails -eq 0 ]]
