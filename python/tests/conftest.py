"""Fixtures: the esm CLI the package is compared with, and a small dataset and model made by it.

ESM_BUILD_DIR names the CMake build holding the `esm` tool and the test tool
esm_make_synthetic_dataset (default: the repository's build/); ctest's python_pytest sets it.
"""
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def _build_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("ESM_BUILD_DIR", REPO / "build"))


@pytest.fixture(scope="session")
def esm_cli() -> pathlib.Path:
    path = _build_dir() / "src" / "esm"
    assert path.is_file(), f"esm tool not found at {path}: build it or set ESM_BUILD_DIR"
    return path


def run_cli(esm_cli, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_WAIT_POLICY="passive")
    return subprocess.run([str(esm_cli), *args], check=check, capture_output=True, text=True, env=env)


@pytest.fixture(scope="session")
def synthetic_dataset(tmp_path_factory) -> pathlib.Path:
    """A schema-current ofa-mbv3 dataset of 120 rows (every 10th failed), by esm's test tool."""
    tool = _build_dir() / "tests" / "esm_make_synthetic_dataset"
    assert tool.is_file(), f"esm_make_synthetic_dataset not found at {tool}"
    path = tmp_path_factory.mktemp("data") / "synthetic.h5"
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    subprocess.run([str(tool), str(path), "120", "0.02", "3", "10"], check=True, capture_output=True, env=env)
    return path


@pytest.fixture(scope="session")
def model_file(esm_cli, synthetic_dataset, tmp_path_factory) -> pathlib.Path:
    """A ridge + MLP ensemble (equal blend: its members' spread is the std) trained by `esm train`."""
    path = tmp_path_factory.mktemp("model") / "model.h5"
    run_cli(esm_cli, "train", "--dataset", str(synthetic_dataset), "--out", str(path), "--kinds", "ridge,mlp",
            "--folds", "2", "--members", "2", "--seed", "5", "--blend", "equal")
    return path


@pytest.fixture(scope="session")
def schema1_dataset() -> pathlib.Path:
    """A real dataset of schema version 1 (esm profile, 6 rows), kept as a fuzzing seed."""
    return REPO / "tests" / "fuzz" / "corpus" / "dataset" / "quickstart-6rows.h5"
