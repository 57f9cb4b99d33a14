"""Small statistics shared by the bench/ scripts (standard library only).

Why a module: the fidelity, test-retest and peer scripts all report Spearman, geometric means and
within-±10% shares; one definition keeps their figures comparable.
"""
import math
import os
import sys

# One definition of average ranks for the whole repository's Python: tools/gpu-check/compare.py's.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "gpu-check"))
from compare import ranks  # noqa: E402


def pearson(x, y):
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else float("nan")


def spearman(x, y):
    return pearson(ranks(x), ranks(y))


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def trimmed_mean(samples, trim=0.2):
    s = sorted(samples)
    k = int(len(s) * trim)
    kept = s[k:len(s) - k] if len(s) - 2 * k > 0 else s
    return sum(kept) / len(kept)


def within(first, second, tol=0.10):
    """Share of pairs whose second value is within ±tol of the first."""
    hits = sum(1 for a, b in zip(first, second) if abs(b / a - 1) <= tol)
    return hits / len(first)


def mean_se(values):
    """Mean and standard error (sample sd / sqrt(n)) of per-partition figures; se is nan for n < 2."""
    n = len(values)
    m = sum(values) / n
    if n < 2:
        return m, float("nan")
    var = sum((v - m) ** 2 for v in values) / (n - 1)
    return m, math.sqrt(var / n)
