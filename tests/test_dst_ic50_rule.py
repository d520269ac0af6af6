"""The probit IC50 follows BeatAML's rule, checked on constructed curves and against the published BeatAML IC50s."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr

from helpers.dst import beataml
from helpers.dst.fit import fit_curves, fit_probit

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


@pytest.fixture(scope="module")
def ven_aza(public_data):
    pts = beataml.load_points(["Venetoclax", "Azacytidine"]).rename(columns={"patient_id": "sample"})
    fits = fit_curves(pts, model="probit").rename(columns={"sample": "patient_id"})
    return beataml.compare_with_published(fits, beataml.load_published())


def test_ic50_agrees_with_published_beataml_on_single_specimen_curves(ven_aza):
    s = ven_aza[ven_aza["single_fit"] & ven_aza["ic50_uM_pub"].notna()]
    assert len(s) > 700
    within = (s["ic50_uM"] - s["ic50_uM_pub"]).abs() <= 0.02 * s["ic50_uM_pub"]
    assert within.mean() >= 0.97, f"{within.mean():.3f} of {len(s)} curves within 2 %"
    # The curves killed across the whole range now read as sensitive, in line with their low AUC.
    low = s[(s["ic50_uM_pub"] == s["min_conc_uM_pub"])]
    assert len(low) > 0 and (low["ic50_uM"] == low["min_conc_uM"]).mean() >= 0.9
