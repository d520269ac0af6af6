"""Integration: table assembly and contracts, ELN 2024 rules, statistics, and recovery of the simulated cohort's
planted effects (helpers.simulate.PLANTED_EFFECTS) from feature tables derived from its truth plus noise.

This file holds the unit tests (the unit tier); the tests that execute notebooks are in
``tests/pipeline/test_integration_pipeline.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from helpers import integration as it
from helpers.beataml import eln2024_from_calls
from helpers.clinical import load_cohort_tables
from helpers.errors import DataContractError
from helpers.io import write_table
from helpers.notebook import Notebook
from helpers.paths import repo_root
from helpers.plotting import figure_of
from helpers.simulate import DEFAULT_SEED, PLANTED_EFFECTS
from helpers.simulate.power import planted_effect_power, planted_effect_tests, simulated_patient_table
from helpers.workflow import discover_notebooks

NOTEBOOK = repo_root() / "notebooks" / "05_integration.py"


@pytest.fixture(scope="module")
def assembled(integration_cohort, upstream):
    clinical, samples = load_cohort_tables(integration_cohort)
    feats, status = it.collect_features(upstream)
    patients = it.assemble_patient_table(clinical, samples, feats)
    patients, dic, logs = it.log_transform_concentrations(patients, it.combined_dictionary(feats))
    sample_table = it.assemble_sample_table(samples, feats)
    truth = pd.read_csv(integration_cohort / "truth" / "patients.csv", dtype={"patient_id": str}).set_index("patient_id")
    return {"clinical": clinical, "samples": samples, "feats": feats, "status": status, "patients": patients,
            "dictionary": dic, "logs": logs, "sample_table": sample_table,
            "truth": truth.loc[patients["patient_id"]].reset_index()}  # fmt: skip


def _write_axis(folder: Path, table: pd.DataFrame, names: list[str], unit: str = "u") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_table(table, folder / "features.csv")
    write_table(pd.DataFrame({"name": names, "unit": unit, "source": "x", "definition": "d", "role": "auc",
                              "biomarker": "", "direction": ""}), folder / "features_dictionary.csv")  # fmt: skip
    return folder


# --- tables and data contract -------------------------------------------------------------------------------------


def test_tables_have_one_row_per_patient_and_sample(assembled):
    p, s = assembled["patients"], assembled["sample_table"]
    assert p["patient_id"].is_unique and len(p) == len(assembled["clinical"])
    assert s["sample_id"].is_unique and len(s) == len(assembled["samples"])
    # Diagnosis features in the patient table equal the diagnosis rows of the sample table.
    dx = s[s["timepoint"] == "diagnosis"].set_index("patient_id")["pct_monocytic"]
    assert np.allclose(p.set_index("patient_id").loc[dx.index, "pct_monocytic"], dx)
    # Replicate PDX rows (3 per sample) are averaged to one row per sample.
    bc = assembled["feats"]["barcoding"]
    assert bc.n_input_rows == 3 * len(bc.table)
    # A feature name used by two axes is prefixed with its axis.
    assert {"cytometry_bcl2_family_score", "scrna_bcl2_family_score"} <= set(p.columns)
    assert "log10_ven_ic50_um" in assembled["logs"].values()


def test_missing_assays_are_explicit(assembled):
    p = assembled["patients"]
    scrna = assembled["samples"].query("timepoint == 'diagnosis'")["assays"].str.contains("scrna")
    assert (p["status_scrna"] == "measured").sum() == scrna.sum()
    assert p.loc[p["status_scrna"] == "not_planned", "lsc17"].isna().all()
    # The failed plate (value missing, row present) stays 'measured' with a missing value, not a missing assay.
    assert p["ven_auc"].isna().sum() >= 1 and (p["status_dst"] == "measured").all()


def test_planned_but_absent_assay_is_missing(integration_cohort, tmp_path):
    clinical, samples = load_cohort_tables(integration_cohort)
    dx = samples[samples["assays"].str.contains("dst")].iloc[1:]  # drop the first planned DST sample
    folder = _write_axis(tmp_path / "01_dst", dx[["sample_id", "patient_id", "timepoint"]].assign(ven_auc=100.0),
                         ["ven_auc"])  # fmt: skip
    feats, status = it.collect_features({"01_dst": folder, "02_cytometry": tmp_path / "nothing"})
    assert status.set_index("axis").loc["cytometry", "status"] == "no features.csv"
    assert status.set_index("axis").loc["scrna", "status"] == "not run"
    st = it.assemble_sample_table(samples, feats)
    first = samples[samples["assays"].str.contains("dst")].iloc[0]["sample_id"]
    assert st.set_index("sample_id").loc[first, "status_dst"] == "missing"
    assert (st["status_dst"] == "not_planned").sum() == (~samples["assays"].str.contains("dst")).sum()


@pytest.mark.parametrize(
    "edit, pattern",
    [
        (lambda t, d: (t.assign(undocumented=1.0), d), r"'undocumented'.*no dictionary entry"),
        (lambda t, d: (t.assign(ven_auc=["abc"] + [1.0] * (len(t) - 1)), d), r"row 2.*ven_auc.*expected a number"),
        (lambda t, d: (t.drop(columns="patient_id"), d), r"patient_id"),
        (lambda t, d: (t, d.drop(columns="unit")), r"features_dictionary.csv.*unit"),
        (lambda t, d: (t, d[["name", "unit", "source", "definition", "role", "direction", "biomarker"]]),
         r"features_dictionary.csv.*column 'biomarker'.*must be column 6"),
        (lambda t, d: (t, d.assign(role="")), r"features_dictionary.csv \(row 2, column 'role'\).*no role"),
        (lambda t, d: (t, d.assign(role="viability")), r"row 2, column 'role'.*'viability' of 'ven_auc' is not one of"),
        (lambda t, d: (t, d.assign(biomarker="VEN")), r"row 2, column 'biomarker'.*unknown biomarker 'VEN'"),
        (lambda t, d: (t, d.assign(direction="higher = more")), r"row 2, column 'direction'.*not one of resistant"),
        (lambda t, d: (t.assign(sample_id=[None] + list(t["sample_id"][1:])), d), r"row 2.*sample_id.*empty"),
    ],
)
def test_feature_contract_violations_name_file_row_column(tmp_path, edit, pattern):
    t = pd.DataFrame({"sample_id": ["A-DX", "B-DX", "C-DX"], "patient_id": ["A", "B", "C"],
                      "timepoint": ["diagnosis"] * 3, "ven_auc": [1.0, 2.0, 3.0]})  # fmt: skip
    d = pd.DataFrame({"name": ["ven_auc"], "unit": ["AUC"], "source": ["dst"], "definition": ["x"], "role": ["auc"],
                      "biomarker": ["ex vivo VEN sensitivity"], "direction": ["resistant"]})  # fmt: skip
    t, d = edit(t, d)
    write_table(t, tmp_path / "features.csv")
    write_table(d, tmp_path / "features_dictionary.csv")
    with pytest.raises(DataContractError, match=pattern):
        it.load_feature_table(tmp_path, axis="dst")


def test_feature_rows_must_match_samples(integration_cohort, tmp_path):
    clinical, samples = load_cohort_tables(integration_cohort)
    rows = samples.iloc[:3][["sample_id", "patient_id", "timepoint"]].assign(x=1.0)
    bad = rows.copy()
    bad.loc[bad.index[1], "timepoint"] = "relapse" if bad["timepoint"].iloc[1] != "relapse" else "diagnosis"
    feats, _ = it.collect_features({"01_dst": _write_axis(tmp_path / "a", bad, ["x"])})
    with pytest.raises(DataContractError, match=r"row 3.*timepoint.*disagrees"):
        it.assemble_sample_table(samples, feats)
    unknown = rows.assign(sample_id=["NOPE"] + list(rows["sample_id"][1:]))
    feats, _ = it.collect_features({"01_dst": _write_axis(tmp_path / "b", unknown, ["x"])})
    with pytest.raises(DataContractError, match=r"'NOPE' is not in samples.csv"):
        it.assemble_sample_table(samples, feats)


def test_dictionary_documents_every_column(assembled):
    p = assembled["patients"]
    dic = it.data_dictionary(p, assembled["dictionary"])
    assert list(dic["name"]) == list(p.columns)
    assert (dic["source"] != "unknown").all(), dic.loc[dic["source"] == "unknown", "name"].tolist()
    row = dic.set_index("name").loc["pct_monocytic"]
    assert row["source"] == "cytometry" and row["n_available"] == p["pct_monocytic"].notna().sum()
    assert dic.set_index("name").loc["log10_ven_ic50_um", "unit"] == "log10 uM"


def test_find_markers_reads_the_dictionaries(assembled):
    p, dic = assembled["patients"], assembled["dictionary"]
    feats = [c for ft in assembled["feats"].values() for c in ft.features]
    m = it.find_markers(p, feats, dic).set_index("biomarker")
    assert list(m.index) == ["ex vivo VEN sensitivity", "BCL2-family score", "monocytic fraction", "LSC17",
                             "T/NK activation"]  # fmt: skip
    assert m.loc["ex vivo VEN sensitivity", "feature"] == "ven_auc"
    assert m.loc["ex vivo VEN sensitivity", "direction"] == "resistant"
    # Two axes carry the BCL2-family score and the monocytic fraction: the first axis of the registry wins.
    assert m.loc["monocytic fraction", "feature"] == "pct_monocytic"
    assert m.loc["BCL2-family score", "feature"] == "cytometry_bcl2_family_score"
    assert m.loc["BCL2-family score", "direction"] == "sensitive"
    assert m.loc["LSC17", "feature"] == "lsc17" and m.loc["T/NK activation", "feature"] == "tnk_activation"
    assert m.loc["T/NK activation", "direction"] == ""  # nothing pre-specified
    assert m["n_measured"].ge(10).all()
    assert it.find_markers(p, ["age"], dic).empty
    # Without the cytometry features, the scRNA carriers stand in; too few measurements exclude a carrier.
    no_cyto = [f for f in feats if f not in assembled["feats"]["cytometry"].features]
    m2 = it.find_markers(p, no_cyto, dic).set_index("biomarker")["feature"]
    assert m2["monocytic fraction"] == "frac_mono_like" and m2["BCL2-family score"] == "scrna_bcl2_family_score"
    assert "LSC17" not in it.find_markers(p, feats, dic, min_n=10_000)["biomarker"].tolist()


def test_cytometry_dictionary_names_the_batch_normalised_bcl2_score():
    from helpers.cytometry import feature_dictionary

    ids = ["sample_id", "patient_id", "timepoint"]
    d = feature_dictionary([*ids, "bcl2_family_score", "bcl2_family_score_norm", "lsc_bcl2_mfi"]).set_index("name")
    assert d.loc["bcl2_family_score_norm", "biomarker"] == "BCL2-family score"
    assert d.loc["bcl2_family_score", "biomarker"] == ""
    d2 = feature_dictionary([*ids, "bcl2_family_score", "lsc_bcl2_mfi"]).set_index("name")  # no reference controls
    assert d2.loc["bcl2_family_score", "biomarker"] == "BCL2-family score"


# --- ELN 2024 rules (the same function serves the DREAM and BeatAML tables) ---------------------------------------

ELN_CASES = [
    ({"TP53": 1}, "adverse"),
    ({"TP53": 1, "NPM1": 1, "IDH1": 1}, "adverse"),  # TP53 overrides favourable lesions
    ({"TP53": 1, "DDX41": 1}, "adverse"),
    ({"NPM1": 1}, "favorable"),
    ({"IDH2": 1}, "favorable"),
    ({"IDH1": 1}, "favorable"),
    # Under AZA + VEN, IDH1 with signalling mutations is intermediate (Dohner et al. 2024, Table 1, footnote *: the
    # IDH1 rule irrespective of signalling applies to AZA + ivosidenib); see tests/unit/test_clinical.py for AZA + IVO.
    ({"IDH1": 1, "FLT3_ITD": 1, "KRAS": 1}, "intermediate"),
    ({"DDX41": 1, "NRAS": 1}, "favorable"),
    ({}, "favorable"),  # other abnormalities without FLT3-ITD/NRAS/KRAS/TP53
    ({"PTPN11": 1, "RUNX1": 1, "ASXL1": 1}, "favorable"),  # PTPN11 is not one of the ELN 2024 signalling genes
    ({"FLT3_ITD": 1}, "intermediate"),
    ({"NRAS": 1}, "intermediate"),
    ({"KRAS": 1}, "intermediate"),
    ({"NPM1": 1, "FLT3_ITD": 1}, "intermediate"),
    ({"IDH2": 1, "NRAS": 1}, "intermediate"),
]


def test_association_inputs_take_the_dst_aucs_by_role(assembled):
    # The drug responses are the DST features whose dictionary role is "auc"; their units ("% x log10(uM)") never
    # say so, which once left the screen without responses on every DREAM cohort.
    a_feats, a_resp = it.dream_association_inputs(assembled["sample_table"], assembled["feats"])
    dic = assembled["feats"]["dst"].dictionary
    aucs = set(dic.loc[dic["role"] == "auc", "name"]) & set(assembled["sample_table"])
    assert aucs and set(a_resp["drug"]) == aucs
    assert a_resp["auc"].notna().all() and len(a_feats) > 0 and a_feats.shape[1] > 1
    assert not set(a_feats.columns) & aucs  # responses are not screened as features


def test_eln2024_every_rule():
    genes = ["NPM1", "IDH1", "IDH2", "FLT3_ITD", "NRAS", "KRAS", "TP53", "RUNX1", "ASXL1", "PTPN11", "DDX41"]
    df = pd.DataFrame([{g: c.get(g, 0) for g in genes} for c, _ in ELN_CASES])
    assert list(eln2024_from_calls(df).astype(str)) == [e for _, e in ELN_CASES]
    df.loc[0, "KRAS"] = np.nan  # TP53-mutated: adverse whatever KRAS is
    assert eln2024_from_calls(df).iloc[0] == "adverse"
    df.loc[3, "KRAS"] = np.nan  # NPM1, TP53 wild type, KRAS unknown: favorable or intermediate, not computable
    assert pd.isna(eln2024_from_calls(df).iloc[3])


def test_eln2024_in_patient_table_matches_truth(assembled):
    assert (assembled["patients"]["eln2024"].astype(str).to_numpy() == assembled["truth"]["eln2024"].to_numpy()).all()


# --- statistics on known data -------------------------------------------------------------------------------------


def test_auc_and_bootstrap_match_sklearn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    s = np.round(y + rng.normal(0, 1.2, 200), 1)  # rounded: ties must count one half
    assert it.auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    est, lo, hi = it.auc_ci(y, s, n_boot=300, seed=3)
    assert lo < est < hi and hi - lo < 0.2


def test_bh_fdr_keeps_missing():
    q = it.bh_fdr([0.01, np.nan, 0.04, 0.03])
    assert np.isnan(q[1]) and q[0] == pytest.approx(0.03) and q[2] == pytest.approx(0.04)


def test_calibration_of_calibrated_and_overfitted_predictions():
    rng = np.random.default_rng(5)
    lp = rng.normal(0, 1.5, 4000)
    p = 1 / (1 + np.exp(-lp))
    y = rng.random(4000) < p
    _, good = it.calibration(y, p)
    assert good["calibration_slope"] == pytest.approx(1, abs=0.12)
    assert good["calibration_intercept"] == pytest.approx(0, abs=0.1)
    _, over = it.calibration(y, 1 / (1 + np.exp(-2 * lp)))  # too extreme: slope about 0.5
    assert over["calibration_slope"] == pytest.approx(0.5, abs=0.08)


def test_cox_flags_non_proportional_hazards():
    rng = np.random.default_rng(2)
    n = 400
    g = rng.integers(0, 2, n)
    # Group 1: high hazard during the first 6 months, then much lower: the hazard ratio is not constant.
    early = rng.exponential(np.where(g == 1, 3.0, 20.0))
    late = 6 + rng.exponential(np.where(g == 1, 60.0, 10.0))
    t = np.where(early < 6, early, late)
    df = pd.DataFrame({"t": np.minimum(t, 40), "e": (t < 40).astype(float), "g": g, "x": rng.normal(size=n)})
    fit = it.fit_cox(df, "t", "e", ["g", "x"])
    tab = fit.table.set_index("term")
    assert tab.loc["g", "ph_p"] < 0.001 and tab.loc["x", "ph_p"] > 0.01
    assert tab.loc["x", "p"] > 0.01  # x has no effect


def test_km_and_logrank_on_known_data():
    # Five events at 1..5 months: S = 0.8, 0.6, 0.4 at month 3, so the median is 3 in both groups.
    df = pd.DataFrame({"t": [1, 2, 3, 4, 5] * 2, "e": [1] * 10, "g": ["a"] * 5 + ["b"] * 5})
    km = it.km_summary(df, "t", "e", "g")
    assert list(km["median"]) == [3.0, 3.0] and list(km["n"]) == [5, 5]
    assert km["surv_12m"].tolist() == [0.0, 0.0]
    assert it.logrank(df, "t", "e", "g")["p"] == pytest.approx(1.0)


def test_table_one_counts_and_formats(tmp_path):
    df = pd.DataFrame({"grp": ["a"] * 4 + ["b"] * 4, "mut": [1, 1, 0, 0, 1, 0, 0, 0],
                       "age": [60, 70, 80, 90, 61, 62, 63, np.nan], "eln": ["x", "y", "x", "x", "y", "y", "y", "x"]})  # fmt: skip
    t1 = it.table_one(df, "grp", ["mut", "age", "eln"])
    row = t1[t1["variable"] == "mut"].iloc[0]
    assert row["a (n=4)"] == "2 (50%)" and row["b (n=4)"] == "1 (25%)" and row["test"] == "Fisher"
    age = t1[t1["variable"] == "age"].iloc[0]
    assert age["a (n=4)"] == "75.0 (67.5-82.5)" and age["missing"] == 1
    assert list(t1["level"][t1.index >= 2]) == ["x", "y"]
    paths = it.write_table_one(t1, tmp_path / "t1", caption="Cohort by group & 100%")
    tex = (tmp_path / "t1.tex").read_text()
    assert r"\&" in tex and r"100\%" in tex and r"\toprule" in tex
    assert "<table>" in (tmp_path / "t1.html").read_text() and len(paths) == 3


# --- planted effects of the simulated cohort ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def large_cohort(tmp_path_factory) -> pd.DataFrame:
    """The DREAM design at 2,000 patients: there every planted effect has power >= 0.97 (planted_effect_power)."""
    return simulated_patient_table(tmp_path_factory.mktemp("large"), n_patients=2000, seed=DEFAULT_SEED, feature_seed=7)


def test_primary_resistance_univariable_screen_on_dream_sized_cohort(assembled):
    p = assembled["patients"]
    uni = it.univariable_logistic(p, "primary_resistant", ["ven_auc", "cytometry_bcl2_family_score", "TP53",
                                                          "npm1_or_idh", "signalling", "tnk_activation"]).set_index("term")  # fmt: skip
    planted = PLANTED_EFFECTS["primary_resistance"]
    assert planted["ven_sensitivity_z"] < 0 and planted["TP53"] > 0 and planted["immune_activation"] == 0
    # Ex vivo VEN AUC is high when cells are resistant: a protective sensitivity means OR > 1 per SD of AUC.
    assert uni.loc["ven_auc", "odds_ratio"] > 1 and uni.loc["ven_auc", "q"] < 0.001
    assert uni.loc["cytometry_bcl2_family_score", "odds_ratio"] < 1 and uni.loc["cytometry_bcl2_family_score", "q"] < 0.01
    assert uni.loc["signalling", "odds_ratio"] > 1 and uni.loc["signalling", "q"] < 0.05  # power 0.95 at n = 120
    # Power 0.75 (TP53) and 0.63 (NPM1/IDH) at n = 120: their signs are asserted here, significance at n = 2,000.
    assert uni.loc["TP53", "odds_ratio"] > 1 and uni.loc["npm1_or_idh", "odds_ratio"] < 1
    assert uni.loc["tnk_activation", "q"] > 0.05  # the planted null


def test_planted_effects_on_dream_sized_cohort(assembled):
    """At 120 patients: effects with power >= 0.95 are significant, the others have the planted sign."""
    tab = planted_effect_tests(assembled["patients"], PLANTED_EFFECTS).set_index(["model", "term"])
    for model in ("univariable logistic", "multivariable logistic"):
        assert tab.loc[(model, "ven_auc"), "detected"] and tab.loc[(model, "signalling"), "detected"]
    for term in ("TP53", "signalling", "npm1_or_idh"):
        row = tab.loc[("multivariable logistic", term)]
        assert row["ci_low"] < row["planted_effect"] < row["ci_high"], term
    # Relapse: 30-40 events among the responders give power 0.2-0.7 per planted hazard; signs only at this size.
    cox = tab.xs("multivariable Cox")
    assert (np.sign(cox["log_effect_per_sd"]) == cox["expected_sign"])[cox["expected_sign"] != 0].all(), cox
    nulls = tab[tab["expected_sign"] == 0]
    assert len(nulls) == 3 and not nulls["detected"].any()


def test_every_planted_effect_is_recovered_at_adequate_power(large_cohort):
    tab = planted_effect_tests(large_cohort, PLANTED_EFFECTS)
    planted, nulls = tab[tab["expected_sign"] != 0], tab[tab["expected_sign"] == 0]
    assert len(planted) == 13 and len(nulls) == 3
    missed = planted.loc[~planted["detected"], ["model", "term", "log_effect_per_sd", "p"]]
    assert missed.empty, missed.to_string()
    assert not nulls["detected"].any(), nulls.to_string()
    # 0/1 genetic terms are per unit, as planted: the estimates land on the planted log-odds and log-hazards.
    genetic = planted[planted["term"].isin(["TP53", "signalling", "npm1_or_idh"]) & (planted["model"] != "univariable logistic")]
    assert len(genetic) == 5
    assert ((genetic["ci_low"] < genetic["planted_effect"]) & (genetic["planted_effect"] < genetic["ci_high"])).all(), genetic


def test_power_of_the_design_grows_with_cohort_size():
    small = planted_effect_power(120, n_cohorts=8, first_seed=500).set_index(["model", "term"])
    large = planted_effect_power(1500, n_cohorts=4, first_seed=500).set_index(["model", "term"])
    planted = small["expected_sign"] != 0
    assert (large.loc[planted, "detection_rate"] >= small.loc[planted, "detection_rate"]).all()
    assert small.loc[planted, "detection_rate"].min() < 0.5 < large.loc[planted, "detection_rate"].min()
    assert (small.loc[~planted, "detection_rate"] <= 0.25).all() and (large.loc[~planted, "detection_rate"] <= 0.5).all()
    with pytest.raises(ValueError, match="at least 20 patients"):
        planted_effect_power(10)


def test_cv_auc_within_range_implied_by_truth(assembled):
    p, truth = assembled["patients"], assembled["truth"]
    y = truth["primary_resistant"].to_numpy()
    assert (y == p["primary_resistant"].to_numpy()).all()
    # Ceiling: the true probabilities (they include the outcome noise no measurement can see).
    oracle, _, oracle_hi = it.auc_ci(y, truth["p_primary_resistance"], n_boot=400, seed=1)
    # Reachable: the planted linear predictor of the measurable quantities, without the noise term.
    e = PLANTED_EFFECTS["primary_resistance"]
    lp = (e["ven_sensitivity_z"] * truth["ven_sensitivity_z"] + e["TP53"] * p["TP53"] + e["signalling"] * p["signalling"]
          + e["NPM1_or_IDH"] * p["npm1_or_idh"])  # fmt: skip
    reach, reach_lo, reach_hi = it.auc_ci(y, lp, n_boot=400, seed=1)
    assert reach < oracle
    cv = it.cross_validated_auc(p, "primary_resistant", ["TP53", "signalling", "npm1_or_idh", "ven_auc",
                                                          "cytometry_bcl2_family_score", "pct_monocytic",
                                                          "tnk_activation"], penalty="none", n_repeats=5,
                                n_boot=200, seed=11)  # fmt: skip
    assert reach_lo <= cv.auc <= min(oracle_hi, reach_hi), (cv.auc, reach_lo, reach_hi, oracle_hi)
    assert cv.ci_low < cv.auc < cv.ci_high
    base = it.cross_validated_auc(p, "primary_resistant", ["eln2024"], penalty="none", n_repeats=5, n_boot=50, seed=11)
    assert cv.auc > base.auc + 0.1


def test_penalised_model_is_not_worse_than_chance_and_repeats_vary(assembled):
    cv = it.cross_validated_auc(assembled["patients"], "primary_resistant",
                                ["eln2024", "ven_auc", "cytometry_bcl2_family_score", "pct_monocytic", "tnk_activation",
                                 "aza_auc", "pct_blasts"], penalty="l1", n_repeats=3, n_boot=100, seed=3)  # fmt: skip
    assert cv.oof.shape == (len(cv.y), 3) and np.isfinite(cv.oof).all()
    assert 0.7 < cv.auc < 0.95 and cv.auc_repeats.std() > 0


def test_added_value_over_eln(assembled):
    av = it.added_value(assembled["patients"], "primary_resistant", ["eln2024"],
                        {"ven": ["ven_auc"], "null": ["tnk_activation"]}, n_repeats=4, n_boot=200, seed=5).set_index("marker")  # fmt: skip
    assert av.loc["ven", "p_lrt"] < 0.001 and av.loc["ven", "delta_ci_low"] > 0
    assert av.loc["null", "p_lrt"] > 0.05 and av.loc["null", "delta_ci_low"] < 0 < av.loc["null", "delta_ci_high"]
    assert av.loc["ven", "n"] == assembled["patients"]["ven_auc"].notna().sum()


def test_relapse_recovers_planted_hazards(assembled):
    resp = assembled["patients"].query("responder == 1")
    cox = it.univariable_cox(resp, "relapse_months", "relapse_event",
                             ["TP53", "ven_auc", "pct_monocytic", "tnk_activation"]).set_index("term")  # fmt: skip
    r = PLANTED_EFFECTS["relapse"]
    assert r["TP53"] > 0 and r["mono_frac"] > 0 and r["ven_sensitivity_z"] < 0
    # Signs at 120 patients (power 0.5-0.9 per hazard); significance is asserted on the 2,000-patient design below.
    assert (cox.loc[["TP53", "ven_auc", "pct_monocytic"], "hazard_ratio"] > 1).all()
    assert cox.loc["tnk_activation", "q"] > 0.05
    lr = it.logrank(resp, "relapse_months", "relapse_event", "eln2024")
    # Part of the ELN effect on relapse runs through MRD (planted since the ELN 2022 outcomes): p about 0.02 here.
    assert lr["p"] < 0.05 and lr["events"] == int(resp["relapse"].sum())


def test_relapse_shift_by_mixed_model(assembled):
    sh = it.timepoint_shifts(assembled["sample_table"], ["pct_monocytic", "cytometry_bcl2_family_score",
                                                         "tnk_activation", "shannon_ratio"]).set_index("feature")  # fmt: skip
    planted = PLANTED_EFFECTS["relapse_shift"]
    assert planted["mono_frac_increase"] > 0 and planted["bcl2_dependence_decrease"] > 0
    assert sh.loc["pct_monocytic", "estimate"] > 0 and sh.loc["pct_monocytic", "q"] < 0.001
    assert sh.loc["cytometry_bcl2_family_score", "estimate"] < 0 and sh.loc["cytometry_bcl2_family_score", "q"] < 0.001
    # The mixed-model shift agrees with the planted one within its interval (bcl2 z-score: -0.9 x U(0.6, 1.4)).
    assert sh.loc["cytometry_bcl2_family_score", "ci_low"] < -planted["bcl2_dependence_decrease"] < sh.loc[
        "cytometry_bcl2_family_score", "ci_high"] + 0.3  # fmt: skip
    assert sh.loc["tnk_activation", "q"] > 0.05
    assert np.isnan(sh.loc["shannon_ratio", "p"])  # PDX only at diagnosis: not testable, and said so


# --- figures, index and notebook header ---------------------------------------------------------------------------


def test_figures_are_labelled_and_indexed(assembled, tmp_path):
    p = assembled["patients"]
    resp = p.query("responder == 1")
    idx = Notebook("05_integration", out=tmp_path, figs=tmp_path)
    fit = it.fit_logistic(p, "primary_resistant", ["eln2024", "ven_auc"])
    figs = {
        "forest": it.forest_plot(fit.table, label="term", estimate="odds_ratio", low="ci_low", high="ci_high",
                                 xlabel="odds ratio (95% CI)"),
        "roc": it.roc_plot({"m": (p["primary_resistant"], p["ven_auc"].fillna(0), "AUC")}),
        "km": it.km_plot(resp, "relapse_months", "relapse_event", "eln2024", xlabel="months", ylabel="relapse-free"),
        "heat": it.biomarker_heatmap(p, ["ven_auc", "lsc17"], group="response_group", sources={"ven_auc": "dst"}),
    }  # fmt: skip
    figs = {k: figure_of(v) for k, v in figs.items()}  # one-panel functions return their Axes
    for name, fig in figs.items():
        ax = fig.axes[0]
        assert ax.get_xlabel() and (ax.get_ylabel() or name in ("forest", "heat")), name
        idx.save(fig, name, section="s", caption="c")
    assert not plt.get_fignums()  # saved figures are closed
    t = pd.read_csv(idx.write_figure_index())
    assert list(t["figure"]) == list(figs)
    for name in figs:
        assert (tmp_path / f"{name}.pdf").stat().st_size > 0 and (tmp_path / f"{name}.png").stat().st_size > 0
    # Numbers at risk: at time 0 every responder with an ELN class is at risk.
    texts = [t.get_text() for t in figs["km"].axes[0].texts]
    assert str((resp["eln2024"] == "favorable").sum()) in texts


def test_notebook_header_and_parameters():
    src = NOTEBOOK.read_text()
    spec = discover_notebooks()[NOTEBOOK.stem]  # the header as run_all reads it
    assert spec.inputs == () and spec.upstream == ("01_dst", "02_cytometry", "03_scrna", "04_barcodes")
    params = src.split('# %% tags=["parameters"]', 1)[1].split("# %%", 1)[0]
    ns: dict = {}
    exec(params, {}, ns)  # noqa: S102 - our own notebook's literals
    for key in ("cohort", "data_dir", "output_dir", "figures_dir", "upstream_dirs", "seed"):
        assert key in ns, key
    assert ns["upstream_dirs"] == {} and "mode" not in ns
    assert not re.search(r"[\"']/[A-Za-z]", src), "absolute paths in the notebook"


def test_qc_readouts_are_not_biomarkers_and_p_values_display():
    dic = pd.DataFrame({"name": ["dst_qc_pass", "dst_z_prime", "ven_auc", "n_cells", "lsc17", "sample_id"],
                        "unit": "", "source": ["plate QC", "plate QC", "probit fit", "scrna", "scrna", "samples.csv"],
                        "definition": "", "role": ["qc", "qc", "auc", "qc", "score", "id"]})  # fmt: skip
    assert it.biomarker_candidates(dic, [*dic["name"], "log10_ven_ic50_um"]) == ["ven_auc", "lsc17",
                                                                                  "log10_ven_ic50_um"]
    shown = it.format_p(pd.DataFrame({"p": [1e-12, 0.04321, np.nan], "x": [1.23456, 2.0, 3.0]}))
    assert shown["p"].tolist() == ["<0.001", "0.043", ""] and shown["x"].iloc[0] == 1.235


def test_cumulative_incidence_with_competing_risks():
    rng = np.random.default_rng(4)
    n = 300
    t = np.round(rng.exponential(10, n), 1)  # rounded: ties between causes must be handled exactly
    cause = rng.choice([0, 1, 2], n, p=[0.3, 0.5, 0.2])
    df = pd.DataFrame({"t": t, "c": cause, "g": "all"})
    km_all = it.km_summary(df.assign(e=(df["c"] > 0).astype(int)), "t", "e", "g", at=(5.0, 15.0)).iloc[0]
    c1 = it.cumulative_incidence(df, "t", "c", "g", at=(5.0, 15.0)).iloc[0]
    c2 = it.cumulative_incidence(df.assign(c=df["c"].map({0: 0, 1: 2, 2: 1})), "t", "c", "g", at=(5.0, 15.0)).iloc[0]
    # The cause-specific incidences add up to 1 - all-cause Kaplan-Meier.
    for a in ("5", "15"):
        assert c1[f"cif_{a}m"] + c2[f"cif_{a}m"] == pytest.approx(1 - km_all[f"surv_{a}m"], abs=1e-9)
    # Without competing events the incidence is 1 - Kaplan-Meier of that event.
    only = df.assign(c=df["c"].clip(upper=1))
    km1 = it.km_summary(only.assign(e=only["c"]), "t", "e", "g", at=(15.0,)).iloc[0]
    assert it.cumulative_incidence(only, "t", "c", "g", at=(15.0,)).iloc[0]["cif_15m"] == pytest.approx(
        1 - km1["surv_15m"], abs=1e-9)
    # Censoring competing deaths overstates relapse (1 - KM > CIF).
    km_cens = it.km_summary(df.assign(e=(df["c"] == 1).astype(int)), "t", "e", "g", at=(15.0,)).iloc[0]
    assert 1 - km_cens["surv_15m"] > c1["cif_15m"]
