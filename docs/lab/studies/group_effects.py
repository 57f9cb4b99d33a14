#!/usr/bin/env python3
"""How much of a grouped dataset's label noise the archs of one measuring group share.

Out-of-fold XGBoost predictions of log(label) on `esm features` folds; the residuals are split into
the group means (groups: rows one rank timed together, keyed by run, rank and reference_ms) and the
spread within groups. Without a shared group error the group means would scatter by within-sd /
sqrt(group size). With --retest (a second dataset of the same archs and its features), the group
means and the within-group residuals of the two runs are correlated: model error repeats between
runs, measurement noise does not.

Usage: group_effects.py DATASET.h5 FEATURES.csv [--retest DATASET2.h5 FEATURES2.csv]
Needs numpy, h5py, xgboost (bench/real_surrogates.sh's venv plus h5py)."""
import argparse
import csv

import h5py
import numpy as np
import xgboost as xgb


def residuals(dataset, features):
    with h5py.File(dataset, "r") as f:
        results = f["results"][:]
        texts = [t.decode() for t in f["archs/text"][:]]
    row_of = {t: i for i, t in enumerate(texts)}
    with open(features) as fh:
        rows = list(csv.reader(fh))[1:]
    fold = np.array([int(r[2]) for r in rows])
    y = np.log(np.array([float(r[3]) for r in rows]))
    x = np.array([[float(v) for v in r[4:]] for r in rows])
    h5row = np.array([row_of[r[0]] for r in rows])
    oof = np.zeros_like(y)
    for k in np.unique(fold):
        model = xgb.XGBRegressor(n_estimators=600, max_depth=3, learning_rate=0.05, min_child_weight=3,
                                 subsample=0.8, colsample_bytree=0.8, n_jobs=2, random_state=0)
        model.fit(x[fold != k], y[fold != k])
        oof[fold == k] = model.predict(x[fold == k])
    r = results[h5row]
    group = [(int(a), int(b), float(c)) for a, b, c in zip(r["run"], r["rank"], r["reference_ms"])]
    return dict(zip(h5row, y - oof)), dict(zip(h5row, group)), np.mean(np.abs(np.exp(oof - y) - 1)) * 100


def decompose(res, group, label):
    members = {}
    for row, g in group.items():
        members.setdefault(g, []).append(row)
    big = [m for m in members.values() if len(m) >= 4]
    means = np.array([np.mean([res[r] for r in m]) for m in big])
    within = np.concatenate([[res[r] - np.mean([res[q] for q in m]) for r in m] for m in big])
    size = np.mean([len(m) for m in big])
    expected = within.std() / np.sqrt(size)
    shared = np.sqrt(max(means.std() ** 2 - expected ** 2, 0))
    print(f"{label}: {len(members)} groups ({len(big)} of >= 4 rows, mean size {size:.1f}); sd of group means "
          f"{means.std() * 100:.2f}% (expected without a shared error {expected * 100:.2f}%): shared group error "
          f"{shared * 100:.2f}% sd; within-group sd {within.std() * 100:.2f}%")
    return members


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset")
    ap.add_argument("features")
    ap.add_argument("--retest", nargs=2, metavar=("DATASET2", "FEATURES2"))
    a = ap.parse_args()
    res1, grp1, mape1 = residuals(a.dataset, a.features)
    print(f"out-of-fold XGBoost MAPE {mape1:.2f}%")
    members = decompose(res1, grp1, a.dataset)
    if a.retest:
        res2, grp2, mape2 = residuals(*a.retest)
        print(f"retest out-of-fold XGBoost MAPE {mape2:.2f}%")
        decompose(res2, grp2, a.retest[0])
        same = [m for m in members.values() if len(m) >= 4 and len({grp2[r] for r in m}) == 1]
        m1 = [np.mean([res1[r] for r in m]) for m in same]
        m2 = [np.mean([res2[r] for r in m]) for m in same]
        w1 = np.concatenate([[res1[r] - np.mean([res1[q] for q in m]) for r in m] for m in same])
        w2 = np.concatenate([[res2[r] - np.mean([res2[q] for q in m]) for r in m] for m in same])
        print(f"{len(same)} groups identical in both runs: correlation of group means {np.corrcoef(m1, m2)[0, 1]:.2f}, "
              f"of within-group residuals {np.corrcoef(w1, w2)[0, 1]:.2f}")


if __name__ == "__main__":
    main()
