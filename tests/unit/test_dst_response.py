"""ROC AUC, bootstrap interval, cut-off and predictive values."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from helpers.dst import bootstrap_auc, diagnostic_table, roc_auc, roc_curve, youden_cutoff


def test_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.normal(y * 0.8, 1), 1)  # rounding creates ties
    assert roc_auc(s, y) == pytest.approx(roc_auc_score(y, s))
    assert np.isnan(roc_auc([1, 2], [1, 1]))


def test_bootstrap_interval_covers_and_shrinks():
    rng = np.random.default_rng(2)
    y = np.r_[np.ones(40), np.zeros(80)]
    s = rng.normal(y, 1)
    small = bootstrap_auc(s, y, n_boot=1000, seed=0)
    assert small["ci_low"] < small["auc"] < small["ci_high"]
    y2, s2 = np.tile(y, 4), np.tile(s, 4) + rng.normal(0, 1e-6, 480)
    big = bootstrap_auc(s2, y2, n_boot=1000, seed=0)
    assert big["ci_high"] - big["ci_low"] < 0.7 * (small["ci_high"] - small["ci_low"])
    assert bootstrap_auc(s, y, n_boot=200, seed=5) == bootstrap_auc(s, y, n_boot=200, seed=5)


def test_cutoff_and_diagnostics():
    s = np.array([1, 2, 3, 4, 5, 6, 7, 8])
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    cut = youden_cutoff(s, y)
    assert cut == 6  # J = 0.75 at >= 6 and at >= 4: ties keep the higher (more specific) threshold
    d = diagnostic_table(s, y, 4)
    assert (d["tp"], d["fp"], d["fn"], d["tn"]) == (4, 1, 0, 3)
    assert d["sensitivity"] == 1 and d["specificity"] == 0.75 and d["ppv"] == 0.8 and d["npv"] == 1
    r = roc_curve(s, y)
    assert r["fpr"].iloc[0] == 0 and r["tpr"].iloc[-1] == 1 and r["fpr"].is_monotonic_increasing
