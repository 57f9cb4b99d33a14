#!/usr/bin/env python3
"""Tables of the pool-mode learning curves (bench/learning_curves.sh), one column's directory each.

Reads DIR/<policy>.s<seed>.csv (esm loop --scores: iteration,archs,bin,n,within_5,within_10,
mape_percent; bin "all" or a depth) and prints, per policy and training size n: the share within
±10% on the pool archs left out (mean over seeds and its standard error), MAPE, and the worst depth
bin's gap to its ceiling. The ceiling is uniform random's score at the largest n (overall, and per
depth bin pooled over seeds). "reach" is the smallest n whose mean is within TOL points of the
ceiling overall ("overall"), and also, pooled over seeds, in every depth bin that has at least
MIN_BIN test archs (pooled) at both n and the ceiling ("every bin"; a bin of 20 pooled archs
scored 60% has a standard error of 11 points, so smaller bins are left out of that test and the
table shows the worst of all bins). Standard library only.

usage: learning_curves.py DIR [DIR ...] [--tol 1.0] [--min-bin 50] [--summary 10,20,50]
  --summary: one row per column instead: the ceiling, each policy's ±10% at those n and its reach
"""
import csv
import math
import sys
from collections import defaultdict
from pathlib import Path

POLICIES = ["uniform", "balanced", "weighted", "uncertainty"]


def read(directory):
    """{policy: {n: {"all": [(seed, n_test, w10, w5, mape)], depth: [(hits10, n_test)]}}}"""
    runs = defaultdict(lambda: defaultdict(lambda: {"all": [], "bins": defaultdict(lambda: [0.0, 0])}))
    for path in sorted(Path(directory).glob("*.s*.csv")):
        policy, seed = path.stem.rsplit(".s", 1)
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                n, tested = int(row["archs"]), int(row["n"])
                point = runs[policy][n]
                if row["bin"] == "all":
                    point["all"].append((int(seed), tested, float(row["within_10"]), float(row["within_5"]),
                                         float(row["mape_percent"])))
                elif tested > 0:
                    b = point["bins"][int(row["bin"])]
                    b[0] += float(row["within_10"]) * tested
                    b[1] += tested
    return runs


def mean_se(values):
    m = sum(values) / len(values)
    if len(values) < 2:
        return m, float("nan")
    var = sum((v - m) ** 2 for v in values) / (len(values) - 1)
    return m, math.sqrt(var / len(values))


def table(directory, tol, min_bin, summary):
    runs = read(directory)
    name = Path(directory).name
    if "uniform" not in runs:
        say(f"{name}: no uniform runs, no ceiling")
        return
    top = max(runs["uniform"])
    ceiling, _ = mean_se([r[2] for r in runs["uniform"][top]["all"]])
    bin_ceiling = {b: (h / t, t) for b, (h, t) in runs["uniform"][top]["bins"].items() if t > 0}
    rows = []
    say = print if summary is None else (lambda *a, **k: None)  # the per-column table: without --summary
    say(f"\n### {name}: ceiling {100 * ceiling:.2f}% within ±10% (uniform, n = {top}, "
          f"{len(runs['uniform'][top]['all'])} seeds)\n")
    say("| policy | n | seeds | ±10% (SE) | ±5% | MAPE | worst bin vs its ceiling |")
    say("|---|---|---|---|---|---|---|")
    reach, reach_all = {}, {}
    for policy in [p for p in POLICIES if p in runs] + sorted(set(runs) - set(POLICIES)):
        for n in sorted(runs[policy]):
            point = runs[policy][n]
            w10, se = mean_se([r[2] for r in point["all"]])
            w5, _ = mean_se([r[3] for r in point["all"]])
            mape, _ = mean_se([r[4] for r in point["all"]])
            gaps = {b: h / t - bin_ceiling[b][0] for b, (h, t) in point["bins"].items() if t > 0 and b in bin_ceiling}
            counted = [g for b, g in gaps.items()
                       if point["bins"][b][1] >= min_bin and bin_ceiling[b][1] >= min_bin]
            worst = min(gaps, key=gaps.get) if gaps else None
            near = w10 >= ceiling - tol / 100
            if near and policy not in reach_all:
                reach_all[policy] = n
            if near and all(g >= -tol / 100 for g in counted) and policy not in reach:
                reach[policy] = n
            worst_text = f"{100 * gaps[worst]:+.1f} at depth {worst}" if worst is not None else "-"
            say(f"| {policy} | {n} | {len(point['all'])} | {100 * w10:.2f} ({100 * se:.2f}) | {100 * w5:.2f} | "
                  f"{mape:.2f}% | {worst_text} |")
            rows.append((policy, n, w10, se))
    say()
    never = "never (on this grid)"
    for policy in [p for p in POLICIES if p in runs]:
        say(f"- {name} {policy}: within {tol:g} point of the ceiling overall from n = {reach_all.get(policy, never)}; "
              f"overall and in every depth bin of >= {min_bin} pooled test archs from n = {reach.get(policy, never)}")
    if summary is not None:
        at = {(p, n): (w, e) for p, n, w, e in rows}
        cells = []
        for policy in POLICIES:
            small = " / ".join(f"{100 * at[(policy, n)][0]:.1f}" if (policy, n) in at else "-" for n in summary)
            cells.append(f"{small} | {reach_all.get(policy, '>' + str(top))} / {reach.get(policy, '>' + str(top))}")
        print(f"| {name} | {100 * ceiling:.2f} | " + " | ".join(cells) + " |")


def summary_header(sizes):
    head = "| column | ceiling ±10% |"
    for policy in POLICIES:
        head += f" {policy} ±10% at n = {'/'.join(map(str, sizes))} | {policy} reach: overall / every bin |"
    print(head)
    print("|" + "---|" * (2 + 2 * len(POLICIES)))


def main(argv):
    tol, min_bin, summary = 1.0, 50, None
    dirs = []
    it = iter(argv)
    for a in it:
        if a == "--tol":
            tol = float(next(it))
        elif a == "--min-bin":
            min_bin = int(next(it))
        elif a == "--summary":
            summary = [int(n) for n in next(it).split(",")]
        else:
            dirs.append(a)
    if not dirs:
        sys.exit(__doc__)
    if summary is not None:
        summary_header(summary)
    for d in dirs:
        table(d, tol, min_bin, summary)


if __name__ == "__main__":
    main(sys.argv[1:])
