#!/usr/bin/env bash
# One-shot check of the cuDNN backend on a lent GPU machine (H100/H200), run from the repo root:
#
#   bash tools/gpu-check/gpu-check.sh            # everything under $OUT, or ./gpu-check-out without it
#
# The machine has nvcc, cmake, ninja and PyTorch 2.x with pip's cuDNN, and no MPI/HDF5/Boost/
# oneDNN/network, so this builds the GPU-only configuration (-DESM_GPU_ONLY=ON) against PyTorch's
# cuDNN. If that cuDNN package has no headers, they come from tools/gpu-check/cudnn-include/ (git-ignored:
# the caller carries a copy of /usr/local/cuda/include/cudnn*.h there), which becomes
# ESM_CUDNN_INCLUDE_DIR.
#
# Stages (each has a time budget and prints its result in one line, also when the budget ends it):
#   1. environment: first one line comparing the driver's CUDA version with nvcc's (and PyTorch's),
#      then nvidia-smi, nvcc, cmake, compiler, PyTorch, cuDNN versions
#   2. configure + build build-gpu (CUDA architectures "native", falling back to 90)
#   3. esm_cudnn_check --budget-s: the cuDNN backend against the fp64 reference executor, run
#      directly (not through ctest, whose TIMEOUT property of 900 s overrides --timeout); no case
#      starts after its budget, so its summary line is always printed
#   4. esm-gpu-bench over tools/gpu-check/archs.txt (plain and CUDA graph), exporting each IR
#   5. tools/gpu-check/compare.py: the same IRs in PyTorch (eager and CUDA graph), one table with ratios
#      and Spearman correlations
# $OUT receives seven files (the device tool returns at most eight, no deeper folders needed):
# gpu-check.log (everything printed), environment.txt, build.log (configure + build), ctest.log
# (esm_cudnn_check's every case), bench.jsonl (esm timings), compare.txt (the table),
# compare.jsonl (esm and PyTorch timings per network). The exported IRs stay in build-gpu/gpu-check-ir.
# ESM_GPU_CHECK_BUDGET_S (default 480 s) bounds the whole run, under the device tool's 600 s per
# command: the build gets at most ESM_GPU_CHECK_BUILD_S (300), the correctness check at most
# ESM_GPU_CHECK_TEST_S (150), and stages 4 and 5 share what is left; each stage runs under
# `timeout` a little above its budget, so even a hung call ends with that stage's result line.
# The architecture list is interleaved across spaces, so a cut run still covers all three. A
# failing stage does not stop the later ones (their results are still worth having); the script
# then exits 1 and names the failed stages in its last lines.
#
# Environment: OUT, ESM_GPU_CHECK_BUDGET_S (480), ESM_GPU_CHECK_BUILD_S (300), ESM_GPU_CHECK_TEST_S
# (150), ESM_GPU_CHECK_BATCH (1), ESM_GPU_CHECK_PRECISION (fp32), ESM_GPU_CHECK_LAYOUT (nchw; nhwc
# with fp16), ESM_GPU_CHECK_SKIP_CTEST (0), ESM_GPU_CHECK_ARCHS (tools/gpu-check/archs.txt),
# ESM_GPU_CHECK_BUILD_DIR (build-gpu).
set -uo pipefail

ROOT=$(pwd)
OUT=${OUT:-$ROOT/gpu-check-out}
BUDGET_S=${ESM_GPU_CHECK_BUDGET_S:-480}
BUILD_S=${ESM_GPU_CHECK_BUILD_S:-300}
TEST_S=${ESM_GPU_CHECK_TEST_S:-150}
BATCH=${ESM_GPU_CHECK_BATCH:-1}
PRECISION=${ESM_GPU_CHECK_PRECISION:-fp32}
LAYOUT=${ESM_GPU_CHECK_LAYOUT:-nchw}
ARCHS=${ESM_GPU_CHECK_ARCHS:-$ROOT/tools/gpu-check/archs.txt}
BUILD=${ESM_GPU_CHECK_BUILD_DIR:-$ROOT/build-gpu}
IR_DIR=$BUILD/gpu-check-ir
mkdir -p "$OUT"
exec > >(tee -a "$OUT/gpu-check.log") 2>&1

FAILED=()
say() { echo "[gpu-check $(date +%H:%M:%S) +${SECONDS}s] $*"; }
die() {
  say "FATAL: $*"
  say "result: FAILED (fatal in an early stage; see $OUT)"
  exit 1
}
fail() {  # stage, reason
  say "FAILED: $1: $2"
  FAILED+=("$1")
}
left() { echo $((BUDGET_S - SECONDS)); }
at_most() { if [ "$1" -lt "$2" ]; then echo "$1"; else echo "$2"; fi; }
major_minor() { grep -o '[0-9][0-9]*\.[0-9][0-9]*' | head -1; }
# 0 when version $1 is older than $2 (both major.minor)
older() { [ "${1%%.*}" -lt "${2%%.*}" ] || { [ "${1%%.*}" -eq "${2%%.*}" ] && [ "${1#*.}" -lt "${2#*.}" ]; }; }

if ! grep -qs "project(esm" "$ROOT/CMakeLists.txt"; then
  die "run from the esm repository root (no esm CMakeLists.txt in $ROOT)"
fi
[ -f "$ARCHS" ] || die "architecture list $ARCHS is missing"

# --- 1. environment ---------------------------------------------------------------------------
say "stage 1: environment (output under $OUT)"
command -v nvidia-smi >/dev/null || die "nvidia-smi not found: is this the GPU machine?"
NVCC=$(command -v nvcc || true)
[ -z "$NVCC" ] && [ -x /usr/local/cuda/bin/nvcc ] && NVCC=/usr/local/cuda/bin/nvcc
[ -n "$NVCC" ] || die "nvcc not found (PATH, /usr/local/cuda/bin)"
# First, in one line: can this driver run what this toolkit builds? A driver older than the
# toolkit's major version cannot (cudaErrorInsufficientDriver); an older minor version runs SASS
# built for this GPU (CUDA's minor-version compatibility) but cannot JIT newer PTX.
driver_cuda=$(timeout 30 nvidia-smi 2>/dev/null | grep -o 'CUDA Version: *[0-9.]*' | major_minor)
nvcc_cuda=$("$NVCC" --version | grep -o 'release [0-9.]*' | major_minor)
torch_cuda=$(timeout 60 python3 -c "import torch; print(torch.version.cuda or 'none')" 2>/dev/null | major_minor)
versions="driver supports CUDA ${driver_cuda:-?}, nvcc is CUDA ${nvcc_cuda:-?}, PyTorch built for CUDA ${torch_cuda:-?}"
if [ -z "$driver_cuda" ] || [ -z "$nvcc_cuda" ]; then
  die "CUDA versions: $versions (cannot read them: nvidia-smi or nvcc misbehaves)"
elif [ "${driver_cuda%%.*}" -lt "${nvcc_cuda%%.*}" ]; then
  die "CUDA versions: $versions: the driver is a major version behind the toolkit; nothing built here can run"
elif older "$driver_cuda" "$nvcc_cuda"; then
  say "CUDA versions: $versions: minor-version compatibility (SASS for this GPU runs; newer PTX would not JIT)"
else
  say "CUDA versions: $versions: OK"
fi
nvidia-smi | tee "$OUT/environment.txt" || die "nvidia-smi failed"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,mig.mode.current --format=csv | tee -a "$OUT/environment.txt"
command -v cmake >/dev/null || die "cmake not found"
command -v python3 >/dev/null || die "python3 not found"
GENERATOR=Ninja
if ! command -v ninja >/dev/null; then
  say "WARNING: ninja not found, using Unix Makefiles"
  GENERATOR="Unix Makefiles"
fi
CUDNN_ROOT=$(python3 - <<'EOF'
import os, nvidia.cudnn as m
f = getattr(m, "__file__", None)
print(os.path.dirname(f) if f else list(m.__path__)[0])
EOF
) || die "python3 cannot import nvidia.cudnn (PyTorch's pip cuDNN)"
[ -e "$CUDNN_ROOT/lib/libcudnn.so.9" ] || [ -e "$CUDNN_ROOT/lib/libcudnn.so" ] ||
  die "no libcudnn.so(.9) in $CUDNN_ROOT/lib"
if [ -f "$CUDNN_ROOT/include/cudnn.h" ]; then
  CUDNN_INCLUDE=$CUDNN_ROOT/include
elif [ -f "$ROOT/tools/gpu-check/cudnn-include/cudnn.h" ]; then
  CUDNN_INCLUDE=$ROOT/tools/gpu-check/cudnn-include  # carried copy of /usr/local/cuda/include/cudnn*.h
else
  die "pip's cuDNN ($CUDNN_ROOT) has no include/cudnn.h and tools/gpu-check/cudnn-include/cudnn.h was not carried"
fi
header_version=$(awk '/^#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) /{v = v (v ? "." : "") $3} END {print v}' \
  "$CUDNN_INCLUDE/cudnn_version.h")
{
  echo "nvcc: $NVCC"; "$NVCC" --version | tail -2
  echo "cmake: $(cmake --version | head -1)"; echo "generator: $GENERATOR"
  echo "c++: $(c++ --version 2>/dev/null | head -1)"
  python3 -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'cuDNN', torch.backends.cudnn.version(), 'device', torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'NONE')"
  echo "cuDNN library dir: $CUDNN_ROOT/lib:" "$(cd "$CUDNN_ROOT/lib" && echo libcudnn*)"
  echo "cuDNN headers: $CUDNN_INCLUDE (version $header_version)"
} 2>&1 | tee -a "$OUT/environment.txt"
python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" || die "PyTorch sees no CUDA device"
export LD_LIBRARY_PATH="$CUDNN_ROOT/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# --- 2. configure and build -------------------------------------------------------------------
say "stage 2: configure and build $BUILD"
configure() {
  timeout 120 cmake -S "$ROOT" -B "$BUILD" -G "$GENERATOR" -DCMAKE_BUILD_TYPE=Release -DESM_GPU_ONLY=ON -DESM_WITH_CUDA=ON \
    -DCMAKE_CUDA_COMPILER="$NVCC" -DCMAKE_CUDA_ARCHITECTURES="$1" -DESM_CUDNN_ROOT="$CUDNN_ROOT" \
    -DESM_CUDNN_INCLUDE_DIR="$CUDNN_INCLUDE" >>"$OUT/build.log" 2>&1
}
if ! configure native; then
  say "configure with CUDA architectures 'native' failed (tail of build.log below); retrying with 90"
  tail -15 "$OUT/build.log"
  rm -rf "$BUILD"
  configure 90 || { tail -40 "$OUT/build.log"; die "configure failed (see $OUT/build.log)"; }
fi
grep "esm: cuDNN backend" "$OUT/build.log" | tail -1
build_budget=$(at_most "$BUILD_S" $(( $(left) - 150 )))
[ "$build_budget" -lt 60 ] && build_budget=60
timeout "$build_budget" cmake --build "$BUILD" -j "$(nproc)" >>"$OUT/build.log" 2>&1
status=$?
if [ $status -eq 124 ]; then
  tail -5 "$OUT/build.log"
  die "build: not finished within its budget of ${build_budget}s (see $OUT/build.log)"
elif [ $status -ne 0 ]; then
  grep -E "error|Error" "$OUT/build.log" | head -40
  die "build failed (see $OUT/build.log)"
fi
say "build: done within ${build_budget}s"

# --- 3. correctness: ctest -L gpu --------------------------------------------------------------
if [ "${ESM_GPU_CHECK_SKIP_CTEST:-0}" = 1 ]; then
  say "stage 3: skipped (ESM_GPU_CHECK_SKIP_CTEST=1)"
else
  test_budget=$(at_most "$TEST_S" $(( ($(left) - 60) / 2 )))
  [ "$test_budget" -lt 30 ] && test_budget=30
  say "stage 3: esm_cudnn_check (cuDNN backend against the fp64 reference, budget ${test_budget}s)"
  # Its own budget stops it starting cases; timeout catches a single case that hangs.
  timeout -k 10 $((test_budget + 60)) "$BUILD/tests/esm_cudnn_check" --budget-s "$test_budget" >"$OUT/ctest.log" 2>&1
  status=$?
  grep -E "^(FAIL|SKIP|backend|device|description|PASS  device identity|[0-9]+ (cases|plan))" "$OUT/ctest.log" | head -60
  summary=$(grep -E "^[0-9]+ cases" "$OUT/ctest.log" | tail -1)
  if grep -q "SKIP: no CUDA device" "$OUT/ctest.log"; then
    fail cudnn_check "the GPU test saw no CUDA device"
  elif [ $status -eq 124 ] || [ $status -eq 137 ]; then
    fail cudnn_check "killed after $((test_budget + 60))s inside one case; last line: $(tail -1 "$OUT/ctest.log")"
  elif [ $status -ne 0 ]; then
    fail cudnn_check "exit $status: ${summary:-no summary line}; every case in $OUT/ctest.log"
  else
    say "cudnn_check: $summary"
  fi
fi

# --- 4. esm timings ----------------------------------------------------------------------------
bench_budget=$(( ($(left) - 30) / 2 ))
[ "$bench_budget" -lt 20 ] && bench_budget=20
say "stage 4: esm-gpu-bench (batch $BATCH, $PRECISION $LAYOUT, budget ${bench_budget}s)"
rm -rf "$IR_DIR"
timeout -k 10 $((bench_budget + 45)) "$BUILD/src/esm-gpu-bench" --archs "$ARCHS" --batch "$BATCH" --precision "$PRECISION" \
  --layout "$LAYOUT" --algos find --export-json "$IR_DIR" --time-budget-s "$bench_budget" >"$OUT/bench.jsonl"
status=$?
timed="$(grep -c '^{' "$OUT/bench.jsonl") architectures timed, $(grep -c '"error"' "$OUT/bench.jsonl") failed"
if [ $status -eq 124 ] || [ $status -eq 137 ]; then
  fail esm-gpu-bench "killed after $((bench_budget + 45))s; $timed before that"
elif [ $status -ne 0 ]; then
  fail esm-gpu-bench "exit $status; $timed; its messages are above"
else
  say "esm-gpu-bench: $timed"
fi

# --- 5. PyTorch on the same IRs ----------------------------------------------------------------
compare_budget=$(( $(left) - 25 ))
[ "$compare_budget" -lt 20 ] && compare_budget=20
say "stage 5: PyTorch comparison (budget ${compare_budget}s)"
if grep -q '^{' "$OUT/bench.jsonl"; then
  PYTHONUNBUFFERED=1 timeout -k 10 $((compare_budget + 45)) python3 "$ROOT/tools/gpu-check/compare.py" \
    --bench "$OUT/bench.jsonl" --out "$OUT" --time-budget-s "$compare_budget"
  status=$?
  if [ $status -eq 124 ] || [ $status -eq 137 ]; then
    fail gpu_compare "killed after $((compare_budget + 45))s; compare.jsonl holds what it finished"
  elif [ "$status" -ne 0 ]; then
    fail gpu_compare "exit $status; its messages are above"
  else
    say "gpu_compare: done; table in $OUT/compare.txt"
  fi
else
  fail gpu_compare "not run: esm-gpu-bench timed nothing"
fi

say "done in ${SECONDS}s; outputs: $(find "$OUT" -maxdepth 1 -mindepth 1 -printf '%f ')"
if [ ${#FAILED[@]} -gt 0 ]; then
  say "result: FAILED stages: ${FAILED[*]} (reasons above)"
  exit 1
fi
say "result: OK"
