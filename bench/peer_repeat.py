#!/usr/bin/env python3
"""One table from bench/peer_repeat.sh's per-seed files: esm's CV (M.cv.csv) beside the fair peers
(peer_comparison.py --fair --json) on the same folds, per fold seed, and the paired differences over
seeds with their standard errors.

Usage: peer_repeat.py WORKDIR   (WORKDIR/s<seed>.cv.csv and WORKDIR/s<seed>.peers.json per seed)

Rows per seed: esm's shipped model (`stacked`: kind weights fitted on the same out-of-fold predictions
it is scored on, so slightly optimistic), esm's equal-weight `ensemble` (no fitted weights), the
stacked peer, the selected peer (chosen per outer fold on inner-CV MAPE: training folds only) and the
best peer on the test folds (chosen by the score it reports: optimistic, for reference only).
Paired over seeds: d = esm - peer (MAPE points, ±10% points) and r = esm MAPE / peer MAPE; mean and
standard error (sd / sqrt(seeds)) of the per-seed d and r.
"""
import csv
import glob
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_stats import mean_se  # noqa: E402

SEL = "selected peer (per outer fold, lowest inner-CV MAPE)"
STACK_PREFIX = "stacked peer"  # "(nnls over the N, ...)"


def stack_of(scores):
    return next(v for k, v in scores.items() if k.startswith(STACK_PREFIX))


def esm_rows(path):
    out = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            if r["bin"] == "all":
                out[r["model"]] = {"mape": float(r["mape_percent"]), "within_10": 100 * float(r["within_10"]),
                                   "within_5": 100 * float(r["within_5"])}
    return out


def short(name):
    return name.split(" (")[0]


def main():
    work = sys.argv[1]
    seeds = sorted(int(re.search(r"s(\d+)\.peers\.json$", p).group(1))
                   for p in glob.glob(os.path.join(work, "s*.peers.json")))
    per = []
    for s in seeds:
        esm = esm_rows(os.path.join(work, f"s{s}.cv.csv"))
        with open(os.path.join(work, f"s{s}.peers.json")) as f:
            peers = json.load(f)
        per.append((s, esm, peers))
    esm_main = "stacked" if "stacked" in per[0][1] else next(iter(per[0][1]))
    kinds = [k for k in per[0][1] if k not in ("ensemble", "stacked")]

    def cell(x):
        return f"{x['mape']:.2f}% ({x['within_10']:.1f}%)"
    print(f"CV MAPE (within ±10%) per fold seed; {per[0][2]['rows']} rows")
    head = ["seed", f"esm {esm_main}", "esm ensemble (equal)"] + [f"esm {k}" for k in kinds] + \
        ["stacked peer", "selected peer", "best peer on test (optimistic)", "peers picked (outer folds)"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for s, esm, p in per:
        sc = p["scores"]
        picks = {}
        for n in p["picks"]:
            picks[short(n)] = picks.get(short(n), 0) + 1
        row = [str(s), cell(esm[esm_main]), cell(esm.get("ensemble", esm[esm_main]))] + [cell(esm[k]) for k in kinds] + \
            [cell(stack_of(sc)), cell(sc[SEL]), f"{cell(sc[p['best_on_test']])} {short(p['best_on_test'])}",
             ", ".join(f"{k} {v}" for k, v in sorted(picks.items()))]
        print("| " + " | ".join(row) + " |")

    def paired(esm_key, peer_of):
        dm = [esm[esm_key]["mape"] - peer_of(p)["mape"] for _, esm, p in per]
        dw = [esm[esm_key]["within_10"] - peer_of(p)["within_10"] for _, esm, p in per]
        r = [esm[esm_key]["mape"] / peer_of(p)["mape"] for _, esm, p in per]
        return mean_se(dm), mean_se(dw), mean_se(r), sum(1 for x in dm if x < 0)

    print()
    print(f"Paired over {len(per)} fold seeds (mean ± standard error of the per-seed figure)")
    print("| esm | peer | MAPE esm − peer (points) | ±10% esm − peer (points) | MAPE ratio esm / peer | seeds esm better |")
    print("|---|---|---|---|---|---|")
    comps = [(esm_main, "selected peer (inner CV)", lambda p: p["scores"][SEL]),
             (esm_main, "stacked peer", lambda p: stack_of(p["scores"])),
             ("ensemble", "selected peer (inner CV)", lambda p: p["scores"][SEL]),
             (esm_main, "best peer on test (optimistic)", lambda p: p["scores"][p["best_on_test"]])]
    for esm_key, label, f in comps:
        if esm_key not in per[0][1]:
            continue
        (dm, dms), (dw, dws), (r, rs), wins = paired(esm_key, f)
        print(f"| {esm_key} | {label} | {dm:+.3f} ± {dms:.3f} | {dw:+.2f} ± {dws:.2f} | {r:.3f} ± {rs:.3f} | "
              f"{wins} of {len(per)} |")
    wall = [p["wall_s"] for _, _, p in per]
    print(f"\n# peers wall per seed: {min(wall):.0f}-{max(wall):.0f} s")


if __name__ == "__main__":
    main()
