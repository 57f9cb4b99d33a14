#!/usr/bin/env python3
"""Times the networks esm-gpu-bench timed, with PyTorch on the same IR, and prints one table.

Input: esm-gpu-bench's JSON lines (each with the exported IR path, batch, precision and the esm
plain / CUDA-graph timings). For each network: tools/gpu-check/torch_net.py builds the module (same batch,
same precision, and the record's layout: NCHW, or torch.channels_last for esm's `--layout nhwc`);
torch.backends.cudnn.benchmark = True (PyTorch's counterpart of esm's
`find`); TF32 is off for fp32 because esm's fp32 is true fp32 (FMA math). Then, as esm-gpu-bench
does: warm-up of at least --warmup-runs runs and --warmup-ms milliseconds, --runs runs each timed
with CUDA events, trimmed mean dropping 20% at each end; once eager and once replaying a CUDA graph
captured with torch.cuda.graph.

Output: a table (arch, esm ms, esm graph ms, torch eager ms, torch graph ms, ratios) and Spearman
rank correlations overall and per space, on stdout and in OUT/compare.txt; merged records in
OUT/compare.jsonl. Exit 1 when a network fails or none is compared.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def trimmed_mean(samples, fraction=0.2):
    s = sorted(samples)
    k = int(len(s) * fraction)
    kept = s[k:len(s) - k]
    return sum(kept) / len(kept)


def median(samples):
    s = sorted(samples)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def ranks(values):
    """Ranks 1..n, ties get the average of their ranks."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return r


def spearman(a, b):
    """Spearman's rho (Pearson correlation of the ranks); None below 3 pairs or without spread."""
    if len(a) != len(b) or len(a) < 3:
        return None
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    if va == 0 or vb == 0:
        return None
    return cov / (va * vb) ** 0.5


def time_callable(torch, fn, warmup_runs, warmup_ms, runs):
    """Warm-up (>= warmup_runs and >= warmup_ms), then `runs` CUDA-event timings in ms."""
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

    def once():
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        return start.elapsed_time(stop)

    count, t0 = 0, time.monotonic()
    while count < warmup_runs or (time.monotonic() - t0) * 1000.0 < warmup_ms:
        once()
        count += 1
    return [once() for _ in range(runs)], count


def summary(samples, warmup):
    return {"trimmed_mean_ms": trimmed_mean(samples), "median_ms": median(samples), "min_ms": min(samples),
            "runs": len(samples), "warmup_runs": warmup}


def time_torch(torch, torch_net, record, args):
    dtype = torch.float16 if record["precision"] == "fp16" else torch.float32
    ir = torch_net.load_ir(record["json"])
    if ir["input"][0] != record["batch"]:
        raise ValueError(f"IR batch {ir['input'][0]} differs from the record's {record['batch']}")
    net, x = torch_net.build(ir, "cuda", dtype, channels_last=record.get("layout", "nchw") == "nhwc")
    result = {}
    with torch.no_grad():
        y = net(x)
        torch.cuda.synchronize()
        if list(y.shape) != torch_net.expected_output_shape(ir):
            raise ValueError(f"torch output {list(y.shape)} differs from the IR's {torch_net.expected_output_shape(ir)}")
        samples, warm = time_callable(torch, lambda: net(x), args.warmup_runs, args.warmup_ms, args.runs)
        result["eager"] = summary(samples, warm)

        # CUDA graph: warm up on a side stream (cudnn.benchmark runs there, not during capture).
        static_x = x.clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                net(static_x)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_y = net(static_x)
        graph.replay()
        torch.cuda.synchronize()
        samples, warm = time_callable(torch, graph.replay, args.warmup_runs, args.warmup_ms, args.runs)
        result["graph"] = summary(samples, warm)
        del static_y, graph
    del net, x
    torch.cuda.empty_cache()
    return result


def fmt(v, digits=3):
    return "-" if v is None else f"{v:.{digits}f}"


def table(rows):
    header = (f"{'#':>4} {'space':<13} {'MMACs':>8} {'esm':>9} {'esm graph':>10} {'torch':>9} {'torch graph':>12} "
              f"{'esm/torch':>10} {'graph/graph':>12}  arch")
    lines = [header, "-" * len(header)]
    for r in rows:
        esm, esm_g, tor, tor_g = r["esm_ms"], r["esm_graph_ms"], r["torch_ms"], r["torch_graph_ms"]
        lines.append(
            f"{r['index']:>4} {r['space']:<13} {r['macs'] / 1e6:>8.1f} {fmt(esm):>9} {fmt(esm_g):>10} {fmt(tor):>9} "
            f"{fmt(tor_g):>12} {fmt(esm / tor if esm and tor else None, 2):>10} "
            f"{fmt(esm_g / tor_g if esm_g and tor_g else None, 2):>12}  {r['arch']}")
    return lines


def correlations(rows):
    pairs = [("esm", "esm_ms", "torch eager", "torch_ms"), ("esm graph", "esm_graph_ms", "torch graph", "torch_graph_ms"),
             ("esm", "esm_ms", "esm graph", "esm_graph_ms"), ("torch eager", "torch_ms", "torch graph", "torch_graph_ms"),
             ("esm", "esm_ms", "MACs", "macs")]
    groups = [("all", rows)] + [(s, [r for r in rows if r["space"] == s]) for s in sorted({r["space"] for r in rows})]
    lines = ["Spearman rank correlations (n = networks with both values):"]
    for name, group in groups:
        parts = []
        for la, ka, lb, kb in pairs:
            both = [r for r in group if r.get(ka) is not None and r.get(kb) is not None]
            rho = spearman([r[ka] for r in both], [r[kb] for r in both])
            parts.append(f"{la} vs {lb}: {fmt(rho)} (n={len(both)})")
        lines.append(f"  {name:<13} " + "; ".join(parts))
    return lines


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", required=True, help="esm-gpu-bench output (JSON lines)")
    parser.add_argument("--out", required=True, help="directory for compare.txt and compare.jsonl")
    parser.add_argument("--warmup-runs", type=int, default=10)
    parser.add_argument("--warmup-ms", type=float, default=200.0)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--time-budget-s", type=float, default=None, help="start no further network after S seconds")
    args = parser.parse_args(argv)

    import torch  # after argument parsing: --help works without PyTorch
    import torch_net

    if not torch.cuda.is_available():
        print("gpu_compare: error: PyTorch sees no CUDA device", file=sys.stderr)
        return 1
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    print(f"gpu_compare: torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
          f"{torch.cuda.get_device_name(0)}; cudnn.benchmark on, TF32 off", flush=True)

    records = []
    with open(args.bench, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                records.append(json.loads(line))
    if not records:
        print(f"gpu_compare: error: no esm-gpu-bench records in {args.bench}", file=sys.stderr)
        return 1

    os.makedirs(args.out, exist_ok=True)
    rows, failures, start = [], 0, time.monotonic()
    with open(os.path.join(args.out, "compare.jsonl"), "w", encoding="utf-8") as merged:
        for record in records:
            if args.time_budget_s is not None and time.monotonic() - start > args.time_budget_s:
                print(f"gpu_compare: time budget of {args.time_budget_s} s reached after {len(rows)} networks", flush=True)
                break
            if "error" in record or not record.get("json"):  # mode-level errors still compare the other mode
                print(f"gpu_compare: skipping network {record.get('index')}: esm failed ({record.get('error')})", flush=True)
                failures += 1
                continue
            row = {"index": record["index"], "arch": record["arch"], "space": record["space"], "macs": record["macs"],
                   "esm_ms": record.get("plain", {}).get("trimmed_mean_ms"),
                   "esm_graph_ms": record.get("graph", {}).get("trimmed_mean_ms"), "torch_ms": None,
                   "torch_graph_ms": None}
            try:
                t = time_torch(torch, torch_net, record, args)
                row["torch_ms"] = t["eager"]["trimmed_mean_ms"]
                row["torch_graph_ms"] = t["graph"]["trimmed_mean_ms"]
                record["torch"] = t
            except Exception as e:  # one network's failure is reported, the others still run
                print(f"gpu_compare: network {record['index']} failed in PyTorch: {type(e).__name__}: {e}", flush=True)
                record["torch_error"] = f"{type(e).__name__}: {e}"
                failures += 1
            rows.append(row)
            merged.write(json.dumps(record) + "\n")
            print(f"gpu_compare: {row['index']:>3} esm {fmt(row['esm_ms'])} / {fmt(row['esm_graph_ms'])} ms, "
                  f"torch {fmt(row['torch_ms'])} / {fmt(row['torch_graph_ms'])} ms  {row['arch']}", flush=True)

    first = records[0]
    lines = [f"# {first.get('precision', '?')} {first.get('layout', 'nchw').upper()} batch {first.get('batch', '?')} "
             f"(PyTorch in the same layout)"] + table(rows) + [""] + correlations(rows)
    lines.append(f"\n{len(rows)} networks compared, {failures} failures")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(args.out, "compare.txt"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    return 1 if failures or not rows else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
