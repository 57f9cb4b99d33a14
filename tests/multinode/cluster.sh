#!/usr/bin/env bash
# The multinode tests' fixture: `up SKIP_FILE` brings the two-host cluster up (or, where it cannot
# be made here, writes the one-line reason to SKIP_FILE and exits 77, which every test then
# repeats); `down SKIP_FILE` takes it down and removes SKIP_FILE.
set -uo pipefail
cluster=$(cd "$(dirname "$0")/../.." && pwd)/scripts/two-node-cluster.sh
skip=${2:?usage: cluster.sh up|down SKIP_FILE}
case $1 in
up)
  rm -f "$skip"
  out=$("$cluster" up "${ESM_TWO_NODE_DIR:-/tmp/esm-two-node-ctest}")
  rc=$?
  echo "$out"
  if [[ $rc -eq 77 ]]; then echo "$out" | grep '^SKIP' | head -n 1 >"$skip"; fi
  exit $rc
  ;;
down)
  rm -f "$skip"
  "$cluster" down
  ;;
esac
