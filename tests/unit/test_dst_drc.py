"""R drc / optim compatibility: R's own example, planted curves, and bad input."""

import numpy as np
import pytest

from helpers.dst.drc import DrcFitError, DrcWarning, drm_l4, drm_ll4, fit_dose_response_synergyfinder, optim_bfgs


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


def test_synergyfinder_falls_back_to_l4_where_r_warns():
    """A steep Hill curve with a zero dose: drc's LL.4 tries a negative ED50 (R warns "NaNs produced"), so
    SynergyFinder refits with L.4 in log dose, which recovers the planted curve."""
    dose = np.r_[0, np.logspace(-4, 1, 10)]
    y = np.r_[0, 100 / (1 + (0.1 / dose[1:]) ** 3)]
    with pytest.raises(DrcWarning):
        drm_ll4(np.where(dose == 0, 1e-10, dose), y)
    fit = fit_dose_response_synergyfinder(dose, y)
    assert fit["model"] == "L.4"
    assert [fit[q] for q in "bcde"] == pytest.approx([-3.0, 0.0, 100.0, 0.1], rel=1e-4, abs=1e-3)
    smooth = fit_dose_response_synergyfinder([1, 3, 10, 30, 100.0], [5.0, 12.0, 30.0, 55.0, 71.0])
    assert smooth["model"] == "LL.4"


def test_drm_l4_recovers_a_planted_logistic_curve():
    x = np.log(np.array([1, 3, 10, 30, 100, 300, 1000.0]))
    b, c, d, e = -1.2, 2.0, 95.0, np.log(40.0)
    y = c + (d - c) / (1 + np.exp(b * (x - e)))
    fit = drm_l4(x, y, top=95.0)
    assert fit["d"] == 95.0 and [fit[q] for q in "bce"] == pytest.approx([b, c, e], rel=1e-3, abs=1e-3)
