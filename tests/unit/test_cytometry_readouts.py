"""Functional read-outs: formulas, the cut-off derivation, the data contract, and recovery of the planted truth."""

from __future__ import annotations

import dataclasses
import os
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr, spearmanr

from helpers.cytometry import (
    CytometryResult,
    bcl2_family_score,
    check_panel,
    derive_cutoff,
    feature_dictionary,
    load_cytometry,
    load_panels,
    load_sample_sheet,
    process_files,
    read_fcs,
    run_flowsom,
    sample_features,
    scenith_indices,
    specific_apoptosis,
)
from helpers.cytometry.__main__ import main as cli
from helpers.cytometry.privacy import tube_ids
from helpers.errors import DataContractError


def test_specific_apoptosis_formula():
    np.testing.assert_allclose(specific_apoptosis([20, 60, 10], [20, 20, 20]), [0, 50, -12.5])
    assert np.isnan(specific_apoptosis(100, 100))


def test_scenith_indices_formula():
    # Co 1000, DGO 100: Co - DGO = 900. DG 550 -> glucose dependence 50 %; O 280 -> mitochondrial dependence 80 %.
    r = scenith_indices(1000, 550, 280, 100)
    assert r["glucose_dependence"] == pytest.approx(50) and r["fao_aao_capacity"] == pytest.approx(50)
    assert r["mitochondrial_dependence"] == pytest.approx(80) and r["glycolytic_capacity"] == pytest.approx(20)
    clipped = scenith_indices([1000, 1000], [1100, 550], [-50, 280], [100, 1200])
    assert clipped["glucose_dependence"][0] == 0 and clipped["mitochondrial_dependence"][0] == 100
    assert np.isnan(clipped["glucose_dependence"][1])  # DGO above Co: no signal to apportion


def test_bcl2_family_score():
    assert bcl2_family_score(4000, 1000, 1000) == pytest.approx(2.0)
    # A ratio: the unit of intensity cancels.
    assert bcl2_family_score(40, 10, 10) == pytest.approx(bcl2_family_score(4000, 1000, 1000))
    assert np.isnan(bcl2_family_score(4000, 0, 1000))


def test_derive_cutoff_recovers_a_planted_threshold():
    rng = np.random.default_rng(3)
    score = rng.uniform(-2, 2, 400)
    y = (score + rng.normal(0, 0.25, 400) > 0.5).astype(int)
    r = derive_cutoff(score, y, seed=1, n_boot=200, n_repeats=5)
    assert abs(r["cutoff"] - 0.5) < 0.15
    assert r["cutoff_ci"][0] <= r["cutoff"] <= r["cutoff_ci"][1] and r["cutoff_ci"][1] - r["cutoff_ci"][0] < 0.5
    assert r["cv_sensitivity"] > 0.85 and r["cv_specificity"] > 0.85 and r["auc"] > 0.95
    # No signal: the cross-validated accuracy falls to chance even though a cut-off can always be found.
    r0 = derive_cutoff(rng.normal(size=300), rng.integers(0, 2, 300), seed=1, n_boot=50, n_repeats=5)
    assert 0.35 < r0["cv_accuracy"] < 0.65


@pytest.fixture(scope="module")
def processed(ci_cyto):
    inputs = load_cytometry(ci_cyto / "cytometry")
    res = process_files(inputs.sheet, inputs.gating)
    samples = pd.read_csv(ci_cyto / "samples.csv")
    return inputs, res, sample_features(res, inputs.sheet, samples)


def test_the_chain_returns_one_frozen_dataclass(processed):
    res = processed[1]
    assert isinstance(res, CytometryResult)
    assert [f.name for f in dataclasses.fields(res)] == ["stats", "mfi", "qc", "profiles"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.qc = res.mfi
    assert res["stats"] is res.stats
    with pytest.raises(KeyError):
        res["features"]
    assert set(res.qc["tube_id"]) == set(res.stats["tube_id"])


# Feature -> planted truth column (truth/cytometry_samples.csv), with the minimum Pearson r required at CI scale.
RECOVERY = {
    "pct_blasts": ("leukemic_pct_of_cd45", 0.95),
    "pct_monocytic": ("monocytic_pct_of_leukemic", 0.95),
    "pct_lsc": ("lsc_pct_of_leukemic", 0.85),
    "spec_apoptosis_ven": ("specific_apoptosis_VEN", 0.9),
    "spec_apoptosis_aza": ("specific_apoptosis_AZA", 0.6),
    "spec_apoptosis_azaven": ("specific_apoptosis_AZA+VEN", 0.9),
    "ki67_untreated": ("ki67_pct_untreated", 0.85),
    "scenith_glucose_dependence": ("scenith_glucose_dependence", 0.85),
    "scenith_mito_dependence": ("scenith_mito_dependence", 0.8),
    "t_cd69_pct": ("t_activated_pct", 0.8),
}


@pytest.mark.slow
def test_features_recover_planted_truth(ci_cyto, processed):
    _, _, f = processed
    truth = pd.read_csv(ci_cyto / "truth" / "cytometry_samples.csv").set_index("sample_id").loc[f["sample_id"]]
    samples = pd.read_csv(ci_cyto / "samples.csv", dtype=str, keep_default_na=False)
    planned = samples[samples["assays"].str.split(";").map(lambda a: "cytometry" in a)]
    # Remission marrows carry an MRD tube only: their features come from tubes.mrd_readouts, not the gated panels.
    planned = planned[planned["timepoint"] != "remission"]
    assert len(f) == truth.shape[0] == len(planned) > 120  # one feature row per cytometry sample, none lost
    assert set(f["sample_id"]) == set(planned["sample_id"])
    for feat, (col, r_min) in RECOVERY.items():
        x, y = f[feat].to_numpy(), truth[col].to_numpy()
        ok = np.isfinite(x)
        assert ok.mean() > 0.95, feat
        r = pearsonr(x[ok], y[ok])[0]
        assert r > r_min, (feat, round(r, 3))
    # Levels too, not only ranks: the specific apoptosis to VEN is unbiased within 5 points on average.
    assert abs(np.nanmean(f["spec_apoptosis_ven"]) - truth["specific_apoptosis_VEN"].mean()) < 5
    # BCL2-family score against the latent BCL2 dependence (only samples with enough LSC events carry a score).
    latent = pd.read_csv(ci_cyto / "truth" / "samples.csv").set_index("sample_id").loc[f["sample_id"]]
    ok = f["bcl2_family_score"].notna().to_numpy()
    assert ok.mean() > 0.8
    assert spearmanr(f["bcl2_family_score"][ok], latent["bcl2_dependence"][ok])[0] > 0.85
    # The immune activation score tracks the planted (null) activation.
    assert spearmanr(f["immune_activation_score"], latent["immune_activation"])[0] > 0.8


def test_qc_and_feature_dictionary(ci_cyto, processed):
    inputs, res, f = processed
    assert "file" not in res["qc"] and "file" not in res["stats"] and "file" not in res["mfi"]  # ids, not file names
    files = inputs.sheet.set_index(tube_ids(inputs.sheet))["file"]  # the sheet is the private tube -> file map
    truth = pd.read_csv(ci_cyto / "truth" / "cytometry_files.csv").set_index("file").loc[files[res["qc"]["tube_id"]]]
    assert np.array_equal(res["qc"]["qc_flow_anomaly"].to_numpy(), truth["clog"].to_numpy() == 1)
    d = feature_dictionary(f.columns)
    assert list(d.columns) == ["name", "unit", "source", "definition", "role", "biomarker", "direction"]
    assert set(d["name"]) == set(f.columns)
    assert f["sample_id"].is_unique and {"patient_id", "timepoint"} <= set(f.columns)
    need = {"pct_blasts", "pct_monocytic", "pct_lsc", "spec_apoptosis_ven", "spec_apoptosis_aza",
            "spec_apoptosis_azaven", "scenith_glucose_dependence", "scenith_mito_dependence", "lsc_bcl2_mfi",
            "lsc_mcl1_mfi", "lsc_bclxl_mfi", "bcl2_family_score", "t_cd69_pct", "nk_cd69_pct"}  # fmt: skip
    assert need <= set(f.columns)


def test_raw_file_statistics_show_planted_signals(ci_cyto):
    """Straight from the raw FCS files, without the gating code: monocytic (CD14 bright) events and VEN killing."""
    truth = pd.read_csv(ci_cyto / "truth" / "cytometry_samples.csv")
    hi = truth.nlargest(8, "monocytic_pct_of_leukemic")["sample_id"]
    lo = truth.nsmallest(8, "monocytic_pct_of_leukemic")["sample_id"]

    def cd14_bright(sid):
        d = read_fcs(ci_cyto / "cytometry" / "fcs" / sid / "FUNC_untreated.fcs")
        return float((d.events[:, d.column("CD14")] > 1000).mean())

    assert np.mean([cd14_bright(s) for s in hi]) > 3 * np.mean([cd14_bright(s) for s in lo])
    sens = truth.nlargest(8, "specific_apoptosis_VEN")["sample_id"]
    res = truth.nsmallest(8, "specific_apoptosis_VEN")["sample_id"]

    def annexin_gain(sid):
        a = [read_fcs(ci_cyto / "cytometry" / "fcs" / sid / f"FUNC_{c}.fcs") for c in ("untreated", "VEN")]
        return np.diff([float((d.events[:, d.column("AnnexinV")] > 2000).mean()) for d in a])[0]

    assert np.mean([annexin_gain(s) for s in sens]) > np.mean([annexin_gain(s) for s in res]) + 0.2


def test_cli_readouts(ci_cyto, tmp_path):
    sheet = pd.read_csv(ci_cyto / "cytometry" / "sample_sheet.csv")
    small = tmp_path / "cytometry"
    small.mkdir()
    sub = sheet[sheet["sample_id"].isin(["DRM001-DX", "DRM002-DX"])]
    sub.to_csv(small / "sample_sheet.csv", index=False)
    for f in sub["file"]:
        (small / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ci_cyto / "cytometry" / f, small / f)
    shutil.copyfile(ci_cyto / "cytometry" / "panels.csv", small / "panels.csv")
    out = tmp_path / "out"
    assert cli(["readouts", "--sheet", str(small / "sample_sheet.csv"), "--samples", str(ci_cyto / "samples.csv"),
                "--out", str(out)]) == 0  # fmt: skip
    f = pd.read_csv(out / "features.csv")
    assert f["sample_id"].tolist() == ["DRM001-DX", "DRM002-DX"]
    assert (out / "features_dictionary.csv").is_file() and (out / "qc.csv").is_file()
    ids = pd.read_csv(ci_cyto / "truth" / "cytometry_identifiers.csv")["identifier"]
    text = "".join(p.read_text() for p in out.glob("*.csv"))
    assert not any(s in text for s in ids)


def _copy_contract(ci_cyto, tmp_path):
    d = tmp_path / "cytometry"
    d.mkdir()
    for n in ("sample_sheet.csv", "panels.csv", "gating.yaml"):
        shutil.copyfile(ci_cyto / "cytometry" / n, d / n)
    # Hard links, not a symbolic link: sheet paths must resolve inside the cytometry folder.
    shutil.copytree(ci_cyto / "cytometry" / "fcs", d / "fcs", copy_function=os.link)
    return d


@pytest.mark.parametrize(
    ("fname", "edit", "pattern"),
    [
        ("sample_sheet.csv", lambda d: d.drop(columns="condition"), r"column 'condition'.*missing required column"),
        ("sample_sheet.csv", lambda d: d.assign(ven_um=d["ven_um"].where(d.index != 4, -0.1)),
         r"row 6, column 'ven_um'.*invalid value '-0.1'"),
        ("sample_sheet.csv", lambda d: d.assign(condition=d["condition"].where(d.index != 2, "DMSO")),
         r"row 4, column 'condition'.*'DMSO' is not one of"),
        ("sample_sheet.csv", lambda d: pd.concat([d, d.iloc[[0]]]), r"column 'file'.*duplicated value"),
        ("sample_sheet.csv", lambda d: d.assign(file=d["file"].where(d.index != 0, "fcs/none.fcs")),
         r"row 2, column 'file'.*does not exist"),
        ("panels.csv", lambda d: pd.concat([d, d.iloc[[0]].assign(marker="CD99")]),
         r"panels\.csv.*column 'channel'.*listed twice"),
        ("panels.csv", lambda d: d[d["panel"] != "SCENITH"], r"sample_sheet\.csv.*panel 'SCENITH' is not defined"),
    ],
)
def test_contract_loaders_name_file_row_column(ci_cyto, tmp_path, fname, edit, pattern):
    d = _copy_contract(ci_cyto, tmp_path)
    df = pd.read_csv(d / fname, dtype=str, keep_default_na=False)
    edit(df).to_csv(d / fname, index=False)
    with pytest.raises(DataContractError, match=pattern):
        load_cytometry(d)


def test_panel_check_names_the_channel(ci_cyto):
    panels = load_panels(ci_cyto / "cytometry" / "panels.csv")
    data = read_fcs(ci_cyto / "cytometry" / "fcs" / "DRM001-DX" / "PHENO_untreated.fcs")
    check_panel(data, panels["PHENO"], panel_name="PHENO")
    with pytest.raises(DataContractError, match=r"channel 'FITC-A'.*carries 'BCL2'.*says 'AnnexinV'"):
        check_panel(data, {"AnnexinV": "FITC-A"}, panel_name="FUNC")
    sheet = load_sample_sheet(ci_cyto / "cytometry" / "sample_sheet.csv")
    for r in sheet.drop_duplicates("panel").itertuples():
        check_panel(read_fcs(r.path), panels[r.panel], panel_name=r.panel)


@pytest.mark.slow
def test_flowsom_deterministic_and_separates_populations():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(m, 0.5, (800, 4)) for m in (0, 3, 6)]).astype(np.float32)
    truth = np.repeat([0, 1, 2], 800)
    c1, m1, prof = run_flowsom(X, ["a", "b", "c", "d"], xdim=5, ydim=5, n_metaclusters=3, seed=2)
    c2, m2, _ = run_flowsom(X, ["a", "b", "c", "d"], xdim=5, ydim=5, n_metaclusters=3, seed=2)
    assert np.array_equal(m1, m2) and np.array_equal(c1, c2)
    assert pd.crosstab(truth, m1).max(axis=1).sum() / len(truth) > 0.99
    assert prof.shape == (3, 4)
