#!/usr/bin/env python3
"""An HTML report of an esm latency dataset and, optionally, of surrogate models trained on it.

    report.py DATASET.h5 [MODEL.h5 ...] -o DIR [--esm PATH] [--loop OTHER.h5 ...]

Writes PNG plots and DIR/index.html, and prints the path of index.html:
  - latency distribution per depth bin (done rows);
  - per model file: measured against predicted latency with the ensemble's spread (predictions
    from `esm predict --json`; esm from --esm, else $ESM, else build/src/esm of this checkout), and
    the cross-validated ±10% accuracy per depth bin of each model kind (the model's /cv table);
  - with several model files: the final model's CV accuracy per depth bin, one line per encoding;
  - the drift guard's reference readings per rank over time (/drift), when there are any;
  - the closed loop's learning curve, accuracy against samples per strategy (/loop), when present,
    with the curves of other loop datasets given by --loop (weighted vs random runs).
Exit code 2 with one line on stderr for a missing or invalid input file.
"""
import argparse
import html
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esm_files import (DRIFT_VERDICTS, MODEL_LABELS, STATUS_DONE, STATUS_FAILED, STATUS_PENDING,  # noqa: E402
                       InputError, default_esm, default_label, predict, read_dataset, read_model, run_script, text)
from plotting import agreement_axes, output_dir, plain_log_axis, plt, save  # noqa: E402

ESM_TARGET = 0.95  # ESM's per-bin goal (share within ±10%), the loop's default threshold


def percent(share):
    return "n/a" if share is None or not np.isfinite(share) else f"{100 * share:.1f}%"


class Page:
    """index.html, built section by section."""

    def __init__(self, title):
        self.title = title
        self.parts = []

    def section(self, heading, paragraphs=(), images=(), table=None):
        self.parts.append(f"<h2>{html.escape(heading)}</h2>")
        self.parts += [f"<p>{html.escape(p)}</p>" for p in paragraphs]
        if table:
            header, rows = table
            self.parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
            self.parts += ["<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows]
            self.parts.append("</table>")
        self.parts += [f'<p><img src="{html.escape(os.path.basename(i))}" alt="{html.escape(heading)}"></p>'
                       for i in images]

    def write(self, path):
        style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto}img{max-width:100%}"
                 "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}")
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(self.title)}</title>"
                    f"<style>{style}</style></head><body>\n<h1>{html.escape(self.title)}</h1>\n")
            f.write("\n".join(self.parts))
            f.write("\n</body></html>\n")


def summary(ds):
    a = ds.attrs
    status = ds.results["status"]
    count = {s: int(np.sum(status == s)) for s in (STATUS_DONE, STATUS_FAILED, STATUS_PENDING)}
    rows = [("space", f"{ds.space} {text(a.get('variant', ''))}".strip()),
            ("backend", f"{text(a.get('backend', '?'))} {text(a.get('precision', ''))} "
                        f"batch {a.get('batch_size', '?')}"),
            ("measurement", text(a.get("measure_policy", "?"))),
            ("archs", f"{len(status)}: done {count[STATUS_DONE]}, failed {count[STATUS_FAILED]}, "
                      f"pending {count[STATUS_PENDING]}"),
            ("drift checks", str(len(ds.drift))),
            ("started", text(a.get("start_time", "?"))),
            ("esm", text(a.get("esm_version", "?")))]
    return ("field", "value"), rows


def plot_latency_by_depth(ds, out_dir):
    which = default_label(ds)
    latency = ds.label(which)
    usable = np.isfinite(latency)
    bins = sorted(set(ds.depth[usable].tolist()))
    groups = [latency[usable & (ds.depth == b)] for b in bins]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(bins) + 2), 4.5))
    ax.boxplot(groups, positions=range(len(bins)), widths=0.6, showfliers=True)
    ax.set_xticks(range(len(bins)), [f"{b}\nn={len(g)}" for b, g in zip(bins, groups)])
    ax.set_yscale("log")
    plain_log_axis(ax.yaxis)
    ax.set_title(f"Latency per depth bin: {os.path.basename(ds.path)} ({int(usable.sum())} done archs)")
    ax.set_xlabel("depth bin (active blocks)")
    ax.set_ylabel(("graph-replay" if which == "graph" else "trimmed mean") + " latency (ms, log scale)")
    return save(fig, out_dir, "latency_by_depth.png")


def plot_predictions(ds, model, tag, esm, out_dir):
    """Measured vs predicted (with the ensemble's spread) and error vs spread; returns (png, within_10)."""
    # the label the model was trained on (graph-replay latency for a GPU model of schema 3)
    measured = ds.label(MODEL_LABELS.get(text(model.attrs.get("label", "trimmed_mean")), "trimmed"))
    usable = np.isfinite(measured)
    archs = ds.text[usable].tolist()
    predicted, spread = predict(esm, model.path, archs)
    measured, depth = measured[usable], ds.depth[usable]
    rel_error = predicted / measured - 1.0
    within = float(np.mean(np.abs(rel_error) <= 0.10))
    trained_here = os.path.realpath(text(model.attrs.get("dataset_path", ""))) == os.path.realpath(ds.path)

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    left.errorbar(measured, predicted, yerr=spread, fmt="none", ecolor="grey", alpha=0.5, linewidth=0.8)
    points = left.scatter(measured, predicted, c=depth, s=12, cmap="viridis", zorder=3)
    agreement_axes(left, measured, predicted, "predicted = measured")
    left.set_xlabel("measured trimmed mean latency (ms)")
    left.set_ylabel("predicted latency (ms), bars: ensemble std")
    left.set_title(f"Predicted vs measured: {within * 100:.1f}% within ±10%"
                   + ("\n(in-sample: the model was trained on this dataset)" if trained_here else ""))
    left.legend(loc="upper left")
    fig.colorbar(points, ax=left, label="depth bin")

    right.scatter(100 * spread / predicted, 100 * np.abs(rel_error), c=depth, s=12, cmap="viridis")
    right.set_xlabel("ensemble std / prediction (%)")
    right.set_ylabel("|predicted / measured − 1| (%)")
    right.set_title("Does the ensemble's spread track its error?" if np.any(spread > 0)
                    else "The ensemble's members agree exactly (spread 0)")
    fig.suptitle(f"{os.path.basename(model.path)}: {model.encoding} encoding, "
                 f"label {text(model.attrs.get('label', '?'))}, {len(archs)} archs of {os.path.basename(ds.path)}")
    return save(fig, out_dir, f"predicted_vs_measured_{tag}.png"), within


def cv_rows(model, name, bins_only=True):
    cv = model.cv
    pick = cv["model"] == name
    if bins_only:
        pick &= cv["bin"] >= 0
    order = np.argsort(cv["bin"][pick], kind="stable")
    return cv["bin"][pick][order], cv["within_10"][pick][order]


def plot_cv_by_kind(model, tag, out_dir):
    kinds = model.kinds
    all_bins = sorted({int(b) for b in model.cv["bin"] if b >= 0})
    fig, ax = plt.subplots(figsize=(max(7.0, 0.6 * len(all_bins) + 3), 4.5))
    width = 0.8 / max(1, len(kinds))
    for k, name in enumerate(kinds):
        bins, within = cv_rows(model, name)
        x = np.array([all_bins.index(int(b)) for b in bins]) + (k - (len(kinds) - 1) / 2) * width
        ax.bar(x, 100 * within, width=width, label=name)
    ax.axhline(100 * ESM_TARGET, color="black", linestyle=":", linewidth=1, label=f"{ESM_TARGET:.0%} target")
    ax.set_xticks(range(len(all_bins)), [str(b) for b in all_bins])
    ax.set_ylim(0, 120)  # the legend goes above the 100% line
    ax.set_yticks(range(0, 101, 20))
    ax.set_xlabel("depth bin (active blocks)")
    ax.set_ylabel("CV predictions within ±10% (%)")
    ax.set_title(f"Cross-validated ±10% accuracy per depth bin and model kind\n"
                 f"{os.path.basename(model.path)} ({model.encoding} encoding)")
    ax.legend(ncol=min(len(kinds) + 1, 6), fontsize=8, loc="upper center")
    return save(fig, out_dir, f"cv_by_bin_{tag}.png")


def final_kind(model):
    """The CV row of the model `esm predict` uses: stacked blend if present, else the plain ensemble."""
    for name in ("stacked", "ensemble"):
        if name in model.kinds:
            return name
    return model.kinds[0]


def plot_cv_by_encoding(models, out_dir):
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for model in models:
        name = final_kind(model)
        bins, within = cv_rows(model, name)
        ax.plot(bins, 100 * within, marker="o", label=f"{model.encoding} ({os.path.basename(model.path)}, {name})")
    ax.axhline(100 * ESM_TARGET, color="black", linestyle=":", linewidth=1, label=f"{ESM_TARGET:.0%} target")
    ax.set_ylim(0, 105)
    ax.set_xlabel("depth bin (active blocks)")
    ax.set_ylabel("CV predictions within ±10% (%)")
    ax.set_title("Cross-validated ±10% accuracy per depth bin, by encoding (final model of each file)")
    ax.legend(fontsize=8)
    return save(fig, out_dir, "cv_by_encoding.png")


def cv_table(model):
    cv = model.cv
    overall = cv["bin"] < 0
    header = ("model", "n", "±5%", "±10%", "MAPE %", "RMSE", "Kendall τ", "Spearman ρ")
    rows = []
    for i in np.flatnonzero(overall):
        def col(name, fmt):
            return fmt.format(cv[name][i]) if name in cv else "n/a"
        rows.append((cv["model"][i], col("n", "{}"), percent(cv["within_5"][i]) if "within_5" in cv else "n/a",
                     percent(cv["within_10"][i]), col("mape_percent", "{:.2f}"), col("rmse", "{:.4g}"),
                     col("kendall_tau", "{:.4f}"), col("spearman_rho", "{:.4f}")))
    return header, rows


def plot_drift(ds, out_dir):
    d = ds.drift
    seconds = d["time_unix_s"] - float(np.min(d["time_unix_s"]))
    span = float(np.max(seconds))
    unit, scale = ("s", 1.0) if span < 300 else ("min", 60.0) if span < 3 * 3600 else ("h", 3600.0)
    elapsed = seconds / scale  # in `unit`
    keys = sorted({(int(r), int(k)) for r, k in zip(d["run"], d["rank"])})
    fig, ax = plt.subplots(figsize=(10, 5))
    colors = plt.get_cmap("tab10" if len(keys) <= 10 else "viridis")
    for i, (run, rank) in enumerate(keys):
        mine = (d["run"] == run) & (d["rank"] == rank)
        order = np.argsort(elapsed[mine])
        color = colors(i % 10) if len(keys) <= 10 else colors(i / max(1, len(keys) - 1))
        ax.plot(elapsed[mine][order], 100 * d["relative_change"][mine][order], color=color, linewidth=1,
                marker=".", label=f"run {run} rank {rank}" if len(keys) <= 12 else None)
    markers = {1: ("^", "tab:orange"), 2: ("o", "tab:green"), 3: ("X", "tab:red"), 4: ("s", "tab:purple")}
    for verdict, (marker, color) in markers.items():
        hit = d["verdict"] == verdict
        if hit.any():
            ax.scatter(elapsed[hit], 100 * d["relative_change"][hit], marker=marker, s=60, facecolors="none"
                       if marker == "o" else color, edgecolors=color, zorder=4,
                       label=f"{DRIFT_VERDICTS[verdict]} ({int(hit.sum())})")
    ax.axhline(0, color="black", linewidth=0.8)
    if "threshold" in (d.dtype.names or ()) and np.isfinite(d["threshold"]).any():
        # The guard's threshold in effect (calibrated per rank and run): readings outside it were drift.
        widest = 100 * float(np.nanmax(d["threshold"]))
        narrowest = 100 * float(np.nanmin(d["threshold"]))
        for sign in (1, -1):
            ax.axhline(sign * widest, color="grey", linestyle="--", linewidth=0.8,
                       label=(f"threshold {narrowest:.1f}%" if narrowest == widest
                              else f"threshold {narrowest:.1f}..{widest:.1f}%") if sign == 1 else None)
    ax.set_xlabel(f"time since the first check ({unit})")
    ax.set_ylabel("reference latency vs baseline (%)")
    ax.set_title(f"Drift guard: reference network readings per rank ({len(d)} checks, {len(keys)} ranks)")
    ax.legend(fontsize=8, ncol=2)
    return save(fig, out_dir, "drift.png")


def loop_curves(loop, source):
    """{curve name: (x, worst-bin share, all-bins share)} from a /loop table (one row per iteration
    and depth bin, dataset::loop_row; an overall row with bin -1 is used where one exists, else the
    bins are pooled by their row counts n). Curves are named by strategy (and `source`, if given)."""
    size = len(loop["within_10"])
    strategies = np.array([text(s) for s in loop.get("strategy", ["loop"] * size)], dtype=object)
    x = np.asarray(loop["samples"] if "samples" in loop else loop.get("iteration", np.arange(size)), dtype=float)
    bins = np.asarray(loop["bin"]) if "bin" in loop else np.full(size, -1)
    within = np.asarray(loop["within_10"], dtype=float)
    counts = np.asarray(loop["n"], dtype=float) if "n" in loop else np.ones(size)
    curves = {}
    for strategy in dict.fromkeys(strategies.tolist()):
        xs, worst, overall = [], [], []
        for value in sorted(set(x[strategies == strategy].tolist())):
            at = (strategies == strategy) & (x == value) & np.isfinite(within)
            per_bin, weight = within[at & (bins >= 0)], counts[at & (bins >= 0)]
            whole = within[at & (bins < 0)]
            xs.append(value)
            worst.append(per_bin.min() if len(per_bin) else np.nan)
            if len(whole):
                overall.append(whole[0])
            else:
                overall.append(np.average(per_bin, weights=weight) if weight.sum() > 0 else np.nan)
        curves[f"{strategy} ({source})" if source else strategy] = (np.array(xs), np.array(worst), np.array(overall))
    return curves


def plot_loop(datasets, out_dir):
    """Learning curves of the /loop tables of `datasets` (several: e.g. weighted vs random runs)."""
    curves, thresholds = {}, set()
    for ds in datasets:
        curves.update(loop_curves(ds.loop, os.path.basename(ds.path) if len(datasets) > 1 else ""))
        thresholds.update(np.unique(np.asarray(ds.loop.get("threshold", [ESM_TARGET]), dtype=float)).tolist())
    by_samples = all("samples" in ds.loop for ds in datasets)
    fig, ax = plt.subplots(figsize=(9, 5))
    for i, (name, (xs, worst, overall)) in enumerate(curves.items()):
        color = plt.get_cmap("tab10")(i % 10)
        ax.plot(xs, 100 * overall, color=color, marker="o", label=f"{name}: all bins")
        if np.isfinite(worst).any():
            ax.plot(xs, 100 * worst, color=color, marker="v", linestyle="--", label=f"{name}: worst bin")
    for threshold in sorted(thresholds):
        ax.axhline(100 * threshold, color="black", linestyle=":", linewidth=1, label=f"threshold {threshold:.0%}")
    ax.set_ylim(0, 105)
    ax.set_xlabel("architectures measured" if by_samples else "iteration")
    ax.set_ylabel("CV predictions within ±10% (%)")
    ax.set_title("Closed loop: learning curve" + (" by strategy" if len(curves) > 1 else ""))
    ax.legend(fontsize=8)
    return save(fig, out_dir, "loop.png")


def model_tag(index, path):
    return f"{index}_" + re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.splitext(os.path.basename(path))[0])


def run(args):
    ds = read_dataset(args.dataset)
    models = [read_model(m) for m in args.models]
    for m in models:
        if m.space and ds.space and m.space != ds.space:
            raise InputError(f"model '{m.path}' is for space {m.space}, dataset '{ds.path}' holds {ds.space}")
    out_dir = output_dir(args.out)
    page = Page(f"esm report: {os.path.basename(ds.path)}")
    page.section("Dataset", [os.path.abspath(ds.path)], table=summary(ds))

    if np.isfinite(ds.label("trimmed")).any():
        page.section("Latency per depth bin", ["Trimmed-mean latency of the done architectures; boxes span the "
                                               "quartiles, whiskers 1.5 IQR."],
                     images=[plot_latency_by_depth(ds, out_dir)])
        for i, model in enumerate(models):
            png, within = plot_predictions(ds, model, model_tag(i, model.path), args.esm, out_dir)
            page.section(f"Model {os.path.basename(model.path)}: predicted vs measured",
                         [f"{model.encoding} encoding, kinds {', '.join(text(k) for k in model.attrs.get('kinds', []))}"
                          f"; {percent(within)} of this dataset's done archs predicted within ±10%. "
                          "The cross-validated numbers below are the honest estimate when the model was "
                          "trained on this dataset."], images=[png])
    else:
        page.section("Latency per depth bin", ["No done architectures yet: nothing to plot."])

    for i, model in enumerate(models):
        page.section(f"Model {os.path.basename(model.path)}: cross-validation",
                     ["Rows of the model's /cv table (overall); the plot shows ±10% accuracy per depth bin."],
                     table=cv_table(model), images=[plot_cv_by_kind(model, model_tag(i, model.path), out_dir)])
    if len(models) > 1:
        page.section("Accuracy by encoding", [], images=[plot_cv_by_encoding(models, out_dir)])

    if len(ds.drift):
        page.section("Drift", ["Each point is a reading of the reference network by a rank's drift guard, relative "
                               "to its baseline; larger markers are the guard's verdicts other than ok."],
                     images=[plot_drift(ds, out_dir)])
    else:
        page.section("Drift", ["The dataset has no drift checks."])

    loops = [d for d in [ds, *(read_dataset(p) for p in args.loop)] if d.loop]
    unusable = [d for d in loops if "within_10" not in d.loop]
    if unusable:
        page.section("Closed loop", [f"{d.path}: /loop has no within_10 column (columns: {', '.join(sorted(d.loop))})."
                                     for d in unusable])
    elif loops:
        page.section("Closed loop", ["Cross-validated accuracy of the loop's surrogate against the architectures "
                                     "measured so far: solid all bins pooled, dashed the worst bin."],
                     images=[plot_loop(loops, out_dir)])
    elif args.loop:
        raise InputError(f"no /loop table in {', '.join(args.loop)}")
    index = os.path.join(out_dir, "index.html")
    page.write(index)
    print(os.path.abspath(index))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="report.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", metavar="DATASET.h5", help="latency dataset (esm profile)")
    parser.add_argument("models", metavar="MODEL.h5", nargs="*", help="model files (esm train), any number")
    parser.add_argument("-o", "--out", metavar="DIR", required=True, help="directory for index.html and the PNGs")
    parser.add_argument("--loop", metavar="OTHER.h5", action="append", default=[],
                        help="another closed-loop dataset whose learning curve joins the plot (e.g. the random "
                        "strategy's run beside the weighted one); repeatable")
    parser.add_argument("--esm", default=default_esm(), help="esm executable for predictions "
                        "(default: $ESM, else build/src/esm of this checkout)")
    return run_script(parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
