"""The barcoding chain in one call: a data folder (FASTQ or count table) to counts per mouse, as the steps give it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import helpers.barcodes as bc

WIDE = "barcode\tT0-1\tS1-1\tS2-1\nBC_1\t10\t0\t5\nBC_2\t0\t7\t1\nBC_3\t3\t3\t3\n"
DESIGN = ("sample,mouse,arm,tissue,timepoint,pcr_replicate,baseline\nT0-1,T0,baseline,pool,baseline,1,\n"
          "S1-1,1,vehicle,bm,end,1,T0\nS2-1,2,aza,bm,end,1,T0\n")  # fmt: skip


@pytest.fixture(scope="module")
def cohort(ci_cohort_with):
    return ci_cohort_with("barcodes")


@pytest.fixture(scope="module")
def chain(cohort):
    return bc.process_barcodes(cohort, min_mean_quality=30, max_mismatches=1)


def test_fastq_chain_equals_its_steps(cohort, chain):
    assert bc.input_kind(cohort) == "fastq" and chain.kind == "fastq"
    with pytest.raises(dataclasses.FrozenInstanceError):
        chain.counts = None
    ds = bc.load_barcode_dataset(cohort)
    raw, qc = bc.count_libraries(ds, min_mean_quality=30, max_mismatches=1)
    cor = bc.correct_by_group(raw, ds.sheet, method="message_passing", distance=2, ratio=5.0, metric="hamming")
    pd.testing.assert_frame_equal(chain.uncorrected, raw)
    pd.testing.assert_frame_equal(chain.library_qc, qc)
    pd.testing.assert_frame_equal(chain.corrected, cor)
    pd.testing.assert_frame_equal(chain.samples, bc.sample_counts(cor, ds.sheet))
    assert list(chain.library_counts.columns) == list(ds.sheet["library_id"])
    counts, units = bc.collapse_replicates(chain.library_counts, bc.design_from_fastq_sheet(ds.sheet))
    pd.testing.assert_frame_equal(chain.counts, counts)
    pd.testing.assert_frame_equal(chain.units, units)
    # error correction merges variants: never more distinct barcodes after it than before
    assert (chain.distinct["distinct_after"] <= chain.distinct["distinct_before"]).all()
    assert chain.distinct["distinct_after"].sum() < chain.distinct["distinct_before"].sum()


def test_count_table_chain(tmp_path):
    root = tmp_path / "barcodes"
    root.mkdir()
    (root / "counts.tsv").write_text(WIDE)
    (root / "sample_sheet.csv").write_text(DESIGN)
    assert bc.input_kind(tmp_path) == "counts" and bc.input_kind(root) == "counts"
    data = bc.process_barcodes(tmp_path)
    assert data.kind == "counts" and data.dataset is None and data.library_qc is None and data.corrected is None
    assert data.counts.shape == (3, 3) and list(data.counts.columns) == list(data.units["unit"])
    assert data.counts.loc["BC_1"].sum() == 15
    assert set(data.samples["barcode"]) == {"BC_1", "BC_2", "BC_3"}


def test_chain_helpers_on_the_ci_cohort(chain):
    curves = bc.rarefaction_curves(chain.samples, points=10)
    assert set(curves) == set(chain.samples.loc[chain.samples["detected"], "sample_key"])
    depth, distinct = next(iter(curves.values()))
    assert len(depth) == 10 and distinct[0] == 0 and np.all(np.diff(distinct) >= -1e-9)  # curves only rise
    sat = bc.saturation(curves)
    assert sat.between(0, 1).all()
    det = bc.detected_per_mouse(chain.samples)
    assert det.index.name == "pdx_id" and (det.fillna(0) >= 0).all().all()
    # the CI cohort has 2 vehicle mice per PDX: too few to split into pseudo-arms
    assert bc.control_split_calibration(chain.counts, chain.units, arm="vehicle") is None


def test_resistance_by_arm_and_exact_agreement(chain):
    calls = bc.resistance_by_arm(chain.counts, chain.units, arms=["aza_ven"], control="vehicle", max_perm=100, seed=1)
    direct = bc.resistance_calls(chain.counts, chain.units, treated="aza_ven", control="vehicle", max_perm=100, seed=1)
    pd.testing.assert_frame_equal(calls["aza_ven"].barcodes, direct.barcodes)
    agree = bc.exact_agreement_table(chain.counts, chain.units, {"aza_ven": direct.barcodes}, control="vehicle")
    assert len(agree) == direct.barcodes["pdx_id"].nunique() and "top_overlap" in agree
    assert (agree["treated_arm"] == "aza_ven").all()


def test_expanding_clones():
    table = pd.DataFrame({"clone": ["a", "a", "b", "b", "c"], "state": "x", "time": ["2", "6", "2", "6", "6"],
                          "n_cells": [1, 9, 4, 6, 5]})  # fmt: skip
    # a: 9 late vs 1 early (expands); b: 6 vs 4 (not 3-fold); c: 5 late, none early (counted as 1)
    assert list(bc.expanding_clones(table, late="6", min_cells=5, fold=3)) == ["a", "c"]
