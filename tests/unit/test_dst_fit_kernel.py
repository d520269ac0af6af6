"""The compiled 4-parameter fit: the fits of the numpy block iteration it replaced, and the same bits in any batch."""

from __future__ import annotations

import numpy as np

from helpers.dst.fit import _fit_ll4, fit_ll4, ll4_inhibition


def _curves(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    conc = np.tile(10.0 ** np.linspace(-3, 1, 7), (n, 1))
    top = rng.uniform(-5, 110, n)
    slope = rng.uniform(0.2, 3.0, n)
    c = rng.uniform(-4, 2, n)
    inh = ll4_inhibition(np.log10(conc), top[:, None], slope[:, None], c[:, None]) + rng.normal(0, 8, conc.shape)
    conc[rng.random(conc.shape) < 0.05] = np.nan  # missing points
    conc[:3, 3:] = np.nan  # too few points: not fitted
    return conc, inh


def test_kernel_reaches_the_fits_of_the_block_iteration():
    conc, inh = _curves(3000)
    new, status, iters = _fit_ll4(conc, inh)
    old = _fit_ll4(conc, inh, engine="blocks")[0]
    assert new["slope"].isna().sum() == old["slope"].isna().sum() == 3
    ok = old["sse"].notna()
    rel = (new["sse"] - old["sse"])[ok] / (old["sse"][ok] + 1e-9)
    assert np.abs(rel).max() < 1e-8  # the same least-squares optimum, curve by curve
    assert np.nanmax(np.abs(new["slope"] - old["slope"])) < 1e-3
    assert np.nanmax(np.abs(new["log10_ic50_uM"] - old["log10_ic50_uM"])) < 1e-3
    assert set(np.unique(status[ok.to_numpy()])) <= {0, 1, 2} and (status[ok.to_numpy()] > 0).mean() > 0.9
    assert (iters[ok.to_numpy()] >= 1).all() and (iters[ok.to_numpy()] <= 100).all()
    # Bounds hold
    assert new["slope"].dropna().between(0.1, 2.5).all()
    lo, hi = np.log10(new["min_conc_uM"]), np.log10(new["max_conc_uM"])
    assert (new["log10_ic50_uM"].dropna() >= lo[ok] - 1e-12).all() and (new["log10_ic50_uM"].dropna() <= hi[ok] + 1e-12).all()


def test_a_curve_has_the_same_bits_alone_or_in_any_batch():
    conc, inh = _curves(400, seed=1)
    whole = fit_ll4(conc, inh)
    perm = np.random.default_rng(2).permutation(len(conc))
    shuffled = fit_ll4(conc[perm], inh[perm])
    assert shuffled.to_numpy().tobytes() == whole.iloc[perm].to_numpy().tobytes()
    alone = fit_ll4(conc[17:18], inh[17:18])
    assert alone.to_numpy().tobytes() == whole.iloc[[17]].to_numpy().tobytes()
