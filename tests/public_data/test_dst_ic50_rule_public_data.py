"""The probit IC50 follows BeatAML's rule, checked on constructed curves and against the published BeatAML IC50s.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_dst_ic50_rule.py``.
"""

from __future__ import annotations

import pytest

from helpers.dst import beataml
from helpers.dst.fit import fit_curves


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
