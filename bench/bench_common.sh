# Shared helpers for the bench/*.sh scripts (sourced, not run).
# Why: every timing figure must carry the load average it was taken under, and measurements wait
# for a quiet machine (1-minute load < ESM_BENCH_MAX_LOAD, up to ESM_BENCH_MAX_WAIT_S) first.
export ESM_ROOT=${ESM_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
ESM=${ESM:-$ESM_ROOT/build/src/esm}
BENCH_OUT=${BENCH_OUT:-$ESM_ROOT/out/bench}
mkdir -p "$BENCH_OUT"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

load1() { cut -d' ' -f1 /proc/loadavg; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# wait_quiet: sleep in 60 s steps until the 1-minute load is below the limit or the wait is spent.
wait_quiet() {
  local max=${ESM_BENCH_MAX_LOAD:-1.2} waited=0 limit=${ESM_BENCH_MAX_WAIT_S:-600}
  while awk -v l="$(load1)" -v m="$max" 'BEGIN{exit !(l>=m)}'; do
    if (( waited >= limit )); then
      echo "# WARNING: load $(loadavg) still >= $max after ${waited}s; measuring anyway" >&2
      ESM_BENCH_MAX_WAIT_S=0  # waited once in this script: later waits would only repeat it
      return 0
    fi
    echo "# load $(loadavg) >= $max, waiting 60 s" >&2
    sleep 60; waited=$((waited + 60))
  done
}

machine_line() {
  echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%Y-%m-%dT%H:%M:%SZ); load $(loadavg)"
}
