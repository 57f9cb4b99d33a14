#!/usr/bin/env python3
"""esm.Predictor.predict throughput from Python: archs/s for one 65,536-arch batch on one core
(text list in, numpy out: parse + encode + ensemble predict + conversions; sampling not timed).

  python bench/python_predict_throughput.py [--model M.h5] [--kinds K] [--batch 65536] [--runs 5]

Without --model, a model is trained first like esm's tests do: esm_make_synthetic_dataset (2,000
ofa-mbv3 rows) + `esm train` with the default kinds, or --kinds (e.g. "ridge,mlp" with 2 members,
the Python tests' model) (ESM_BUILD_DIR, default build/). Prints one markdown row per run: wall
archs/s and archs per CPU-second of this process (less sensitive to other jobs on a shared
machine), with the 1-minute load average; then where the CPU time of one call goes (best of 3):
a bad text placed first stops the call after reading the list, placed last after parsing and
encoding every other row (esm::predictor encodes each arch as it parses it).
"""
import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core: before numpy / esm load OpenMP


def make_model(work: pathlib.Path, kinds: str | None) -> pathlib.Path:
    build = pathlib.Path(os.environ.get("ESM_BUILD_DIR", pathlib.Path(__file__).resolve().parents[1] / "build"))
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    data, model = work / "data.h5", work / "model.h5"
    subprocess.run([str(build / "tests" / "esm_make_synthetic_dataset"), str(data), "2000", "0.02", "3"], check=True,
                   env=env, capture_output=True)
    extra = ["--kinds", kinds, "--members", "2", "--blend", "equal"] if kinds else []
    subprocess.run([str(build / "src" / "esm"), "train", "--dataset", str(data), "--out", str(model), "--folds", "2"] +
                   extra, check=True, env=env, capture_output=True)
    return model


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model")
    ap.add_argument("--batch", type=int, default=65536)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cpu", type=int, default=0, help="core to pin to")
    ap.add_argument("--kinds", help="esm train --kinds for the trained model (default: esm's default kinds)")
    a = ap.parse_args()
    os.sched_setaffinity(0, {a.cpu})
    import esm

    with tempfile.TemporaryDirectory() as tmp:
        model = pathlib.Path(a.model) if a.model else make_model(pathlib.Path(tmp), a.kinds)
        p = esm.Predictor.load(model)
        archs = esm.sample(p.space, a.batch, policy="uniform", seed=1)
        p.predict(archs[:1024])  # warm-up
        kinds = a.model if a.model else (a.kinds or "default kinds")
        print(f"# esm {esm.version()}, model {kinds} {p.encoding} {p.label}, batch {a.batch}, pinned to cpu {a.cpu}, "
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

        def cpu_ns(batch, expect_error):
            best = float("inf")
            for _ in range(3):
                c0 = time.process_time()
                try:
                    p.predict(batch)
                    assert not expect_error
                except ValueError:
                    assert expect_error
                best = min(best, time.process_time() - c0)
            return 1e9 * best / a.batch

        bad = "ofa-mbv3:bad"
        convert = cpu_ns([bad] + archs[1:], True)
        parsed = cpu_ns(archs[:-1] + [bad], True)
        total = cpu_ns(archs, False)
        print("| str list -> views | parse + encode, row by row | model predict + numpy | total | archs/CPU-s |")
        print("|---|---|---|---|---|")
        print(f"| {convert:,.0f} ns | {parsed - convert:,.0f} ns | {total - parsed:,.0f} ns | {total:,.0f} ns | "
              f"{1e9 / total / 1e6:.2f} M |")
    print(f"# command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
