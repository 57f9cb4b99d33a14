#!/usr/bin/env bash
# Installs the Debian 12 packages esm needs, only those missing. Quiet when everything is
# present; needs root (or sudo) only when something must be installed.
set -euo pipefail

# Installed with --no-install-recommends, so everything a step needs is named here, Recommends
# included: scripts/fresh-check.sh proves the list on a minimal Debian 12 root.
packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  openmpi-bin libopenmpi-dev
  libhdf5-openmpi-dev hdf5-tools
  libeigen3-dev libboost-program-options-dev libgtest-dev
  # Debian's oneDNN is built with the OpenCL GPU runtime: its dnnl-config.cmake runs
  # find_package(OpenCL REQUIRED), which needs the ICD loader's development files (a Recommends).
  libdnnl-dev ocl-icd-opencl-dev
  # The xgboost package too: libxgboost-dev's exported CMake targets name /usr/bin/xgboost.
  libxgboost-dev xgboost
  # OFA arch configs (JSON lines) and external latency tables (CSV) for esm import; sha256 of its inputs.
  nlohmann-json3-dev libcsv-dev libssl-dev
  # The analysis venv (scripts/setup-analysis.sh) pip-installs from PyPI over TLS: ca-certificates.
  # python3-dev: Python.h for the Python package's nanobind module (python/, its ctest).
  python3 python3-venv python3-dev
)
# The sanitizer/fuzzing build (scripts/sanitize.sh): clang 16 (std::source_location needs clang >= 15
# with libstdc++ 12), its sanitizer and libFuzzer runtimes, and its OpenMP runtime.
if [[ ${ESM_WITH_SANITIZERS:-0} == 1 ]]; then
  # llvm-16: its llvm-symbolizer lets LeakSanitizer match suppressions without printing
  # "invalid path to external symbolizer" (tests/sanitizers/env.sh points ASan at it).
  packages+=(clang-16 libclang-rt-16-dev libomp-16-dev llvm-16)
fi
if [[ ${ESM_WITH_SLURM:-0} == 1 ]]; then
  packages+=(slurm-wlm munge iproute2)  # iproute2: scripts/two-node-cluster.sh's namespaces and veth
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
# A new cloud VM runs apt-daily / unattended-upgrades at boot, holding apt's and dpkg's locks for
# minutes: wait for them (ESM_APT_LOCK_WAIT_S seconds in all, default 900) instead of failing.
# apt 2.6 (Debian 12) waits for dpkg's lock itself given DPkg::Lock::Timeout, silently, but
# `apt-get update` fails at once on a held lists lock (/var/lib/apt/lists/lock) whatever the
# timeout. So each apt-get first tries without waiting; on "Could not get lock" it says who holds
# it, then retries every 5 s with the time left as DPkg::Lock::Timeout, until the deadline.
lock_wait_s=${ESM_APT_LOCK_WAIT_S:-900}
deadline=$((SECONDS + lock_wait_s))
apt_wait() {
  local err rc timeout=0 said=""
  err=$(mktemp)
  while :; do
    rc=0
    apt-get -o DPkg::Lock::Timeout=$timeout "$@" 2>"$err" || rc=$?
    if [[ $rc -ne 0 ]] && grep -q 'Could not get lock' "$err" && ((SECONDS < deadline)); then
      local holder
      holder=$(grep -m1 -o 'Could not get lock.*' "$err")
      if [[ $holder != "$said" ]]; then
        echo "install-deps: apt-get $1 is waiting (up to $((deadline - SECONDS)) s): $holder" >&2
        said=$holder
      fi
      sleep 5
      timeout=$((deadline > SECONDS ? deadline - SECONDS : 0))
      continue
    fi
    cat "$err" >&2
    rm -f "$err"
    if [[ -n $said && $rc -eq 0 ]]; then
      echo "install-deps: apt-get $1 done after waiting for the lock" >&2
    elif [[ -n $said ]]; then
      echo "install-deps: apt-get $1 failed (exit $rc) after waiting up to ${lock_wait_s} s for the lock (ESM_APT_LOCK_WAIT_S)" >&2
    fi
    return "$rc"
  done
}
apt_wait update -qq
apt_wait install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
