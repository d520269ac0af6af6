"""Dose-response fits and DSS: exact on synthetic curves, and reproducing BeatAML 2.0 and FIMM published numbers.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_dst_fit_public_data.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.optimize import least_squares
from scipy.special import ndtr

from helpers.dst import dss_scores, fit_ll4, fit_probit, ll4_inhibition, probit_auc, selective_dss

CONC = np.array([0.0137, 0.0412, 0.123, 0.37, 1.11, 3.33, 10.0])


def test_probit_recovers_parameters_of_noiseless_curves():
    rng = np.random.default_rng(3)
    a, b = rng.uniform(-1, 1.5, 200), rng.uniform(-1.5, -0.2, 200)
    via = 100 * ndtr(a[:, None] + b[:, None] * np.log10(CONC)[None, :])
    f = fit_probit(np.broadcast_to(CONC, via.shape), via)
    assert f["converged"].all()
    assert np.allclose(f["intercept"], a, atol=1e-6) and np.allclose(f["beta"], b, atol=1e-6)
    ic50 = np.clip(10 ** (-a / b), CONC[0], CONC[-1])
    assert np.allclose(f["ic50_uM"], ic50, rtol=1e-5)


def test_probit_auc_closed_form_matches_quadrature():
    lo, hi = np.log10(0.0137), 1.0
    for a, b in [(0.5751, -0.5137), (1.2, 0.3), (-0.4, 0.0), (3.0, -2.0)]:
        num = 100 * quad(lambda x, a=a, b=b: ndtr(a + b * x), lo, hi)[0]
        assert probit_auc(a, b, lo, hi) == pytest.approx(num, abs=1e-6)
    assert probit_auc(20.0, 0.0, lo, hi) == pytest.approx(286.33, abs=0.01)  # the published maximum


def test_probit_handles_missing_points_and_degenerate_curves():
    conc = np.vstack([CONC, CONC, CONC])
    via = np.vstack([100 * ndtr(0.3 - 0.8 * np.log10(CONC)), np.full(7, 100.0), np.full(7, np.nan)])
    via[0, 2] = np.nan
    f = fit_probit(conc, via)
    assert f.loc[0, "n_points"] == 6 and f.loc[0, "intercept"] == pytest.approx(0.3, abs=1e-6)
    assert f.loc[1, "ic50_uM"] == pytest.approx(10.0)  # a flat, fully viable curve: IC50 at the top concentration
    assert not f.loc[2, "converged"] and np.isnan(f.loc[2, "auc"])


def test_ll4_reaches_the_bounded_least_squares_optimum():
    """The batched fit finds the same optimum as a per-curve bounded least-squares solver (scipy), or a better one."""
    rng = np.random.default_rng(5)
    n = 60
    x = np.log10(CONC)
    inh = ll4_inhibition(x[None, :], rng.uniform(40, 100, n)[:, None], rng.uniform(0.5, 2.0, n)[:, None],
                         rng.uniform(-1.5, 0.5, n)[:, None]) + rng.normal(0, 5, (n, len(x)))
    f = fit_ll4(np.broadcast_to(CONC, inh.shape), inh)
    for i in range(n):
        top = np.clip(inh[i].max(), 0, 100)

        def resid(p, i=i, top=top):
            return ll4_inhibition(x, top, p[0], p[1]) - inh[i]

        ref = least_squares(resid, [1.0, x.mean()], bounds=([0.1, x[0]], [2.5, x[-1]]))
        assert f.loc[i, "sse"] <= 2 * ref.cost + 1e-6 * (1 + 2 * ref.cost)
        assert f.loc[i, "top"] == pytest.approx(top)


def test_dss_closed_form_and_rules():
    lo, hi, t = np.log10(0.001), np.log10(10.0), 10.0
    a, b, c = 90.0, 1.2, np.log10(0.1)
    x1 = c - np.log10((a - t) / t) / b
    num = quad(lambda x: ll4_inhibition(x, a, b, c) - t, x1, hi)[0]
    d = dss_scores(a, b, c, lo, hi, threshold=t)
    assert d["dss1"].item() == pytest.approx(100 * num / ((hi - lo) * (100 - t)), rel=1e-9)
    assert d["dss2"].item() == pytest.approx(d["dss1"].item() / np.log10(a))
    zero = dss_scores([90, 8, 90], [1, 1, 1], [hi, c, hi + 1], lo, hi)
    assert (zero["dss1"] == 0).all()  # IC50 at or above the top concentration, or top below the threshold
    assert dss_scores(np.nan, 1, c, lo, hi)["dss2"].isna().all()


def test_selective_dss():
    ref = pd.DataFrame({"drug": ["A"] * 4 + ["B"] * 2, "dss2": [1, 2, 3, 6, 0, 0]})
    x = pd.DataFrame({"drug": ["A", "B", "C"], "dss2": [10.0, 5.0, 1.0]})
    s = selective_dss(x, ref)
    assert s.loc[0, "sdss2"] == pytest.approx(7.0)
    assert s.loc[0, "zdss2"] == pytest.approx(7.0 / (np.std([1, 2, 3, 6], ddof=1) + 1))
    assert s.loc[0, "rdss2"] == pytest.approx((10 - 2.5) / (1.0 + 1))
    assert np.isnan(s.loc[2, "sdss2"])


def test_ll4_fits_do_not_depend_on_the_batch(monkeypatch):
    """Each curve's arithmetic is its own: the same bits whether it is fitted alone, in a small block or a large one."""
    from helpers.dst import fit as fit_module

    rng = np.random.default_rng(11)
    n = 50
    x = np.log10(CONC)
    inh = ll4_inhibition(x[None, :], rng.uniform(20, 100, n)[:, None], rng.uniform(0.3, 2.4, n)[:, None],
                         rng.uniform(-2.0, 1.0, n)[:, None]) + rng.normal(0, 8, (n, len(x)))
    conc = np.broadcast_to(CONC, inh.shape)
    whole = fit_ll4(conc, inh)
    monkeypatch.setattr(fit_module, "_LL4_BLOCK", 7)
    blocked = fit_ll4(conc, inh)
    alone = pd.concat([fit_ll4(conc[i : i + 1], inh[i : i + 1]) for i in (0, 17, 49)], ignore_index=True)
    pd.testing.assert_frame_equal(whole, blocked, check_exact=True)
    pd.testing.assert_frame_equal(whole.iloc[[0, 17, 49]].reset_index(drop=True), alone, check_exact=True)
    assert whole["slope"].between(0.1, 2.5).all() and (whole["r2"] > 0).mean() > 0.9
