"""The chunked single-cell path gives the in-memory path's cells, clusters, annotation and features (CI cohort)."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.metrics import adjusted_rand_score

from helpers.clinical import load_samples
from helpers.errors import DataContractError
from helpers.scrna import build_atlas, sample_features
from helpers.scrna.chunked import build_atlas_chunked, qc_samples, write_atlas_chunked
from helpers.scrna.contract import load_samples_10x, read_sample_sheet
from helpers.workflow import open_executor

N_SAMPLES = 6  # about 1,200 cells: both paths in seconds
# Features are computed from the same cells and calls by the same code; only the PCA solver differs (covariance
# eigendecomposition instead of ARPACK), which moves the embedding at float32 precision.
FEATURE_RTOL = 1e-5


@pytest.fixture(scope="module")
def cohort(public_data, ci_cohort_with):
    root = ci_cohort_with("scrna")
    sheet = read_sample_sheet(root / "scrna" / "sample_sheet.csv").iloc[:N_SAMPLES].reset_index(drop=True)
    return root, sheet, load_samples(root)


def _in_memory(sheet: pd.DataFrame, samples: pd.DataFrame) -> ad.AnnData:
    """What load_cohort_scrna gives, for a slice of the sheet."""
    a = load_samples_10x(sheet)
    known = samples.set_index("sample_id")
    a.obs["patient_id"] = known.loc[a.obs["sample_id"].astype(str), "patient_id"].to_numpy()
    a.obs["timepoint"] = pd.Categorical(known.loc[a.obs["sample_id"].astype(str), "timepoint"].to_numpy(),
                                        categories=["diagnosis", "remission", "relapse"])  # fmt: skip
    return a


@pytest.fixture(scope="module")
def both(cohort, tmp_path_factory):
    _, sheet, samples = cohort
    atlas = build_atlas(_in_memory(sheet, samples), seed=0, cnv=False, umap=False)
    kept, summary, cells = atlas.adata, atlas.qc_summary, atlas.qc_cells
    chunked = build_atlas_chunked(sheet, samples, tmp_path_factory.mktemp("scratch"), seed=0, umap=False)
    return kept, summary, cells, chunked


def test_chunked_qc_tables_equal_the_in_memory_ones(both):
    _, summary, cells, ch = both
    pd.testing.assert_frame_equal(ch.qc_summary, summary, check_exact=True)
    pd.testing.assert_frame_equal(ch.qc_cells, cells, check_exact=True)


def test_chunked_clusters_annotation_and_features_match(both):
    kept, _, _, ch = both
    a = ch.adata
    assert list(a.obs_names) == list(kept.obs_names)
    assert np.array_equal(ch.hvg, kept.var["highly_variable"].to_numpy())
    # PCs equal up to sign, at float32 precision
    p, q = a.obsm["X_pca"], kept.obsm["X_pca"]
    sign = np.sign((p * q).sum(axis=0))
    assert np.allclose(p * sign, q, atol=1e-3 * np.abs(q).max())
    assert adjusted_rand_score(kept.obs["leiden"], a.obs["leiden"]) >= 0.99
    for col in ("cell_type", "malignant_call", "hierarchy_state", "compartment"):
        assert adjusted_rand_score(kept.obs[col].astype(str), a.obs[col].astype(str)) >= 0.99, col
    f_mem = sample_features(kept)
    f_ch = ch.sample_features()
    assert list(f_ch.columns) == list(f_mem.columns) and list(f_ch["sample_id"]) == list(f_mem["sample_id"])
    num = f_mem.select_dtypes("number").columns
    assert len(num) > 15
    np.testing.assert_allclose(f_ch[num].to_numpy(float), f_mem[num].to_numpy(float), rtol=FEATURE_RTOL,
                               atol=1e-9, equal_nan=True)  # fmt: skip
    text = f_mem.columns.difference(num)
    pd.testing.assert_frame_equal(f_ch[text], f_mem[text])


def test_chunked_atlas_file_holds_every_gene_and_the_calls(both, tmp_path):
    kept, _, _, ch = both
    path = write_atlas_chunked(ch, tmp_path / "atlas.h5ad")
    back = ad.read_h5ad(path)
    assert back.shape == kept.shape and list(back.obs_names) == list(kept.obs_names)
    assert abs(back.X - sp.csr_matrix(kept.X)).max() < 1e-6
    assert abs(back.layers["counts"] - sp.csr_matrix(kept.layers["counts"])).max() == 0
    assert (back.obs["cell_type"].astype(str) == ch.adata.obs["cell_type"].astype(str)).all()
    assert {"X_pca", "X_pca_harmony"} <= set(back.obsm) and "connectivities" in back.obsp


def test_fanout_on_a_local_cluster_gives_the_serial_qc_tables(cohort, tmp_path):
    _, sheet, samples = cohort
    sub = sheet.iloc[:3].reset_index(drop=True)
    serial = qc_samples(sub, samples, tmp_path / "a")
    with open_executor(local_cluster=2) as ex:  # the executor run_all.py --local-cluster 2 opens
        fanned = qc_samples(sub, samples, tmp_path / "b", executor=ex)
    for attr in ("summary", "cells", "obs"):
        s = pd.concat([getattr(r, attr) for r in serial])
        f = pd.concat([getattr(r, attr) for r in fanned])
        pd.testing.assert_frame_equal(s, f, check_exact=True)
        assert s.to_csv() == f.to_csv()
    for r, q in zip(serial, fanned, strict=True):
        assert (r.ann_log != q.ann_log).nnz == 0
        assert open(r.scratch, "rb").read() == open(q.scratch, "rb").read()


def test_chunked_path_rejects_samples_of_another_reference(cohort, tmp_path):
    root, sheet, samples = cohort
    import h5py

    bad = tmp_path / "bad.h5"
    bad.write_bytes(open(sheet.loc[1, "path"], "rb").read())
    with h5py.File(bad, "r+") as f:
        ids = f["matrix/features/id"][:]
        ids[0] = b"OTHER0001"
        f["matrix/features/id"][...] = ids
    sub = sheet.iloc[:2].copy()
    sub.loc[1, "path"] = str(bad)
    with pytest.raises(DataContractError, match="features that differ"):
        build_atlas_chunked(sub, samples, tmp_path / "s", umap=False)
