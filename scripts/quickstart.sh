#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: dependencies, build, then the whole CPU pipeline on
# the quickstart configuration: profile (2 MPI ranks, oneDNN; crossed mode, see
# jobs/quickstart-cpu.ini) -> info -> train (CV table) -> report, and a one-screen summary.
# Env: ESM_OUT (out/quickstart), ESM (an esm binary to use instead of building build/src/esm).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z ${ESM:-} ]]; then
  scripts/install-deps.sh
  ESM_BUILD_TARGETS=esm scripts/build.sh
fi
scripts/setup-analysis.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
esm=${ESM:-$PWD/build/src/esm}
out=${ESM_OUT:-out/quickstart}
mkdir -p "$out"
out=$(cd "$out" && pwd)  # absolute: the summary's paths work from anywhere
dataset=$out/quickstart.h5
model=$out/quickstart.model.h5
rm -f "$dataset" "$out"/quickstart.model.*
t0=$SECONDS

echo "== one architecture on the CPU backend"
arch=$("$esm" sample --space ofa-mbv3 --width w1.0 --resolution 128 --count 1 --seed 1)
"$esm" bench --arch "$arch" --backend cpu --reps 50 --threads 1

echo "== profile: 2 MPI ranks write one parallel-HDF5 dataset"
mpirun -n 2 "$esm" profile --config jobs/quickstart-cpu.ini --output "$dataset"
"$esm" info "$dataset" | tee "$out/info.txt"

echo "== train: surrogate ensembles, 5-fold CV over 2 ranks, on the crossed mode's fitted label"
mpirun -n 2 "$esm" train --dataset "$dataset" --out "$model" --members 2 \
  --label normalised --encoding fcc+extras | tee "$out/train.txt"

echo "== report"
.venv/bin/python analysis/report.py "$dataset" "$model" -o "$out/report" --esm "$esm"

# The summary's figures come from esm's own output: `esm info` (rows) and the CV table esm train
# wrote beside the model (model,bin,n,within_5,within_10,mape_percent,...; the final model is the
# stacked blend).
rows=$(awk '$1 == "status" {print $3; exit}' "$out/info.txt")
cv=${model%.h5}.cv.csv
read -r n w10 mape < <(awk -F, '$1 == "stacked" && $2 == "all" {printf "%s %.1f %.2f\n", $3, 100 * $5, $6}' "$cv")
next=$("$esm" sample --space ofa-mbv3 --width w1.0 --resolution 128 --count 1 --seed 2)
cat <<SUMMARY

== quickstart done in $((SECONDS - t0)) s (after the build)
dataset  $dataset  ($rows rows done; esm info: $out/info.txt)
model    $model  (stacked blend, label normalised, encoding fcc+extras)
CV       $w10% of $n archs predicted within +-10%, MAPE $mape%  (5-fold; table: $cv)
report   $out/report/index.html
next:
  $esm predict --model $model --arch '$next'
  $esm sample --space ofa-mbv3 --width w1.0 --resolution 128 --count 1000 --seed 3 > archs.txt
  $esm predict --model $model --archs archs.txt --json | head -3
  $esm info $dataset
  mpirun -n 2 $esm profile --config jobs/quickstart-cpu.ini --output more.h5 --sample.seed=1
SUMMARY
