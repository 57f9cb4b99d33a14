#!/usr/bin/env python3
"""Noise floor of each HELP latency column (issue 28): two estimates, both from above.

HELP measured each of its 5,000 archs once per column: there are no repeats to read a column's
noise from. But the nine columns time the same archs, and the log-ratio of two columns,
log c_i - log c_j, is a smooth function of the arch (how the two devices or batch sizes differ)
plus both columns' noise. A ridge fitted to that difference (5-fold, out-of-fold residuals) leaves
v_ij = s_i + s_j + (what ridge cannot model of the difference). Over all 36 pairs, non-negative
least squares gives each column's s_i: an estimate, from above, of its noise variance on the log
scale (independent noise assumed; a term ridge cannot model inflates it). From s_i the floor:
the MAPE and the share within ±10% a perfect predictor of the noise-free latency would score,
if the noise were normal on the log scale.

The second estimate is per column: out-of-fold ridge residuals r_i of log latency, and each arch's
nearest neighbour in feature space: (r_i - r_nn)^2 / 2 averages to the label noise variance plus
whatever the ridge misses that the two neighbours do not share (an estimate from above too).

usage: help_noise_floor.py FEATURES.csv LATENCY_MS.csv   (features: esm features of the same
archs in arch_index order, e.g. of an imported column; numpy needed)
"""
import csv
import itertools
import math
import sys

import numpy as np


def read_features(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    numeric = [k for k, name in enumerate(header) if name not in ("arch", "fold", "target")]  # target: the label
    x = np.array([[float(r[k]) for k in numeric] for r in rows[1:]])
    keep = x.std(axis=0) > 0
    return x[:, keep]


def read_latencies(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    columns = [c for c in rows[0] if c != "arch_index"]
    order = np.argsort([int(r["arch_index"]) for r in rows])
    y = np.array([[float(r[c]) for c in columns] for r in rows])[order]
    return columns, np.log(y)


def oof_residual_variance(x, d, folds=5, seed=0, lambdas=(1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)):
    """Out-of-fold residual variance of a ridge of d on x (standardised; lambda by the same folds),
    and the robust one, (1.4826 MAD)^2, of the same residuals: (variance, robust)."""
    res = oof_residuals(x, d, folds, seed, lambdas)
    mad = float(np.median(np.abs(res - np.median(res))))
    return float(np.mean(res ** 2)), (1.4826 * mad) ** 2


def oof_residuals(x, y, folds=5, seed=0, lambdas=(1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)):
    """Out-of-fold residuals of a ridge of y on standardised x, at the lambda they are smallest."""
    return min((oof_residuals_at(x, y, folds, seed, lam) for lam in lambdas), key=lambda r: float(np.mean(r ** 2)))


def oof_residuals_at(x, y, folds, seed, lam):
    n = len(y)
    fold = np.random.default_rng(seed).permutation(n) % folds
    res = np.empty(n)
    for k in range(folds):
        tr, te = fold != k, fold == k
        mu, sd = x[tr].mean(axis=0), x[tr].std(axis=0)
        sd[sd == 0] = 1
        a = np.hstack([np.ones((tr.sum(), 1)), (x[tr] - mu) / sd])
        b = np.hstack([np.ones((te.sum(), 1)), (x[te] - mu) / sd])
        reg = lam * tr.sum() * np.eye(a.shape[1])
        reg[0, 0] = 0
        res[te] = y[te] - b @ np.linalg.solve(a.T @ a + reg, a.T @ y[tr])
    return res


def nearest_neighbours(x):
    """Index of each row's nearest other row (Euclidean, standardised features)."""
    z = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1)
    sq = (z ** 2).sum(axis=1)
    nn = np.empty(len(z), dtype=int)
    for start in range(0, len(z), 500):
        d = sq[start:start + 500, None] + sq[None, :] - 2 * z[start:start + 500] @ z.T
        d[np.arange(len(d)), np.arange(start, start + len(d))] = np.inf
        nn[start:start + 500] = d.argmin(axis=1)
    return nn


def nnls(a, b, iterations=5000):
    """Non-negative least squares by projected gradient (9 unknowns: plenty)."""
    s = np.maximum(np.linalg.lstsq(a, b, rcond=None)[0], 0)
    step = 1.0 / np.linalg.norm(a, 2) ** 2
    for _ in range(iterations):
        s = np.maximum(s - step * (a.T @ (a @ s - b)), 0)
    return s


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    x = read_features(argv[0])
    columns, logy = read_latencies(argv[1])
    if len(x) != len(logy):
        sys.exit(f"{argv[0]} has {len(x)} rows, {argv[1]} {len(logy)}")
    pairs = list(itertools.combinations(range(len(columns)), 2))
    both = [oof_residual_variance(x, logy[:, i] - logy[:, j]) for i, j in pairs]
    a = np.zeros((len(pairs), len(columns)))
    for row, (i, j) in enumerate(pairs):
        a[row, i] = a[row, j] = 1
    print(f"# three-cornered hat over {len(pairs)} column pairs, {len(logy)} archs, {x.shape[1]} features")
    print("| column | sd (log, %): variance | floor MAPE % | floor ±10% | sd (log, %): robust (MAD) | floor MAPE % | floor ±10% |")
    print("|---|---|---|---|---|---|---|")
    fits = []
    for which in (0, 1):
        v = np.array([b[which] for b in both])
        s = nnls(a, v)
        fits.append((s, math.sqrt(np.mean((a @ s - v) ** 2)), float(np.mean(v))))

    def cells(var):
        sd = math.sqrt(var)
        within = math.erf(math.log(1.1) / (sd * math.sqrt(2))) if sd > 0 else 1.0
        return f"{100 * sd:.2f} | {100 * sd * math.sqrt(2 / math.pi):.2f} | {100 * within:.1f}%"

    for k, c in enumerate(columns):
        print(f"| {c} | {cells(fits[0][0][k])} | {cells(fits[1][0][k])} |")
    # Neighbours: half the squared difference of two neighbouring archs' residuals is one label's
    # noise variance plus what the ridge misses and the neighbours do not share.
    nn = nearest_neighbours(x)
    print("\n# nearest-neighbour residual differences, per column: sd = sqrt(mean((r_i - r_nn)^2) / 2), robust = 1.4826 MAD / sqrt(2)")
    print("| column | ridge OOF residual sd (log, %) | sd (log, %): NN | floor MAPE % | floor ±10% | sd: NN robust | floor MAPE % | floor ±10% |")
    print("|---|---|---|---|---|---|---|---|")
    for k, c in enumerate(columns):
        r = oof_residuals(x, logy[:, k])
        d = r - r[nn]
        var = float(np.mean(d ** 2)) / 2
        robust = (1.4826 * float(np.median(np.abs(d - np.median(d))))) ** 2 / 2
        print(f"| {c} | {100 * math.sqrt(float(np.mean(r ** 2))):.2f} | {cells(var)} | {cells(robust)} |")
    for name, (s, rms, mean) in zip(("variance", "robust"), fits):
        print(f"# {name}: pair fit rms {rms:.2e} against a mean pair variance of {mean:.2e}")
    print("# pair residual sd (log, %), variance / robust: " +
          ", ".join(f"{columns[i]}-{columns[j]} {100 * math.sqrt(b[0]):.1f}/{100 * math.sqrt(b[1]):.1f}"
                    for (i, j), b in zip(pairs, both)))


if __name__ == "__main__":
    main(sys.argv[1:])
