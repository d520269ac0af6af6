"""BeatAML 2.0 patient-level DST features (helpers.dst.beataml) and their dictionary, on small synthetic refits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.beataml import mutation_groups
from helpers.dst import beataml
from helpers.dst.features import beataml_feature_dictionary


def _refits():
    patients = pd.DataFrame({"patient_id": ["10", "9", "100", "7"], "monocytic": [1.0, 0.0, np.nan, 0.0]})
    probit = pd.DataFrame({
        "patient_id": ["10", "9", "100", "9"], "drug": ["Venetoclax", "Venetoclax", "Venetoclax", "Azacytidine"],
        "auc": [200.0, 60.0, 150.0, 120.0], "ic50_uM": [5.0, 0.05, 1.0, 2.0],
    })  # fmt: skip
    ll4 = probit[["patient_id", "drug"]].assign(dss2=[2.0, 30.0, 10.0, 8.0])
    return patients, probit, ll4


def test_patient_features_follow_the_dictionary():
    patients, probit, ll4 = _refits()
    f = beataml.patient_features(patients, probit, ll4)
    assert list(f.columns) == list(beataml_feature_dictionary()["name"])
    # Patient 7 has neither drug and is left out; rows sorted by the numeric subject id (9 < 10 < 100).
    assert f["patient_id"].tolist() == ["9", "10", "100"]
    row9 = f.set_index("patient_id").loc["9"]
    assert (row9["ven_auc"], row9["ven_ic50_um"], row9["ven_dss2"]) == (60.0, 0.05, 30.0)
    assert (row9["aza_auc"], row9["aza_ic50_um"], row9["aza_dss2"]) == (120.0, 2.0, 8.0)
    assert np.isnan(f.set_index("patient_id").loc["10", "aza_auc"])


def test_the_dictionary_names_one_ex_vivo_venetoclax_biomarker_and_directions():
    d = beataml_feature_dictionary()
    assert list(d.columns) == ["name", "unit", "source", "definition", "role", "biomarker", "direction"]
    assert d.loc[d["biomarker"] != "", "name"].tolist() == ["ven_auc"]
    assert d.set_index("name").loc["ven_auc", "biomarker"] == "ex vivo VEN sensitivity"
    assert set(d["direction"]) <= {"resistant", "sensitive", ""}
    direction = d.set_index("name")["direction"]
    # Higher AUC / IC50 = more viable cells = resistant; higher DSS = sensitive; monocytic leukemia resists VEN.
    assert (direction[["ven_auc", "ven_ic50_um", "aza_auc", "aza_ic50_um", "monocytic"]] == "resistant").all()
    assert (direction[["ven_dss2", "aza_dss2"]] == "sensitive").all()
    roles = d.set_index("name")["role"]
    assert (roles[["ven_auc", "aza_auc"]] == "auc").all() and (roles[["ven_ic50_um", "aza_ic50_um"]] == "ic50").all()
    assert (roles[["ven_dss2", "aza_dss2"]] == "dss").all()
    assert d.set_index("name").loc["patient_id", "role"] == "id"


def test_refit_accuracy_counts_single_fit_curves():
    cmp = pd.DataFrame({"drug": ["A", "A", "A", "B"], "single_fit": [True, True, False, True],
                        "d_auc": [0.5, -2.0, 10.0, 0.1], "d_intercept": [0.1, -0.3, 1.0, 0.0]})  # fmt: skip
    acc = beataml.refit_accuracy(cmp).set_index("drug")
    assert acc.loc["A", "curves"] == 3 and acc.loc["A", "single_fit_curves"] == 2
    assert acc.loc["A", "median_abs_d_auc"] == pytest.approx(1.25) and acc.loc["A", "within_1_auc"] == 0.5
    assert acc.loc["A", "median_abs_d_intercept"] == pytest.approx(0.2)
    assert acc.loc["A", "all_curves_within_1_auc"] == pytest.approx(1 / 3) and acc.loc["B", "within_1_auc"] == 1.0


def test_add_refit_auc_and_mutation_groups():
    patients, probit, _ = _refits()
    t = beataml.add_refit_auc(patients, probit)
    assert t["ven_auc_refit"].tolist()[:3] == [200.0, 60.0, 150.0] and np.isnan(t["ven_auc_refit"].iloc[3])
    assert "ven_auc_refit" not in patients  # a copy
    t = t.assign(NPM1=[1, 0, 1, 1], KRAS=[1, 0, np.nan, 0])
    g = mutation_groups(t, ["NPM1", "KRAS"], value="ven_auc_refit")
    # Patient 7 has no refit and is left out; patient 10 is in both gene groups; patient 9 in neither.
    assert g["group"].tolist() == ["NPM1", "NPM1", "KRAS", "none of these"]
    assert g["ven_auc_refit"].tolist() == [200.0, 150.0, 200.0, 60.0]
