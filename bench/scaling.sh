#!/usr/bin/env bash
# Profile scaling on the CPU backend: archs/s with 1 and 2 ranks (1 thread per rank), static LPT
# vs dynamic hand-out, on jobs/quickstart-cpu.ini overridden to its former plain job (64 archs, 30
# repetitions, drift guard every 6 with threshold 1000% so that re-measurements under load do not
# dominate), plus the HDF5 share each run reports.
#   bench/scaling.sh [ESM]
set -euo pipefail
esm=${1:-build/src/esm}
out=${ESM_BENCH_OUT:-out/bench/scaling}
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
printf '%-6s %-8s %8s %10s %s\n' ranks partition wall_s archs/s "hdf5 (load1 before)"
for partition in lpt dynamic; do
  for ranks in 1 2; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    rm -f "$out/s.h5"
    line=$(mpirun -n "$ranks" "$esm" profile --config jobs/quickstart-cpu.ini --output "$out/s.h5" \
      --backend.threads=1 --run.partition="$partition" --sample.count=64 --measure.mode=plain --measure.reps=30 \
      --measure.drift_every=6 --measure.drift_threshold=10 2>&1 | grep "esm profile: complete")
    wall=$(sed -n 's/.*wall \([0-9.]*\) s.*/\1/p' <<<"$line")
    hdf5=$(sed -n 's/.*HDF5 \([0-9.]* s[^)]*)\).*/\1/p' <<<"$line")
    printf '%-6s %-8s %8s %10.3f %s (%s)\n' "$ranks" "$partition" "$wall" "$(echo "64 / $wall" | bc -l)" "$hdf5" "$load"
  done
done
echo "command: bench/scaling.sh $esm   ($(date -u +%FT%TZ), $(nproc) cores)"
