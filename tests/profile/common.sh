# Shared helpers of the MPI integration tests (sourced). Arguments of every script:
#   $1 esm binary   $2 mpiexec   $3 h5dump
# Each script works in its own temporary directory and only ever signals processes it started.
set -u
ESM=$1
MPIEXEC=$2
H5DUMP=${3:-h5dump}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d /tmp/esm_mpi_test.XXXXXX)
STARTED=()  # pids of background launchers, killed on exit if still running
cleanup() {
  for pid in "${STARTED[@]}"; do kill -9 "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"

fail() { echo "FAIL: $*" >&2; exit 1; }
run_mpi() { local n=$1; shift; "$MPIEXEC" -n "$n" --oversubscribe "$@"; }
# Starts the launcher itself in the background (so that $launcher is mpiexec's pid), output to $2.
start_mpi() {
  local n=$1 log=$2
  shift 2
  "$MPIEXEC" -n "$n" --oversubscribe "$@" > "$log" 2>&1 &
  launcher=$!
  STARTED+=("$launcher")
}

# A tiny job: 8 ofa-mbv3 archs at 128 px, few repetitions, a round (write + flush) per chunk.
cat > tiny.ini <<'INI'
[space]
name = ofa-mbv3
width = w1.0
resolution = 128
[sample]
policy = balanced
count = 8
seed = 1
[measure]
reps = 3
warmup_runs = 1
warmup_ms = 0
drift_every = 2
drift_reps = 2
drift_threshold = 100
[backend]
name = cpu
threads = 1
[output]
path = tiny.h5
[run]
chunk = 2
flush_interval_s = 0
progress_interval_s = 0
INI

# One canonical text per line (h5dump's text output: quoted, no quotes inside the texts).
texts() { "$H5DUMP" -d /archs/text -y -w 0 "$1" | sed -n '/DATA {/,$p' | grep -oE '"[^"]*"' | tr -d '"'; }
ids() { "$H5DUMP" -d /archs/id -b LE -o "$WORK/.ids" "$1" >/dev/null && od -An -tu8 -v -w8 "$WORK/.ids" | tr -d ' '; }
# Number of /results rows with the given status (the enum's name, as h5dump prints it).
count_status() { "$H5DUMP" -d /results "$1" | grep -cE "^ +$2,\$"; }
row_status() { "$H5DUMP" -d /results -s "$2" -c 1 "$1" | grep -oE '^ +(pending|done|failed),$' | tr -d ' ,'; }
# One /results row and its /samples row as h5dump sees them: text at full precision (every field,
# strings included) and the raw bytes of the numeric fields.
dump_row() {
  local width
  width=$("$H5DUMP" -H -d /samples "$1" | grep -oE 'SIMPLE \{ \( [0-9]+, [0-9]+' | grep -oE '[0-9]+$')
  "$H5DUMP" -m %.17g -d /results -s "$2" -c 1 "$1" > "$3.results.txt" &&
    "$H5DUMP" -d /results -s "$2" -c 1 -b FILE -o "$3.results" "$1" > /dev/null &&
    "$H5DUMP" -m %.9g -d /samples -s "$2,0" -c "1,$width" "$1" > "$3.samples.txt" &&
    "$H5DUMP" -d /samples -s "$2,0" -c "1,$width" -b FILE -o "$3.samples" "$1" > /dev/null
}
attr() { "$H5DUMP" -a "$2" "$1" | grep -oE '\(0\): .*' | sed -E 's/^\(0\): "?//; s/"$//'; }
# Waits until the dataset (read while the run writes it) shows at least $2 done rows.
wait_for_done() {
  local file=$1 want=$2 deadline=$((SECONDS + ${3:-90})) n
  while ((SECONDS < deadline)); do
    n=$("$ESM" info "$file" 2>/dev/null | grep -oE 'done [0-9]+' | head -1 | grep -oE '[0-9]+')
    [[ -n "$n" && "$n" -ge "$want" ]] && return 0
    sleep 0.3
  done
  return 1
}
# Pid of MPI rank $2 from the rank table in log $1 (printed by rank 0 before measuring).
rank_pid() { grep -E "^#  Rank +$2 Pid" "$1" | awk '{print $5}'; }
wait_for_table() {
  local deadline=$((SECONDS + 60))
  until grep -q "^#  Rank" "$1" 2>/dev/null; do ((SECONDS < deadline)) || return 1; sleep 0.2; done
}

# ---- fault injection (kill_random, sigterm_random, drift_hog) ----------------------------------
# Each row's status, one a line in row order.
statuses() { "$H5DUMP" -d /results "$1" | grep -oE '^ +(pending|done|failed),$' | tr -d ' ,'; }
# Snapshot $2 of dataset $1 for row comparisons: the raw bytes of /results and /samples and the
# rows' statuses ($2.status). No file (a run killed before creating it): an empty snapshot.
snapshot() {
  : > "$2.status"
  [[ -e "$1" ]] || return 0
  "$H5DUMP" -d /results -b FILE -o "$2.results" "$1" > /dev/null &&
    "$H5DUMP" -d /samples -b FILE -o "$2.samples" "$1" > /dev/null &&
    statuses "$1" > "$2.status"
}
# Rows done in snapshot $1, one index a line.
snapshot_done() { grep -n '^done$' "$1.status" | cut -d: -f1 | awk '{print $1 - 1}'; }
# Whether row $3 holds the same bytes in snapshots $1 and $2 (/results and /samples rows).
same_row() {
  local rows r s
  rows=$(wc -l < "$1.status")
  r=$(($(stat -c %s "$1.results") / rows))
  s=$(($(stat -c %s "$1.samples") / rows))
  cmp -s -i $(($3 * r)) -n "$r" "$1.results" "$2.results" && cmp -s -i $(($3 * s)) -n "$s" "$1.samples" "$2.samples"
}
# Fails unless every row done in snapshot $1 is byte-identical in snapshot $2; prints how many.
same_done_rows() {
  local i n=0
  for i in $(snapshot_done "$1"); do
    same_row "$1" "$2" "$i" || fail "row $i was done in $1 and changed in $2"
    n=$((n + 1))
  done
  echo "$n"
}
# The end state every fault test wants: $2 archs, all done, ids unique, no marker or lock left.
check_complete() {
  local file=$1 count=$2
  [[ $(statuses "$file" | grep -c '^done$') == "$count" ]] || fail "$file: not all $count rows done: $(statuses "$file" | sort | uniq -c | tr '\n' ' ')"
  [[ $(statuses "$file" | wc -l) == "$count" ]] || fail "$file: $(statuses "$file" | wc -l) rows, expected $count"
  [[ $(ids "$file" | sort -u | wc -l) == "$count" ]] || fail "$file: ids not unique"
  "$H5DUMP" -A "$file" | grep -q '"active_run"' && fail "$file: active_run marker left after a clean end"
  [[ -e "$file.lock" ]] && fail "$file: lock file left after a clean end"
  return 0
}
# Archs final on any rank so far, from rank 0's progress lines in log $1 (needs
# run.progress_interval_s = 0): finer and cheaper than reading the file, and it counts the rows of
# the batch in flight too.
measured_now() {
  local n
  n=$(grep -oE '[0-9]+/[0-9]+ measured' "$1" 2> /dev/null | tail -1 | cut -d/ -f1)
  echo "${n:-0}"
}
# Waits until log $1 shows $2 archs measured or the launcher has exited; returns 1 if it exited.
wait_measured_or_exit() {
  local deadline=$((SECONDS + ${3:-60}))
  while ((SECONDS < deadline)); do
    kill -0 "$launcher" 2> /dev/null || return 1
    (($(measured_now "$1") >= $2)) && return 0
    sleep 0.05
  done
  fail "no $2 archs measured within ${3:-60} s"
}
# All rank pids of log $1 (the rank table); empty before rank 0 printed it.
rank_pids() { grep -E '^#  Rank +[0-9]+ Pid' "$1" 2> /dev/null | awk '{print $5}'; }
# Waits (at most 60 s) until none of the pids $@ is alive: a rank whose launcher was killed must
# not write on behind the next run's back.
wait_gone() {
  local deadline=$((SECONDS + 60)) pid
  for pid in "$@"; do
    while kill -0 "$pid" 2> /dev/null; do
      ((SECONDS < deadline)) || fail "rank pid $pid still alive 60 s after its run was killed"
      sleep 0.1
    done
  done
}
# Starts `esm profile --config tiny.ini` on $2 ranks (log $3, further arguments after $4) and sends
# signal $1 (e.g. -KILL) at point $4 to a random one of its ranks or to its launcher (bash's
# RANDOM decides: seed it). Points: early (a random delay from launch, often before the file
# exists), start (just after the rank table, before or at the first arch), mid (after a random
# number of archs measured), late (one arch before the end). Waits until every process of the run
# is gone; sets fault_rc (the launcher's exit code) and fault_target, counts a signal that hit a
# running run in fault_landed, and prints what it did.
fault_landed=0
fault_run() {
  local signal=$1 n=$2 log=$3 point=$4 count
  shift 4
  count=$(grep -oE '^count = [0-9]+' tiny.ini | grep -oE '[0-9]+')
  for arg in "$@"; do [[ $arg == --sample.count=* ]] && count=${arg#--sample.count=}; done
  start_mpi "$n" "$log" "$ESM" profile --config tiny.ini --run.progress_interval_s=0 "$@"
  case $point in
    early) sleep "$((RANDOM % 2)).$((RANDOM % 10))" ;;
    start) wait_for_table "$log" && sleep "0.$((RANDOM % 5))" ;;
    mid) wait_measured_or_exit "$log" $((1 + RANDOM % (count - 2))) && sleep "0.$((RANDOM % 5))" ;;
    late) wait_measured_or_exit "$log" $((count - 1)) ;;
    *) fail "fault_run: unknown point $point" ;;
  esac
  local pids children target victim
  mapfile -t pids < <(rank_pids "$log")
  mapfile -t children < <(ps -o pid= --ppid "$launcher" 2> /dev/null)  # ranks not in the table yet
  STARTED+=("${pids[@]}" "${children[@]}")
  target=$((RANDOM % (${#pids[@]} + 1)))
  if ((target == ${#pids[@]})); then victim=$launcher fault_target=launcher; else victim=${pids[$target]} fault_target="rank $target"; fi
  kill "$signal" "$victim" 2> /dev/null || fault_target="$fault_target (already gone)"
  { wait "$launcher"; } 2> /dev/null
  fault_rc=$?
  [[ $fault_target == *gone* ]] || fault_landed=$((fault_landed + 1))
  mapfile -t pids < <(rank_pids "$log")
  wait_gone "${pids[@]}" "${children[@]}"
  echo "    kill $signal $fault_target at point $point: launcher exit $fault_rc, $(statuses tiny.h5 2> /dev/null | grep -c '^done$') rows done"
}
# The seeds of a fault test ($1 its name, $2 the default number of iterations): iteration k uses
# seed ESM_FAULT_SEED + k (default: from the clock); ESM_FAULT_SEED=S ESM_FAULT_ITERATIONS=1
# replays iteration S's choices (timing aside). Sets iterations, base and fault_start.
fault_seeds() {
  iterations=${ESM_FAULT_ITERATIONS:-$2}
  base=${ESM_FAULT_SEED:-$(($(date +%s) % 100000))}
  fault_start=$SECONDS
  echo "$1: $iterations iterations, seeds $base..$((base + iterations - 1)) (replay one: ESM_FAULT_SEED=S ESM_FAULT_ITERATIONS=1)"
}
# fault_iteration SEED: seeds $RANDOM, enters a fresh work directory and draws the choices every
# fault test shares, in this order: $n ranks (2, or 3 one time in three) and $chunk (1 or 2).
fault_iteration() {
  RANDOM=$1
  fault_t0=$SECONDS
  mkdir "$WORK/iter.$1" && cp "$WORK/tiny.ini" "$WORK/iter.$1/" && cd "$WORK/iter.$1" || fail "seed $1: no work directory"
  n=$((2 + (RANDOM % 3 == 0)))
  chunk=$((1 + RANDOM % 2))
}
# Compound dataset $2 of file $1 as text, one row a line, fields in schema order, separated by spaces
# (strings must hold no spaces or commas: fine for the numeric and enum fields used here).
table_rows() {
  "$H5DUMP" -d "$2" -m %.17g "$1" | awk '
    /^ *\([0-9]+\): \{/ { row = ""; inside = 1; next }
    inside && /^ *\}/ { print substr(row, 2); inside = 0; next }
    inside { gsub(/[ ,]/, ""); row = row " " $0 }'
}
