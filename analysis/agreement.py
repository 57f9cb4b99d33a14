"""Agreement of two latency measurements of the same architectures (reproducibility studies).

The definitions are esm's own (include/esm/surrogate/metrics.hpp, src/cli/cmd_compare.cpp), so that
compare.py and `esm compare` print the same numbers: relative difference = B / A - 1; within(b) =
share with |B / A - 1| <= b; Spearman = Pearson correlation of average ranks (NaN for a constant
input); Kendall tau-b = (C - D) / sqrt((n0 - n1)(n0 - n2)).
"""
import math

import numpy as np

# Names and order of the numbers, as `esm compare` prints them.
NUMBERS = ("n_done_a", "n_done_b", "n_common", "mean_abs_rel_diff", "median_abs_rel_diff", "mean_rel_diff",
           "within_5", "within_10", "spearman", "kendall_tau_b")


def average_ranks(values):
    """1-based ranks, ties given the mean of the ranks they span ({10, 20, 20, 30} -> {1, 2.5, 2.5, 4})."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or sorted_values[end] != sorted_values[start]:
            ranks[order[start:end]] = 0.5 * (start + end - 1) + 1.0
            start = end
    return ranks


def pearson(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    da, db = a - a.mean(), b - b.mean()
    saa, sbb = float(np.dot(da, da)), float(np.dot(db, db))
    if saa == 0.0 or sbb == 0.0:
        return math.nan
    return float(np.dot(da, db)) / math.sqrt(saa * sbb)


def spearman_rho(a, b):
    return pearson(average_ranks(a), average_ranks(b)) if len(a) >= 2 else math.nan


def _tied_pairs(values):
    _, counts = np.unique(values, return_counts=True)
    return int(np.sum(counts * (counts - 1) // 2))


def kendall_tau_b(a, b):
    """O(n^2) in numpy (row by row, so memory stays O(n)); fine for the tens of thousands of rows
    a dataset holds."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    n = len(a)
    if n < 2:
        return math.nan
    concordance = 0  # C - D
    for i in range(n - 1):
        concordance += int(np.sum(np.sign(a[i + 1:] - a[i]) * np.sign(b[i + 1:] - b[i])))
    n0 = n * (n - 1) // 2
    denominator = (n0 - _tied_pairs(a)) * (n0 - _tied_pairs(b))
    return concordance / math.sqrt(denominator) if denominator > 0 else math.nan


def within_share(predicted, truth, bound):
    return float(np.mean(np.abs(np.asarray(predicted) / np.asarray(truth) - 1.0) <= bound))


def common(a_ids, a_values, b_ids, b_values):
    """Ids with a finite value in both (NaN marks unusable rows), sorted; and A's and B's values.
    The first row of an id wins, as in `esm compare`."""
    def by_id(ids, values):
        out = {}
        for i, v in zip(ids.tolist(), values.tolist()):
            if math.isfinite(v):
                out.setdefault(i, v)
        return out

    a, b = by_id(a_ids, a_values), by_id(b_ids, b_values)
    ids = sorted(set(a) & set(b))
    return (np.array(ids, dtype=np.uint64), np.array([a[i] for i in ids]), np.array([b[i] for i in ids]),
            len(a), len(b))


def numbers(va, vb, n_done_a, n_done_b):
    """The reproducibility numbers of B against A (values of the common archs, same order)."""
    rel = vb / va - 1.0
    return {
        "n_done_a": n_done_a,
        "n_done_b": n_done_b,
        "n_common": len(va),
        "mean_abs_rel_diff": float(np.mean(np.abs(rel))),
        "median_abs_rel_diff": float(np.median(np.abs(rel))),
        "mean_rel_diff": float(np.mean(rel)),
        "within_5": within_share(vb, va, 0.05),
        "within_10": within_share(vb, va, 0.10),
        "spearman": spearman_rho(va, vb),
        "kendall_tau_b": kendall_tau_b(va, vb),
    }


def format_numbers(values):
    """One "name value" line per number, in `esm compare`'s layout (%-20s %.12g)."""
    return "".join(f"{name:<20} {float(values[name]):.12g}\n" for name in NUMBERS)


def parse_numbers(output):
    """The numbers in text printed by `esm compare` or compare.py (comment lines skipped)."""
    values = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#") and parts[0] in NUMBERS:
            values[parts[0]] = float(parts[1])
    return values
