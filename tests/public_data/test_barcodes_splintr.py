"""The pre-existing-resistance test on real data: the SPLINTR experiment of bartools (6 vehicle, 6 low-dose, 6
high-dose mice, two PCR replicates each, a shared pre-transplant baseline).

This file holds the tests that read the public data mirror (the public_data tier); the tests that execute notebooks are
in ``tests/pipeline/test_barcodes_splintr_pipeline.py``.
"""

from __future__ import annotations

import pytest

import helpers.barcodes as bc


def test_splintr_design_from_bartools(splintr):
    counts, design, c, units = splintr
    assert counts.shape == (1639, 38)
    assert design.groupby("arm")["mouse"].nunique().to_dict() == {"baseline": 1, "high_dose": 6, "low_dose": 6,
                                                                  "vehicle": 6}  # fmt: skip
    assert (design.loc[design["arm"] != "baseline", "baseline"] == "T0").all()
    assert c.shape[1] == 19 and int(c.to_numpy().sum()) == int(counts.to_numpy().sum())


def test_calibration_on_vehicle_pseudo_arms(splintr):
    """Every 3 vs 3 and 2 vs 4 split of the six vehicle mice: at most 1 split with clone calls at q 0.05, and a
    PDX-level p below 0.05 at most once per split type."""
    _, _, c, units = splintr
    splits = bc.split_calibration(c, units, arm="vehicle", sizes=((3, 3), (2, 4)))
    summary = bc.calibration_summary(splits).set_index("split_type")
    assert summary["splits"].to_dict() == {"3 vs 3": 20, "2 vs 4": 15}
    assert (summary["splits_with_calls"] <= 1).all(), summary
    assert (summary["pdx_p_below_alpha"] <= 1).all(), summary
    # the permutation p of a split is its rank among the splits of its type
    assert summary.loc["3 vs 3", "min_attainable_pdx_p"] == pytest.approx(1 / 20)
    assert splits["pdx_p_value"].min() >= 1 / 20 - 1e-12


def test_edger_exact_test_agreement(splintr):
    _, _, c, units = splintr
    res = bc.differential_abundance(c, units, treated="high_dose", control="vehicle")
    ex = bc.exact_test(c, units, treated="high_dose", control="vehicle", barcodes=res.table["barcode"])
    a = bc.exact_agreement(res.table, ex, top=50)
    assert a["n_barcodes"] == len(res.table) >= 50
    assert a["spearman_log_fc"] > 0.99 and a["spearman_p_value"] > 0.98 and a["top50_overlap"] >= 0.9, a
    assert not res.paired and set(res.table.columns) >= {"barcode", "log_fc", "log_cpm", "p_value", "q_value"}


def test_high_dose_pdx_level_evidence(splintr):
    """Under high dose one clone expands in all six mice beyond every vehicle mouse: the PDX-level permutation test
    (924 assignments) finds it, a clone that also dominates vehicle mice is not called."""
    _, _, c, units = splintr
    res = bc.resistance_calls(c, units, treated="high_dose", control="vehicle")
    pdx = res.pdx.iloc[0]
    assert pdx["n_assignments"] == 924 and pdx["p_value"] < 0.01
    top = res.barcodes.iloc[0]
    assert top["n_mice_up"] == 6 and top["reproducible"] and top["log_fc"] > 5
    veh = c[units.loc[units["arm"] == "vehicle", "unit"]]
    dominant_in_vehicle = (veh / veh.sum()).min(axis=1).idxmax()  # the clone largest in every vehicle mouse
    called = set(res.barcodes.loc[res.barcodes["resistant"], "barcode"])
    assert dominant_in_vehicle not in called
