"""The metrics labs compare with, each against its tool's definition (bartools, barcodetrackR, ineq).

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_barcodes_metrics.py``.
"""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats

import helpers.barcodes as bc
from helpers.registry import dataset_path


def test_pairwise_correlation_over_the_pairs_nonzero_rows(public_data):
    m = pd.read_csv(dataset_path("barcodetrackr", "derived", "wu_subset_counts.tsv"), sep="\t", index_col=0)
    m = m.iloc[:, :4]
    out = bc.pairwise_correlation(m).set_index(["sample_1", "sample_2"])
    i, j = m.columns[0], m.columns[3]
    p = m / m.sum()
    keep = (p[i] + p[j]) > 0
    r, pv = stats.pearsonr(p.loc[keep, i], p.loc[keep, j])
    assert out.loc[(i, j), "n_barcodes"] == keep.sum() < len(m)
    assert out.loc[(i, j), "correlation"] == pytest.approx(r) and out.loc[(i, j), "p_value"] == pytest.approx(pv)
    assert out.loc[(i, i), "correlation"] == pytest.approx(1.0)
    sp = bc.pairwise_correlation(m, method="spearman").set_index(["sample_1", "sample_2"])
    assert sp.loc[(i, j), "correlation"] == pytest.approx(stats.spearmanr(p.loc[keep, i], p.loc[keep, j])[0])
