"""Diversity, QC, multiple testing and the single-cell bridge, on published values and real data.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_barcodes_analysis.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import entropy

from helpers.barcodes import (
    clone_state_table,
    correlation_matrix,
    diversity_table,
    load_clone_matrix,
    shared_clones_with_cells,
    state_enrichment,
)
from helpers.registry import dataset_path


@pytest.fixture(scope="module")
def macaque(public_data):
    counts = pd.read_csv(dataset_path("barcodetrackr", "derived", "wu_subset_counts.tsv"), sep="\t", index_col=0)
    return counts


def test_diversity_on_barcodetrackr_macaque(macaque):
    d = diversity_table(macaque)
    assert d.shape == (20, 10)
    x = macaque.to_numpy(float)
    p = x / x.sum(axis=0)
    np.testing.assert_allclose(d["shannon"], entropy(x, axis=0), rtol=1e-10)  # scipy, independent
    np.testing.assert_allclose(d["simpson"], 1 - (p**2).sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(d["richness"], (x > 0).sum(axis=0))
    np.testing.assert_allclose(d["inverse_simpson"], 1 / (p**2).sum(axis=0), rtol=1e-12)
    # Hill numbers never increase with q
    h = d[["richness", "hill_0.5", "hill_1", "hill_2", "hill_inf"]].to_numpy()
    assert (np.diff(h, axis=1) <= 1e-9).all()
    assert ((d["gini"] > 0) & (d["gini"] < 1)).all()


def test_correlation_on_barcodetrackr_macaque(macaque):
    c = correlation_matrix(macaque)
    cpm = macaque / macaque.sum() * 1e6
    np.testing.assert_allclose(c.to_numpy(), np.corrcoef(cpm.to_numpy().T), atol=1e-12)
    lg = correlation_matrix(macaque, log=True)
    np.testing.assert_allclose(lg.to_numpy(), np.corrcoef(np.log1p(cpm.to_numpy()).T), atol=1e-12)
    assert np.allclose(np.diag(lg), 1)
    # the T-cell samples of consecutive time points are more alike than T cells and granulocytes at 6 months
    assert lg.loc["ZJ31_9.5m_T", "ZJ31_12m_T"] > lg.loc["ZJ31_6m_T", "ZJ31_6m_Gr"]


def test_larry_bridge(public_data):
    adata, names = load_clone_matrix(dataset_path("larry_clonal_subset", "test_adata_preprocessed.h5ad"))
    assert (adata.n_obs, len(names)) == (781, 339)
    t = clone_state_table(adata, names)
    assert t["n_cells"].sum() == 781  # one clone per cell in this subset
    assert t["clone"].nunique() == 339
    big = t.groupby("clone")["n_cells"].sum().sort_values().index[-5:]
    e = state_enrichment(t, big)
    assert e["cells_selected"].sum() == t[t["clone"].isin(big)]["n_cells"].sum()
    assert e["fraction_all"].sum() == pytest.approx(1)
    assert shared_clones_with_cells(["clone_3", "ACGT", "clone_1"], names) == ["clone_1", "clone_3"]
