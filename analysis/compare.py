#!/usr/bin/env python3
"""Reproducibility of two esm latency datasets (two runs of the same plan, two machines, two days).

    compare.py A.h5 B.h5 [--label trimmed|normalised|graph|eager] [-o DIR]

Takes the architectures done in both files (matched by arch id), prints the numbers that
`esm compare` prints (the same names, definitions and layout; relative difference = B / A - 1,
shares in [0, 1]) and, with -o DIR, writes plots there: the relative-difference histogram, a
Bland-Altman plot and B against A. Exit code 2 with one line on stderr for a bad input.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agreement  # noqa: E402
from esm_files import InputError, read_dataset, run_script  # noqa: E402
from plotting import agreement_axes, output_dir, plain_log_axis, plt, save  # noqa: E402

UNITS = {"trimmed": "ms", "normalised": "× reference", "graph": "ms", "eager": "ms"}


def plot_histogram(rel, out_dir, title):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.hist(100 * rel, bins=max(10, min(60, len(rel) // 4)), color="tab:blue", alpha=0.8)
    for bound, style in ((5, ":"), (10, "--")):
        for sign in (-1, 1):
            ax.axvline(sign * bound, color="grey", linestyle=style, linewidth=1,
                       label=f"±{bound}%" if sign > 0 else None)
    ax.set_title(f"Relative difference B/A − 1\n{title}")
    ax.set_xlabel("relative difference B/A − 1 (%)")
    ax.set_ylabel("architectures")
    ax.legend()
    return save(fig, out_dir, "rel_diff_hist.png")


def plot_bland_altman(va, vb, out_dir, title, unit):
    mean = 0.5 * (va + vb)
    diff = 100 * (vb - va) / mean
    bias, sd = float(np.mean(diff)), float(np.std(diff, ddof=1)) if len(diff) > 1 else 0.0
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter(mean, diff, s=12, alpha=0.7)
    ax.axhline(bias, color="tab:red", label=f"bias {bias:+.2f}%")
    for limit in (bias - 1.96 * sd, bias + 1.96 * sd):
        ax.axhline(limit, color="tab:red", linestyle="--", linewidth=1)
    ax.plot([], [], color="tab:red", linestyle="--", label=f"limits of agreement ±{1.96 * sd:.2f}%")
    ax.set_xscale("log")
    plain_log_axis(ax.xaxis)
    ax.set_title(f"Bland–Altman: B against A\n{title}")
    ax.set_xlabel(f"mean of A and B ({unit}, log scale)")
    ax.set_ylabel("(B − A) / mean (%)")
    ax.legend()
    return save(fig, out_dir, "bland_altman.png")


def plot_scatter(va, vb, out_dir, title, unit, names):
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.scatter(va, vb, s=12, alpha=0.7)
    agreement_axes(ax, va, vb, "B = A")
    ax.set_title(f"B against A\n{title}")
    ax.set_xlabel(f"A: {names[0]} ({unit})")
    ax.set_ylabel(f"B: {names[1]} ({unit})")
    ax.legend()
    return save(fig, out_dir, "a_vs_b.png")


def run(args):
    a, b = read_dataset(args.a), read_dataset(args.b)
    ids, va, vb, n_a, n_b = agreement.common(a.arch_id, a.label(args.label), b.arch_id, b.label(args.label))
    label = "normalised" if args.label == "normalised" else "trimmed_mean"  # esm compare's names
    for path, n in ((args.a, n_a), (args.b, n_b)):
        if n == 0:
            raise InputError(f"'{path}' has no done architectures with a positive {label} label")
    if len(ids) < 2:
        raise InputError(f"'{args.a}' and '{args.b}' have {len(ids)} done architectures in common "
                         "(need at least 2; same space and plan?)")
    values = agreement.numbers(va, vb, n_a, n_b)
    print(f"# compare.py {args.a} {args.b}: label {label}, rows done in both matched by arch id, "
          "rel diff = B/A - 1")
    print(agreement.format_numbers(values), end="")
    if args.out:
        output_dir(args.out)
        names = (os.path.basename(args.a), os.path.basename(args.b))
        title = f"{names[0]} vs {names[1]}: {len(ids)} archs\nlabel {label}, Spearman {values['spearman']:.4f}"
        unit = UNITS[args.label]
        for path in (plot_histogram(vb / va - 1.0, args.out, title), plot_bland_altman(va, vb, args.out, title, unit),
                     plot_scatter(va, vb, args.out, title, unit, names)):
            print(f"# wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="compare.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("a", metavar="A.h5", help="first dataset (the reference of the relative difference)")
    parser.add_argument("b", metavar="B.h5", help="second dataset")
    parser.add_argument("--label", choices=sorted(UNITS), default="trimmed", help="label compared (default trimmed)")
    parser.add_argument("-o", "--out", metavar="DIR", help="write the plots (PNG) into DIR")
    return run_script(parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
