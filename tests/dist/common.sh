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
