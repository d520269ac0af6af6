"""Diversity, QC, multiple testing and the single-cell bridge, on published values and real data.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_barcodes_analysis_public_data.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers.barcodes import gini, hill_numbers, load_clone_matrix, rarefaction
from helpers.errors import DataContractError

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
