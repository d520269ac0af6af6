"""The cohort-level steps of the cytometry notebook (helpers.cytometry.report), on small tables with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.cytometry import report as rep


def test_batch_variance_share_before_and_after_normalisation():
    rng = np.random.default_rng(0)
    batch = pd.Series(np.repeat(["b1", "b2", "b3"], 40))
    shift = batch.map({"b1": 0.0, "b2": 1.0, "b3": -1.0}).to_numpy()
    noise = rng.normal(0, 0.1, 120)
    mfi = np.exp(5 + shift + noise)
    f = pd.DataFrame({"lsc_bcl2_mfi": mfi, "lsc_bcl2_mfi_norm": np.exp(5 + noise),
                      "bcl2_family_score": shift + noise, "bcl2_family_score_norm": noise})  # fmt: skip
    f.loc[0, "lsc_bcl2_mfi"] = np.nan  # a sample without the read-out counts in neither the share nor n
    t = rep.batch_variance_share(f, batch, readouts=["lsc_bcl2_mfi", "bcl2_family_score"])
    assert t[["read_out", "scale"]].values.tolist() == [
        ["lsc_bcl2_mfi", "raw"], ["lsc_bcl2_mfi", "normalised"], ["bcl2_family_score", "raw"],
        ["bcl2_family_score", "normalised"]]  # fmt: skip
    share = t.set_index(["read_out", "scale"])["between_batch_variance_pct"]
    assert share["lsc_bcl2_mfi", "raw"] > 95 and share["bcl2_family_score", "raw"] > 95
    assert share["lsc_bcl2_mfi", "normalised"] < 10 and share["bcl2_family_score", "normalised"] < 10
    assert t["n"].tolist() == [119, 120, 120, 120]
    # The share is the variance of the batch means over the total variance (log MFI; scores as they are).
    v = np.log(f["lsc_bcl2_mfi_norm"])
    expected = 100 * v.groupby(batch).transform("mean").var() / v.var()
    assert share["lsc_bcl2_mfi", "normalised"] == pytest.approx(expected)


def test_sample_batches_and_mrd_rows():
    sheet = pd.DataFrame({"sample_id": ["A", "A", "B"], "batch": ["x", "x", "y"]})
    assert rep.sample_batches(sheet, pd.Series(["B", "A", "C"])).tolist() == ["y", "x", np.nan]
    feats = pd.DataFrame({"sample_id": ["A"], "patient_id": ["P"], "timepoint": ["diagnosis"], "pct_blasts": [50.0]})
    samples = pd.DataFrame({"sample_id": ["A", "R"], "patient_id": ["P", "P"], "timepoint": ["diagnosis", "remission"]})
    mrd = pd.DataFrame({"sample_id": ["R"], "patient_id": ["P"], "mrd_flow_pct": [0.1], "mrd_flow_events": [60],
                        "mrd_flow_cd45_events": [600000], "mrd_flow_lod_pct": [0.003], "mrd_call": ["positive"]})
    out = rep.add_mrd_features(feats, samples, mrd)
    assert out["sample_id"].tolist() == ["A", "R"] and out.loc[1, "timepoint"] == "remission"
    assert "mrd_call" not in out and out.loc[1, "mrd_flow_pct"] == 0.1 and np.isnan(out.loc[1, "pct_blasts"])


def test_readouts_by_response_and_the_diagnosis_table():
    feats = pd.DataFrame({"sample_id": [f"S{i}" for i in range(8)], "patient_id": [f"P{i}" for i in range(8)],
                          "timepoint": ["diagnosis"] * 7 + ["relapse"],
                          "good": [9.0, 8, 7, 6, 1, 2, 3, 0], "rare": [1.0, np.nan, np.nan, np.nan, 2, np.nan, 3, 4],
                          "one_group": [1.0, 2, 3, 4, np.nan, np.nan, np.nan, 5]})  # fmt: skip
    ends = pd.DataFrame({"patient_id": [f"P{i}" for i in range(8)], "responder": [1, 1, 1, 1, 0, 0, 0, 0],
                         "response_group": ["responder_ongoing"] * 4 + ["primary_resistant"] * 4})  # fmt: skip
    dx = rep.diagnosis_table(feats, ends)
    assert len(dx) == 7 and dx["response"].tolist() == ["responder"] * 4 + ["primary_resistant"] * 3
    t = rep.readouts_by_response(dx, ["good", "rare", "one_group"])
    assert t["read_out"].tolist() == ["good"]  # too few samples / a single response group are left out
    assert t.loc[0, "auc_response"] == 1.0 and t.loc[0, "median_responder"] == 7.5 and t.loc[0, "n"] == 7


def test_cutoff_table_relapse_shift_and_metaclusters():
    cut = {"cutoff": 0.5, "auc": 0.8, "cutoff_ci": (0.2, 0.9)}
    assert rep.cutoff_table(cut).to_dict("records") == [
        {"cutoff": 0.5, "auc": 0.8, "cutoff_ci_low": 0.2, "cutoff_ci_high": 0.9}]
    f = pd.DataFrame({"patient_id": ["A", "A", "B", "B", "C"], "timepoint": ["diagnosis", "relapse"] * 2 + ["diagnosis"],
                      "mono": [10.0, 30, 20, 20, 5], "score": [1.0, 0, 2, 1, 3]})  # fmt: skip
    s = rep.relapse_shift(f, ["mono", "score"])
    assert s.loc["mono"].tolist() == [2.0, 10.0, 10.0] and s.loc["score"].tolist() == [2.0, -1.0, -1.0]
    ids = pd.Series(["A", "A", "A", "B"])
    meta = np.array([0, 0, 1, 1])
    ab = rep.metacluster_abundance(ids, meta)
    assert list(ab.columns) == ["som_mc0_pct", "som_mc1_pct"] and ab.loc["A"].tolist() == pytest.approx([200 / 3, 100 / 3])
    med = rep.metacluster_medians(ids, meta, np.array([1.0, 3.0, 5.0, 7.0]))
    assert med.loc["A", 0] == 2.0 and med.loc["B", 1] == 7.0 and np.isnan(med.loc["B", 0])
    dx = pd.DataFrame({"sample_id": ["A", "B"], "responder": [1, 0]})
    by = rep.abundance_by_response(ab, dx)
    assert by.loc["som_mc0_pct", "mean_pct_responder"] == pytest.approx(200 / 3)
    assert by.loc["som_mc0_pct", "auc_response"] == 1.0 and by.loc["som_mc1_pct", "auc_response"] == 0.0
