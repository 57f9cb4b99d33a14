#!/usr/bin/env bash
# Creates or updates the Python environment of analysis/ (report.py, compare.py, their pytest) in
# ./.venv from analysis/requirements.txt. Idempotent and quiet when the environment is up to date:
# a stamp in .venv records the requirements and interpreter it was built from.
# Env: PYTHON (default python3; Debian 12's needs the python3-venv package, see install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
venv=.venv
requirements=analysis/requirements.txt
stamp=$venv/.esm-analysis-stamp

version='import sys; print(sys.version.split()[0])'
want="$(sha256sum "$requirements" | cut -d' ' -f1) $("$python" -c "$version")"
if [[ -x $venv/bin/python && -f $stamp && $(<"$stamp") == "$want" ]] && "$venv/bin/python" -c '' 2>/dev/null; then
  exit 0
fi

echo "setup-analysis: installing $requirements into $venv"
# A venv whose interpreter is gone or of another Python version cannot be repaired in place.
have=$("$venv/bin/python" -c "$version" 2>/dev/null || true)
if [[ -d $venv && $have != "${want#* }" ]]; then
  rm -rf "$venv"
fi
if [[ ! -x $venv/bin/python ]] && ! "$python" -m venv "$venv"; then
  echo "setup-analysis: '$python -m venv' failed (Debian: apt-get install python3-venv)" >&2
  exit 1
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
echo "$want" >"$stamp"
