"""Small, exact checks of the scRNA building blocks (QC limits, scores, composition tests, pseudobulk).

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_scrna_units_public_data.py``.
"""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from helpers.errors import DataContractError
from helpers.scrna import (
    clr,
    mad_outliers,
    match_genes,
    otsu_threshold,
    paired_composition_test,
    pseudobulk,
    qc_metrics,
    read_gmt,
    score_gene_sets,
)


def test_mad_outliers_thresholds():
    v = np.array([10, 11, 12, 13, 14, 100.0])
    mask, lo, hi = mad_outliers(v, nmads=3)
    med, mad = 12.5, 1.4826 * 1.5
    assert lo == pytest.approx(med - 3 * mad) and hi == pytest.approx(med + 3 * mad)
    assert mask.tolist() == [False] * 5 + [True]
    mask, lo, _ = mad_outliers(v, nmads=3, side="upper")
    assert lo == -np.inf and mask[-1]


def test_otsu_separates_two_modes():
    rng = np.random.default_rng(0)
    v = np.r_[rng.normal(0.1, 0.02, 500), rng.normal(0.6, 0.05, 200)]
    t = otsu_threshold(v)
    assert 0.2 < t < 0.5


def test_qc_metrics_counts_mito_and_hb():
    x = sp.csr_matrix(np.array([[5, 3, 2, 0], [0, 0, 10, 10]]))
    a = ad.AnnData(x.astype(np.float32), var=pd.DataFrame(index=["MT-CO1", "HBB", "CD34", "HBEGF"]))
    m = qc_metrics(a)
    assert m["total_counts"].tolist() == [10, 20]
    assert m["n_genes"].tolist() == [3, 2]
    assert m["pct_mito"].tolist() == [50, 0]
    assert m["pct_hb"].tolist() == [30, 0]  # HBEGF is not a haemoglobin gene


def test_score_gene_sets_matches_dense_zscores():
    rng = np.random.default_rng(1)
    x = rng.poisson(1.0, (50, 8)).astype(float)
    a = ad.AnnData(sp.csr_matrix(np.log1p(x)), var=pd.DataFrame(index=[f"G{i}" for i in range(8)]))
    s = score_gene_sets(a, {"A": ["G0", "G1", "G2"], "B": ["G5", "G6", "G7", "NOPE"], "C": ["G3"]})
    d = np.log1p(x)
    z = (d - d.mean(0)) / np.maximum(d.std(0), 0.1)
    assert np.allclose(s["A"], z[:, :3].mean(1))
    assert np.allclose(s["B"], z[:, 5:].mean(1))
    assert s["C"].isna().all()  # fewer than 3 genes present


def test_match_genes_both_directions():
    assert match_genes(["GPR56", "FAM30A", "X"], pd.Index(["ADGRG1", "KIAA0125"])) == ["ADGRG1", "KIAA0125"]


def test_read_gmt_errors(tmp_path):
    p = tmp_path / "x.gmt"
    p.write_text("A\tdesc\tG1\tG2\nA\tdesc\tG3\n")
    with pytest.raises(DataContractError, match="appears twice") as err:
        read_gmt(p)
    assert err.value.row == 2
    p.write_text("A\tdesc\n")
    with pytest.raises(DataContractError, match="at least one gene"):
        read_gmt(p)


def test_clr_rows_sum_to_zero():
    c = pd.DataFrame([[10, 0, 5], [1, 1, 1]], columns=list("abc"))
    z = clr(c)
    assert np.allclose(z.sum(axis=1), 0)
    assert np.allclose(z.iloc[1], 0)


def test_paired_composition_exact_sign_flip():
    counts = pd.DataFrame(
        [[50, 10], [60, 12], [40, 8], [10, 50], [12, 60], [9, 40]],
        index=["d1", "d2", "d3", "r1", "r2", "r3"], columns=["Q", "Mono"],
    )
    pairs = pd.DataFrame({"before": ["d1", "d2", "d3"], "after": ["r1", "r2", "r3"]})
    table, glob = paired_composition_test(counts, pairs)
    # all 3 patients shift the same way: only the identity and the all-flipped patterns reach it: p = 2/8
    assert glob["n_pairs"] == 3 and glob["p"] == pytest.approx(0.25)
    assert table.set_index("state").loc["Mono", "n_increased"] == 3
    assert table.set_index("state").loc["Mono", "mean_clr_change"] > 0


def test_pseudobulk_sums_per_group():
    x = sp.csr_matrix(np.array([[1, 2], [3, 4], [5, 6]]))
    a = ad.AnnData(x.astype(np.float32), obs=pd.DataFrame({"s": ["b", "a", "b"]}, index=["c1", "c2", "c3"]))
    pb, n = pseudobulk(a, "s", layer="X")
    assert pb.loc["b"].tolist() == [6, 8] and pb.loc["a"].tolist() == [3, 4]
    assert n.to_dict() == {"a": 1, "b": 2}
