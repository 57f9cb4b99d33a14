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


def tuned_peers(seed, threads, kernels=False):
    """The same peer families, each tuned by an inner 5-fold GridSearchCV on the training folds only
    (small grids, 3 inner folds; the issue-15 comparison). Scoring: MSE of log(target), i.e. relative error."""
    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.linear_model import RidgeCV
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR
    import lightgbm as lgb
    import xgboost as xgb
    inner = KFold(3, shuffle=True, random_state=seed)

    def grid(est, params):
        return lambda: GridSearchCV(est, params, cv=inner, scoring="neg_mean_squared_error", n_jobs=1)
    models = {
        "sklearn RidgeCV (standardised)": lambda: make_pipeline(
            StandardScaler(), RidgeCV(alphas=np.logspace(-4, 3, 15))),
        "SVR rbf (grid C, gamma, epsilon)": grid(make_pipeline(StandardScaler(), SVR(kernel="rbf")), {
            "svr__C": [1, 10, 100], "svr__gamma": ["scale", 0.01, 0.001], "svr__epsilon": [0.01]}),
        "MLPRegressor (grid width, alpha)": grid(make_pipeline(StandardScaler(), MLPRegressor(
            learning_rate_init=1e-3, max_iter=1000, early_stopping=True, n_iter_no_change=20, random_state=seed)), {
            "mlpregressor__hidden_layer_sizes": [(64,), (128, 64)], "mlpregressor__alpha": [1e-2, 1.0]}),
        "XGBoost (grid depth, lr, min_child_weight; 600 trees)": grid(xgb.XGBRegressor(
            subsample=0.8, colsample_bytree=0.8, tree_method="hist", n_jobs=threads, random_state=seed), {
            "max_depth": [2, 4, 6], "n_estimators": [600], "learning_rate": [0.05, 0.15],
            "min_child_weight": [1, 4]}),
        "LightGBM (grid leaves, lr, min_child_samples; 600 trees)": grid(lgb.LGBMRegressor(
            subsample=0.8, subsample_freq=1, colsample_bytree=0.8, n_jobs=threads, random_state=seed,
            verbose=-1), {"num_leaves": [4, 15], "n_estimators": [600], "learning_rate": [0.05, 0.15],
                          "min_child_samples": [5, 20]}),
    }
    if kernels:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, DotProduct, WhiteKernel
        from sklearn.kernel_ridge import KernelRidge
        models.update({
            "kernel ridge rbf (grid alpha, gamma)": grid(make_pipeline(StandardScaler(), KernelRidge(kernel="rbf")), {
                "kernelridge__alpha": np.logspace(-4, 1, 6), "kernelridge__gamma": np.logspace(-5, -1, 5)}),
            "kernel ridge poly2 (grid alpha, gamma)": grid(make_pipeline(StandardScaler(), KernelRidge(
                kernel="poly", degree=2, coef0=1)), {"kernelridge__alpha": np.logspace(-3, 3, 7),
                                                      "kernelridge__gamma": np.logspace(-4, -1, 4)}),
            "GP dot + rbf + white (marginal likelihood)": lambda: make_pipeline(StandardScaler(), GaussianProcessRegressor(
                ConstantKernel() * DotProduct() + ConstantKernel() * RBF(10.0) + WhiteKernel(1e-3), normalize_y=True,
                random_state=seed)),
        })
    return models


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("features_csv")
    p.add_argument("--esm-cv", help="esm train's .cv.csv to print beside the peers")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--only", help="run only the peers whose name contains this text")
    p.add_argument("--tuned", action="store_true", help="peers tuned by inner-CV grids on each training split")
    p.add_argument("--kernels", action="store_true", help="with --tuned: add kernel ridge (rbf, poly2) and a GP")
    a = p.parse_args()
    names, X, y, fold = load(a.features_csv)
    ly = np.log(y)
    folds = sorted(set(fold.tolist()))
    print(f"# {a.features_csv}: {len(y)} rows, {len(names)} features, {len(folds)} folds; target log-fitted")
    print("| model | MAPE | within ±10% | fit s (all folds) |")
    print("|---|---|---|---|")
    results = {}
    models = tuned_peers(a.seed, a.threads, a.kernels) if a.tuned else peers(a.seed, a.threads)
    for name, make in models.items():
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
        chosen = ""
        if hasattr(m, "best_params_"):
            chosen = " (last fold: " + ", ".join(f"{k.split('__')[-1]}={v}" for k, v in m.best_params_.items()) + ")"
        print(f"| {name}{chosen} | {rel.mean():.2%} | {np.mean(rel <= 0.10):.1%} | {fit_s:.1f} |", flush=True)
    best = min(results, key=results.get)
    print(f"# best peer: {best}, MAPE {results[best]:.2%}")
    if a.esm_cv:
        print(f"# esm CV table ({a.esm_cv}):")
        with open(a.esm_cv) as f:
            print(f.read().rstrip())


if __name__ == "__main__":
    main()
