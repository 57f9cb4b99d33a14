#!/usr/bin/env bash
# Wrapper for bench/cpu_fidelity.py: 20 fixed archs (10 ofa-mbv3 w1.2 at r160..224, 10
# ofa-resnet50; seed 3, balanced), esm oneDNN vs PyTorch TorchScript-frozen, 1 thread. Installs python3-torch if missing.
# RUNTIMES=torch,onnxruntime,openvino adds the ONNX Runtime and OpenVINO legs (esm.to_onnx's export):
# they run in build/fidelity-venv (Debian's python with its site packages, for python3-torch, plus
# pip's onnxruntime, openvino and this repository's esm package; installed once: remove the venv to
# refresh it, e.g. after a change to python/).
# bf16 and int8 legs: RUNTIMES=onnxruntime,openvino bench/cpu_fidelity.sh --precision bf16 (or int8).
# PER_SPACE=N (10) archs per space, SPACES (both) to time one space per run.
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
RUNTIMES=${RUNTIMES:-torch}
python=/usr/bin/python3
[[ $RUNTIMES != *torch* ]] || $python -c 'import torch' 2>/dev/null || apt-get install -y python3-torch >/dev/null
if [[ $RUNTIMES == *onnxruntime* || $RUNTIMES == *openvino* ]]; then
  venv=$ESM_ROOT/build/fidelity-venv
  [[ -x $venv/bin/python ]] || /usr/bin/python3 -m venv --system-site-packages "$venv"
  # ESM_PREFIX=DIR (an install of this build, e.g. build/python-esm-prefix as tests/python/run_pytest.sh
  # makes it): the package links those libraries instead of compiling esm again (minutes on 2 cores).
  "$venv/bin/python" -c 'import esm, onnx, onnxruntime, openvino' 2>/dev/null ||
    "$venv/bin/python" -m pip -q --disable-pip-version-check install onnx onnxruntime openvino \
      ${ESM_PREFIX:+--config-settings=cmake.define.ESM_PREFIX="$ESM_PREFIX"} "$ESM_ROOT/python"
  python=$venv/bin/python
fi
PER_SPACE=${PER_SPACE:-10} SPACES=${SPACES:-ofa-mbv3 ofa-resnet50}
ARCHS=$BENCH_OUT/cpu_fidelity_archs.txt
# ofa-mbv3 w1.2 at r160..224: the first PER_SPACE such of a balanced sample (seed 3) of 6 x PER_SPACE
# (at least 60, so that PER_SPACE=10 keeps the 20 archs of the fp32 legs)
{ [[ $SPACES != *ofa-mbv3* ]] ||
    "$ESM" sample --space ofa-mbv3 --count $((PER_SPACE > 10 ? 6 * PER_SPACE : 60)) --seed 3 --policy balanced \
      --width w1.2 | awk -F: -v m="$PER_SPACE" '{ r = substr($3, 2) + 0 } r >= 160 && n < m { print; n++ }'
  [[ $SPACES != *ofa-resnet50* ]] ||
    "$ESM" sample --space ofa-resnet50 --count "$PER_SPACE" --seed 3 --policy balanced; } > "$ARCHS"
wait_quiet
machine_line
"$python" "$ESM_ROOT/bench/cpu_fidelity.py" "$ARCHS" --esm "$ESM" --runtimes "$RUNTIMES" "$@"
echo "# end load $(loadavg)"
echo "# command: RUNTIMES=$RUNTIMES PER_SPACE=$PER_SPACE SPACES=\"$SPACES\" bench/cpu_fidelity.sh $*"
