"""The simulated DST plates: data contract, determinism, artefacts flagged, planted biology recovered."""

from __future__ import annotations

import dataclasses
import filecmp

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from helpers.clinical import clinical_endpoints, load_clinical, load_samples
from helpers.dst import DSTResult, bootstrap_auc, process_plates, read_long_table, roc_auc, sample_features
from helpers.dst.contract import load_plates, read_plate_map, read_reader_export
from helpers.simulate import DEFAULT_SEED, simulate_patients
from helpers.simulate.dst import simulate_dst


def _make(folder, seed=DEFAULT_SEED):
    tables = simulate_patients(120, seed=seed)
    tables.write(folder)
    simulate_dst(tables, folder, scale="ci", seed=seed)
    return folder


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return _make(tmp_path_factory.mktemp("dst_ci"))


@pytest.fixture(scope="module")
def result(cohort):
    samples = load_samples(cohort, clinical=load_clinical(cohort))
    return samples, process_plates(cohort / "dst", samples=samples)


def test_same_seed_same_bytes_other_seed_differs(cohort, tmp_path):
    again = _make(tmp_path / "again")
    for rel in ["dst/plates.csv", "dst/reader/DSTP0001.csv", "dst/maps/DSTP0001_map.csv", "dst/viability_long.csv",
                "truth/dst_curves.csv", "truth/dst_failed_wells.csv"]:
        assert filecmp.cmp(cohort / rel, again / rel, shallow=False), rel
    other = _make(tmp_path / "other", seed=DEFAULT_SEED + 1)
    assert not filecmp.cmp(cohort / "dst/reader/DSTP0001.csv", other / "dst/reader/DSTP0001.csv", shallow=False)


def test_files_follow_the_contract(cohort):
    manifest = pd.read_csv(cohort / "dst/plates.csv")
    samples = pd.read_csv(cohort / "samples.csv")
    with_dst = samples.loc[samples["assays"].fillna("").str.contains("dst"), "sample_id"]
    assert set(manifest["sample_id"]) == set(with_dst)
    grid = read_reader_export(cohort / "dst" / manifest["reader_file"].iloc[0])
    assert grid.shape == (16, 24) and np.isfinite(grid).mean() > 0.99
    pmap = read_plate_map(cohort / "dst" / manifest["map_file"].iloc[0])
    assert len(pmap) == 384 and {"neg_control", "pos_control", "sample"} <= set(pmap["role"])
    combo = pmap[pmap["drug2"] == "Venetoclax"]
    assert len(combo) == 64 and combo["row"].between(8, 15).all()  # the matrix sits on its own region (rows I-P)
    ven = pmap[(pmap["drug"] == "Venetoclax") & (pmap["drug2"] == "")]
    assert np.isclose(ven["conc_uM"].min(), 1e-4) and np.isclose(ven["conc_uM"].max(), 10)
    long = read_long_table(cohort / "dst/viability_long.csv")
    assert long["sample"].nunique() == len(with_dst)


def test_failed_plate_and_failed_wells_are_flagged_not_fitted(cohort, result):
    samples, res = result
    truth = pd.read_csv(cohort / "truth/dst_plates.csv")
    assert truth["failed"].sum() == 1
    failed = set(res["qc"].loc[res["qc"]["qc_pass"] == 0, "plate_id"])
    assert failed == set(truth.loc[truth["failed"] == 1, "plate_id"])
    bad_sample = truth.loc[truth["failed"] == 1, "sample_id"].iloc[0]
    assert bad_sample not in set(res["fits"]["sample_id"])
    feats = sample_features(samples, res).set_index("sample_id")
    assert feats.loc[bad_sample, "dst_qc_pass"] == 0 and np.isnan(feats.loc[bad_sample, "ven_auc"])
    fw = pd.read_csv(cohort / "truth/dst_failed_wells.csv")
    assert len(fw) > 0
    w = res["wells"]
    flagged = w.loc[w["well_flag"] != "", ["plate_id", "well"]]
    assert len(fw.merge(flagged)) == len(fw)  # every failed well is flagged...
    good = w[(w["plate_qc_pass"] == 1) & (w["well_flag"] != "")]
    assert len(good) == len(fw[~fw["plate_id"].isin(failed)])  # ...and no healthy well on a good plate
    assert w.loc[w["well_flag"] != "", "viability_pct"].isna().all()


def test_the_chain_returns_one_frozen_dataclass(result):
    res = result[1]
    assert isinstance(res, DSTResult)
    assert [f.name for f in dataclasses.fields(res)] == ["wells", "qc", "fits", "synergy_cells", "synergy"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.qc = res.fits
    assert res["fits"] is res.fits  # read by name too (the feature builder does)
    with pytest.raises(KeyError):
        res["features"]


def test_qc_metrics_are_realistic(result):
    qc = result[1].qc
    ok = qc[qc["qc_pass"] == 1]
    assert ok["z_prime"].between(0.5, 0.95).all()  # DOMAIN.md: typical Z' 0.5-0.8
    assert ok["neg_cv"].between(3, 12).all()


def test_planted_venetoclax_sensitivity_is_recovered(cohort, result):
    samples, res = result
    truth = pd.read_csv(cohort / "truth/samples.csv").set_index("sample_id")
    ven = res["fits"][res["fits"]["drug"] == "Venetoclax"].set_index("sample_id")
    true_ic50 = truth.loc[ven.index, "ven_log10_ic50_um"]
    assert spearmanr(np.log10(ven["ic50_uM"]), true_ic50)[0] > 0.9
    assert spearmanr(ven["auc"], true_ic50)[0] > 0.9
    aza = res["fits"][res["fits"]["drug"] == "Azacitidine"].set_index("sample_id")
    assert spearmanr(aza["auc"], truth.loc[aza.index, "aza_log10_ic50_um"])[0] > 0.6


def test_ven_sensitivity_separates_responders_as_the_truth_does(cohort, result):
    samples, res = result
    feats = sample_features(samples, res)
    dx = feats[(feats["timepoint"] == "diagnosis") & (feats["dst_qc_pass"] == 1)]
    pt = pd.read_csv(cohort / "truth/patients.csv").set_index("patient_id")
    label = dx["patient_id"].map(pt["primary_resistant"])
    est = bootstrap_auc(dx["ven_auc"], label, n_boot=500, seed=1)
    oracle = roc_auc(dx["patient_id"].map(pt["ven_log10_ic50_um"]), label)
    assert est["auc"] > 0.7 and est["ci_low"] > 0.55
    assert abs(est["auc"] - oracle) < 0.08  # the assay loses little of what the planted truth carries
    # The clinical table (not the truth) gives the same labels.
    ends = clinical_endpoints(load_clinical(cohort)).set_index("patient_id")
    assert (dx["patient_id"].map(ends["primary_resistant"]) == label).all()


def test_raw_files_show_the_planted_signal(cohort):
    """Straight from reader exports and maps: viability at the top VEN dose is higher in primary resistance."""
    wells = load_plates(cohort / "dst")
    pos = wells[wells["role"] == "pos_control"].groupby("plate_id")["signal"].median()
    neg = wells[wells["role"] == "neg_control"].groupby("plate_id")["signal"].median()
    top = wells[(wells["drug"] == "Venetoclax") & (wells["drug2"] == "") & np.isclose(wells["conc_uM"], 10)]
    top = top[np.isfinite(top["signal"])]
    via = 100 * (top["signal"] - top["plate_id"].map(pos)) / (top["plate_id"].map(neg) - top["plate_id"].map(pos))
    per_sample = via.groupby(top["sample_id"]).median()
    pt = pd.read_csv(cohort / "truth/patients.csv").set_index("patient_id")
    dx = per_sample[per_sample.index.str.endswith("-DX")]
    res_flag = dx.index.str.replace("-DX", "").map(pt["primary_resistant"])
    assert dx[res_flag == 1].median() > dx[res_flag == 0].median() + 5


def test_planted_synergy_is_recovered(cohort, result):
    syn = result[1]["synergy"].set_index("sample_id")
    truth = pd.read_csv(cohort / "truth/dst_synergy.csv").set_index("sample_id").loc[syn.index]
    assert spearmanr(syn["bliss_mean"], truth["azaven_potency_shift"])[0] > 0.2
    assert syn["bliss_mean"].median() > 0  # AZA potentiates VEN: the planted interaction is synergistic


def test_figures_have_labelled_axes(result):
    import matplotlib.pyplot as plt

    from helpers.dst import plots
    from helpers.plotting import figure_of

    samples, res = result
    qc, wells, fits = res["qc"], res["wells"], res["fits"]
    sid = fits["sample_id"].iloc[0]
    groups = pd.Series("responder", index=samples["sample_id"])
    vals = fits[fits["drug"] == "Venetoclax"].set_index("sample_id")["auc"]
    figs = [
        plots.plot_plate_heatmaps(wells, qc, qc["plate_id"].head(2).tolist()),
        plots.plot_curves(wells[wells["drug2"] == ""], fits, drug="Venetoclax", groups=groups),
        plots.plot_waterfall(vals, groups, ylabel="venetoclax AUC", cutoff=300),
        plots.plot_roc({"VEN": (vals, (vals > vals.median()).astype(int))},
                       {"VEN": {"auc": 1.0, "ci_low": 1.0, "ci_high": 1.0}}),
        plots.plot_groups(fits, value="auc", group="drug", order=["Venetoclax", "Azacitidine"], ylabel="AUC"),
        plots.plot_synergy_landscape(res["synergy_cells"], sid),
    ]
    for fig in map(figure_of, figs):  # one-panel functions return their Axes
        ax = fig.axes[0]
        assert ax.get_xlabel() and ax.get_ylabel()
        plt.close(fig)
