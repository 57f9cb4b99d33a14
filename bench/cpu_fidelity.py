#!/usr/bin/python3
"""esm's oneDNN CPU latency vs PyTorch CPU deployed (TorchScript frozen + optimize_for_inference).

For each arch (ARCHS file, one canonical text per line): `esm describe --json` gives the network IR,
tools/torch_net.py builds the same torch module (BN folded: convs carry a bias), which is traced,
frozen and passed through torch.jit.optimize_for_inference. Both sides: batch 1, one thread
(`esm bench --threads 1`, torch.set_num_threads(1)), denormals flushed (esm flushes them: FTZ/DAZ),
warm-up >= 10 runs and >= 200 ms, the same number of timed reps (150, fewer for slow networks so a
side takes about --budget-ms), 20% trimmed mean. The two frameworks alternate per arch (and which
goes first alternates) so they share the machine's drift.
Prints a per-arch table, geometric mean of esm/PyTorch and Spearman; CSV to --csv.
Run with Debian's python (/usr/bin/python3: python3-torch 1.13, oneDNN 2.6.3).
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))

import torch  # noqa: E402
import torch_net  # noqa: E402  (the one IR -> torch builder; not copied here)
from bench_stats import geomean, spearman, trimmed_mean  # noqa: E402


def esm_json(esm, *args):
    return json.loads(subprocess.run([esm, *args], check=True, capture_output=True, text=True).stdout)


def torch_module(esm, arch):
    ir = esm_json(esm, "describe", "--json", "--arch", arch)["network"]
    net, x = torch_net.build(ir, "cpu", torch.float32)
    with torch.no_grad():
        traced = torch.jit.trace(net, x)
        frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
    return frozen, x


def torch_warmup(mod, x, runs=10, ms=200.0):
    """Untimed runs until both limits are reached; returns the mean ms of one run."""
    n, t0 = 0, time.perf_counter()
    with torch.no_grad():
        while n < runs or (time.perf_counter() - t0) * 1e3 < ms:
            mod(x)
            n += 1
    return (time.perf_counter() - t0) * 1e3 / n


def torch_time(mod, x, reps):
    samples = []
    with torch.no_grad():
        for _ in range(reps):
            t0 = time.perf_counter()
            mod(x)
            samples.append((time.perf_counter() - t0) * 1e3)
    return trimmed_mean(samples, 0.2)


def load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("archs", help="file with one canonical arch per line")
    p.add_argument("--esm", default=os.path.join(ROOT, "build/src/esm"))
    p.add_argument("--reps", type=int, default=150, help="timed reps at most")
    p.add_argument("--min-reps", type=int, default=30)
    p.add_argument("--budget-ms", type=float, default=4000, help="timed time per side, about")
    p.add_argument("--csv", default=os.path.join(ROOT, "out/bench/cpu_fidelity.csv"))
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    archs = [s.strip() for s in open(a.archs) if s.strip()]
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} thread, "
          f"mkldnn {torch.backends.mkldnn.is_available()}; esm {a.esm}")
    rows = []
    print("| # | arch | reps | esm ms | PyTorch ms | esm/PyTorch | load1 |")
    print("|---|---|---|---|---|---|---|")
    for i, arch in enumerate(archs):
        mod, x = torch_module(a.esm, arch)
        est = torch_warmup(mod, x)
        reps = max(a.min_reps, min(a.reps, int(a.budget_ms / est)))

        def run_esm():
            j = esm_json(a.esm, "bench", "--arch", arch, "--backend", "cpu", "--threads", "1",
                         "--reps", str(reps), "--warmup-runs", "10", "--warmup-ms", "200", "--json")
            return j["stats"]["trimmed_mean_ms"]

        def run_torch():
            torch_warmup(mod, x)
            return torch_time(mod, x, reps)

        if i % 2 == 0:
            e = run_esm(); t = run_torch()
        else:
            t = run_torch(); e = run_esm()
        l = load1()
        rows.append((arch, reps, e, t, l))
        short = arch if len(arch) < 60 else arch[:57] + "..."
        print(f"| {i + 1} | `{short}` | {reps} | {e:.2f} | {t:.2f} | {e / t:.3f} | {l:.2f} |", flush=True)
    os.makedirs(os.path.dirname(a.csv), exist_ok=True)
    with open(a.csv, "w") as f:
        f.write("arch,reps,esm_ms,torch_ms,load1\n")
        for r in rows:
            f.write(f'"{r[0]}",{r[1]},{r[2]},{r[3]},{r[4]}\n')
    ratios = [r[2] / r[3] for r in rows]
    for space in sorted({r[0].split(":")[0] for r in rows}):
        sub = [r for r in rows if r[0].startswith(space + ":")]
        print(f"# {space}: n={len(sub)} geomean esm/PyTorch {geomean([r[2] / r[3] for r in sub]):.3f}, "
              f"Spearman {spearman([r[2] for r in sub], [r[3] for r in sub]):.3f}")
    print(f"# all: n={len(rows)} geomean esm/PyTorch {geomean(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f}), "
          f"Spearman {spearman([r[2] for r in rows], [r[3] for r in rows]):.3f}")


if __name__ == "__main__":
    main()
