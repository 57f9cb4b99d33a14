#!/usr/bin/env python3
"""esm.Predictor.predict throughput from Python: archs/s for one 65,536-arch batch on one core
(text list in, numpy out: parse + encode + ensemble predict + conversions; sampling not timed).

  python bench/python_predict_throughput.py [--model M.h5] [--batch 65536] [--runs 5]

Without --model, a model is trained first like esm's tests do: esm_make_synthetic_dataset (2,000
ofa-mbv3 rows) + `esm train` with the default kinds (ESM_BUILD_DIR, default build/). Prints one
markdown row per run: wall archs/s and archs per CPU-second of this process (less sensitive to
other jobs on a shared machine), with the 1-minute load average.
"""
import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core: before numpy / esm load OpenMP


def make_model(work: pathlib.Path) -> pathlib.Path:
    build = pathlib.Path(os.environ.get("ESM_BUILD_DIR", pathlib.Path(__file__).resolve().parents[1] / "build"))
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    data, model = work / "data.h5", work / "model.h5"
    subprocess.run([str(build / "tests" / "esm_make_synthetic_dataset"), str(data), "2000", "0.02", "3"], check=True,
                   env=env, capture_output=True)
    subprocess.run([str(build / "src" / "esm"), "train", "--dataset", str(data), "--out", str(model), "--folds", "2"],
                   check=True, env=env, capture_output=True)
    return model


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model")
    ap.add_argument("--batch", type=int, default=65536)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cpu", type=int, default=0, help="core to pin to")
    a = ap.parse_args()
    os.sched_setaffinity(0, {a.cpu})
    import esm

    with tempfile.TemporaryDirectory() as tmp:
        model = pathlib.Path(a.model) if a.model else make_model(pathlib.Path(tmp))
        p = esm.Predictor.load(model)
        archs = esm.sample(p.space, a.batch, policy="uniform", seed=1)
        p.predict(archs[:1024])  # warm-up
        print(f"# esm {esm.version()}, model {p.encoding} {p.label}, batch {a.batch}, pinned to cpu {a.cpu}, "
              f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
        print("| run | load1 | archs/s (wall) | archs/CPU-s | ns/arch (wall) |")
        print("|---|---|---|---|---|")
        for run in range(1, a.runs + 1):
            load1 = os.getloadavg()[0]
            w0, c0 = time.perf_counter(), time.process_time()
            r = p.predict(archs)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            assert r.latency_ms.shape == (a.batch,)
            print(f"| {run} | {load1:.2f} | {a.batch / wall:,.0f} | {a.batch / cpu:,.0f} | {1e9 * wall / a.batch:.0f} |")
    print(f"# command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
