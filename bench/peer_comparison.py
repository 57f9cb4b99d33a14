#!/usr/bin/env python3
"""Peer surrogates on esm's exported features and folds (`esm features ... --out F.csv`).

Columns of F.csv: arch, depth_bin, fold, target, features... For each fold k: fit on the other
folds, predict fold k. Models fit log(target) and predictions are exp()'d back, as esm's do.
Peers: scikit-learn RidgeCV and MLPRegressor (standardised inputs), XGBoost, LightGBM (2 threads each: the
machine's cores, as esm train uses 2 ranks). Reported over all out-of-fold predictions: MAPE, share
within ±10%, and fit time summed over folds. With --esm-cv M.cv.csv, esm's CV table is printed
beside them for comparison.
"""
import argparse
import csv
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def load(path):
    with open(path) as f:
        r = csv.reader(f)
        header = next(r)
        rows = list(r)
    fold = np.array([int(x[2]) for x in rows])
    y = np.array([float(x[3]) for x in rows])
    X = np.array([[float(v) for v in x[4:]] for x in rows])
    return header[4:], X, y, fold


def peers(seed, threads):
    from sklearn.linear_model import RidgeCV
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    import lightgbm as lgb
    import xgboost as xgb
    return {
        "sklearn RidgeCV (standardised)": lambda: make_pipeline(
            StandardScaler(), RidgeCV(alphas=np.logspace(-4, 3, 15))),
        "sklearn MLPRegressor (128,64)": lambda: make_pipeline(
            StandardScaler(), MLPRegressor(hidden_layer_sizes=(128, 64), alpha=1e-3, learning_rate_init=1e-3,
                                           max_iter=500, early_stopping=True, n_iter_no_change=10,
                                           random_state=seed)),
        "XGBoost (500 trees, d6, lr .05)": lambda: xgb.XGBRegressor(
            n_estimators=500, max_depth=6, learning_rate=0.05, subsample=0.8, colsample_bytree=0.8,
            tree_method="hist", n_jobs=threads, random_state=seed),
        "LightGBM (500 trees, 31 leaves, lr .05)": lambda: lgb.LGBMRegressor(
            n_estimators=500, num_leaves=31, learning_rate=0.05, subsample=0.8, subsample_freq=1,
            colsample_bytree=0.8, n_jobs=threads, random_state=seed, verbose=-1),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("features_csv")
    p.add_argument("--esm-cv", help="esm train's .cv.csv to print beside the peers")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--only", help="run only the peers whose name contains this text")
    a = p.parse_args()
    names, X, y, fold = load(a.features_csv)
    ly = np.log(y)
    folds = sorted(set(fold.tolist()))
    print(f"# {a.features_csv}: {len(y)} rows, {len(names)} features, {len(folds)} folds; target log-fitted")
    print("| model | MAPE | within ±10% | fit s (all folds) |")
    print("|---|---|---|---|")
    results = {}
    for name, make in peers(a.seed, a.threads).items():
        if a.only and a.only not in name:
            continue
        pred = np.empty_like(y)
        fit_s = 0.0
        for k in folds:
            tr, te = fold != k, fold == k
            m = make()
            t0 = time.perf_counter()
            m.fit(X[tr], ly[tr])
            fit_s += time.perf_counter() - t0
            pred[te] = np.exp(m.predict(X[te]))
        rel = np.abs(pred / y - 1)
        results[name] = rel.mean()
        print(f"| {name} | {rel.mean():.2%} | {np.mean(rel <= 0.10):.1%} | {fit_s:.1f} |", flush=True)
    best = min(results, key=results.get)
    print(f"# best peer: {best}, MAPE {results[best]:.2%}")
    if a.esm_cv:
        print(f"# esm CV table ({a.esm_cv}):")
        with open(a.esm_cv) as f:
            print(f.read().rstrip())


if __name__ == "__main__":
    main()
