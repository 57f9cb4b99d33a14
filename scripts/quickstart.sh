#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: dependencies, build, then the whole CPU pipeline on
# the quickstart configuration: profile (2 MPI ranks, oneDNN) -> info -> train (CV table) -> report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
ESM_BUILD_TARGETS=esm scripts/build.sh
scripts/setup-analysis.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
esm=$PWD/build/src/esm
out=${ESM_OUT:-out/quickstart}
mkdir -p "$out"
dataset=$out/quickstart.h5
rm -f "$dataset" "$out"/quickstart.model.*

echo "== one architecture on the CPU backend"
arch=$($esm sample --space ofa-mbv3 --width w1.0 --resolution 128 --count 1 --seed 1)
$esm bench --arch "$arch" --backend cpu --reps 50 --threads 1

echo "== profile: 2 MPI ranks write one parallel-HDF5 dataset"
mpirun -n 2 "$esm" profile --config jobs/quickstart-cpu.ini --output "$dataset"
$esm info "$dataset"

echo "== train: surrogate ensembles, 5-fold CV over 2 ranks"
mpirun -n 2 "$esm" train --dataset "$dataset" --out "$out/quickstart.model.h5" --members 2

echo "== report"
.venv/bin/python analysis/report.py "$dataset" "$out/quickstart.model.h5" -o "$out/report" --esm "$esm"
