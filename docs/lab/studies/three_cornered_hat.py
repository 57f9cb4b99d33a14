#!/usr/bin/env python3
"""Label noise of three runs of the same archs, each on its own: a three-cornered hat.

Takes three `esm features` CSVs (any label) of datasets that measured the same archs. For each
pair it removes the whole-run shift of log(target) and prints the pair's gap; the variance of a
pair's log gap is the sum of the two runs' noise variances, so three pairs solve for each run's
noise (Gray & Allan's three-cornered hat). Usage: three_cornered_hat.py NAME=A.csv NAME=B.csv NAME=C.csv
"""
import itertools
import sys

import numpy as np
import pandas as pd


def main():
    if len(sys.argv) != 4 or not all("=" in a for a in sys.argv[1:]):
        sys.exit("usage: three_cornered_hat.py NAME=A.csv NAME=B.csv NAME=C.csv")
    runs = [a.split("=", 1) for a in sys.argv[1:]]
    merged = None
    for name, path in runs:
        t = pd.read_csv(path)[["arch", "target"]].rename(columns={"target": name})
        merged = t if merged is None else merged.merge(t, on="arch")
    names = [n for n, _ in runs]
    logs = {n: np.log(merged[n].to_numpy()) for n in names}
    var = {}
    print(f"{len(merged)} archs in all three runs")
    for a, b in itertools.combinations(names, 2):
        d = logs[a] - logs[b]
        d = d - d.mean()
        var[frozenset((a, b))] = d.var(ddof=1)
        print(f"{a} vs {b}: log gap sd {100 * d.std(ddof=1):.2f}%, mean |gap| {100 * np.mean(np.abs(np.expm1(d))):.2f}%")
    for x in names:
        y, z = [n for n in names if n != x]
        s2 = 0.5 * (var[frozenset((x, y))] + var[frozenset((x, z))] - var[frozenset((y, z))])
        print(f"noise of {x}: {100 * np.sqrt(max(s2, 0.0)):.2f}% sd of log label")


if __name__ == "__main__":
    main()
