"""Clonal dynamics, replicate merging and the resistance test on small hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.barcodes import (
    detection_thresholds,
    dominant_clones,
    fold_changes,
    resistance_test,
    sample_counts,
    shared_clones,
)


def _sheet(mice):
    rows = []
    for m, arm in mice.items():
        for tp in ("pre_treatment", "post_treatment"):
            for rep in (1, 2):
                rows.append({"file": f"{m}{tp}{rep}.fq", "library_id": f"{m}-{tp}-{rep}", "pdx_id": "P", "patient_id": "D",
                             "sample_id": "D-DX", "mouse_id": m, "arm": arm, "timepoint": tp, "pcr_replicate": rep})  # fmt: skip
    return pd.DataFrame(rows)


def _synthetic(n_bc=120, resistant=("B000", "B001"), seed=0, treated=4, vehicle=3):
    """Counts for one PDX: log-normal starting sizes, drift, a kill under treatment that two barcodes escape."""
    rng = np.random.default_rng(seed)
    mice = {f"T{i}": "aza_ven" for i in range(treated)} | {f"V{i}": "vehicle" for i in range(vehicle)}
    sheet = _sheet(mice)
    bcs = [f"B{i:03d}" for i in range(n_bc)]
    pool = rng.lognormal(0, 1, n_bc)
    rows = []
    for m, arm in mice.items():
        pre = pool * rng.lognormal(0, 0.3, n_bc)
        post = pre * rng.lognormal(0, 0.5, n_bc)
        if arm == "aza_ven":
            post *= np.where(np.isin(bcs, resistant), 20.0, 0.05)
        for tp, size in (("pre_treatment", pre), ("post_treatment", post)):
            for rep in (1, 2):
                c = rng.multinomial(4000, size / size.sum())
                rows += [{"library_id": f"{m}-{tp}-{rep}", "barcode": b, "count": int(k), "pdx_id": "P"}
                         for b, k in zip(bcs, c, strict=True) if k > 0]  # fmt: skip
    return pd.DataFrame(rows), sheet


def test_detection_threshold_from_single_replicate_barcodes():
    long = pd.DataFrame({"sample_key": ["s"] * 5, "library_id": ["a", "b", "a", "a", "b"],
                         "barcode": ["X", "X", "Y", "Z", "W"], "count": [50, 40, 3, 7, 2]})  # fmt: skip
    thr = detection_thresholds(long, quantile=1.0, floor=2)
    assert thr["s"] == 7  # the largest count reached by a barcode seen in one replicate only


def test_sample_counts_fold_changes_and_dominance():
    counts, sheet = _synthetic()
    s = sample_counts(counts, sheet)
    assert set(s["n_replicates"]) <= {1, 2}
    det = s[s["detected"]]
    assert np.allclose(det.groupby("sample_key")["frequency"].sum(), 1)
    fc = fold_changes(s)
    t = fc[fc["arm"] == "aza_ven"]
    assert (t[t["barcode"].isin(["B000", "B001"])]["log2_fc"] > 3).all()
    assert t[~t["barcode"].isin(["B000", "B001"])]["log2_fc"].median() < -2
    dom = dominant_clones(s).set_index(["mouse_id", "timepoint"])
    assert (dom.loc[[(f"T{i}", "post_treatment") for i in range(4)], "dominant_share"] > 0.5).all()
    sh = shared_clones(s, "P")
    assert (sh.loc["T0", ["T1", "T2", "T3"]] >= 2).all()  # the two escapees are dominant in every treated mouse
    assert (np.diag(sh) >= sh.max(axis=1)).all()


def test_resistance_test_finds_the_escapees_and_nothing_without_them():
    counts, sheet = _synthetic()
    res = resistance_test(sample_counts(counts, sheet), n_perm=500, seed=1)
    called = set(res.barcodes.loc[res.barcodes["resistant"], "barcode"])
    assert called == {"B000", "B001"}
    assert res.pdx.loc[0, "p_value"] < 0.01
    counts0, sheet0 = _synthetic(resistant=())
    res0 = resistance_test(sample_counts(counts0, sheet0), n_perm=500, seed=1)
    assert not res0.barcodes["resistant"].any()
    assert res0.pdx.loc[0, "p_value"] > 0.05


def test_expansion_in_vehicle_mice_is_not_resistance():
    # B000 expands in every mouse, treated or not: fitness, not drug resistance
    counts, sheet = _synthetic(resistant=("B001",))
    boost = counts["barcode"].eq("B000") & counts["library_id"].str.contains("post")
    counts.loc[boost, "count"] *= 40
    res = resistance_test(sample_counts(counts, sheet), n_perm=500, seed=2)
    r = res.barcodes.set_index("barcode")
    assert r.loc["B001", "resistant"] and not r.loc["B000", "resistant"]
    assert r.loc["B000", "statistic"] < r.loc["B001", "statistic"]


@pytest.mark.parametrize("n_perm", [200])
def test_pvalues_are_valid_probabilities(n_perm):
    counts, sheet = _synthetic(resistant=(), seed=5)
    res = resistance_test(sample_counts(counts, sheet), n_perm=n_perm, seed=3)
    p = res.barcodes["p_value"]
    assert p.between(0, 1).all() and (res.barcodes["q_value"] >= p - 1e-12).all()
