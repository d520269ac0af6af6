"""Diversity, QC, multiple testing and the single-cell bridge, on published values and real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import entropy

from helpers.barcodes import (
    clone_state_table,
    correlation_matrix,
    diversity_table,
    gini,
    hill_numbers,
    load_clone_matrix,
    rarefaction,
    shared_clones_with_cells,
    state_enrichment,
)
from helpers.errors import DataContractError
from helpers.registry import dataset_path

Q = (0, 0.5, 1, 2, np.inf)


def test_hill_numbers_published_values():
    p = hill_numbers(np.array([0.5, 0.25, 0.125, 0.125]), q=Q).to_numpy()
    np.testing.assert_allclose(p, [4, 3.664214, 3.363586, 2.909091, 2], atol=1e-6)
    c = hill_numbers(np.array([10, 7, 2, 1, 1]), q=Q).to_numpy()
    np.testing.assert_allclose(c, [5, 4.049988, 3.432890, 2.845161, 2.1], atol=1e-6)


def test_hill_numbers_continuous_in_q():
    x = np.array([10, 7, 2, 1, 1.0])
    h = hill_numbers(x, q=(0.999999, 1, 1.000001, 300, np.inf)).to_numpy()
    np.testing.assert_allclose(h[:3], h[1], rtol=1e-5)
    np.testing.assert_allclose(h[3], h[4], rtol=1e-2)


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


def test_gini_extremes():
    assert gini(np.array([5, 5, 5, 5]))[0] == pytest.approx(0)
    assert gini(np.array([0, 0, 0, 100]))[0] == pytest.approx(0)  # one clone: zeros are not clones
    assert gini(np.array([1, 1, 1, 97]))[0] > 0.7


def test_rarefaction_exact_against_enumeration():
    counts = np.array([3, 1, 1])  # reads a a a b c
    reads = np.array([0, 0, 0, 1, 2])
    from itertools import combinations

    for n in (1, 2, 3, 4):
        exp = np.mean([len(set(reads[list(c)])) for c in combinations(range(5), n)])
        assert rarefaction(counts, [n])[0] == pytest.approx(exp)
    assert rarefaction(counts, [5, 50]).tolist() == [3, 3]


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


def test_clone_matrix_errors(tmp_path):
    import anndata as ad

    a = ad.AnnData(np.zeros((3, 2), dtype=np.float32))
    a.write_h5ad(tmp_path / "x.h5ad")
    with pytest.raises(DataContractError, match="X_clone"):
        load_clone_matrix(tmp_path / "x.h5ad")
    a.obsm["X_clone"] = np.eye(3)
    a.write_h5ad(tmp_path / "y.h5ad")
    with pytest.raises(DataContractError, match="2 clone names for 3"):
        load_clone_matrix(tmp_path / "y.h5ad", clone_names=["a", "b"])
