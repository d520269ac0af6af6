"""R drc / optim compatibility: R's own example, planted curves, and bad input."""

import numpy as np
import pytest

from helpers.dst.drc import DrcFitError, drm_ll4, optim_bfgs


def test_optim_bfgs_reproduces_r_on_its_rosenbrock_example():
    """``optim(c(-1.2, 1), fr, method = "BFGS")`` in R's optim help example prints par 0.9998044 0.9996084,
    value 3.827383e-08 and counts 118 function / 38 gradient evaluations (numerical gradient)."""

    def rosenbrock(x):
        return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2

    par, value, counts = optim_bfgs(rosenbrock, np.array([-1.2, 1.0]), maxit=100)
    assert par == pytest.approx([0.9998044, 0.9996084], abs=5e-8)
    assert value == pytest.approx(3.827383e-08, rel=1e-6)
    assert counts == (118, 38)


def test_drm_ll4_recovers_a_planted_curve():
    dose = np.array([0, 1, 3, 10, 30, 100, 300, 1000, 3000.0])
    b, c, d, e = -1.3, 4.0, 92.0, 75.0
    y = np.r_[c, c + (d - c) / (1 + (dose[1:] / e) ** b)]  # at dose 0 (b < 0) the bottom
    fit = drm_ll4(dose, y)
    assert [fit[q] for q in "bcde"] == pytest.approx([b, c, d, e], rel=1e-3)
    fixed = drm_ll4(dose[1:], y[1:], bottom=c, top=d)
    assert (fixed["c"], fixed["d"]) == (c, d) and fixed["e"] == pytest.approx(e, rel=1e-3)


def test_drm_ll4_rejects_curves_it_cannot_fit():
    with pytest.raises(DrcFitError, match="positive doses"):
        drm_ll4([0, 1, np.nan], [5.0, 10.0, 20.0])
    with pytest.raises(DrcFitError, match="positive doses"):
        drm_ll4([1, 10, 100.0], [np.nan, np.nan, 1.0])  # missing responses are dropped first
