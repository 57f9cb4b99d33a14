#!/usr/bin/env python3
"""How noisy are a dataset's labels? The floor under every surrogate's CV error on it.

  python docs/lab/studies/label_noise.py D.h5 [--retest D2.h5]

From the raw samples kept per row (/samples, in measurement order): the trimmed mean (20% each
side, esm's label) of the first vs the second half of each row's samples, and of the even vs the
odd samples. Even/odd halves interleave in time, so their gap is sampling noise; first/second
halves are apart in time, so their gap adds the machine's drift within the row's measurement. For
two independent estimates with the same error, mean |a - b| / label = sqrt(2) x the mean
relative error of one; a full-run label has half a half's variance, so its mean error is about
mean |a - b| / 2. With --retest (a second `esm profile` of the same archs), the two runs'
labels (trimmed mean and normalised) are compared directly the same way: mean |a - b| / sqrt(2)
is one run's mean relative error. Needs numpy and h5py.
"""
import argparse
import sys

import numpy as np


def trimmed_mean(a):
    a = np.sort(a, axis=-1)
    n = a.shape[-1]
    k = int(0.2 * n)
    return a[..., k:n - k].mean(axis=-1)


def rel_gap(a, b):
    return np.abs(a - b) / ((a + b) / 2)


def load(path):
    import h5py
    with h5py.File(path, "r") as f:
        res = f["results"][:]
        samples = f["samples"][:]
        ids = f["archs/id"][:]
    return ids, res, samples


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset")
    ap.add_argument("--retest", help="a second dataset of the same archs")
    a = ap.parse_args()
    ids, res, s = load(a.dataset)
    n = res["n"].astype(int)
    ok = (n == s.shape[1]) & np.isfinite(s).all(axis=1)
    s = s[ok]
    print(f"# {a.dataset}: {ok.sum()} rows with all {s.shape[1]} samples")
    even_odd = rel_gap(trimmed_mean(s[:, 0::2]), trimmed_mean(s[:, 1::2])).mean()
    h = s.shape[1] // 2
    first_second = rel_gap(trimmed_mean(s[:, :h]), trimmed_mean(s[:, h:])).mean()
    print("| split of each row's samples | mean abs gap | implied mean error of the full label |")
    print("|---|---|---|")
    print(f"| even vs odd (sampling noise) | {even_odd:.2%} | {even_odd / 2:.2%} |")
    print(f"| first vs second half (+ drift within the row) | {first_second:.2%} | {first_second / 2:.2%} |")
    if a.retest:
        ids2, res2, _ = load(a.retest)
        where = {int(i): k for k, i in enumerate(ids2)}
        pairs = [(k, where[int(i)]) for k, i in enumerate(ids) if int(i) in where]
        k1 = np.array([p[0] for p in pairs])
        k2 = np.array([p[1] for p in pairs])
        print(f"# retest {a.retest}: {len(pairs)} archs in both")
        print("| label | mean abs gap between runs | one run's mean error (gap / sqrt 2) | Spearman |")
        print("|---|---|---|---|")
        from scipy.stats import spearmanr
        for label in ("trimmed_mean_ms", "normalised"):
            x, y = res[label][k1], res2[label][k2]
            good = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
            g = rel_gap(x[good], y[good]).mean()
            print(f"| {label} | {g:.2%} | {g / np.sqrt(2):.2%} | {spearmanr(x[good], y[good])[0]:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
