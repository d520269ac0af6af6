"""The DST notebook's clinical steps (helpers.dst.outcome): groups, oriented scores, ROC table, relapse comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import dst


def _dx():
    # Six diagnosis samples: the three primary-resistant ones have the highest VEN AUC (perfectly separated).
    return pd.DataFrame({
        "sample_id": [f"S{i}-DX" for i in range(6)], "patient_id": [f"P{i}" for i in range(6)],
        "timepoint": "diagnosis", "dst_qc_pass": 1,
        "ven_auc": [50.0, 60, 70, 200, 210, 220], "ven_ic50_um": [0.01, 0.02, 0.03, 1, 2, 3],
        "ven_dss2": [30.0, 25, 20, 5, 4, 3], "aza_auc": [100.0, 90, 80, 70, 60, 50],
        "azaven_zip_mean": [5.0, 4, 3, 2, 1, 0], "azaven_max_inhibition": [90.0, 80, 70, 60, 50, 40],
        "primary_resistant": [0, 0, 0, 1, 1, 1], "responder": [1, 1, 1, 0, 0, 0], "relapse": [1, 0, 1, 0, 0, 0],
    })  # fmt: skip


def test_scores_are_oriented_so_that_higher_predicts_resistance():
    dx = _dx()
    scores = dst.resistance_scores(dx)
    table, aucs = dst.roc_table(scores, dx["primary_resistant"], n_boot=200, seed=1)
    assert list(table.index) == list(scores)  # the order of the scores
    assert table.loc["VEN AUC", "auc"] == 1.0 and table.loc["VEN log10 IC50", "auc"] == 1.0
    assert table.loc["VEN DSS2 (negated)", "auc"] == 1.0  # negated: higher DSS2 = more sensitive
    assert table.loc["AZA AUC", "auc"] == 0.0  # here AZA AUC runs the other way, and is not flipped
    assert table.loc["AZA+VEN ZIP (negated)", "auc"] == 1.0
    assert (table["n_pos"] == 3).all() and (table["n_neg"] == 3).all()
    assert set(aucs) == set(scores) and aucs["VEN AUC"]["n_boot"] == 200
    np.testing.assert_allclose(scores["VEN log10 IC50"], np.log10(dx["ven_ic50_um"]))


def test_groups_of_samples_and_of_outcomes():
    samples = pd.DataFrame({"sample_id": ["A-DX", "A-REL", "B-DX", "C-DX"], "patient_id": ["A", "A", "B", "C"],
                            "timepoint": ["diagnosis", "relapse", "diagnosis", "diagnosis"]})  # fmt: skip
    ends = pd.DataFrame({"response_group": ["responder_relapsed", "primary_resistant", "responder_ongoing"]},
                        index=pd.Index(["A", "B", "C"], name="patient_id"))  # fmt: skip
    g = dst.sample_groups(samples, ends)
    assert g.to_dict() == {"A-DX": "responder", "A-REL": "relapse", "B-DX": "primary_resistant", "C-DX": "responder"}
    grp = dst.outcome_groups(_dx())["group"].tolist()
    assert grp == ["relapsed", "ongoing remission", "relapsed", "primary resistant", "primary resistant",
                   "primary resistant"]  # fmt: skip
    assert set(grp) <= set(dst.OUTCOME_ORDER)


def test_diagnosis_table_keeps_qc_passed_diagnosis_samples_with_endpoints():
    f = _dx().drop(columns=["primary_resistant", "responder", "relapse"])
    f = pd.concat([f, f.iloc[[0]].assign(sample_id="S0-REL", timepoint="relapse")], ignore_index=True)
    f.loc[1, "dst_qc_pass"] = 0
    ends = _dx().set_index("patient_id")[["primary_resistant", "responder", "relapse"]]
    dx = dst.diagnosis_table(f, ends)
    assert list(dx["sample_id"]) == ["S0-DX", "S2-DX", "S3-DX", "S4-DX", "S5-DX"]
    assert dx["primary_resistant"].tolist() == [0, 0, 1, 1, 1]


def test_relapse_comparison_with_and_without_pairs():
    dx = _dx()
    feats = pd.concat([dx, dx.iloc[[0, 2]].assign(timepoint="relapse", ven_auc=[80.0, 60.0])], ignore_index=True)
    r = dst.relapse_comparison(dx, feats)
    assert r["n_relapsed"] == 2 and r["median_relapsed"] == 60.0 and r["n_ongoing"] == 1
    assert r["n_paired"] == 2 and r["median_shift"] == pytest.approx(10.0) and r["n_higher_at_relapse"] == 1
    assert 0 < r["p_mannwhitney"] <= 1
    none = dst.relapse_comparison(dx, dx)  # diagnosis samples only: no pair, no crash
    assert none["n_paired"] == 0 and np.isnan(none["median_shift"])


def test_example_plates_needs_a_passing_plate():
    qc = pd.DataFrame({"plate_id": ["P1", "P2", "P3"], "qc_pass": [0, 1, 0]})
    assert dst.example_plates(qc) == ["P2", "P1"]
    assert dst.example_plates(qc.assign(qc_pass=1)) == ["P1"]
    with pytest.raises(ValueError, match="no plate passed QC"):
        dst.example_plates(qc.assign(qc_pass=0))
