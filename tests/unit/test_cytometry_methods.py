"""Intensity standardisation, paired differential cluster tests, flow MRD, FlowSOM defaults and seed stability, and
FlowJo workspaces on the command line.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_cytometry_methods_public_data.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr

from helpers.cytometry.differential import differential_abundance, differential_state
from helpers.cytometry.mrd import ELN_LIMITS, dfn_events, laip_events, laip_profile, mrd_call
from helpers.cytometry.normalise import QuantileNormaliser
from helpers.errors import DataContractError
from helpers.simulate.cytometry import simulate_batch_shifts, simulate_cluster_counts, simulate_mrd

# ----------------------------------------------------------------------------------------------------------------------
# Intensity standardisation


def _mfi_table(sim, norm=None):
    """MFI of the positive cells (the brightest 60 % of events; 70 % are positive), as a gated read-out."""
    rows = []
    for b, sid, ev in sim["samples"]:
        e = norm.transform(b, ev) if norm is not None else ev
        mfi = {c: float(np.median(v[v >= np.quantile(v, 0.4)])) for c, v in e[sim["channels"]].items()}
        rows.append({"sample_id": sid, "batch": b, **mfi})
    return pd.DataFrame(rows).set_index("sample_id")


def test_reference_sample_normalisation_recovers_planted_batch_shifts():
    sim = simulate_batch_shifts(seed=3)
    truth = sim["truth"].set_index("sample_id")
    raw = _mfi_table(sim)
    norm = QuantileNormaliser().fit(sim["controls"])
    fixed = _mfi_table(sim, norm)
    for c in sim["channels"]:
        r_raw = pearsonr(np.log(raw[c]), np.log(truth.loc[raw.index, c]))[0]
        r_fix = pearsonr(np.log(fixed[c]), np.log(truth.loc[fixed.index, c]))[0]
        assert r_fix > 0.9 and r_fix > r_raw + 0.1, (c, r_raw, r_fix)
        # The batch no longer explains the MFIs: the between-batch share of variance falls below 25 %.
        lg = np.log(fixed[c])
        share = lg.groupby(fixed["batch"]).transform("mean").var() / lg.var()
        assert share < 0.25, (c, share)


def test_normalisation_is_neutral_without_batch_effects():
    sim = simulate_batch_shifts(seed=5, shifted=False)
    raw = _mfi_table(sim)
    fixed = _mfi_table(sim, QuantileNormaliser().fit(sim["controls"]))
    change = np.abs(np.log(fixed[sim["channels"]] / raw[sim["channels"]])).to_numpy().ravel()
    # A sample whose positive cells sit at the edge of a gap between populations can move (see the module notes).
    assert np.median(change) < 0.02 and (change < 0.1).mean() >= 0.95, np.sort(change)[-5:]


def test_normalisation_contract():
    sim = simulate_batch_shifts(seed=1, n_batches=2, samples_per_batch=1, n_events=200)
    with pytest.raises(DataContractError, match="at least 2 batches"):
        QuantileNormaliser().fit({"day1": sim["controls"]["day1"]})
    with pytest.raises(DataContractError, match="batch 'day9' has no reference sample"):
        QuantileNormaliser().fit(sim["controls"]).transform("day9", sim["samples"][0][2])


# ----------------------------------------------------------------------------------------------------------------------
# Differential cluster tests


def test_paired_abundance_test_is_calibrated_on_a_null_and_finds_a_planted_shift():
    pvals = []
    for rep in range(25):
        counts, meta = simulate_cluster_counts(seed=100 + rep, n_patients=15)
        pvals += differential_abundance(counts, meta, group="timepoint", paired=True)["p_value"].tolist()
    pvals = np.asarray(pvals)
    fpr = float((pvals < 0.05).mean())
    assert 0.02 < fpr < 0.08, fpr  # 300 null tests
    counts, meta = simulate_cluster_counts(seed=7, n_patients=20, effect={2: 1.0, 5: -1.0})
    res = differential_abundance(counts, meta, group="timepoint", paired=True).set_index("metacluster")
    sig = set(res.index[res["fdr"] < 0.05])
    # Proportions are compositional: moving two clusters shifts the others a little, so one more may pass.
    assert {2, 5} <= sig and len(sig) <= 3, sig
    assert res.loc[2, "log2_fc"] > 0.6 and res.loc[5, "log2_fc"] < -0.6
    # The same data as unpaired groups lose the patient blocking: the test stays valid but weaker.
    un = differential_abundance(counts, meta, group="timepoint", paired=False).set_index("metacluster")
    assert un.loc[2, "p_value"] > res.loc[2, "p_value"]


def test_state_test_with_patient_random_effect():
    rng = np.random.default_rng(2)
    counts, meta = simulate_cluster_counts(seed=4, n_patients=15)
    pat = meta["patient_id"].map({p: rng.normal(0, 0.5) for p in meta["patient_id"].unique()})
    null_p = []
    for _ in range(10):
        med = pd.DataFrame({k: 3 + pat + rng.normal(0, 0.2, len(meta)) for k in range(6)}, index=meta.index)
        null_p += differential_state(med, meta, group="timepoint")["p_value"].tolist()
    assert float((np.asarray(null_p) < 0.05).mean()) < 0.1
    med = pd.DataFrame({k: 3 + pat + rng.normal(0, 0.2, len(meta)) for k in range(6)}, index=meta.index)
    med[0] += 0.4 * (meta["timepoint"] == "relapse")
    res = differential_state(med, meta, group="timepoint").set_index("metacluster")
    assert res.loc[0, "fdr"] < 0.05 and res.loc[0, "effect"] == pytest.approx(0.4, abs=0.12)


def test_state_test_of_a_metacluster_absent_from_one_group_is_not_testable():
    counts, meta = simulate_cluster_counts(seed=4, n_patients=8)
    med = pd.DataFrame({0: np.linspace(1, 2, len(meta)), 1: np.linspace(1, 2, len(meta))}, index=meta.index)
    med.loc[meta["timepoint"] == "relapse", 1] = np.nan  # no cells of metacluster 1 at relapse
    med[2] = np.nan  # in no sample at all
    res = differential_state(med, meta, group="timepoint").set_index("metacluster")
    assert np.isfinite(res.loc[0, "p_value"])
    assert res.loc[[1, 2], ["effect", "p_value", "fdr"]].isna().all().all()
    assert res.loc[1, "n_samples"] == int((meta["timepoint"] != "relapse").sum()) and res.loc[2, "n_samples"] == 0


# ----------------------------------------------------------------------------------------------------------------------
# Flow MRD


def test_eln_categories():
    assert mrd_call(600, 500_000)["mrd_status"] == "positive"
    assert mrd_call(60, 500_000)["mrd_status"] == "positive_below_threshold"
    assert mrd_call(30, 500_000)["mrd_status"] == "detected_not_quantifiable"
    assert np.isnan(mrd_call(10, 500_000)["mrd_pct"]) and mrd_call(10, 500_000)["mrd_status"] == "negative"
    assert mrd_call(10, 100_000)["mrd_status"] == "not_evaluable"  # too few CD45+ cells for a negative call
    assert mrd_call(0, 500_000)["lod_pct"] == pytest.approx(100 * ELN_LIMITS["lod_events"] / 500_000)


@pytest.mark.parametrize(("fraction", "expected"), [(0.0, {"negative"}), (2e-5, {"negative", "detected_not_quantifiable"}),
                                                    (6e-5, {"detected_not_quantifiable", "positive_below_threshold"}),
                                                    (3e-3, {"positive"})])  # fmt: skip
def test_mrd_at_planted_levels_around_the_lod(fraction, expected):
    sim = simulate_mrd(seed=int(fraction * 1e6) + 1, mrd_fraction=fraction)
    laip = laip_profile(sim["diagnosis"], sim["normal"])
    assert {"CD7", "CD56"} <= set(laip["marker"]) and (laip.set_index("marker").loc[["CD7", "CD56"], "direction"] == "over").all()
    hit = laip_events(sim["remission"], laip)
    truth = sim["is_leukemic"]
    assert (hit & ~truth).sum() <= 5  # LAIP false positives among ~7 500 normal progenitors
    call = mrd_call(int(hit.sum()), sim["n_cd45"])
    assert call["mrd_status"] in expected, (fraction, call)
    if fraction >= 1e-3:
        assert call["mrd_pct"] == pytest.approx(100 * sim["n_leukemic"] / sim["n_cd45"], rel=0.25)
    dfn = dfn_events(sim["remission"], sim["normal"])
    assert dfn[truth].mean() > 0.9 if truth.any() else True
    assert dfn[~truth].mean() < 0.005  # DfN flags about 0.1 % of normal progenitors by construction


# ----------------------------------------------------------------------------------------------------------------------
# FlowSOM


def test_flowsom_defaults_are_upstreams():
    import inspect

    from helpers.cytometry import run_flowsom

    sig = inspect.signature(run_flowsom)
    assert (sig.parameters["xdim"].default, sig.parameters["ydim"].default) == (10, 10)
    assert sig.parameters["n_metaclusters"].default == 10


@pytest.mark.slow
def test_flowsom_stability_over_seeds_against_known_populations():
    from helpers.cytometry.clustering import flowsom_stability

    rng = np.random.default_rng(0)
    centres = rng.normal(0, 2.5, (5, 6))
    lab = rng.choice(5, 3000, p=[0.35, 0.25, 0.2, 0.12, 0.08])
    X = (centres[lab] + rng.normal(0, 0.6, (3000, 6))).astype(np.float32)
    df = flowsom_stability(X, [f"m{i}" for i in range(6)], seeds=range(4), reference=lab, n_metaclusters=5)
    s = df.attrs["summary"]
    assert s["ari_vs_reference"]["min"] > 0.8 and s["ari_vs_reference"]["spread"] < 0.2, s
    assert len(df) == 4 and s["ari_vs_seeds"]["median"] > 0.8
    from helpers.cytometry.clustering import stability_table

    tab = stability_table(df).set_index("comparison")
    assert tab.loc["ari_vs_reference", "n_seeds"] == 4 and tab.loc["ari_vs_reference", "n_below_0_8"] == 0
    assert tab.loc["ari_vs_reference", "min"] <= tab.loc["ari_vs_reference", "median"] <= tab.loc["ari_vs_reference",
                                                                                                   "max"]  # fmt: skip
