"""esm.Predictor: numpy results equal to `esm predict`, GIL released, ValueError naming bad input."""
import json
import threading

import numpy as np
import pytest

import esm
from conftest import run_cli


def test_predict_matches_cli(esm_cli, model_file, tmp_path):
    archs = esm.sample("ofa-mbv3", 40, seed=77)
    p = esm.Predictor.load(model_file)
    assert (p.space, p.encoding, p.label) == ("ofa-mbv3", "fcc", "trimmed_mean")
    got = p.predict(archs)
    assert isinstance(got.latency_ms, np.ndarray) and got.latency_ms.dtype == np.float64
    assert got.latency_ms.shape == got.std_ms.shape == (40,)
    assert np.all(got.latency_ms > 0) and np.all(got.std_ms >= 0) and np.any(got.std_ms > 0)
    archs_file = tmp_path / "archs.txt"
    archs_file.write_text("\n".join(archs) + "\n")
    out = run_cli(esm_cli, "predict", "--model", str(model_file), "--archs", str(archs_file), "--json").stdout
    cli = [json.loads(line) for line in out.splitlines()]
    assert [c["arch"] for c in cli] == archs
    # The CLI prints 6 significant digits.
    np.testing.assert_allclose([c["latency_ms"] for c in cli], got.latency_ms, rtol=1e-5)
    np.testing.assert_allclose([c["std_ms"] for c in cli], got.std_ms, rtol=1e-5, atol=1e-9)
    # The 90% interval and the domain flags, as the CLI gives them.
    assert p.interval_level == pytest.approx(0.9)
    np.testing.assert_allclose([c["lo_ms"] for c in cli], got.lo_ms, rtol=1e-5)
    np.testing.assert_allclose([c["hi_ms"] for c in cli], got.hi_ms, rtol=1e-5)
    assert np.all(got.lo_ms > 0) and np.all(got.lo_ms < got.hi_ms)
    assert [c["in_domain"] for c in cli] == got.in_domain.tolist()
    assert [c["out_of_domain"] for c in cli] == got.out_of_domain
    # A single text agrees with its row of the batch (to rounding: the batched kernels' vector
    # paths depend on the batch size), and the same batch twice gives the same bits.
    np.testing.assert_allclose(p.predict(archs[0]).latency_ms[0], got.latency_ms[0], rtol=1e-9)
    np.testing.assert_array_equal(p.predict(archs).latency_ms, got.latency_ms)


def test_predict_releases_the_gil(model_file):
    """Another Python thread makes progress while predict runs on a large batch."""
    p = esm.Predictor.load(model_file)
    archs = esm.sample("ofa-mbv3", 2000, seed=1) * 40
    ticks = []
    done = threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(1)

    t = threading.Thread(target=tick)
    t.start()
    try:
        before = len(ticks)
        p.predict(archs)
        during = len(ticks) - before
    finally:
        done.set()
        t.join()
    assert during > 100


def test_predict_bad_input(model_file):
    p = esm.Predictor.load(model_file)
    good = esm.sample("ofa-mbv3", 2)
    with pytest.raises(ValueError, match="999"):
        p.predict(good + ["ofa-mbv3:w1.0:r999:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3"])
    with pytest.raises(ValueError, match="ofa-resnet50"):
        p.predict(esm.sample("ofa-resnet50", 1))
    with pytest.raises(ValueError, match="no reference to set"):
        p.reference_ms = 3.0


def test_predict_takes_any_sequence_of_str(model_file):
    p = esm.Predictor.load(model_file)
    archs = esm.sample("ofa-mbv3", 5, seed=3)
    want = p.predict(archs).latency_ms
    np.testing.assert_array_equal(p.predict(tuple(archs)).latency_ms, want)
    np.testing.assert_array_equal(p.predict(a for a in archs).latency_ms, want)
    got = p.predict(archs)
    assert got.in_domain.dtype == np.bool_ and got.in_domain.shape == (5,)
    assert got.out_of_domain == [got.reasons.get(i, []) for i in range(5)]
    with pytest.raises(TypeError, match="archs must be str, got int"):
        p.predict(archs[:2] + [7])
    assert p.predict([]).latency_ms.shape == (0,)


def test_load_errors(tmp_path, synthetic_dataset):
    with pytest.raises(ValueError, match="nope.h5"):
        esm.Predictor.load(tmp_path / "nope.h5")
    with pytest.raises(ValueError, match="synthetic.h5"):
        esm.Predictor.load(synthetic_dataset)


def test_out_of_domain_flags(esm_cli, schema1_dataset, tmp_path):
    """A model trained on w1.0 r128 only flags an r192 arch (as esm predict does) and not r128 ones."""
    model = tmp_path / "narrow.h5"
    run_cli(esm_cli, "train", "--dataset", str(schema1_dataset), "--out", str(model), "--kinds", "ridge",
            "--folds", "2", "--members", "1")
    p = esm.Predictor.load(model)
    assert "resolutions 128..128" in p.domain and "w1.0" in p.domain
    archs = esm.sample("ofa-mbv3", 3, seed=3, width="w1.0", resolution=128)
    archs += esm.sample("ofa-mbv3", 1, seed=3, width="w1.0", resolution=192)
    got = p.predict(archs)
    assert not any("resolution" in why for reasons in got.out_of_domain[:3] for why in reasons)
    assert not got.in_domain[3] and any("resolution 192" in why for why in got.out_of_domain[3])
    archs_file = tmp_path / "archs.txt"
    archs_file.write_text("\n".join(archs) + "\n")
    out = run_cli(esm_cli, "predict", "--model", str(model), "--archs", str(archs_file), "--json").stdout
    assert [json.loads(line)["out_of_domain"] for line in out.splitlines()] == got.out_of_domain


def test_adapted_model(esm_cli, model_file, synthetic_dataset, tmp_path):
    """A model made by `esm adapt` loads, says it is adapted and predicts what `esm predict` does."""
    plain = esm.Predictor.load(model_file)
    assert not plain.adapted and plain.adapted_from == []
    adapted_path = tmp_path / "adapted.h5"
    run_cli(esm_cli, "adapt", "--model", str(model_file), "--dataset", str(synthetic_dataset), "--allow-synthetic",
            "--out", str(adapted_path))
    p = esm.Predictor.load(adapted_path)
    assert p.adapted and p.adapted_from == [str(model_file.resolve())]
    assert p.rows_used == plain.rows_used and p.interval_level == pytest.approx(0.9)
    archs = esm.sample("ofa-mbv3", 20, seed=78)
    got = p.predict(archs)
    assert np.all(got.latency_ms > 0) and np.all(got.lo_ms < got.hi_ms)
    archs_file = tmp_path / "archs.txt"
    archs_file.write_text("\n".join(archs) + "\n")
    run = run_cli(esm_cli, "predict", "--model", str(adapted_path), "--archs", str(archs_file), "--json")
    assert "adapted model (esm adapt)" in run.stderr
    np.testing.assert_allclose([json.loads(line)["latency_ms"] for line in run.stdout.splitlines()], got.latency_ms,
                               rtol=1e-5)
