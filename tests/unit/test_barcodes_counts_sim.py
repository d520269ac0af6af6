"""The adversarial count-level simulator: planted resistant clones are recovered, a null cohort gives nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd

import helpers.barcodes as bc
from helpers.simulate.barcode_counts import simulate_count_experiment


def _analyse(tmp_path, seed, n_resistant, **kw):
    counts, design, truth = simulate_count_experiment(seed=seed, n_resistant=n_resistant, **kw)
    design.to_csv(tmp_path / f"s{seed}_{n_resistant}.csv", index=False)
    d = bc.load_design(tmp_path / f"s{seed}_{n_resistant}.csv", samples=counts.columns)
    c, units = bc.collapse_replicates(counts, d)
    return bc.resistance_calls(c, units, treated="high_dose", control="vehicle"), truth, counts


def test_simulator_is_deterministic_and_adversarial():
    a = simulate_count_experiment(seed=3, n_resistant=4)
    b = simulate_count_experiment(seed=3, n_resistant=4)
    pd.testing.assert_frame_equal(a[0], b[0])
    counts, design, truth = a
    assert counts.dtypes.unique().tolist() == [np.dtype("int64")] and truth["resistant"].sum() == 4
    veh = counts[design.loc[design["arm"] == "vehicle", "sample"]]
    share = veh / veh.sum()
    # shared fitness: the clone that dominates vehicle mice on average is over 5 % of every vehicle library
    assert share.loc[share.mean(axis=1).idxmax()].min() > 0.05
    # engraftment bottleneck and between-mouse overdispersion: many clones present in some mice, absent in others
    mice = share.T.groupby(design.set_index("sample").loc[share.columns, "mouse"].to_numpy()).sum().T
    present = (mice > 0).sum(axis=1)
    assert ((present > 0) & (present < mice.shape[1])).sum() > 20


def test_recovery_of_planted_resistant_clones(tmp_path):
    tp = fp = planted = 0
    for seed in (0, 1, 2):
        res, truth, _ = _analyse(tmp_path, seed, 8)
        called = set(res.barcodes.loc[res.barcodes["resistant"], "barcode"])
        true = set(truth.loc[truth["resistant"] == 1, "barcode"])
        tp, fp, planted = tp + len(called & true), fp + len(called - true), planted + len(true)
        assert res.pdx.loc[0, "p_value"] < 0.05
    precision, recall = tp / max(tp + fp, 1), tp / planted
    assert precision >= 0.9 and recall >= 0.6, (precision, recall)


def test_null_cohort_gives_nothing(tmp_path):
    pdx_p = []
    for seed in (0, 2, 3, 4, 5):
        res, _, _ = _analyse(tmp_path, seed, 0)
        assert not res.barcodes["resistant"].any()
        pdx_p.append(res.pdx.loc[0, "p_value"])
    assert sum(p < 0.05 for p in pdx_p) <= 1, pdx_p


def test_three_arms_against_one_shared_baseline(tmp_path):
    counts, design, truth = simulate_count_experiment(seed=4, n_resistant=6, n_clones=300,
                                                      mice={"vehicle": 4, "low_dose": 4, "high_dose": 4})  # fmt: skip
    assert (design.loc[design["arm"] != "baseline", "baseline"] == "T0").all()
    design.to_csv(tmp_path / "s.csv", index=False)
    d = bc.load_design(tmp_path / "s.csv", samples=counts.columns)
    c, units = bc.collapse_replicates(counts, d)
    assert bc.control_arm(d) == "vehicle"
    true = set(truth.loc[truth["resistant"] == 1, "barcode"])
    for arm in ("low_dose", "high_dose"):
        res = bc.resistance_calls(c, units, treated=arm, control="vehicle")
        pdx = res.pdx.iloc[0]
        assert (pdx["n_treated"], pdx["n_vehicle"], pdx["n_assignments"]) == (4, 4, 70)
        assert set(res.barcodes.loc[res.barcodes["resistant"], "barcode"]) <= true
        # only pre-existing clones (seen in the shared baseline) are tested
        base = c["T0|pool|baseline"]
        assert (base.loc[res.barcodes["barcode"]] > 0).all()
