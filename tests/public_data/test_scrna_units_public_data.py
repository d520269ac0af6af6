"""Small, exact checks of the scRNA building blocks (QC limits, scores, composition tests, pseudobulk).

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_scrna_units.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.scrna import hierarchy_gene_sets, lsc17_score, lsc17_weights, signatures


def test_lsc17_score_uses_published_weights_and_aliases(public_data):
    w = lsc17_weights(current_symbols=False)
    assert len(w) == 17 and w["DNMT3B"] == pytest.approx(0.0874) and w["CDK6"] == pytest.approx(-0.0704)
    genes = list(w)
    expr = pd.DataFrame([np.ones(17), 2 * np.ones(17)], columns=genes)  # old symbols, as in 2017 data
    score, found = lsc17_score(expr)
    assert len(found) == 17 and "GPR56" in found
    assert score.tolist() == pytest.approx([sum(w.values()), 2 * sum(w.values())])
    cur = expr.rename(columns={"GPR56": "ADGRG1"}).drop(columns=["DNMT3B"])
    score, found = lsc17_score(cur)
    assert len(found) == 16 and "ADGRG1" in found
    assert score.iloc[0] == pytest.approx(sum(w.values()) - w["DNMT3B"])


def test_real_gene_sets_load(public_data):
    sets = hierarchy_gene_sets()
    assert len(sets["LSPC-Quiescent"]) == 61 and len(sets["Mono-like"]) == 100
    assert "CD14" in sets["Mono-like"]
    sig = signatures()
    assert len(sig["OXPHOS"]) == 200 and "BCL2" in sig["BCL2_anti_apoptotic"]
