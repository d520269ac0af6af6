"""The probit IC50 follows BeatAML's rule, checked on constructed curves and against the published BeatAML IC50s.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_dst_ic50_rule_public_data.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr

from helpers.dst.fit import fit_probit

CONC = np.array([0.0137, 0.0412, 0.123, 0.370, 1.11, 3.33, 10.0])


def _curve(a: float, b: float) -> np.ndarray:
    return 100 * ndtr(a + b * np.log10(CONC))


def test_ic50_is_the_crossing_when_it_lies_in_range():
    f = fit_probit(CONC[None, :], _curve(0.0, -1.5)[None, :])
    assert f["ic50_uM"].item() == pytest.approx(1.0, rel=1e-4)  # -a/b = 0 -> 1 uM


def test_ic50_is_the_lowest_concentration_when_viability_stays_below_half():
    # Killed over the whole range with a flat or rising fitted curve: sensitive, so the lowest concentration (the
    # former rule gave the top concentration, i.e. "resistant", whenever the slope was >= 0).
    for b in (0.05, -0.05):
        via = np.clip(_curve(-1.2, b) + np.array([0.5, -0.5, 0.3, -0.3, 0.2, -0.2, 0.0]), 0, 100)
        f = fit_probit(CONC[None, :], via[None, :])
        assert f["ic50_uM"].item() == pytest.approx(CONC[0]), b


def test_ic50_is_the_top_concentration_when_viability_never_falls_below_half():
    f = fit_probit(CONC[None, :], _curve(1.5, -0.2)[None, :])
    assert f["ic50_uM"].item() == pytest.approx(CONC[-1])
