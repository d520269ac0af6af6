"""Malignant versus normal: copy number on infercnvpy's real tumour data set, LARRY as a normal negative control,
LinClass-7, AnnData in and out, the command line, and bad input.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_scrna_malignant_public_data.py``.
"""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from helpers.errors import DataContractError
from helpers.scrna import read_h5ad_counts, read_sample_sheet, write_atlas
from helpers.scrna.cnv import choose_reference, gene_positions, infer_cnv_patient
from helpers.scrna.contract import load_samples_10x

# Measured: 0.988 of the held-out cells of the infercnvpy example (142 / 142 malignant, 23 / 25 normal) called right.
OLIGO_ACCURACY_FLOOR = 0.95


@pytest.fixture(scope="module")
def oligodendroglioma():
    import infercnvpy as cnv
    import scanpy as sc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = cnv.datasets.oligodendroglioma()  # shipped in the wheel: Tirosh 2016, malignant and normal labels
    sc.pp.log1p(a)
    return a


def test_cnv_separates_the_shipped_tumour_data_set(oligodendroglioma):
    a = oligodendroglioma
    t = a.obs["cell_type"].astype(str).to_numpy()
    normal = ~pd.Series(t).str.startswith("malignant").to_numpy()
    # half of the normal cells are the reference; accuracy is measured on the other half and all malignant cells
    ref = normal & (np.random.default_rng(0).random(a.n_obs) < 0.5)
    pos = gene_positions(a.var_names)
    assert (pos["chromosome"] == a.var["chromosome"]).all()  # the positions are the table the wheel ships
    res = infer_cnv_patient(a, ref, reference_groups=np.where(ref, t, ""))
    assert res["detected"]
    s = res["cnv_score"][~ref]
    call = np.where(s >= 0.6, "malignant", np.where(s <= 0.3, "normal", "uncertain"))
    truth = np.where(normal[~ref], "normal", "malignant")
    acc = (call == truth).mean()
    assert acc >= OLIGO_ACCURACY_FLOOR, acc
    # the normal cells that were not in the reference score like the reference, not like the tumour
    assert np.median(s[truth == "normal"]) < 0.3 < 0.6 < np.median(s[truth == "malignant"])


def test_cnv_finds_nothing_in_a_permuted_genome(oligodendroglioma):
    """Negative control: gene positions shuffled, a real tumour's copy-number signal is destroyed."""
    a = oligodendroglioma.copy()
    perm = np.random.default_rng(1).permutation(a.n_vars)
    for c in ("chromosome", "start", "end"):
        a.var[c] = a.var[c].to_numpy()[perm]
    normal = ~a.obs["cell_type"].astype(str).str.startswith("malignant").to_numpy()
    res = infer_cnv_patient(a, normal)
    assert not res["detected"] or res["n_windows_changed"] < 5


def test_choose_reference_prefers_lymphocytes_and_fails_clearly():
    cls = pd.Series(["T"] * 25 + ["Monocyte"] * 10 + ["Erythroid"] * 30)
    mask, text = choose_reference(cls)
    assert mask.sum() == 25 and "T" in text
    mask, text = choose_reference(pd.Series(["T"] * 5 + ["Erythroid"] * 30))
    assert mask.sum() == 35 and "Erythroid" in text
    with pytest.raises(DataContractError, match="no normal reference cells"):
        choose_reference(pd.Series(["Monocyte"] * 50 + ["HSC/MPP"] * 50))


def _counts_adata(n=60, genes=("CD3D", "CD14", "LYZ", "HBB")) -> ad.AnnData:
    rng = np.random.default_rng(0)
    x = sp.csr_matrix(rng.poisson(2, (n, len(genes))).astype(np.float32))
    return ad.AnnData(X=x, obs=pd.DataFrame(index=[f"c{i}" for i in range(n)]), var=pd.DataFrame(index=list(genes)))


def test_h5ad_in_the_sample_sheet_and_without_counts(tmp_path):
    a = _counts_adata()
    a.write_h5ad(tmp_path / "s1.h5ad")
    pd.DataFrame({"sample_id": ["S1"], "path": ["s1.h5ad"]}).to_csv(tmp_path / "sheet.csv", index=False)
    adata = load_samples_10x(read_sample_sheet(tmp_path / "sheet.csv"))
    assert adata.shape == a.shape and adata.obs_names[0] == "S1_c0"
    assert (adata.X != a.X).nnz == 0
    # counts kept in layers['counts'] while X is normalised: the counts are found
    b = a.copy()
    b.layers["counts"] = b.X.copy()
    b.X = sp.csr_matrix(np.log1p(b.X.toarray() / 3.7))
    b.write_h5ad(tmp_path / "s2.h5ad")
    assert (read_h5ad_counts(tmp_path / "s2.h5ad").X != a.X).nnz == 0
    # normalised only: a clear error, unless the caller says so
    del b.layers["counts"]
    b.write_h5ad(tmp_path / "s3.h5ad")
    with pytest.raises(DataContractError, match="no raw counts"):
        read_h5ad_counts(tmp_path / "s3.h5ad")
    assert read_h5ad_counts(tmp_path / "s3.h5ad", log_normalized=True).uns["log_normalized"]
    (tmp_path / "bad.h5ad").write_text("not hdf5")
    with pytest.raises(DataContractError, match="cannot be read"):
        read_h5ad_counts(tmp_path / "bad.h5ad")


def test_write_atlas_reopens_with_the_fields(tmp_path):
    a = _counts_adata()
    a.layers["counts"] = a.X.copy()
    a.obs["patient_id"] = "P1"
    a.obs["malignant_call"] = pd.Categorical(["malignant", "normal"] * 30)
    a.obs["malignant_evidence"] = "cnv"
    a.obs["hierarchy_state"] = np.where(a.obs["malignant_call"] == "malignant", "Mono-like", "")
    a.obsm["X_umap"] = np.zeros((a.n_obs, 2))
    a.obsm["other"] = np.zeros((a.n_obs, 3))
    path = write_atlas(a, tmp_path / "atlas.h5ad")
    b = ad.read_h5ad(path)
    assert list(b.obs.columns[:2]) == ["patient_id", "malignant_call"]
    assert b.obs["malignant_evidence"].dtype == "category" and "counts" in b.layers
    assert set(b.obsm) == {"X_umap"}
    assert (b.obs["hierarchy_state"] == "").sum() == 30
