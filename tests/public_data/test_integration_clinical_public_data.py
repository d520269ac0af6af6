"""Clinical statistics of the integration: competing risks, multi-state course, within-patient change, TRIPOD
validation (Riley sample size, bootstrap optimism, decision curves, cut-off inside CV), multiple imputation, the
feature x drug association screen, and the simulator's calibration of relapse to the published ELN 2024 rates.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_integration_clinical.py``.
"""

from __future__ import annotations

import pytest
from scipy import stats

from helpers import integration as it


def test_association_screen_on_beataml(public_data):
    from helpers import beataml as bm

    ba = bm.load_beataml()
    feats = ba[["patient_id", "age", "bm_blast_pct"]].rename(columns={"patient_id": "sample_id"})
    resp = ba[["patient_id", "ven_auc"]].dropna().rename(columns={"patient_id": "sample_id", "ven_auc": "auc"})
    out = it.association_screen(feats, resp.assign(drug="Venetoclax")).set_index(["feature", "drug"])
    d = ba[["bm_blast_pct", "ven_auc"]].dropna()
    ref = stats.spearmanr(d["bm_blast_pct"], d["ven_auc"])
    row = out.loc[("bm_blast_pct", "Venetoclax")]
    assert row["n"] == len(d) and row["spearman_rho"] == pytest.approx(ref.statistic) and row["p_value"] == pytest.approx(
        ref.pvalue)
    assert row["pearson_r"] == pytest.approx(stats.pearsonr(d["bm_blast_pct"], d["ven_auc"]).statistic)
