"""Dose-response fits and DSS: exact on synthetic curves, and reproducing BeatAML 2.0 and FIMM published numbers.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_dst_fit.py``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.beataml import load_beataml, ven_by_fab, ven_by_mutation
from helpers.dst import beataml, fit_curves
from helpers.registry import dataset_path


def test_fimm_dss2_reproduces_published_values(public_data):
    d = pd.read_csv(dataset_path("fimm_dss", "exampleData_procedure1.csv"))
    pts = pd.DataFrame({"sample": d["SCREEN_NAME"], "drug": d["DRUG_NAME"], "conc_uM": d["CONCENTRATION_nM"] / 1000,
                        "viability_pct": d["CELL_VIABILITY"] * 100})
    fits = fit_curves(pts, model="ll4").set_index(["drug", "sample"])
    published = {"4-hydroxytamoxifen": (9.2, 2.3, 4.3), "8-amino-adenosine": (25.4, 22.6, 23.9),
                 "1-methyl-D-tryptophan": (0.0, 0.0, 0.0)}  # upstream README of DSS v2.0
    for drug, values in published.items():
        for screen, v in zip(["AML_003_01", "AML_004_01", "AML_013_01"], values, strict=True):
            assert fits.loc[(drug, screen), "dss2"] == pytest.approx(v, abs=1.0), (drug, screen)
    assert len(fits) > 1400 and fits["dss2"].notna().mean() > 0.99  # the whole screen in one call


@pytest.fixture(scope="module")
def beataml_refit(public_data):
    pts = beataml.load_points().rename(columns={"patient_id": "sample"})
    fits = fit_curves(pts, model="probit").rename(columns={"sample": "patient_id"})
    return beataml.compare_with_published(fits, beataml.load_published())


@pytest.mark.parametrize("drug", ["Venetoclax", "Azacytidine"])
def test_beataml_refit_matches_published(beataml_refit, drug):
    g = beataml_refit[beataml_refit["drug"] == drug]
    assert len(g) > 380
    s = g[g["single_fit"]]
    assert len(s) > 0.9 * len(g)
    d = s["d_auc"].abs()
    assert d.median() <= 0.1 and (d <= 1).mean() >= 0.90
    assert s["d_intercept"].abs().median() < 1e-3
    example = g[g["patient_id"] == "2014"]
    if drug == "Venetoclax":  # data README: patient 2014, intercept 0.5751, beta -0.5137, AUC 219.8, IC50 10 uM
        assert example["intercept"].item() == pytest.approx(0.5751, abs=5e-4)
        assert example["auc"].item() == pytest.approx(219.8, abs=0.1) and example["ic50_uM"].item() == 10.0


def test_beataml_whole_cohort_in_one_call(beataml_refit):
    assert len(beataml_refit) > 58000
    s = beataml_refit[beataml_refit["single_fit"]]
    # All 166 inhibitors: the same median accuracy; a few more curves off by > 1 (multi-specimen patients whose
    # median fits happen to look self-consistent), hence 85 % rather than the 90 % required for VEN and AZA.
    assert s["d_auc"].abs().median() <= 0.1 and (s["d_auc"].abs() <= 1).mean() >= 0.85


def _with_refit_ven_auc(refit: pd.DataFrame) -> pd.DataFrame:
    """The shared patient table with the refitted venetoclax AUC beside the published one, as the DST notebook does."""
    ven = refit[refit["drug"] == "Venetoclax"].set_index("patient_id")["auc"]
    return load_beataml().assign(ven_auc_refit=lambda t: t["patient_id"].map(ven))


def test_beataml_published_biology(beataml_refit):
    ba = _with_refit_ven_auc(beataml_refit)
    med = ven_by_fab(ba, auc="ven_auc_refit").set_index("group")["median_auc"]
    assert 50 < med["M0/M1"] < 85 and 180 < med["M4/M5"] < 220  # published: about 65 and 200
    delta = ven_by_mutation(ba, ["KRAS", "PTPN11", "NPM1", "IDH1"], auc="ven_auc_refit").set_index("gene")["delta"]
    assert delta["KRAS"] > 30 and delta["PTPN11"] > 30
    assert delta["NPM1"] < 0 and delta["IDH1"] < -30


def test_beataml_refit_and_published_biology_share_groups(public_data):
    """The DST axis (own refits of the raw points) and the integration (published AUC) compare the same patients."""
    pts = beataml.load_points(["Venetoclax"]).rename(columns={"patient_id": "sample"})
    refit = fit_curves(pts, model="probit").rename(columns={"sample": "patient_id"})
    ba = _with_refit_ven_auc(refit)
    genes = ["KRAS", "PTPN11", "NRAS", "FLT3_ITD", "TP53", "NPM1", "IDH1", "IDH2"]
    own, pub = ba.dropna(subset=["ven_auc_refit"]), ba.dropna(subset=["ven_auc"])
    assert set(own["patient_id"]) == set(pub["patient_id"])
    for col in ["fab_group", *genes]:
        for value in ("M0/M1", "M4/M5", "other") if col == "fab_group" else (0.0, 1.0):
            assert set(own.loc[own[col] == value, "patient_id"]) == set(pub.loc[pub[col] == value, "patient_id"]), col
    n = ["group", "n"]
    pd.testing.assert_frame_equal(ven_by_fab(ba, auc="ven_auc_refit")[n], ven_by_fab(ba)[n])
    n = ["gene", "n_mut", "n_wt"]
    pd.testing.assert_frame_equal(ven_by_mutation(ba, genes, auc="ven_auc_refit")[n], ven_by_mutation(ba, genes)[n])
