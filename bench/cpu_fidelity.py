#!/usr/bin/python3
"""esm's oneDNN CPU latency vs deployed CPU runtimes: PyTorch (TorchScript frozen + optimize_for_inference),
and with --runtimes also ONNX Runtime and OpenVINO (the esm.to_onnx export of the same network).

For each arch (ARCHS file, one canonical text per line): `esm describe --json` gives the network IR,
tools/gpu-check/torch_net.py builds the same torch module (BN folded: convs carry a bias), which is traced,
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
--runtimes torch,onnxruntime,openvino adds legs that run esm.to_onnx's model (esm's IR and weights,
checked against the reference executor by python/tests/test_onnx.py) under ONNX Runtime (1 intra-op
thread, all graph optimisations) and OpenVINO (CPU plugin, 1 inference thread, latency hint, f32);
every runtime gets the same warm-up, reps, legs and trimmed mean as PyTorch.
--precision bf16|int8 (ONNX legs only; PyTorch stays fp32) times `esm bench --precision P` against the
runtimes in the same precision. bf16: OpenVINO with the bf16 inference precision hint; each arch's
row says which precision OpenVINO's convolutions ran in (its runtime model). ONNX Runtime's CPU
provider has no bf16 convolution: the script tries a one-conv bf16 model and prints the error
instead of a leg. int8: a QDQ model from onnxruntime's quantize_static (per-channel int8 weights,
uint8 activations calibrated on the 4 random inputs esm's int8 calibrates on, never the timed one), run
by ONNX Runtime (QLinearConv) and OpenVINO (which reads QDQ models); rows say how many convolutions
ran in int8.
Prints a per-arch table, geometric mean of esm/runtime and Spearman per space; CSV to --csv.
Run with Debian's python (/usr/bin/python3: python3-torch 1.13, oneDNN 2.6.3); the ONNX legs need
the esm package, onnxruntime and openvino importable too (bench/cpu_fidelity.sh makes a venv for them).
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
sys.path.insert(0, os.path.join(ROOT, "tools", "gpu-check"))

from bench_stats import geomean, spearman, trimmed_mean  # noqa: E402

torch = None  # imported by main() when the torch leg runs
NAMES = {"torch": "PyTorch", "onnxruntime": "ONNX Runtime", "openvino": "OpenVINO"}


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
    import torch_net  # the one IR -> torch builder (tools/gpu-check/); not copied here

    ir = esm_json(esm, "describe", "--json", "--arch", arch)["network"]
    net, x = torch_net.build(ir, "cpu", torch.float32)
    with torch.no_grad():
        traced = torch.jit.trace(net, x)
        frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
    return frozen, x


def warmup(run, runs=10, ms=200.0):
    """Untimed runs of `run()` until both limits are reached; returns the mean ms of one run."""
    n, t0 = 0, time.perf_counter()
    while n < runs or (time.perf_counter() - t0) * 1e3 < ms:
        run()
        n += 1
    return (time.perf_counter() - t0) * 1e3 / n


def timed(run, reps):
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        run()
        samples.append((time.perf_counter() - t0) * 1e3)
    return trimmed_mean(samples, 0.2)


def torch_runner(esm, arch):
    mod, x = torch_module(esm, arch)

    def run():
        with torch.no_grad():
            mod(x)
    return run, (mod, x)


def onnxruntime_runner(model_bytes, x):
    import onnxruntime as ort

    o = ort.SessionOptions()
    o.intra_op_num_threads = 1
    o.inter_op_num_threads = 1
    o.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model_bytes, o, providers=["CPUExecutionProvider"])
    feed = {"input": x}
    return lambda: session.run(None, feed)


def openvino_conv_precisions(compiled):
    """'n/m PREC' for the convolutions of OpenVINO's compiled (runtime) model: what it really ran."""
    convs = [op.get_rt_info() for op in compiled.get_runtime_model().get_ops()
             if op.get_rt_info()["layerType"].astype(str) == "Convolution"]
    precs = collections.Counter(rt["runtimePrecision"].astype(str) for rt in convs)
    return " ".join(f"{n}/{len(convs)} {p}" for p, n in precs.most_common())


def openvino_runner(model_bytes, x, precision):
    import openvino as ov

    core = ov.Core()
    model = core.read_model(model=model_bytes, weights=b"")
    # int8 comes from the model's QDQ nodes; the hint sets the precision of everything else (f32).
    hint = "bf16" if precision == "bf16" else "f32"
    compiled = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": 1, "NUM_STREAMS": 1,
                                                 "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": hint})
    request = compiled.create_infer_request()
    return (lambda: request.infer({0: x})), openvino_conv_precisions(compiled)


def onnxruntime_bf16_error():
    """ONNX Runtime's answer to a bf16 model of one 3x3 convolution (opset 22, where ONNX's Conv
    accepts bfloat16): the error text, or '' if a session builds (then a bf16 leg could be added)."""
    import numpy as np
    import onnxruntime as ort
    from onnx import TensorProto, helper

    bf16 = TensorProto.BFLOAT16
    w = helper.make_tensor("w", bf16, [8, 8, 3, 3], vals=np.zeros(8 * 8 * 9, np.uint16).tobytes(), raw=True)
    graph = helper.make_graph([helper.make_node("Conv", ["input", "w"], ["out"], pads=[1, 1, 1, 1])], "conv",
                              [helper.make_tensor_value_info("input", bf16, [1, 8, 16, 16])],
                              [helper.make_tensor_value_info("out", bf16, [1, 8, 16, 16])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
    try:
        ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types; the message is the evidence
        return str(e).strip()
    return ""


def qdq_int8(model, arch, esm_py):
    """The QDQ int8 model of `model` (onnxruntime quantize_static): int8 weights per output channel,
    uint8 activations calibrated (min-max) on esm's 4 calibration inputs (make_input seeds seed+1..seed+4;
    the timed input is seed's)."""
    from onnxruntime import quantization as q

    class Calibration(q.CalibrationDataReader):
        def __init__(self):
            seeds = range(esm_py.DEFAULT_WEIGHTS_SEED + 1, esm_py.DEFAULT_WEIGHTS_SEED + 5)
            self.inputs = iter([{"input": esm_py.make_input(arch, 1, seed)} for seed in seeds])

        def get_next(self):
            return next(self.inputs, None)

    import logging

    import onnx

    logging.getLogger().setLevel(logging.ERROR)  # quantize_static's advice to pre-process, once per arch
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "fp32.onnx"), os.path.join(d, "int8.onnx")
        onnx.save(model, src)
        q.quantize_static(src, dst, Calibration(), quant_format=q.QuantFormat.QDQ, per_channel=True,
                          activation_type=q.QuantType.QUInt8, weight_type=q.QuantType.QInt8)
        with open(dst, "rb") as f:
            return f.read()


def runners(esm, arch, runtimes, precision):
    """({runtime: run()}, torch pair, {runtime: what it ran}) for one arch; the ONNX ones share one export."""
    out, torch_pair, ran = {}, None, {}
    if "torch" in runtimes:
        out["torch"], torch_pair = torch_runner(esm, arch)
    onnx_ones = [r for r in runtimes if r != "torch"]
    if onnx_ones:
        import esm as esm_py

        model = esm_py.to_onnx(arch)
        model_bytes = qdq_int8(model, arch, esm_py) if precision == "int8" else model.SerializeToString()
        x = esm_py.make_input(arch)
        for r in onnx_ones:
            if r == "openvino":
                out[r], ran[r] = openvino_runner(model_bytes, x, precision)
            else:
                out[r] = onnxruntime_runner(model_bytes, x)
                if precision == "int8":
                    ran[r] = onnxruntime_qlinear_convs(model_bytes)
    return out, torch_pair, ran


def onnxruntime_qlinear_convs(model_bytes):
    """'n QLinearConv' after ONNX Runtime's graph optimisations (its int8 convolutions), from the
    optimised model it writes."""
    import onnx
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as d:
        o = ort.SessionOptions()
        o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        o.optimized_model_filepath = os.path.join(d, "opt.onnx")
        o.log_severity_level = 3  # not its warning that the written model is specific to this CPU
        ort.InferenceSession(model_bytes, o, providers=["CPUExecutionProvider"])
        ops = collections.Counter(n.op_type for n in onnx.load(o.optimized_model_filepath).graph.node)
    return f"{ops['QLinearConv']}/{ops['QLinearConv'] + ops['Conv'] + ops['FusedConv']} QLinearConv"


def load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def main():
    global torch
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("archs", help="file with one canonical arch per line")
    p.add_argument("--esm", default=os.path.join(ROOT, "build/src/esm"))
    p.add_argument("--reps", type=int, default=150, help="timed reps at most")
    p.add_argument("--min-reps", type=int, default=30)
    p.add_argument("--budget-ms", type=float, default=4000, help="timed time per side, about")
    p.add_argument("--rounds", type=int, default=3, help="legs per side; a side's figure is their median")
    p.add_argument("--runtimes", default="torch", help="comma list of torch, onnxruntime, openvino")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "int8"],
                   help="esm bench --precision and the runtimes' precision (bf16, int8: ONNX legs only)")
    p.add_argument("--check-kernels", action="store_true", help="compare one verbose pass of esm and PyTorch")
    p.add_argument("--csv", default=os.path.join(ROOT, "out/bench/cpu_fidelity.csv"))
    a = p.parse_args()
    runtimes = [r for r in a.runtimes.split(",") if r]
    if not runtimes or any(r not in NAMES for r in runtimes):
        p.error(f"--runtimes: choose from {', '.join(NAMES)}")
    if a.check_kernels and "torch" not in runtimes:
        p.error("--check-kernels compares with PyTorch: needs the torch runtime")
    if a.precision != "fp32" and "torch" in runtimes:
        p.error(f"--precision {a.precision}: the PyTorch leg is fp32 only; use --runtimes onnxruntime,openvino")
    if a.precision == "bf16" and "onnxruntime" in runtimes:
        # No bf16 convolution in ONNX Runtime's CPU provider: its error is printed, never an fp32 leg as bf16.
        why = onnxruntime_bf16_error()
        print(f"# ONNX Runtime: no bf16 leg; a one-conv bf16 model gives: {why}" if why else
              "# ONNX Runtime: no bf16 leg, though a one-conv bf16 session now builds (a leg could be added)")
        runtimes.remove("onnxruntime")
        if not runtimes:
            return
    versions = []
    if "torch" in runtimes:
        import torch as torch_module_

        torch = torch_module_
        torch.set_num_threads(1)
        torch.set_flush_denormal(True)
        versions.append(f"torch {torch.__version__}, {torch.get_num_threads()} thread, "
                        f"mkldnn {torch.backends.mkldnn.is_available()}")
    if "onnxruntime" in runtimes:
        import onnxruntime

        versions.append(f"onnxruntime {onnxruntime.__version__}")
    if "openvino" in runtimes:
        import openvino

        versions.append(f"openvino {openvino.__version__}")
    archs = [s.strip() for s in open(a.archs) if s.strip()]
    print(f"# {'; '.join(versions)}; esm {a.esm}; precision {a.precision}")
    rows = []
    kernels = " kernels |" if a.check_kernels else ""
    names = [NAMES[r] for r in runtimes]
    ran_names = [r for r in runtimes if a.precision != "fp32"]  # torch is fp32 only
    kernels += "".join(f" {NAMES[r]} ran |" for r in ran_names)
    print("| # | arch | reps | esm ms | " + "".join(f"{n} ms | esm/{n} | " for n in names) + "spread esm, "
          + ", ".join(names) + f" | load1 |{kernels}")
    print("|---|---|---|---|" + "---|---|" * len(names) + "---|---|" + "---|" * (a.check_kernels + len(ran_names)))
    for i, arch in enumerate(archs):
        run_fns, torch_pair, ran = runners(a.esm, arch, runtimes, a.precision)
        est = max(warmup(run) for run in run_fns.values())
        reps = max(a.min_reps, min(a.reps, int(a.budget_ms / est)))
        leg_reps = math.ceil(reps / a.rounds)

        def run_esm():
            j = esm_json(a.esm, "bench", "--arch", arch, "--backend", "cpu", "--threads", "1",
                         "--reps", str(leg_reps), "--warmup-runs", "10", "--warmup-ms", "200", "--json",
                         "--precision", a.precision)
            return j["stats"]["trimmed_mean_ms"]

        def leg(run):
            def go():
                warmup(run)
                return timed(run, leg_reps)
            return go

        sides = [("esm", run_esm)] + [(r, leg(run_fns[r])) for r in runtimes]
        legs = {side: [] for side, _ in sides}
        for r in range(a.rounds):
            shift = (i + r) % len(sides)  # which side goes first rotates
            for side, run in sides[shift:] + sides[:shift]:
                legs[side].append(run())
        med = {side: statistics.median(v) for side, v in legs.items()}
        spread = {side: max(v) / min(v) for side, v in legs.items()}
        check = kernel_check(esm_pass_primitives(a.esm, arch), torch_pass_primitives(*torch_pair)) \
            if a.check_kernels else ""
        l = load1()
        rows.append((arch, leg_reps * a.rounds, med, l, spread, check))
        short = arch if len(arch) < 60 else arch[:57] + "..."
        cells = "".join(f"{med[r]:.2f} | {med['esm'] / med[r]:.3f} | " for r in runtimes)
        print(f"| {i + 1} | `{short}` | {leg_reps * a.rounds} | {med['esm']:.2f} | {cells}"
              + ", ".join(f"{spread[s]:.2f}" for s in ["esm"] + runtimes) + f" | {l:.2f} |"
              + (f" {check} |" if check else "") + "".join(f" {ran[r]} |" for r in ran_names), flush=True)
    os.makedirs(os.path.dirname(a.csv), exist_ok=True)
    with open(a.csv, "w") as f:
        f.write("arch,reps,esm_ms," + "".join(f"{r}_ms," for r in runtimes) + "load1,esm_spread,"
                + "".join(f"{r}_spread," for r in runtimes) + "kernels\n")
        for arch, reps, med, l, spread, check in rows:
            f.write(f'"{arch}",{reps},{med["esm"]},' + "".join(f"{med[r]}," for r in runtimes) + f"{l},"
                    + "".join(f"{spread[s]:.3f}," for s in ["esm"] + runtimes) + f'"{check}"\n')
    for r in runtimes:
        n = NAMES[r]
        for space in sorted({row[0].split(":")[0] for row in rows}):
            sub = [row for row in rows if row[0].startswith(space + ":")]
            print(f"# {space}: n={len(sub)} geomean esm/{n} {geomean([x[2]['esm'] / x[2][r] for x in sub]):.3f}, "
                  f"Spearman {spearman([x[2]['esm'] for x in sub], [x[2][r] for x in sub]):.3f}")
        ratios = [x[2]["esm"] / x[2][r] for x in rows]
        print(f"# all: n={len(rows)} geomean esm/{n} {geomean(ratios):.3f} "
              f"(min {min(ratios):.3f}, max {max(ratios):.3f}), "
              f"Spearman {spearman([x[2]['esm'] for x in rows], [x[2][r] for x in rows]):.3f}")


if __name__ == "__main__":
    main()
