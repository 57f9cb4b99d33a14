#!/usr/bin/env python3
"""Does XGBoost's absolute loss (reg:absoluteerror) apply the learning rate? (issue 28;
docs/lab/2026-12-07-help-ofa-median-loss.md)

The case of tests/surrogate/xgboost_gtest.cpp's AbsoluteLossFitsTheMedianUnderSkewedNoise: 800
rows, one label in four a slow run (x1.5); the median of log latency is the clean latency. Prints
MAPE against the clean latency for several learning rates. Run it with each XGBoost to compare,
e.g. Debian's python3-xgboost (1.7.4, the library esm links) and a venv's newer one.
"""
import numpy as np
import xgboost as xgb

rng = np.random.default_rng(11)
n = 800
x = rng.uniform(size=(n, 2))
clean = 2.0 + 3.0 * x[:, 0] + x[:, 1]
t = np.log(clean * np.where(np.arange(n) % 4 == 0, 1.5, 1.0))
for eta in (0.05, 0.3, 1.0):
    params = dict(objective="reg:absoluteerror", tree_method="hist", max_depth=3, eta=eta, seed=0,
                  base_score=float(np.median(t)))
    booster = xgb.train(params, xgb.DMatrix(x, label=t), num_boost_round=300)
    pred = np.exp(booster.predict(xgb.DMatrix(x)))
    print(f"xgboost {xgb.__version__} eta {eta}: MAPE against the clean latency "
          f"{100 * np.mean(np.abs(pred - clean) / clean):.2f}%")
