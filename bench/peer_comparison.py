#!/usr/bin/env python3
"""Peer surrogates on esm's exported features and folds (`esm features ... --out F.csv`).

Columns of F.csv: arch, depth_bin, fold, target, features... For each fold k: fit on the other
folds, predict fold k. Models fit log(target) and predictions are exp()'d back, as esm's do.
Peers: scikit-learn RidgeCV and MLPRegressor (standardised inputs), XGBoost, LightGBM (2 threads each: the
machine's cores, as esm train uses 2 ranks). Reported over all out-of-fold predictions: MAPE, share
within ±10%, and fit time summed over folds. With --esm-cv M.cv.csv, esm's CV table is printed
beside them for comparison.

--fair (issue 27, "Peers"): the peers get every transform esm gets and a blend of their own, and the
best of them is chosen without looking at the test fold. Per outer fold, on its training rows only:
- the same log columns as esm's ridge: a column whose training values are all > 0 with max >= 2 min
  may enter as its logarithm (floor half the training minimum, as src/surrogate/ridge.cpp), and the
  inner CV chooses raw or logged columns (ridge, SVR; trees are unchanged by a monotone transform);
- ridge: esm's own closed form (standardised, alpha grid 1e-6..1e3, raw vs logged by inner CV);
- SVR rbf (standardised): grid C, gamma, logged or not;
- XGBoost (squared loss; and absolute loss, early-stopped on the MAE) and LightGBM: grid depth/leaves, learning rate, min child weight; the tree count by early
  stopping on the mean inner-fold validation curve; then 5 seeds at the chosen setting, averaged
  (log space), the seed bagging that esm's 5 members per kind get;
- the stacked peer: non-negative weights (scipy.optimize.nnls, relative error as esm's stack) on
  the inner out-of-fold predictions of the five, applied to their full-training-set refits: its
  weights never see the outer test fold;
- "selected peer": in each outer fold, the model (the five and the stack) with the lowest inner-CV
  MAPE predicts that fold. The stack's inner MAPE is cross-fitted (inner fold j weighted by the
  other inner folds' nnls), so it competes on the same footing.
--fair --cheap: the same protocol with a cheaper set (issue 28, for 5,000-row tables on 2 cores):
ridge as above, SVR fitted on at most 1,000 seeded rows of each training split, XGBoost over depth
2/4/6 at eta 0.15 without seed bagging (squared and absolute loss), no LightGBM; the stack is over those four.
Both sets have an XGBoost with the absolute (median) loss, as esm's hybrid trees since issue 28.
Inner folds: 5 (ridge, SVR, the stack's cross-fitting) and 3 (the trees' tuning, as esm's), stratified
by depth bin, seeded from --seed and the outer fold. The inner out-of-fold predictions of the bagged
tree models come from their tuning fits (one seed, 3 folds). Threads do not change the scores; one
thread per fit (--threads 1) is several times faster than two on small data on a busy 2-core host.
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


def load_bins(path):
    with open(path) as f:
        r = csv.reader(f)
        next(r)
        return np.array([int(x[1]) for x in r])


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


# ---------------------------------------------------------------------------------------------
# --fair: peers with esm's transforms, a stacked peer, seed bagging, selection on training folds.

RIDGE_ALPHAS = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0]  # esm's ridge_options
INNER_FOLDS = 5       # ridge, SVR and the stack's inner out-of-fold predictions
TREE_INNER_FOLDS = 3  # the boosted trees' tuning folds, as esm's xgboost tuning
BAG = 5
MAX_ROUNDS = 2000
EARLY_STOP = 50


def loggable(X):
    """esm's rule (src/surrogate/ridge.cpp loggable_columns): all > 0 and max >= 2 min; floor min/2."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    mask = (lo > 0) & (hi >= 2 * lo)
    return mask, np.where(mask, 0.5 * lo, 0.0)


def with_logs(X, mask, floor):
    out = X.copy()
    out[:, mask] = np.log(np.maximum(X[:, mask], floor[mask]))
    return out


class Scaler:
    """esm's column scaling: population sd, 1 for a constant column."""
    def __init__(self, X):
        self.mean = X.mean(axis=0)
        sd = X.std(axis=0)
        self.scale = np.where(sd > 1e-12, sd, 1.0)

    def __call__(self, X):
        return (X - self.mean) / self.scale


def inner_folds(bins, seed, k=INNER_FOLDS):
    """Stratified by depth bin (as esm's folds), seeded; plain K-fold when a bin is too small."""
    from sklearn.model_selection import KFold, StratifiedKFold
    import warnings
    k = min(k, len(bins))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            split = list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(bins)), bins))
        except ValueError:
            split = list(KFold(k, shuffle=True, random_state=seed).split(np.zeros(len(bins))))
    fold = np.empty(len(bins), dtype=int)
    for j, (_, te) in enumerate(split):
        fold[te] = j
    return fold


def ridge_path_predict(Xtr, ttr, Xte, alphas):
    """esm's ridge closed form on standardised columns: one prediction vector per alpha."""
    sc = Scaler(Xtr)
    Z = sc(Xtr)
    tm = ttr.mean()
    n = len(ttr)
    G = Z.T @ Z / n
    r = Z.T @ (ttr - tm) / n
    Zte = sc(Xte)
    out = []
    for a in alphas:
        coef = np.linalg.solve(G + a * np.eye(G.shape[0]), r)
        out.append(Zte @ coef + tm)
    return out


class GridModel:
    """A model family whose setting is chosen by inner CV (MSE of log latency, as esm's tuning)."""
    def __init__(self, name, points, fit_predict):
        self.name, self.points, self.fit_predict = name, points, fit_predict

    def tune(self, X, t, ifold, seed):
        """Returns (chosen point, inner out-of-fold log predictions at it)."""
        oof = {i: np.empty_like(t) for i in range(len(self.points))}
        for j in np.unique(ifold):
            tr, te = ifold != j, ifold == j
            for i, p in enumerate(self.points):
                oof[i][te] = self.fit_predict(p, X[tr], t[tr], X[te], seed)
        best = min(range(len(self.points)), key=lambda i: (np.mean((oof[i] - t) ** 2), i))
        return self.points[best], oof[best]

    def final(self, point, X, t, Xte, seed):
        return self.fit_predict(point, X, t, Xte, seed)


def tune_ridge(X, t, ifold):
    """esm's ridge: raw or logged columns and alpha by inner CV (ties: raw, larger alpha)."""
    mask, floor = loggable(X)
    inputs = [X] + ([with_logs(X, mask, floor)] if mask.any() else [])
    sse = np.zeros((len(inputs), len(RIDGE_ALPHAS)))
    oofs = [[np.empty_like(t) for _ in RIDGE_ALPHAS] for _ in inputs]
    for j in np.unique(ifold):
        tr, te = ifold != j, ifold == j
        for i, Xi in enumerate(inputs):
            for a, p in enumerate(ridge_path_predict(Xi[tr], t[tr], Xi[te], RIDGE_ALPHAS)):
                oofs[i][a][te] = p
    for i in range(len(inputs)):
        for a in range(len(RIDGE_ALPHAS)):
            sse[i, a] = np.sum((oofs[i][a] - t) ** 2)
    best, bi, ba = np.inf, 0, len(RIDGE_ALPHAS) - 1
    for i in range(len(inputs)):
        for a in reversed(range(len(RIDGE_ALPHAS))):
            if sse[i, a] < best:
                best, bi, ba = sse[i, a], i, a
    return (bi == 1, RIDGE_ALPHAS[ba]), oofs[bi][ba]


def ridge_final(point, X, t, Xte):
    logs, alpha = point
    if logs:
        mask, floor = loggable(X)
        X, Xte = with_logs(X, mask, floor), with_logs(Xte, mask, floor)
    return ridge_path_predict(X, t, Xte, [alpha])[0]


def svr_fit_predict(p, Xtr, ttr, Xte, seed):
    from sklearn.svm import SVR
    logs, C, gamma, eps = p
    if logs:
        mask, floor = loggable(Xtr)
        Xtr, Xte = with_logs(Xtr, mask, floor), with_logs(Xte, mask, floor)
    sc = Scaler(Xtr)
    m = SVR(kernel="rbf", C=C, gamma=gamma, epsilon=eps).fit(sc(Xtr), ttr)
    return m.predict(sc(Xte))


def svr_family(max_rows=None):
    """max_rows (--cheap): every SVR fit on at most that many of its training rows (seeded draw)."""
    pts = [(logs, C, g, 0.01) for logs in (False, True) for C in (1.0, 10.0, 100.0) for g in ("scale", 0.01, 0.001)]
    if max_rows is None:
        return GridModel("SVR rbf (standardised; grid logs, C, gamma)", pts, svr_fit_predict)

    def on_subsample(p, Xtr, ttr, Xte, seed):
        keep = np.random.default_rng(seed).permutation(len(ttr))[:max_rows]
        return svr_fit_predict(p, Xtr[keep], ttr[keep], Xte, seed)
    return GridModel(f"SVR rbf (standardised; grid logs, C, gamma; fits on <= {max_rows} rows)", pts, on_subsample)


class Boosted:
    """Tuned gradient boosting: grid by inner CV, tree count by early stopping on the mean inner
    validation curve (esm's xgboost tuning does the same), then BAG seeds averaged in log space."""
    def __init__(self, lib, threads, cheap=False, absolute=False):
        """absolute (xgboost only): the median loss (reg:absoluteerror, early stopping on the MAE),
        as the trees of esm's hybrid kind."""
        self.lib, self.threads, self.bag, self.absolute = lib, threads, 1 if cheap else BAG, absolute
        xgb_name = "XGBoost absolute loss" if absolute else "XGBoost"
        if cheap and lib == "xgboost":
            self.name = f"{xgb_name} (grid depth 2/4/6 at eta 0.15; early-stopped trees; one seed)"
            self.points = [dict(max_depth=d, eta=0.15, min_child_weight=1) for d in (2, 4, 6)]
        elif lib == "xgboost":
            self.name = f"{xgb_name} (grid depth, eta, min_child_weight; early-stopped trees; {BAG}-seed bag)"
            self.points = [dict(max_depth=d, eta=e, min_child_weight=w) for d in (2, 4, 6) for e in (0.05, 0.15)
                           for w in (1, 4)]
        else:
            self.name = f"LightGBM (grid leaves, lr, min_child_samples; early-stopped trees; {BAG}-seed bag)"
            self.points = [dict(num_leaves=l, learning_rate=e, min_child_samples=c) for l in (4, 15)
                           for e in (0.05, 0.15) for c in (5, 20)]

    def _train(self, p, Xtr, ttr, seed, rounds, Xva=None, tva=None):
        if self.lib == "xgboost":
            import xgboost as xgb
            metric = "mae" if self.absolute else "rmse"
            params = dict(p, objective="reg:absoluteerror" if self.absolute else "reg:squarederror", subsample=0.8,
                          colsample_bytree=0.8, tree_method="hist", nthread=self.threads, seed=seed, eval_metric=metric,
                          base_score=float(np.median(ttr) if self.absolute else np.mean(ttr)))
            dtr = xgb.DMatrix(Xtr, label=ttr)
            if Xva is None:
                return xgb.train(params, dtr, num_boost_round=rounds), None
            hist = {}
            b = xgb.train(params, dtr, num_boost_round=rounds, evals=[(xgb.DMatrix(Xva, label=tva), "va")],
                          early_stopping_rounds=EARLY_STOP, evals_result=hist, verbose_eval=False)
            return b, np.array(hist["va"][metric])
        import lightgbm as lgb
        params = dict(p, objective="regression", subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
                      num_threads=self.threads, seed=seed, verbose=-1, metric="rmse")
        dtr = lgb.Dataset(Xtr, label=ttr, params={"verbose": -1})
        if Xva is None:
            return lgb.train(params, dtr, num_boost_round=rounds), None
        hist = {}
        b = lgb.train(params, dtr, num_boost_round=rounds, valid_sets=[lgb.Dataset(Xva, label=tva, reference=dtr)],
                      valid_names=["va"], callbacks=[lgb.early_stopping(EARLY_STOP, verbose=False),
                                                     lgb.record_evaluation(hist)])
        return b, np.array(hist["va"]["rmse"])

    def _predict(self, b, X, rounds):
        if self.lib == "xgboost":
            import xgboost as xgb
            return b.predict(xgb.DMatrix(X), iteration_range=(0, rounds))
        return b.predict(X, num_iteration=rounds)

    def tune(self, X, t, bins, seed):
        ifold = inner_folds(bins, seed + 7, TREE_INNER_FOLDS)
        best = (np.inf, None, None, None)
        for p in self.points:
            fits = []
            for j in np.unique(ifold):
                tr, te = ifold != j, ifold == j
                b, curve = self._train(p, X[tr], t[tr], seed, MAX_ROUNDS, X[te], t[te])
                fits.append((te, b, curve))
            L = min(len(c) for _, _, c in fits)  # every fold grew at least L trees
            mean_curve = np.mean([c[:L] for _, _, c in fits], axis=0)
            r = int(np.argmin(mean_curve)) + 1
            if mean_curve[r - 1] < best[0]:
                oof = np.empty_like(t)
                for te, b, _ in fits:
                    oof[te] = self._predict(b, X[te], r)
                best = (mean_curve[r - 1], (p, r), oof, None)
        return best[1], best[2]

    def final(self, point, X, t, Xte, seed):
        p, r = point
        preds = [self._predict(self._train(p, X, t, seed * 1000 + b, r)[0], Xte, r) for b in range(self.bag)]
        return np.mean(preds, axis=0)


def nnls_weights(P, y):
    """Non-negative weights minimising the relative error sum((P w / y - 1)^2) (Lawson-Hanson)."""
    from scipy.optimize import nnls
    w, _ = nnls(P / y[:, None], np.ones(len(y)))
    return w


CHEAP_SVR_ROWS = 1000


def fair_fold(X, y, bins, tr, te, seed, threads, cheap=False):
    """One outer fold: tune, stack and select on rows `tr` only; predict rows `te`.
    Returns {model: test predictions (ms)}, {model: inner-CV MAPE}, stack weights, chosen settings.
    cheap: ridge, SVR on a subsample and small XGBoost grids without bagging (no LightGBM)."""
    Xtr, ttr, ytr = X[tr], np.log(y[tr]), y[tr]
    ifold = inner_folds(bins[tr], seed)
    names, inner_pred, test_pred, chosen = [], {}, {}, {}
    ridge_name = "ridge (esm's: standardised, alpha and logged columns by inner CV)"
    point, oof = tune_ridge(Xtr, ttr, ifold)
    names.append(ridge_name)
    inner_pred[ridge_name], test_pred[ridge_name] = np.exp(oof), np.exp(ridge_final(point, Xtr, ttr, X[te]))
    chosen[ridge_name] = f"logs={point[0]}, alpha={point[1]:g}"
    families = (svr_family(CHEAP_SVR_ROWS), Boosted("xgboost", threads, cheap=True),
                Boosted("xgboost", threads, cheap=True, absolute=True)) if cheap else \
        (svr_family(), Boosted("xgboost", threads), Boosted("xgboost", threads, absolute=True), Boosted("lightgbm", threads))
    for fam in families:
        point, oof = fam.tune(Xtr, ttr, bins[tr] if isinstance(fam, Boosted) else ifold, seed)
        names.append(fam.name)
        inner_pred[fam.name] = np.exp(oof)
        test_pred[fam.name] = np.exp(fam.final(point, Xtr, ttr, X[te], seed))
        chosen[fam.name] = str(point)
    P = np.column_stack([inner_pred[n] for n in names])
    w = nnls_weights(P, ytr)
    stack = f"stacked peer (nnls over the {len(names)}, inner out-of-fold)"
    test_pred[stack] = np.column_stack([test_pred[n] for n in names]) @ w
    # The stack's own inner score, cross-fitted: inner fold j weighted by the other inner folds.
    cf = np.empty_like(ytr)
    for j in np.unique(ifold):
        o = ifold != j
        cf[ifold == j] = P[ifold == j] @ nnls_weights(P[o], ytr[o])
    inner_pred[stack] = cf
    inner = {n: float(np.mean(np.abs(inner_pred[n] / ytr - 1))) for n in inner_pred}
    return test_pred, inner, dict(zip(names, w.tolist())), chosen


def run_fair(X, y, bins, fold, seed, threads, json_out=None, label="", cheap=False):
    import json
    folds = sorted(set(fold.tolist()))
    preds, sel_pred = {}, np.empty_like(y)
    picks, weights, t0 = [], [], time.perf_counter()
    for k in folds:
        tr, te = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        test_pred, inner, w, chosen = fair_fold(X, y, bins, tr, te, seed * 100 + k, threads, cheap)
        for n, p in test_pred.items():
            preds.setdefault(n, np.empty_like(y))[te] = p
        pick = min(inner, key=inner.get)
        sel_pred[te] = test_pred[pick]
        picks.append(pick)
        weights.append(w)
        print(f"# fold {k}: inner MAPE " + ", ".join(f"{n.split(' (')[0]} {v:.2%}" for n, v in inner.items()) +
              f"; picked {pick.split(' (')[0]}; stack weights " +
              ", ".join(f"{n.split(' (')[0]} {v:.2f}" for n, v in w.items()) +
              "; " + "; ".join(f"{n.split(' (')[0]}: {c}" for n, c in chosen.items()), flush=True)
    wall = time.perf_counter() - t0
    preds["selected peer (per outer fold, lowest inner-CV MAPE)"] = sel_pred

    def score(p):
        rel = np.abs(p / y - 1)
        return {"mape": float(rel.mean() * 100), "within_10": float(np.mean(rel <= 0.10) * 100),
                "within_5": float(np.mean(rel <= 0.05) * 100)}
    scores = {n: score(p) for n, p in preds.items()}
    print(f"| model | MAPE | within ±10% | within ±5% |")
    print("|---|---|---|---|")
    for n, s in scores.items():
        print(f"| {n} | {s['mape']:.3f}% | {s['within_10']:.1f}% | {s['within_5']:.1f}% |")
    singles = [n for n in scores if not n.startswith("selected")]
    best_test = min(singles, key=lambda n: scores[n]["mape"])
    print(f"# best peer on the test folds (optimistic: chosen by the scores it reports): {best_test}")
    print(f"# fair peers wall {wall:.1f} s ({len(y)} rows, {threads} threads)")
    if json_out:
        with open(json_out, "w") as f:
            json.dump({"label": label, "rows": len(y), "seed": seed, "scores": scores, "picks": picks,
                       "stack_weights": weights, "best_on_test": best_test, "wall_s": wall}, f, indent=1)
    return scores


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("features_csv")
    p.add_argument("--esm-cv", help="esm train's .cv.csv to print beside the peers")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--only", help="run only the peers whose name contains this text")
    p.add_argument("--tuned", action="store_true", help="peers tuned by inner-CV grids on each training split")
    p.add_argument("--kernels", action="store_true", help="with --tuned: add kernel ridge (rbf, poly2) and a GP")
    p.add_argument("--fair", action="store_true",
                   help="peers with esm's log columns, a stacked peer, seed bagging, selection on training folds")
    p.add_argument("--json", help="with --fair: write the scores here (bench/peer_repeat.py reads them)")
    p.add_argument("--cheap", action="store_true",
                   help="with --fair: ridge, SVR on <= 1000 rows per fit, XGBoost over 3 depths (squared and absolute loss), no bagging, no LightGBM")
    a = p.parse_args()
    names, X, y, fold = load(a.features_csv)
    if a.fair:
        print(f"# {a.features_csv}: {len(y)} rows, {len(names)} features, {len(set(fold.tolist()))} folds; "
              f"fair peers (target log-fitted), seed {a.seed}")
        run_fair(X, y, load_bins(a.features_csv), fold, a.seed, a.threads, a.json, a.features_csv, a.cheap)
        if a.esm_cv:
            print(f"# esm CV table ({a.esm_cv}):")
            with open(a.esm_cv) as f:
                print(f.read().rstrip())
        return
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
