#!/usr/bin/env bash
# esm loop end to end on the CPU backend, 2 ranks: the loop stops by itself, the dataset holds
# every arch once (initial + the recorded batches) and a /loop row per (iteration, depth bin);
# SIGTERM during a loop exits 3 and --resume finishes it with consecutive iterations.
# Arguments: esm binary, mpiexec, h5dump (tests/profile/common.sh).
source "$(dirname "$0")/../profile/common.sh"

# common.sh's tiny job (drift guard on, a write per chunk) with a [loop] section.
sed 's/^path = tiny.h5$/path = loop.h5/; s/^chunk = 2$/chunk = 1/' tiny.ini > loop.ini
cat >> loop.ini <<'INI'
[loop]
threshold = 0.3
initial = 10
batch = 5
budget = 25
min_per_bin = 1
kinds = ridge
folds = 5
members = 1
INI

# /loop as "iteration stop next_count", one line per row (h5dump -y: "{", then a field per line).
loop_rows() {
  "$H5DUMP" -y -w 0 -d /loop "$1" | sed -n '/^   DATA {/,/^   }/p' |
    awk '/^ *\{ *$/ {f = 0; next} /^ *\}/ {if (f) print it, st, nc; f = 0; next}
         {gsub(/[ ,]/, ""); f++; if (f == 5) it = $0; if (f == 7) st = $0; if (f == 8) nc = $0}'
}
# Checks a finished loop dataset: the stop recorded, rows = initial + batches, ids unique, none pending.
check_finished() {
  local file=$1 iterations rows batches stops
  rows=$(ids "$file" | wc -l)
  [[ $(ids "$file" | sort -u | wc -l) == "$rows" ]] || fail "$file: an arch appears twice"
  [[ $(count_status "$file" pending) == 0 ]] || fail "$file: pending rows left"
  "$H5DUMP" -H -d /loop "$file" > /dev/null || fail "$file: no /loop table"
  # One next_count per iteration (the rows of one iteration agree), summed over the iterations.
  loop_rows "$file" | sort -u > iterations.txt
  [[ $(wc -l < iterations.txt) == $(cut -d' ' -f1 iterations.txt | sort -u | wc -l) ]] ||
    fail "$file: the rows of one iteration disagree"
  batches=$(awk '{s += $3} END {print s + 0}' iterations.txt)
  [[ $rows == $((10 + batches)) ]] || fail "$file: $rows rows, expected 10 + $batches"
  stops=$(sort -n iterations.txt | awk '$2 == 1 {print $1}' | tr '\n' ' ')
  [[ $stops == "$(sort -n iterations.txt | tail -1 | cut -d' ' -f1) " ]] ||
    fail "$file: iterations deciding to stop: '$stops', expected exactly the last"
  iterations=$(cut -d' ' -f1 iterations.txt | sort -n | tr '\n' ' ')
  [[ $iterations == "$(seq -s ' ' 0 $(($(wc -l < iterations.txt) - 1))) " ]] ||
    fail "$file: iterations not consecutive: $iterations"
  "$ESM" info "$file" > info.log 2>&1 || { cat info.log; fail "esm info failed on $file"; }
  grep -q "pending 0" info.log || { cat info.log; fail "esm info: rows not all done"; }
}

# 1. A loop to its end.
run_mpi 2 "$ESM" loop --config loop.ini > run1.log 2>&1 || { cat run1.log; fail "loop exited $?"; }
grep -qE '^iter 0: 10 archs, bins below 30%: [0-9]+' run1.log || { cat run1.log; fail "no iteration line"; }
grep -qE '^iter [0-9]+: [0-9]+ archs, .*stop: ' run1.log || { cat run1.log; fail "no stopping iteration"; }
check_finished loop.h5
run_mpi 2 "$ESM" loop --config loop.ini --resume > again.log 2>&1 || { cat again.log; fail "resume of a finished loop failed"; }
grep -q "already stopped" again.log || { cat again.log; fail "a finished loop ran again"; }
run_mpi 2 "$ESM" loop --config loop.ini > exists.log 2>&1 && fail "an existing dataset was overwritten"

# 2. SIGTERM once the first iteration is recorded, then --resume.
start_mpi 2 run2.log "$ESM" loop --config loop.ini --output term.h5 --measure.reps=100 --loop.threshold=1
deadline=$((SECONDS + 60))
until grep -q '^iter 0:' run2.log; do ((SECONDS < deadline)) || { cat run2.log; fail "no first iteration"; }; sleep 0.2; done
kill -TERM "$(rank_pid run2.log 0 | head -1)" "$(rank_pid run2.log 1 | head -1)"
wait "$launcher"
rc=$?
[[ $rc == 3 ]] || { cat run2.log; fail "SIGTERM: exit code $rc, expected 3"; }
[[ -e term.h5.lock ]] && fail "lock file left after SIGTERM"
run_mpi 2 "$ESM" loop --config loop.ini --output term.h5 --measure.reps=100 --loop.threshold=1 --resume > run3.log 2>&1 ||
  { cat run3.log; fail "resume exited $?"; }
grep -qE 'resuming term.h5 at iteration [1-9]' run3.log || { cat run3.log; fail "resume did not continue the loop"; }
check_finished term.h5
echo "loop_cpu: ok"
