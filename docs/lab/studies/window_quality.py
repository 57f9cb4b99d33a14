#!/usr/bin/env python3
"""Do the archs of windows the drift guard re-measured, or followed as common-mode, agree worse with
a re-measurement of the same archs than the others? (issue 27, docs/lab/2026-12-07-timed-share.md)

usage: window_quality.py A.h5 B.h5 [LABEL]   LABEL: normalised (default) or trimmed

For each arch both runs measured, d = log(label_A / label_B) minus the median of d over all archs
(the whole-run shift). The rows of run A are split by what the guard did to their window: `moved`
(a gave_up or common_mode check covers them: the window was kept as measured at a moved level),
`remeasured` (the row's remeasures > 0) and `other`. Printed per group: count, median |d| and the
root mean square of d, in percent, with a bootstrap 90% interval of the RMS (2,000 resamples).
"""
import sys

import h5py
import numpy as np

MOVED = {3, 4}  # gave_up, common_mode (include/esm/measure/drift_guard.hpp)


def rows_of(path, label):
    with h5py.File(path, "r") as f:
        r = f["results"][:]
        drift = f["drift"][:] if "drift" in f else np.zeros(0, dtype=r.dtype)
    moved = set()
    by_rank = {}
    for i, row in enumerate(r):
        by_rank.setdefault((int(row["run"]), int(row["rank"])), []).append(i)
    for rows in by_rank.values():
        rows.sort(key=lambda i: r["start_unix_s"][i])
    for d in drift:
        if int(d["verdict"]) not in MOVED or int(d["arch_row"]) < 0:
            continue
        rows = by_rank.get((int(d["run"]), int(d["rank"])), [])
        if int(d["arch_row"]) not in rows:
            continue
        last = rows.index(int(d["arch_row"]))
        moved.update(rows[max(0, last - int(d["window"]) + 1): last + 1])
    value = r["normalised"] if label == "normalised" else r["trimmed_mean_ms"]
    out = {}
    for i, row in enumerate(r):
        key = int(row["arch_id"])
        group = "moved" if i in moved else ("remeasured" if row["remeasures"] > 0 else "other")
        out[key] = (float(value[i]), group)
    return out


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    label = sys.argv[3] if len(sys.argv) == 4 else "normalised"
    a, b = rows_of(sys.argv[1], label), rows_of(sys.argv[2], label)
    keys = sorted(set(a) & set(b))
    d = np.log([a[k][0] / b[k][0] for k in keys])
    d -= np.median(d)
    groups = np.array([a[k][1] for k in keys])
    rng = np.random.default_rng(0)
    print(f"# {sys.argv[1]} vs {sys.argv[2]}, label {label}, {len(keys)} archs in both")
    print("group,n,median_abs_pct,rms_pct,rms_lo90,rms_hi90")
    for g in ("other", "remeasured", "moved"):
        x = d[groups == g]
        if len(x) == 0:
            print(f"{g},0,,,,")
            continue
        boot = [np.sqrt(np.mean(rng.choice(x, len(x)) ** 2)) for _ in range(2000)]
        lo, hi = np.percentile(boot, [5, 95])
        print(f"{g},{len(x)},{100 * np.median(np.abs(x)):.2f},{100 * np.sqrt(np.mean(x ** 2)):.2f},"
              f"{100 * lo:.2f},{100 * hi:.2f}")


if __name__ == "__main__":
    main()
