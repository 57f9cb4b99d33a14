#!/usr/bin/env bash
# The Python package's tests (ctest python_pytest): `pip install ./python` into a venv under the
# build folder, then pytest python/tests against this build's esm tool.
#   run_pytest.sh SOURCE_DIR BUILD_DIR
# The venv (BUILD_DIR/python-venv) and the wheel's CMake build (BUILD_DIR/python-wheel) are kept,
# so a second run only rebuilds what changed. The package links BUILD_DIR's libraries (installed to
# BUILD_DIR/python-esm-prefix) instead of compiling esm a second time. Env: PYTHON (default python3; Debian 12's needs
# python3-venv and python3-dev).
set -euo pipefail
src=$(realpath "${1:?usage: run_pytest.sh SOURCE_DIR BUILD_DIR}")
build=$(realpath "${2:?usage: run_pytest.sh SOURCE_DIR BUILD_DIR}")
venv=$build/python-venv
python=${PYTHON:-python3}

if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c '' 2>/dev/null; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
# The build backend in the venv itself (no isolated build env per run): the wheel's CMake build
# folder then stays valid between runs.
"${pip[@]}" install 'scikit-build-core>=0.9' 'nanobind>=2.0' 'numpy>=1.22' 'pandas>=1.5' 'pytest>=7' 'onnx>=1.14' \
  'onnxruntime>=1.16'
# The extension links this build's libraries through its install (find_package(esm)), so only the
# module itself is compiled here; `pip install ./python` alone builds esm's libraries too.
prefix=$build/python-esm-prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
settings=(--config-settings=build-dir="$build/python-wheel" --config-settings=cmake.define.ESM_PREFIX="$prefix")
if command -v ccache >/dev/null; then
  settings+=(--config-settings=cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
"${pip[@]}" install --no-build-isolation "${settings[@]}" "$src/python"

# From outside the source tree, so that `import esm` is the installed package.
cd "$build"
export ESM_BUILD_DIR=$build
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$src/python/tests"
