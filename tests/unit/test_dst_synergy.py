"""Synergy scores: reference models on constructed surfaces, and R SynergyFinder's ZIP on public MuSyC surfaces.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_dst_synergy_public_data.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers.dst import block_synergy, synergy_scores
from helpers.dst.synergy import drc_ll4, fit_drc_ll4

CR = np.array([0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0])
CC = np.array([0, 0.001, 0.004, 0.016, 0.064, 0.256])


def _mono(c, e, b=-1.2, top=95.0):
    return np.where(c > 0, drc_ll4(np.maximum(c, 1e-12), b, 0.0, top, e), 0.0)


def test_bliss_independent_surface_scores_zero_and_hsa_positive():
    y1, y2 = _mono(CR, 0.2), _mono(CC, 0.02)
    surf = y1[:, None] + y2[None, :] - y1[:, None] * y2[None, :] / 100
    sc = synergy_scores(surf, CR, CC)
    assert np.allclose(sc["bliss"], 0, atol=1e-9)
    assert (sc["hsa"][1:, 1:] >= -1e-9).all() and sc["hsa"][1:, 1:].max() > 5  # independence exceeds HSA
    # ZIP's null is Bliss independence of fitted curves; its refits assume a top of 100 % (here 95 %): small deltas.
    assert np.abs(sc["zip"][1:, 1:]).max() < 2.0 and abs(sc["zip"][1:, 1:].mean()) < 0.75
    assert (sc["bliss"][0] == 0).all() and (sc["zip"][:, 0] == 0).all()


def test_loewe_sham_combination_scores_zero():
    """A drug combined with itself is Loewe-additive by definition: x1 / X(y) + x2 / X(y) = 1."""
    conc = np.array([0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0])
    y = _mono(conc[:, None] + conc[None, :], 0.3)
    sc = synergy_scores(y, conc, conc)
    assert np.abs(sc["loewe"][1:, 1:]).max() < 0.5
    assert sc["bliss"][1:, 1:].mean() < -1  # while Bliss calls the sham combination antagonistic


def test_potency_shift_is_synergy():
    y1 = _mono(CR, 0.2)
    shift = 1 + 4 * y1 / 100  # drug 1 makes drug 2 up to 5x more potent
    surf = y1[:, None] + (100 - y1[:, None]) * _mono(CC[None, :], 0.02 / shift[:, None]) / 95
    b = block_synergy(synergy_scores(surf, CR, CC))
    for name in ("bliss", "zip", "loewe", "hsa"):
        assert b[f"{name}_mean"].item() > 2, name


def test_ll4_fit_recovers_drc_parameters():
    dose = np.tile(np.array([0, 0.01, 0.03, 0.1, 0.3, 1, 3, 10.0]), (3, 1))
    truth = [(-1.5, 5.0, 90.0, 0.2), (-0.8, -3.0, 70.0, 1.5), (-2.5, 0.0, 100.0, 0.05)]
    resp = np.vstack([drc_ll4(np.maximum(dose[i], 1e-10), *t) for i, t in enumerate(truth)])
    f = fit_drc_ll4(dose, resp)
    for i, (b, c, d, e) in enumerate(truth):
        assert f["b"][i] == pytest.approx(b, rel=1e-3) and f["e"][i] == pytest.approx(e, rel=1e-3)
        assert f["c"][i] == pytest.approx(c, abs=1e-2) and f["d"][i] == pytest.approx(d, abs=1e-2)
