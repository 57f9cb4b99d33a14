#!/usr/bin/env bash
# Installs the Debian 12 packages esm needs, only those missing. Quiet when everything is
# present; needs root (or sudo) only when something must be installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  openmpi-bin libopenmpi-dev
  libhdf5-openmpi-dev hdf5-tools
  libeigen3-dev libboost-program-options-dev libgtest-dev
  libdnnl-dev libxgboost-dev xgboost
  python3 python3-venv
)
# The sanitizer/fuzzing build (scripts/sanitize.sh): clang 16 (std::source_location needs clang >= 15
# with libstdc++ 12), its sanitizer and libFuzzer runtimes, and its OpenMP runtime.
if [[ ${ESM_WITH_SANITIZERS:-0} == 1 ]]; then
  packages+=(clang-16 libclang-rt-16-dev libomp-16-dev)
fi
if [[ ${ESM_WITH_SLURM:-0} == 1 ]]; then
  packages+=(slurm-wlm munge)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    exec sudo -E "$0" "$@"
  fi
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run this script as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
