"""esm.open_dataset: esm's reader as a pandas DataFrame, schema 1 and the current schema; esm.bench (precisions too)."""
import numpy as np
import pandas as pd
import pytest

import esm
from conftest import run_cli


def info_value(text: str, key: str) -> str:
    for line in text.splitlines():
        if line.strip().startswith(key):
            return line.split(None, len(key.split()))[-1]
    raise KeyError(key)


def test_current_schema(synthetic_dataset):
    d = esm.open_dataset(synthetic_dataset)
    f = d.frame
    assert isinstance(f, pd.DataFrame) and len(f) == 120
    assert d.provenance["schema_version"] == 3 and d.provenance["space"] == "ofa-mbv3"
    assert d.genes.shape == (120, len(d.provenance["gene_names"]))
    assert set(f["status"].unique()) == {"done", "failed"}
    failed = f[f["status"] == "failed"]
    assert len(failed) == 12 and failed["trimmed_mean_ms"].isna().all()
    done = f[f["status"] == "done"]
    assert (done["trimmed_mean_ms"] > 0).all()
    # Schema 3's launch-mode columns are there (their values are the writer's: see test_schema_1
    # for a file from before them, where they read NaN).
    assert "eager_ms" in f.columns and "graph_ms" in f.columns
    # Rows are the archs of the file, in order: depth and id agree with esm describe (the test
    # tool leaves MACs at 0; test_schema_1 checks them on a real dataset).
    for i in (0, 57):
        desc = esm.describe(f["arch"][i])
        assert desc["depth"] == f["depth"][i]
        assert desc["id"] == format(int(f["id"][i]), "016x")


def test_schema_1(esm_cli, schema1_dataset):
    d = esm.open_dataset(schema1_dataset)
    assert d.provenance["schema_version"] == 1
    f = d.frame
    assert len(f) == 6 and (f["status"] == "done").all()
    assert f["eager_ms"].isna().all() and f["graph_ms"].isna().all()
    assert d.provenance["backend"] == "cpu" and len(d.provenance["runs"]) >= 1
    assert d.provenance["config_text"].startswith("[") and d.provenance["measure_policy"]
    cli = run_cli(esm_cli, "info", str(schema1_dataset)).stdout
    assert d.provenance["config_hash"] in cli
    assert (f["trimmed_mean_ms"] > 0).all() and (f["n"] > 0).all()
    for i in range(len(f)):
        desc = esm.describe(f["arch"][i])
        assert (desc["depth"], desc["network"]["total_macs"], desc["id"]) == \
            (f["depth"][i], f["macs"][i], format(int(f["id"][i]), "016x"))


def test_open_dataset_errors(tmp_path, model_file):
    with pytest.raises(ValueError, match="missing.h5"):
        esm.open_dataset(tmp_path / "missing.h5")
    text = tmp_path / "text.h5"
    text.write_text("not hdf5\n")
    with pytest.raises(ValueError, match="text.h5"):
        esm.open_dataset(text)
    with pytest.raises(ValueError, match="model.h5"):
        esm.open_dataset(model_file)


def test_bench_cpu():
    arch = esm.sample("ofa-mbv3", 1, seed=4, resolution=128)[0]
    r = esm.bench(arch, backend="cpu", reps=8, warmup_runs=1, warmup_ms=0, threads=1)
    s = r["stats"]
    assert r["backend"] == "cpu" and r["arch"] == arch and s["n"] == 8
    assert len(r["samples_ms"]) == 8 and np.all(r["samples_ms"] > 0)
    assert s["min_ms"] <= s["trimmed_mean_ms"] <= s["max_ms"]
    assert np.isnan(r["normalised"])
    n = esm.bench(arch, reps=4, warmup_runs=1, warmup_ms=0, threads=1, mode="normalised")
    assert n["mode"] == "normalised" and n["reference_ms"] > 0
    assert n["normalised"] == pytest.approx(n["stats"]["trimmed_mean_ms"] / n["reference_ms"])


def _cpu_flags():
    with open("/proc/cpuinfo") as f:
        return set(next(l for l in f if l.startswith("flags")).split(":")[1].split())


@pytest.mark.parametrize("precision, flags", [
    ("bf16", {"avx512_bf16", "amx_bf16"}),
    ("int8", {"avx512_vnni", "avx_vnni", "amx_int8"}),
])
def test_bench_cpu_precision(precision, flags):
    """bench(precision=...) runs esm bench --precision's oneDNN network; a CPU without the ISA is
    refused (ValueError naming it), never emulated."""
    arch = esm.sample("ofa-mbv3", 1, seed=4, resolution=128)[0]
    if not _cpu_flags() & flags:
        with pytest.raises(ValueError, match="lacks"):
            esm.bench(arch, reps=2, warmup_runs=1, warmup_ms=0, threads=1, precision=precision)
        return
    r = esm.bench(arch, reps=4, warmup_runs=1, warmup_ms=0, threads=1, precision=precision)
    assert r["precision"] == precision and r["stats"]["n"] == 4
    fp32 = esm.bench(arch, reps=2, warmup_runs=1, warmup_ms=0, threads=1)
    assert fp32["precision"] == "fp32"
    # The kernels that ran (as esm bench --json lists them) are other ones than fp32's: oneDNN's
    # names carry the ISA (avx512_core_bf16, avx512_core_vnni, avx512_core_amx), not always the type.
    kernels = [b["description"].split("kernels ", 1)[1] for b in (r, fp32)]
    assert kernels[0] != kernels[1]


@pytest.mark.parametrize("kwargs, token", [
    (dict(backend="tpu"), "tpu"),
    (dict(precision="fp64"), "fp64"),
    (dict(precision="fp16"), "fp16"),
    (dict(mode="interleaved"), "interleaved"),
    (dict(reps=0), "reps"),
    (dict(threads=-1), "threads"),
])
def test_bench_errors(kwargs, token):
    arch = esm.sample("ofa-mbv3", 1)[0]
    with pytest.raises(ValueError, match=token):
        esm.bench(arch, **kwargs)
