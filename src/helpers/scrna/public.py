"""Public single-cell data sets read through the registry: the real AML027 bone marrow and the LARRY clonal subset."""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import DataContractError
from ..registry import dataset_path

__all__ = ["load_aml027", "load_larry"]


def load_aml027() -> ad.AnnData:
    """Load the real AML027 pre-transplant bone marrow (Zheng et al. 2017), raw counts, as a one-sample cohort.

    Returns
    -------
    AnnData
        5,150 cells x 12,658 genes with ``obs`` ``sample_id = patient_id = "AML027"``, ``timepoint = "diagnosis"``,
        ``barcode``; ``obs_names`` are ``AML027_<barcode>``, ``X`` sparse float32 UMI counts, ``var['gene_ids']``.

    Raises
    ------
    DataContractError
        When the registry file's ``X`` is not sparse integer UMI counts.
    """
    path = dataset_path("aml027_bmmc", "aml027_pre_10x.h5ad")
    a = ad.read_h5ad(path)
    x = a.X
    if not sp.issparse(x) or (x.data.size and np.any(x.data != np.round(x.data))):
        raise DataContractError(path, "expected raw integer UMI counts in X")
    a.X = sp.csr_matrix(x, dtype=np.float32)
    a.obs["barcode"] = a.obs_names.astype(str)
    a.obs["sample_id"] = pd.Categorical(["AML027"] * a.n_obs)
    a.obs["patient_id"] = "AML027"
    a.obs["timepoint"] = pd.Categorical(["diagnosis"] * a.n_obs, categories=["diagnosis", "remission", "relapse"])
    a.obs_names = [f"AML027_{b}" for b in a.obs_names]
    a.var["gene_ids"] = a.var_names.astype(str)
    return a


def load_larry() -> ad.AnnData:
    """Load the LARRY clonal subset (Weinreb et al. 2020) with its cell x clone matrix checked.

    ``obsm['X_clone']`` (binary cells x clones) is the bridge to barcoding: cells sharing a clone share a lentiviral
    barcode. Adds ``obs['clone_id']`` (the cell's clone, -1 when none) and ``obs['clone_size']`` (cells in that clone).

    Returns
    -------
    AnnData
        The LARRY cells with ``obsm['X_clone']``, ``obs['clone_id']`` and ``obs['clone_size']``.

    Raises
    ------
    DataContractError
        When the clone matrix is missing, not binary, has the wrong number of rows, or gives a cell several clones.
    """
    path = dataset_path("larry_clonal_subset", "test_adata_preprocessed.h5ad")
    with warnings.catch_warnings():  # written by an older anndata: its format notices are expected
        warnings.simplefilter("ignore")
        a = ad.read_h5ad(path)
    if "X_clone" not in a.obsm:
        raise DataContractError(path, "no obsm['X_clone'] cell x clone matrix", column="X_clone")
    c = sp.csr_matrix(a.obsm["X_clone"])
    if c.shape[0] != a.n_obs:
        raise DataContractError(path, f"X_clone has {c.shape[0]} rows for {a.n_obs} cells", column="X_clone")
    if c.nnz and not np.all(np.isin(c.data, [0, 1])):
        raise DataContractError(path, "X_clone must be binary", column="X_clone")
    per_cell = np.asarray(c.sum(axis=1)).ravel()
    if np.any(per_cell > 1):
        raise DataContractError(path, f"cell {a.obs_names[np.argmax(per_cell)]} belongs to several clones",
                                column="X_clone")
    clone = np.where(per_cell > 0, np.asarray(c.argmax(axis=1)).ravel(), -1)
    sizes = np.asarray(c.sum(axis=0)).ravel()
    a.obs["clone_id"] = clone
    a.obs["clone_size"] = np.where(clone >= 0, sizes[np.maximum(clone, 0)], 0).astype(int)
    return a
