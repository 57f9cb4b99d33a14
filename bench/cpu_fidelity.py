#!/usr/bin/python3
"""esm's oneDNN CPU latency vs PyTorch CPU deployed (TorchScript frozen + optimize_for_inference).

For each arch (ARCHS file, one canonical text per line): `esm describe --json` gives the network IR,
tools/torch_net.py builds the same torch module (BN folded: convs carry a bias), which is traced,
frozen and passed through torch.jit.optimize_for_inference. Both sides: batch 1, one thread
(`esm bench --threads 1`, torch.set_num_threads(1)), denormals flushed (esm flushes them: FTZ/DAZ),
warm-up >= 10 runs and >= 200 ms, the same number of timed reps (150, fewer for slow networks so a
side takes about --budget-ms), 20% trimmed mean. Each side's reps are split into --rounds legs that
alternate with the other side's (which goes first alternates too); a side's figure is the median of
its legs' trimmed means, so a transient that slows one leg (seen: single-leg outliers of 1.2-1.7x
that moved between archs from one run to the next) does not decide an arch. `spread` is the
largest leg over the smallest, per side.
--check-kernels also runs one pass of each side under oneDNN's verbose mode and compares their
convolutions (implementation, src/weights/dst formats, problem): "same" is how many of esm's convs
have an identical PyTorch conv; it also counts esm's reorders and reference (ref:) kernels per pass.
This does not depend on a quiet machine.
Prints a per-arch table, geometric mean of esm/PyTorch and Spearman; CSV to --csv.
Run with Debian's python (/usr/bin/python3: python3-torch 1.13, oneDNN 2.6.3).
"""
import argparse
import collections
import ctypes
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
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


def verbose_exec(line):
    """(kind, impl, formats, problem) of a oneDNN 2.6 verbose `exec` line; formats without bias."""
    f = line.split(",")
    mds = " ".join(m.split(":")[0] + ":" + m.split(":")[-2] for m in f[6].split()
                   if not m.startswith(("bia", "diff", "ws")))
    return f[3], f[4], mds, f[9]


def esm_pass_primitives(esm, arch):
    """The primitives of esm's last timed pass, from its verbose output."""
    env = dict(os.environ, ONEDNN_VERBOSE="1")
    out = subprocess.run([esm, "bench", "--arch", arch, "--backend", "cpu", "--threads", "1", "--reps", "1",
                          "--warmup-runs", "1", "--warmup-ms", "0"], check=True, capture_output=True, text=True,
                         env=env).stdout
    steps = int(out.split(" primitives")[0].split()[-1])  # "... 86 primitives (1 reorders) ..."
    lines = [verbose_exec(l) for l in out.splitlines() if l.startswith("onednn_verbose,exec,")]
    return lines[-steps:]


def torch_pass_primitives(mod, x):
    """The oneDNN primitives of one forward pass (oneDNN prints them on the C stdout)."""
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+") as f:
        os.dup2(f.fileno(), 1)
        try:
            with torch.no_grad(), torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):
                mod(x)
            libc.fflush(None)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        f.seek(0)
        return [verbose_exec(l) for l in f.read().splitlines() if l.startswith("onednn_verbose,exec,")]


def kernel_check(esm_prims, torch_prims):
    """'same/n convs, r reorders, k ref' for esm's pass against PyTorch's."""
    torch_convs = collections.Counter(p for p in torch_prims if p[0] == "convolution")
    convs = [p for p in esm_prims if p[0] == "convolution"]
    same = sum((collections.Counter(convs) & torch_convs).values())
    reorders = sum(1 for p in esm_prims if p[0] == "reorder")
    refs = sum(1 for p in esm_prims + torch_prims if p[1].startswith("ref"))
    return f"{same}/{len(convs)} convs same, {reorders} reorder{'s' * (reorders != 1)}, {refs} ref"


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
    p.add_argument("--rounds", type=int, default=3, help="legs per side; a side's figure is their median")
    p.add_argument("--check-kernels", action="store_true", help="compare one verbose pass of each side")
    p.add_argument("--csv", default=os.path.join(ROOT, "out/bench/cpu_fidelity.csv"))
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    archs = [s.strip() for s in open(a.archs) if s.strip()]
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} thread, "
          f"mkldnn {torch.backends.mkldnn.is_available()}; esm {a.esm}")
    rows = []
    kernels = " kernels |" if a.check_kernels else ""
    print(f"| # | arch | reps | esm ms | PyTorch ms | esm/PyTorch | spread esm, PyTorch | load1 |{kernels}")
    print("|---|---|---|---|---|---|---|---|" + "---|" * a.check_kernels)
    for i, arch in enumerate(archs):
        mod, x = torch_module(a.esm, arch)
        est = torch_warmup(mod, x)
        reps = max(a.min_reps, min(a.reps, int(a.budget_ms / est)))
        leg_reps = math.ceil(reps / a.rounds)

        def run_esm():
            j = esm_json(a.esm, "bench", "--arch", arch, "--backend", "cpu", "--threads", "1",
                         "--reps", str(leg_reps), "--warmup-runs", "10", "--warmup-ms", "200", "--json")
            return j["stats"]["trimmed_mean_ms"]

        def run_torch():
            torch_warmup(mod, x)
            return torch_time(mod, x, leg_reps)

        legs = {"esm": [], "torch": []}
        for r in range(a.rounds):
            order = [("esm", run_esm), ("torch", run_torch)]
            for side, run in order if (i + r) % 2 == 0 else order[::-1]:
                legs[side].append(run())
        e, t = statistics.median(legs["esm"]), statistics.median(legs["torch"])
        spread = [max(v) / min(v) for v in (legs["esm"], legs["torch"])]
        check = kernel_check(esm_pass_primitives(a.esm, arch), torch_pass_primitives(mod, x)) \
            if a.check_kernels else ""
        l = load1()
        rows.append((arch, leg_reps * a.rounds, e, t, l, spread, check))
        short = arch if len(arch) < 60 else arch[:57] + "..."
        print(f"| {i + 1} | `{short}` | {leg_reps * a.rounds} | {e:.2f} | {t:.2f} | {e / t:.3f} | "
              f"{spread[0]:.2f}, {spread[1]:.2f} | {l:.2f} |" + (f" {check} |" if check else ""), flush=True)
    os.makedirs(os.path.dirname(a.csv), exist_ok=True)
    with open(a.csv, "w") as f:
        f.write("arch,reps,esm_ms,torch_ms,load1,esm_spread,torch_spread,kernels\n")
        for r in rows:
            f.write(f'"{r[0]}",{r[1]},{r[2]},{r[3]},{r[4]},{r[5][0]:.3f},{r[5][1]:.3f},"{r[6]}"\n')
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
