"""Summaries of an atlas, the cohort's contrasts and the recovery of known labels, on small hand-made tables."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from helpers import scrna


def _qc():
    summary = pd.DataFrame({"sample_id": ["A", "B"], "cells_before": [10, 20], "removed_low_genes": [1, 2],
                            "removed_doublet": [0, 3], "cells_after": [9, 15],
                            "ambient_hb_pct": [1.0, 3.0]})  # fmt: skip
    cells = pd.DataFrame({"pct_hb": [95.0, 1.0, 1.0, 0.0], "total_counts": [100.0, 100.0, 200.0, 100.0],
                          "qc_status": ["hb_dominated", "pass", "pass", "pass"]})  # fmt: skip
    return summary, cells


def test_qc_totals_and_hb_contamination():
    summary, cells = _qc()
    tot = scrna.qc_totals(summary)
    assert tot.to_dict() == {"cells_before": 30, "removed_low_genes": 3, "removed_doublet": 3, "cells_after": 24}
    hb = scrna.hb_contamination(cells, cells[cells["qc_status"] == "pass"], summary, hb_max=90)
    assert hb.iloc[0] == f"{(95 + 1 + 2) / 5:.2f}"  # UMI-weighted: (95 + 1 + 2 + 0) Hb UMIs of 500
    assert hb.iloc[1] == f"{3 / 4:.2f}" and hb.iloc[2] == "1" and hb.iloc[3] == "2.00"


def test_qc_outcome_counts_every_input_cell_once():
    summary, _ = _qc()
    out = scrna.qc_outcome(summary)
    assert list(out.index) == ["kept", "low_genes", "doublet"]
    assert out["cells"].tolist() == [24, 3, 3] and out["cells"].sum() == summary["cells_before"].sum()
    assert out.loc["kept", "percent_of_input"] == 80.0 and out["percent_of_input"].sum() == pytest.approx(100.0)


def _atlas():
    obs = pd.DataFrame({
        "sample_id": ["S1"] * 3 + ["S2"] * 2 + ["S3"] * 2,
        "malignant_call": ["malignant", "malignant", "normal", "malignant", "normal", "malignant", "malignant"],
        "cell_type": pd.Categorical(["Mono-like", "Mono-like", "T", "GMP-like", "T", "Mono-like", "GMP-like"],
                                    categories=["GMP-like", "Mono-like", "cDC-like", "T"]),
        "hierarchy_state": ["Mono-like", "Mono-like", "", "GMP-like", "", "Mono-like", "GMP-like"],
        "patient_id": ["P1"] * 5 + ["P2"] * 2,
    }, index=[f"S{s}_c{i}" for i, s in enumerate([1, 1, 1, 2, 2, 3, 3])])  # fmt: skip
    return ad.AnnData(X=np.zeros((len(obs), 1), dtype=np.float32), obs=obs)


def test_call_and_cell_type_counts_keep_empty_categories():
    a = _atlas()
    assert scrna.call_counts(a).to_dict() == {"malignant": 5, "normal": 2, "uncertain": 0}
    comp = scrna.cell_type_counts(a)
    assert list(comp.index) == ["GMP-like", "Mono-like", "cDC-like", "T"]
    assert comp["cells"].tolist() == [2, 3, 0, 2] and comp["share (%)"].sum() == pytest.approx(100, abs=0.2)


def test_paired_samples_need_both_timepoints_and_kept_cells():
    a = _atlas()
    features = pd.DataFrame({"sample_id": ["S1", "S2", "S3", "S4"], "patient_id": ["P1", "P1", "P2", "P2"],
                             "timepoint": ["diagnosis", "relapse", "diagnosis", "relapse"]})  # fmt: skip
    paired = scrna.paired_samples(features, a)  # S4 kept no cell: P2 is not a pair
    assert paired.index.tolist() == ["P1"] and paired.loc["P1"].tolist() == ["S1", "S2"]
    assert scrna.de_relapse_vs_diagnosis(a, paired) is None  # one pair: no paired test


def test_de_by_response_needs_two_samples_per_group():
    groups = pd.Series(["responder", "responder", "primary_resistant"], index=["S1", "S2", "S3"])
    assert scrna.de_by_response(_atlas(), groups) is None


def test_recover_cell_labels_counts_what_qc_kept_and_what_was_called():
    a = _atlas()
    cells = pd.DataFrame({
        "sample_id": ["S1", "S1", "S1", "S2", "S2", "S3", "S3", "S3"],
        "barcode": ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "gone"],
        "cell_type": ["Mono-like", "GMP-like", "T", "GMP-like", "Monocyte", "Mono-like", "GMP-like", "T"],
        "malignant": [1, 1, 0, 1, 0, 1, 1, 0], "doublet": [0, 0, 0, 0, 0, 0, 1, 1], "damaged": [0] * 7 + [1],
    })  # fmt: skip
    cells["barcode"] = [f"c{i}" if b != "gone" else b for i, b in enumerate(cells["barcode"])]
    a.obs_names = [f"{s}_c{i}" for i, s in enumerate(a.obs["sample_id"])]
    rec = scrna.recover_cell_labels(a, cells)
    assert rec.qc.loc["doublet"].tolist() == [2, 1, 1] and rec.qc.loc["damaged"].tolist() == [1, 0, 1]
    # 6 kept singlets; the planted normal monocyte S2_c4 is called normal: all calls right
    assert rec.accuracy == pytest.approx(1.0) and rec.false_malignant_rate == 0.0
    assert rec.accuracy_by_patient.set_index("patient_id")["accuracy"].to_dict() == {"P1": 1.0, "P2": 1.0}
    assert len(rec.labels) == 6 and -1 <= rec.ari <= 1 and "f1" in rec.hierarchy


def test_feature_recovery_correlates_each_pair():
    rng = np.random.default_rng(0)
    n = 12
    planted = pd.DataFrame({"sample_id": [f"S{i}" for i in range(n)], "mono_frac": rng.random(n),
                            "leukfrac_LSPC-Quiescent": rng.random(n), "bcl2_dependence": rng.random(n),
                            "oxphos_dependence": rng.random(n)})  # fmt: skip
    features = pd.DataFrame({"sample_id": planted["sample_id"], "monocytic_frac": planted["mono_frac"] * 2,
                             "frac_lspc_quiescent": -planted["leukfrac_LSPC-Quiescent"],
                             "bcl2_index": planted["bcl2_dependence"] ** 3, "oxphos_score": rng.random(n)})  # fmt: skip
    features.loc[0, "monocytic_frac"] = np.nan  # a sample without leukemic features is left out
    rec = scrna.feature_recovery(features, planted).set_index("feature")["spearman_rho"]
    assert rec["monocytic_frac"] == pytest.approx(1) and rec["frac_lspc_quiescent"] == pytest.approx(-1)
    assert rec["bcl2_index"] == pytest.approx(1) and abs(rec["oxphos_score"]) < 0.9
