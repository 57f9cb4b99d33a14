"""End to end: report.py and compare.py on synthetic datasets and real model files, and compare.py's
numbers against `esm compare`'s.

The datasets come from the test tool esm_make_synthetic_dataset (the real dataset writer); a second
"run" is derived from the first with h5py (other noise, some rows failed), and drift readings and a
/loop table are added the same way. Paths: $ESM_BUILD_DIR (default build/ of this checkout).
"""
import math
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

ANALYSIS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ANALYSIS)
import agreement  # noqa: E402
import esm_files  # noqa: E402
import report  # noqa: E402

REPO = os.path.dirname(ANALYSIS)
BUILD = os.path.abspath(os.environ.get("ESM_BUILD_DIR", os.path.join(REPO, "build")))
ESM = os.path.join(BUILD, "src", "esm")
MAKE_DATASET = os.path.join(BUILD, "tests", "esm_make_synthetic_dataset")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(*cmd, check=True):
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=False,
                          env={**os.environ, "ESM": ESM})
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} -> exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def python(script, *args, check=True):
    return run(sys.executable, os.path.join(ANALYSIS, script), *args, check=check)


def train(dataset, out, *options):
    launcher = ["mpirun", "-n", "1"] if shutil.which("mpirun") else []
    run(*launcher, ESM, "train", "--dataset", dataset, "--out", out, "--folds", "3", "--members", "2", *options)


def second_run(src, dst, noise, seed, failed_every):
    """A copy of `src` as if measured again: labels times (1 + noise * N(0, 1)), every n-th row failed."""
    shutil.copy(src, dst)
    rng = np.random.default_rng(seed)
    with h5py.File(dst, "r+") as f:
        rows = f["results"][()]
        factor = 1.0 + noise * rng.standard_normal(len(rows))
        for name in ("trimmed_mean_ms", "normalised"):
            rows[name] *= factor
        rows["status"][failed_every - 1::failed_every] = 2
        f["results"][...] = rows


def add_drift(path):
    """Drift readings of two ranks, one of each verdict among them."""
    with h5py.File(path, "r+") as f:
        drift = f["drift"]
        rows = np.zeros(24, dtype=drift.dtype)
        for i in range(len(rows)):
            change = 0.01 * math.sin(i)
            rows[i] = (1.7e9 + 30 * i, 2.0 * (1 + change), 2.0, change, i, 0, i % 2, i % 4 if i < 4 else 0, 5, 0.03)
        drift.resize((len(rows),))
        drift[...] = rows


# /loop as the closed loop writes it (include/esm/dataset/schema.hpp: loop_row), one row per
# iteration and depth bin.
LOOP_ROW = np.dtype([("samples", "<u8"), ("n", "<u8"), ("within_10", "<f8"), ("threshold", "<f8"),
                     ("iteration", "<i4"), ("bin", "<i4"), ("stop", "<i4"), ("next_count", "<i4"),
                     ("strategy", "S16"), ("model", "S16"), ("decision", "S128")])


def add_loop(path, strategy, gain):
    rows = []
    for it in range(4):
        for depth_bin in range(10, 21):
            within = np.nan if (it, depth_bin) == (0, 20) else min(1.0, 0.6 + gain * it + 0.01 * (depth_bin % 3))
            rows.append((110 + 55 * it, 0 if np.isnan(within) else 10 + it * 5, within, 0.95, it, depth_bin,
                         int(it == 3), 0 if it == 3 else 55, strategy.encode(), b"stacked", b"continue"))
    with h5py.File(path, "r+") as f:
        f.create_dataset("loop", data=np.array(rows, dtype=LOOP_ROW), maxshape=(None,), chunks=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    for tool in (ESM, MAKE_DATASET):
        if not os.access(tool, os.X_OK):
            pytest.fail(f"{tool} is not built (set ESM_BUILD_DIR to the build directory)")
    d = tmp_path_factory.mktemp("analysis")
    paths = {name: str(d / f"{name}.h5") for name in ("a", "b", "loop", "loop_random", "fcc", "onehot")}
    run(MAKE_DATASET, paths["a"], 132, 0.02, 5)
    second_run(paths["a"], paths["b"], noise=0.03, seed=11, failed_every=9)
    shutil.copy(paths["a"], paths["loop"])
    add_drift(paths["loop"])
    add_loop(paths["loop"], "weighted", 0.08)
    shutil.copy(paths["a"], paths["loop_random"])
    add_loop(paths["loop_random"], "random", 0.05)
    train(paths["a"], paths["fcc"], "--kinds", "ridge,xgboost")
    train(paths["a"], paths["onehot"], "--kinds", "ridge", "--encoding", "onehot")
    paths["dir"] = d
    return paths


def check_pngs(directory, names):
    for name in names:
        path = os.path.join(directory, name)
        assert os.path.isfile(path), f"{name} missing"
        with open(path, "rb") as f:
            head = f.read(8)
        assert head == PNG_MAGIC and os.path.getsize(path) > 5000, f"{name} is not a real PNG"


def test_report_with_models_drift_and_loop(files):
    out = files["dir"] / "report"
    done = python("report.py", files["loop"], files["fcc"], files["onehot"], "-o", out, "--loop", files["loop_random"])
    index = done.stdout.strip().splitlines()[-1]
    assert index == str(out / "index.html") and os.path.isfile(index)
    pngs = ["latency_by_depth.png", "predicted_vs_measured_0_fcc.png", "predicted_vs_measured_1_onehot.png",
            "cv_by_bin_0_fcc.png", "cv_by_bin_1_onehot.png", "cv_by_encoding.png", "drift.png", "loop.png"]
    check_pngs(out, pngs)
    page = open(index, encoding="utf-8").read()
    for name in pngs:
        assert f'src="{name}"' in page


def test_loop_curves_pool_bins_by_count():
    loop = {"samples": np.array([110, 110, 165, 165]), "bin": np.array([10, 11, 10, 11]),
            "n": np.array([10, 30, 0, 40]), "within_10": np.array([1.0, 0.5, np.nan, 0.9]),
            "strategy": np.array([b"weighted"] * 4)}
    (name, (xs, worst, overall)), = report.loop_curves(loop, "").items()
    assert name == "weighted" and xs.tolist() == [110, 165]
    assert worst.tolist() == [0.5, 0.9] and overall == pytest.approx([(10 + 15) / 40, 0.9])


def test_report_of_a_dataset_alone(files):
    out = files["dir"] / "plain"
    python("report.py", files["a"], "-o", out)
    check_pngs(out, ["latency_by_depth.png"])
    page = open(out / "index.html", encoding="utf-8").read()
    assert "no drift checks" in page and "loop.png" not in page and "predicted_vs_measured" not in page


@pytest.mark.parametrize("label", ["trimmed", "normalised"])
def test_compare_matches_esm_compare(files, label):
    out = files["dir"] / f"compare-{label}"
    mine = agreement.parse_numbers(python("compare.py", files["a"], files["b"], "--label", label, "-o", out).stdout)
    theirs = agreement.parse_numbers(run(ESM, "compare", files["a"], files["b"], "--label", label).stdout)
    assert set(mine) == set(theirs) == set(agreement.NUMBERS)
    assert mine["n_common"] == theirs["n_common"] == 132 - 132 // 9
    assert mine["n_done_a"] == theirs["n_done_a"] == 132
    for name in agreement.NUMBERS:
        assert mine[name] == pytest.approx(theirs[name], rel=0, abs=1e-9), name
    assert 0.9 < mine["spearman"] < 1.0
    check_pngs(out, ["rel_diff_hist.png", "bland_altman.png", "a_vs_b.png"])


def test_a_dataset_agrees_with_itself(files):
    values = agreement.parse_numbers(python("compare.py", files["a"], files["a"]).stdout)
    assert values["mean_abs_rel_diff"] == 0 and values["within_5"] == 1
    assert values["spearman"] == pytest.approx(1.0) and values["kendall_tau_b"] == pytest.approx(1.0)


@pytest.mark.parametrize("script,args,token", [
    ("report.py", ["{dir}/missing.h5", "-o", "{dir}/x"], "missing.h5"),
    ("report.py", ["{fcc}", "-o", "{dir}/x"], "not an esm dataset"),
    ("report.py", ["{a}", "{a}", "-o", "{dir}/x"], "not an esm model file"),
    ("report.py", ["{a}", "{dir}/nope.h5", "-o", "{dir}/x"], "nope.h5"),
    ("compare.py", ["{a}", "{dir}/missing.h5"], "missing.h5"),
    ("compare.py", ["{a}", "{fcc}"], "not an esm dataset"),
    ("compare.py", ["{a}", "{dir}"], "does not exist"),
])
def test_bad_inputs_exit_2_with_one_line(files, script, args, token):
    done = python(script, *[a.format(**files) for a in args], check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and token in lines[0], done.stderr


def test_no_usable_label_is_a_usage_error_in_both(files):
    path = str(files["dir"] / "plain_mode.h5")  # as profiled with mode = plain: no normalised label
    shutil.copy(files["a"], path)
    with h5py.File(path, "r+") as f:
        rows = f["results"][()]
        rows["normalised"] = np.nan
        f["results"][...] = rows
    for done in (python("compare.py", files["a"], path, "--label", "normalised", check=False),
                 run(ESM, "compare", files["a"], path, "--label", "normalised", check=False)):
        assert done.returncode == 2 and "has no done architectures with a positive normalised label" in done.stderr


def gpu_copy(src, dst):
    """`src` as a schema-3 GPU dataset: eager launches at the stored latency, graph replays 2.5x faster."""
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        rows = f["results"][()]
        rows["eager_ms"] = rows["trimmed_mean_ms"]
        rows["graph_ms"] = rows["trimmed_mean_ms"] / 2.5
        f["results"][...] = rows


def test_graph_replay_is_the_default_label_of_a_gpu_dataset(files):
    a = esm_files.read_dataset(files["a"])
    assert int(a.attrs["schema_version"]) == 3 and a.results.dtype.itemsize == 272
    assert esm_files.default_label(a) == "trimmed" and not np.isfinite(a.label("graph")).any()
    gpu, gpu_b = str(files["dir"] / "gpu_a.h5"), str(files["dir"] / "gpu_b.h5")
    gpu_copy(files["a"], gpu)
    gpu_copy(files["b"], gpu_b)
    g = esm_files.read_dataset(gpu)
    assert esm_files.default_label(g) == "graph"
    assert np.nanmax(np.abs(g.label("graph") * 2.5 / g.label("eager") - 1)) < 1e-12
    # esm train's default label follows, and both compare tools read the graph label alike
    out = str(files["dir"] / "gpu_model.h5")
    train(gpu, out, "--kinds", "ridge")
    with h5py.File(out, "r") as f:
        assert esm_files.text(f.attrs["label"]) == "graph"
    mine = agreement.parse_numbers(python("compare.py", gpu, gpu_b, "--label", "graph").stdout)
    theirs = agreement.parse_numbers(run(ESM, "compare", gpu, gpu_b, "--label", "graph").stdout)
    for name in agreement.NUMBERS:
        assert mine[name] == pytest.approx(theirs[name], rel=0, abs=1e-9), name


def test_report_without_esm_for_predictions(files):
    done = python("report.py", files["a"], files["fcc"], "-o", files["dir"] / "y", "--esm", "/no/esm", check=False)
    assert done.returncode == 2 and "/no/esm" in done.stderr


def test_rank_statistics_on_made_up_numbers():
    assert agreement.average_ranks([10, 20, 20, 30]).tolist() == [1, 2.5, 2.5, 4]
    # One pair tied in b: C = 5, D = 0, n0 = 6, n1 = 0, n2 = 1 -> tau_b = 5 / sqrt(6 * 5).
    assert agreement.kendall_tau_b([1, 2, 3, 4], [1, 2, 2, 4]) == pytest.approx(5 / math.sqrt(30))
    assert agreement.kendall_tau_b([1, 2, 3], [3, 2, 1]) == pytest.approx(-1)
    assert agreement.spearman_rho([1, 2, 3, 4], [10, 20, 30, 45]) == pytest.approx(1)
    assert math.isnan(agreement.spearman_rho([1, 2, 3], [5, 5, 5]))
    assert agreement.within_share([1.04, 1.2], [1.0, 1.0], 0.05) == 0.5
