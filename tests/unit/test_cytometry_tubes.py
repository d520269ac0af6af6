"""The cohort's dye-dilution, MRD and batch-control tubes: recovery of the simulator's planted truth, negative
controls, the reference-control contract, FlowJo workspaces through ``readouts``, flow MRD into the integration.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_cytometry_tubes_public_data.py``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr, spearmanr

from helpers.cytometry import feature_dictionary, load_cytometry, process_files, read_fcs, sample_features
from helpers.cytometry.gating import apply_strategy, compensate_for, load_strategy
from helpers.cytometry.mrd import laip_events
from helpers.cytometry.proliferation import proliferation_table
from helpers.cytometry.tubes import (
    TUBE_FEATURES,
    batch_normalised_mfi,
    load_reference_controls,
    mrd_readouts,
    normalised_features,
    proliferation_features,
    proliferation_readouts,
)
from helpers.errors import DataContractError
from helpers.paths import repo_root
from helpers.simulate import DEFAULT_SEED, ensure_cohort


@pytest.fixture(scope="module")
def ci_cyto():
    return ensure_cohort(repo_root() / "data/simulated/ci", scale="ci", seed=DEFAULT_SEED, axes=("cytometry",))


@pytest.fixture(scope="module")
def inputs(ci_cyto):
    return load_cytometry(ci_cyto / "cytometry")


# ----------------------------------------------------------------------------------------------------------------------
# Dye dilution in the cohort


def test_cohort_dye_dilution_recovers_planted_generations(ci_cyto, inputs):
    got = proliferation_readouts(inputs.sheet)
    truth = pd.read_csv(ci_cyto / "truth" / "cytometry_proliferation.csv")
    m = got.merge(truth, on=["sample_id", "condition"], suffixes=("", "_true"))
    assert len(m) == len(truth) == 4 * got["sample_id"].nunique() >= 40
    for col, r_min, mae in (("division_index", 0.97, 0.12), ("percent_divided", 0.95, 4.0),
                            ("proliferation_index", 0.95, 0.15)):  # fmt: skip
        r = pearsonr(m[col], m[f"{col}_true"])[0]
        assert r > r_min and np.mean(np.abs(m[col] - m[f"{col}_true"])) < mae, (col, r)
    # The drug-treated arms divide less, as planted: AZA+VEN below untreated in every sample.
    di = got.pivot(index="sample_id", columns="condition", values="division_index")
    assert (di["AZA+VEN"] < di["untreated"]).all() and (di["AZA"] < di["untreated"]).mean() >= 0.9
    f = proliferation_features(got)
    planted = truth.pivot(index="sample_id", columns="condition", values="division_index")
    arrest_true = 100 * (1 - planted["AZA"] / planted["untreated"])
    assert pearsonr(f["dye_prolif_arrest_aza"], arrest_true.loc[f.index])[0] > 0.9
    # The model-free median-dilution estimate agrees with the fitted generations.
    assert spearmanr(f["dye_median_divisions_untreated"], f["dye_division_index_untreated"])[0] > 0.8


def test_day0_reference_read_as_a_sample_shows_no_division(inputs):
    """Real negative control: undivided cells (each sample's own day-0 tube, measured against another sample's)."""
    prolif = inputs.sheet[inputs.sheet["panel"] == "PROLIF"]
    day0 = prolif[prolif["condition"] == "day0"].sort_values("sample_id")["path"].tolist()
    unst = prolif[prolif["condition"] == "unstained"].sort_values("sample_id")["path"].tolist()
    t = proliferation_table(day0[1:6], "CFSE", day0[0], unstained=unst[0])
    assert (t["percent_divided"] < 5).all() and (t["division_index"] < 0.06).all(), t[["percent_divided"]]


# ----------------------------------------------------------------------------------------------------------------------
# Flow MRD at remission


def test_samples_list_cytometry_for_remission_marrows_with_an_mrd_tube(ci_cyto, inputs):
    from helpers.assays import has_assay
    from helpers.simulate.cohort import simulate_patients

    samples = pd.read_csv(ci_cyto / "samples.csv", dtype=str, keep_default_na=False).set_index("sample_id")
    tubes = set(inputs.sheet["sample_id"])
    listed = set(samples.index[has_assay(samples["assays"], "cytometry").to_numpy()])
    assert tubes <= listed, sorted(tubes - listed)  # every sample with a tube lists the assay
    mrd_rem = set(inputs.sheet.loc[(inputs.sheet["panel"] == "MRD") & (inputs.sheet["condition"] == "remission"),
                                   "sample_id"])  # fmt: skip
    assert mrd_rem and (samples.loc[sorted(mrd_rem), "timepoint"] == "remission").all()
    assert listed - tubes == set()  # and no sample lists it without a tube
    # Only those remission samples change; every other cell of samples.csv is the patients' table as drawn.
    drawn = simulate_patients(len(pd.read_csv(ci_cyto / "clinical.csv")), seed=DEFAULT_SEED).samples
    drawn = drawn.astype(str).replace("nan", "").set_index("sample_id")
    diff = (samples != drawn.loc[samples.index, samples.columns]).any(axis=1)
    assert set(samples.index[diff]) == mrd_rem
    # The CI cohort stays under its 50 MB limit.
    size = sum(f.stat().st_size for f in ci_cyto.rglob("*") if f.is_file() and ".stamps" not in f.parts)
    assert size < 50e6, size


def test_cohort_mrd_at_planted_levels_around_the_lod(ci_cyto, inputs):
    controls = load_reference_controls(ci_cyto / "cytometry")
    samples = pd.read_csv(ci_cyto / "samples.csv", dtype=str)
    mrd = mrd_readouts(inputs.sheet, controls, samples).set_index("sample_id")
    truth = pd.read_csv(ci_cyto / "truth" / "cytometry_mrd.csv")
    rem = truth[truth["condition"] == "remission"].set_index("sample_id")
    assert set(mrd.index) == set(rem.index) and len(rem) >= 5
    n_true = rem["n_leukemic"].loc[mrd.index]
    # Counted events follow the planted ones from 0 to hundreds (within 3 events or 10 %).
    assert (np.abs(mrd["mrd_flow_events"] - n_true) <= np.maximum(3, 0.1 * n_true)).all(), mrd["mrd_flow_events"]
    # The planted levels straddle the LOD: some samples under it, some between LOD and LLOQ or above.
    lod = mrd["mrd_flow_lod_pct"]
    assert (rem["planted_mrd_pct"] < lod).any() and (rem["planted_mrd_pct"] > lod).any()
    for sid, r in mrd.iterrows():
        if r["mrd_flow_events"] < 20:  # under the LOD: no value, and too few CD45+ events for a negative call
            assert np.isnan(r["mrd_flow_pct"]) and r["mrd_flow_status"] == "not_evaluable"
        else:
            assert r["mrd_flow_pct"] == pytest.approx(rem.at[sid, "planted_mrd_pct"], rel=0.15, abs=0.02)
    # The diagnosis LAIP is found: the profile read from the diagnosis tube holds planted aberrancies only (a loss of
    # HLA-DR hides among the HLA-DR- normal CD117+ progenitors, so not every planted marker is found).
    for sid, r in mrd.iterrows():
        planted = set(rem.at[sid, "laip"].split(";"))
        found = {re.sub(r"[+-]$", "", m) for m in r["laip"].split(";") if m}
        assert found and found <= planted, (sid, r["laip"], planted)


def test_laip_on_a_normal_marrow_gives_few_false_positives(ci_cyto, inputs):
    """Real negative control: each patient's LAIP applied to the normal regenerating marrow's progenitors."""
    from helpers.cytometry.mrd import laip_profile

    controls = load_reference_controls(ci_cyto / "cytometry")
    strat = load_strategy("mrd_progenitors")
    markers = ["CD34", "CD117", "CD45", "CD33", "CD13", "CD56", "CD7", "HLA-DR"]

    def prog(path):
        data = compensate_for(strat, read_fcs(path))
        out, _ = apply_strategy(data, strat, compensated=True)
        m = out.membership["progenitors"]
        return np.arcsinh(pd.DataFrame({k: data.events[m, data.column(k)] for k in markers}) / 150)

    normal = prog(controls.loc[controls["role"] == "normal_reference", "path"].iloc[0])
    half = len(normal) // 2  # LAIP thresholds from one half of the normal cells, false positives on the other
    fp, n = 0, 0
    for p in inputs.sheet.loc[(inputs.sheet["panel"] == "MRD") & (inputs.sheet["condition"] == "diagnosis"), "path"]:
        laip = laip_profile(prog(p), normal.iloc[:half])
        fp += int(laip_events(normal.iloc[half:], laip).sum())
        n += len(normal) - half
    assert fp / n < 0.005, (fp, n)


def test_reference_controls_contract(ci_cyto, tmp_path):
    d = tmp_path / "cytometry"
    d.mkdir()
    df = pd.read_csv(ci_cyto / "cytometry" / "reference_controls.csv", dtype=str, keep_default_na=False)
    assert set(df["role"]) == {"batch_control", "normal_reference"}
    df.assign(role=df["role"].where(df.index != 1, "blank")).to_csv(d / "reference_controls.csv", index=False)
    with pytest.raises(DataContractError, match=r"row 3, column 'role'.*'blank' is not one of"):
        load_reference_controls(d)
    df.assign(batch=df["batch"].where(df.index != 0, "")).to_csv(d / "reference_controls.csv", index=False)
    with pytest.raises(DataContractError, match=r"row 2, column 'batch'.*needs its batch"):
        load_reference_controls(d)
    assert load_reference_controls(tmp_path) is None  # no file: no normalisation, no MRD reference


# ----------------------------------------------------------------------------------------------------------------------
# Batch shifts in the cohort


@pytest.fixture(scope="module")
def pheno(ci_cyto, inputs):
    sheet = inputs.sheet[inputs.sheet["panel"] == "PHENO"]
    res = process_files(sheet, inputs.gating, panels=inputs.panels)
    return sheet, res


def test_cohort_batch_shift_undone_by_reference_sample_normalisation(ci_cyto, pheno):
    sheet, res = pheno
    controls = load_reference_controls(ci_cyto / "cytometry")
    mfi, norm = batch_normalised_mfi(res["mfi"], sheet, controls)
    ids = pd.Index(sorted(sheet["sample_id"].unique()), name="sample_id")
    f = sample_features(res, sheet, scores=False).set_index("sample_id").join(normalised_features(mfi, ids))
    truth = pd.read_csv(ci_cyto / "truth" / "cytometry_samples.csv").set_index("sample_id").loc[f.index]
    batch = pd.read_csv(ci_cyto / "truth" / "cytometry_batches.csv").set_index("sample_id")["batch"].loc[f.index]
    gains = pd.read_csv(ci_cyto / "truth" / "cytometry_batch_effects.csv")
    # The fitted maps recover the planted staining gains (log10 scale) of every batch and stain.
    level = {"BCL2": 10**3.5, "BCL-xL": 10**2.9, "MCL1": 10**3.2}  # the stains' level in normal cells (simulator)
    for r in gains.itertuples(index=False):
        x = np.arcsinh(level[r.marker] * r.stain_gain / 150)
        got = np.log10(np.sinh(norm.maps_[r.batch][r.marker](x)) / np.sinh(x))
        mean_gain = np.mean(np.log10(gains.loc[gains["marker"] == r.marker, "stain_gain"]))
        assert got == pytest.approx(mean_gain - np.log10(r.stain_gain), abs=0.04), r
    for col, tcol in (("lsc_bcl2_mfi", "lsc_bcl2_log10"), ("lsc_bclxl_mfi", "lsc_bclxl_log10"), ("lsc_mcl1_mfi", "lsc_mcl1_log10")):
        ok = f[col].notna() & f[f"{col}_norm"].notna()
        raw, fixed = np.log10(f.loc[ok, col]), np.log10(f.loc[ok, f"{col}_norm"])
        r_raw, r_fix = pearsonr(raw, truth.loc[ok, tcol])[0], pearsonr(fixed, truth.loc[ok, tcol])[0]
        share = lambda v, ok=ok: v.groupby(batch[ok]).transform("mean").var() / v.var()  # noqa: E731
        assert r_fix > r_raw + 0.02 and r_fix > 0.8, (col, r_raw, r_fix)
        # what the batch explains beyond the truth: residuals of log MFI on the true level
        res_raw = raw - truth.loc[ok, tcol]
        res_fix = fixed - truth.loc[ok, tcol]
        assert share(res_fix) < 0.5 * share(res_raw), (col, share(res_raw), share(res_fix))
    latent = pd.read_csv(ci_cyto / "truth" / "samples.csv").set_index("sample_id").loc[f.index]
    ok = f["bcl2_family_score_norm"].notna()
    assert spearmanr(f.loc[ok, "bcl2_family_score_norm"], latent.loc[ok, "bcl2_dependence"])[0] > 0.85


def test_normalisation_needs_batches(ci_cyto, pheno):
    sheet, res = pheno
    controls = load_reference_controls(ci_cyto / "cytometry")
    with pytest.raises(DataContractError, match="'batch' column"):
        batch_normalised_mfi(res["mfi"], sheet.drop(columns="batch"), controls)
    with pytest.raises(DataContractError, match="at least 2 batches"):
        batch_normalised_mfi(res["mfi"], sheet, controls.iloc[[0]])


# ----------------------------------------------------------------------------------------------------------------------
# Dictionary, FlowJo workspace through readouts, flow MRD into the integration


def test_dictionary_has_role_direction_and_unit_for_the_new_features():
    cols = ["sample_id", "patient_id", "timepoint", "pct_blasts", "spec_apoptosis_ven", *TUBE_FEATURES]
    d = feature_dictionary(cols).set_index("name")
    assert list(d.columns) == ["unit", "source", "definition", "role", "biomarker", "direction"]
    assert set(d.index) == set(cols)
    new = d.loc[list(TUBE_FEATURES)]
    assert (new["unit"] != "").all() and (new["role"] != "").all()
    assert set(new["role"]) == {"proliferation", "drug_effect", "bcl2_family", "mrd", "qc"}
    # What a higher value means stays in words in the definition; the direction is the integration's vocabulary.
    assert new.loc[new["role"] != "qc", "definition"].str.contains("; higher = ").all()
    assert set(d["direction"]) <= {"", "resistant", "sensitive"} and d.at["mrd_flow_pct", "direction"] == "resistant"
    assert d.at["spec_apoptosis_ven", "role"] == "drug_effect" and "qc" in d.at["mrd_flow_cd45_events", "source"]


def test_flow_mrd_becomes_a_clinical_column_of_the_integration():
    from helpers.integration.tables import FeatureTable, assemble_patient_table

    table = pd.DataFrame({"sample_id": ["P1-DX", "P1-REM", "P2-DX"], "patient_id": ["P1", "P1", "P2"],
                          "timepoint": ["diagnosis", "remission", "diagnosis"], "pct_blasts": [60.0, np.nan, 40.0],
                          "mrd_flow_pct": [np.nan, 0.32, np.nan]})  # fmt: skip
    dic = pd.DataFrame({"name": ["pct_blasts", "mrd_flow_pct"], "unit": ["%", "%"], "source": ["cytometry"] * 2,
                        "definition": ["", ""]})  # fmt: skip
    ft = FeatureTable(axis="cytometry", table=table, dictionary=dic, level="sample", n_input_rows=3)
    samples = table[["sample_id", "patient_id", "timepoint"]].assign(assays="cytometry")
    pt = assemble_patient_table(pd.DataFrame({"patient_id": ["P1", "P2"]}), samples, {"cytometry": ft})
    pt = pt.set_index("patient_id")
    assert pt.at["P1", "mrd_flow_pct"] == pytest.approx(0.32) and np.isnan(pt.at["P2", "mrd_flow_pct"])
    assert pt.at["P1", "pct_blasts"] == 60.0 and list(pt.columns).count("mrd_flow_pct") == 1
