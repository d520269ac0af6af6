"""BLAS-free kernels (helpers.numeric) and the machine-independent LL.4 batch fit they serve."""

import numpy as np

from helpers.dst.synergy import MAX_SLOPE, fit_drc_ll4
from helpers.numeric import solve_spd_batched


def test_solve_spd_batched_matches_lapack():
    rng = np.random.default_rng(0)
    j = rng.normal(size=(500, 9, 4))
    a = np.einsum("nki,nkj->nij", j, j) + 1e-6 * np.eye(4)
    b = rng.normal(size=(500, 4))
    x = solve_spd_batched(a, b)
    np.testing.assert_allclose(x, np.linalg.solve(a, b[:, :, None])[:, :, 0], rtol=1e-8, atol=1e-10)
    assert not np.isfinite(solve_spd_batched(np.zeros((1, 3, 3)), np.ones((1, 3)))).all()


def _curves(n, seed):
    rng = np.random.default_rng(seed)
    dose = np.tile(np.r_[0, np.geomspace(1e-3, 10, 7)], (n, 1))
    b, e, d = rng.uniform(-3, -0.3, (n, 1)), 10 ** rng.uniform(-3, 1, (n, 1)), rng.uniform(40, 100, (n, 1))
    y = d / (1 + np.exp(b * (np.log(np.maximum(dose, 1e-10)) - np.log(e)))) + rng.normal(0, 3, (n, 8))
    return dose, y


def test_ll4_batch_is_canonical_bounded_and_flags_convergence():
    dose, y = _curves(300, 1)
    f = fit_drc_ll4(dose, y)
    assert (f["b"] <= 0).all()  # the mirror image (b > 0, c and d swapped) is never reported
    assert (np.abs(f["b"]) <= MAX_SLOPE + 1e-12).all()
    assert f["converged"].mean() > 0.95
    # A falling curve comes out with b <= 0 too, its high-dose effect in d.
    g = fit_drc_ll4(dose[:1], 100 - y[:1])
    assert g["b"][0] <= 0 and g["d"][0] < g["c"][0]
    # A step between two tested doses: the slope stops on its bound instead of running off.
    step = np.where(dose[:1] >= 0.05, 90.0, 5.0)
    s = fit_drc_ll4(dose[:1], step)
    assert abs(s["b"][0]) == MAX_SLOPE and s["fitted"][0, -1] > 89


def test_ll4_batch_does_not_depend_on_batch_composition():
    dose, y = _curves(200, 2)
    whole = fit_drc_ll4(dose, y)
    part = fit_drc_ll4(dose[50:60], y[50:60])
    for k in "bcde":
        np.testing.assert_array_equal(whole[k][50:60], part[k])
