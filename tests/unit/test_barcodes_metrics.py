"""The metrics labs compare with, each against its tool's definition (bartools, barcodetrackR, ineq).

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_barcodes_metrics_public_data.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import helpers.barcodes as bc
from helpers.barcodes.metrics import gini


def test_replicate_r_is_sqrt_adjusted_r2():
    rng = np.random.default_rng(0)
    a = rng.poisson(rng.lognormal(3, 1.5, 300))
    b = rng.poisson(a * rng.gamma(5, 0.2, 300))
    r2 = np.corrcoef(a, b)[0, 1] ** 2
    adj = 1 - (1 - r2) * (a.size - 1) / (a.size - 2)  # summary(lm(rep1 ~ rep2))$adj.r.squared
    assert bc.replicate_r(a, b) == pytest.approx(np.sqrt(adj), rel=1e-12)
    assert bc.replicate_r(a * 7, b) == pytest.approx(bc.replicate_r(a, b), rel=1e-12)  # scale-free
    assert bc.replicate_r(a, rng.permutation(b)) < 0.2


def test_bias_histogram_bins_as_r_cut():
    a = np.array([4, 2, 2, 0, 8, 1000, 0])
    b = np.array([2, 2, 4, 8, 0, 1, 999])  # same total: count ratios are proportion ratios
    h = bc.bias_histogram(a, b)
    assert h["bin"].tolist() == ["[-inf,-10]", "(-10,-2]", "(-2,-1]", "(-1,-0.5]", "(-0.5,0.5]", "(0.5,1]", "(1,2]",
                                 "(2,10]", "(10,inf]"]  # fmt: skip
    pa, pb = a / a.sum(), b / b.sum()
    with np.errstate(divide="ignore"):
        lb = np.log2(pa) - np.log2(pb)
    assert h["added_proportion"].sum() == pytest.approx(2.0)
    for row in h.itertuples():
        sel = ((lb > row.lower) | ((row.lower == -np.inf) & (lb == -np.inf))) & (lb <= row.upper)
        assert row.n_barcodes == sel.sum() and row.added_proportion == pytest.approx((pa + pb)[sel].sum()), row
    # a log2 bias of exactly 1 falls in (0.5, 1] (right-closed); absent from one sample: the outer bins
    got = h.set_index("bin")["n_barcodes"]
    assert (got["(0.5,1]"], got["(-2,-1]"], got["[-inf,-10]"], got["(10,inf]"], got["(2,10]"]) == (1, 1, 2, 1, 1)


def test_gini_with_and_without_zero_rows():
    x = np.array([0, 0, 0, 10])
    assert gini(x)[0] == pytest.approx(0.0)  # one detected clone: no inequality among detected clones
    assert gini(x, include_zeros=True)[0] == pytest.approx(0.75)  # ineq::Gini(c(0, 0, 0, 10)) = 0.75
    y = np.array([1, 2, 3, 4, 0])
    # mean absolute difference definition: G = sum_ij |xi - xj| / (2 n^2 mean)
    g = np.abs(y[:, None] - y[None, :]).sum() / (2 * y.size**2 * y.mean())
    assert gini(y, include_zeros=True)[0] == pytest.approx(g)
    nz = y[y > 0]
    assert gini(y)[0] == pytest.approx(np.abs(nz[:, None] - nz[None, :]).sum() / (2 * nz.size**2 * nz.mean()))


def test_replicate_agreement_per_mouse():
    rng = np.random.default_rng(1)
    base = rng.lognormal(3, 1, 200)
    counts = pd.DataFrame({"a-1": rng.poisson(base), "a-2": rng.poisson(base), "b-1": rng.poisson(base[::-1])},
                          index=[f"bc{i}" for i in range(200)])  # fmt: skip
    design = pd.DataFrame({"sample": ["a-1", "a-2", "b-1"], "mouse": ["a", "a", "b"], "arm": "vehicle",
                           "tissue": "bm", "timepoint": "end", "pcr_replicate": [1, 2, 1]})  # fmt: skip
    rep = bc.replicate_agreement(counts, design).set_index("unit")
    assert rep.loc["a|bm|end", "bartools_r"] > 0.95 and np.isnan(rep.loc["b|bm|end", "bartools_r"])
