"""AnnData (``.h5ad``) in and out: one sample's counts read from an ``.h5ad``, the annotated atlas written as one file.

Input: raw integer UMI counts are needed (QC, doublets and pseudobulk DE work on counts). They are looked for in
``layers['counts']``, then ``raw.X``, then ``X``; an ``.h5ad`` whose ``X`` is normalised and that keeps no counts is
rejected unless the caller says the data are log-normalised (``log_normalized=True``: QC and pseudobulk DE are then
not possible and only the annotation runs).

Output (:func:`write_atlas`): ``layers['counts']`` (raw counts), ``X`` (log-normalised), ``obs`` with patient, sample,
timepoint, the malignant call, score and evidence, cell type and hierarchy state, ``obsm`` with the PCA, Harmony and
UMAP coordinates as computed. Categorical columns only, no Python objects in ``uns``: cellxgene, scvi-tools and a
plain scanpy session open it as is.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import DataContractError
from ..io import atomic_path

__all__ = ["read_h5ad_counts", "write_atlas", "atlas_frames", "ATLAS_OBS"]

#: ``obs`` columns of the written atlas (those present are kept, in this order, then the rest of the scores).
ATLAS_OBS = ("patient_id", "sample_id", "timepoint", "barcode", "malignant_call", "malignant_score",
             "malignant_evidence", "cnv_score", "cell_type", "hierarchy_state", "normal_class", "compartment")


def _is_counts(x: np.ndarray | sp.spmatrix) -> bool:
    data = x.data if sp.issparse(x) else np.asarray(x).ravel()
    data = data[: 1_000_000]
    return bool(data.size == 0 or (np.all(data >= 0) and np.all(data == np.round(data))))


def read_h5ad_counts(path: str | Path, *, log_normalized: bool = False) -> ad.AnnData:
    """Read one sample's ``.h5ad`` and return cells x genes with raw counts in ``X`` (CSR, float32).

    Parameters
    ----------
    path
        The file.
    log_normalized
        Accept a file whose ``X`` is log-normalised and that holds no counts (``X`` is then returned as it is and
        ``uns['log_normalized'] = True``).

    Returns
    -------
    AnnData
        Cells x genes, raw counts in CSR ``X`` (float32).

    Raises
    ------
    DataContractError
        Unreadable file, no raw counts (and ``log_normalized`` not given), duplicated barcodes or genes.
    """
    path = Path(path)
    if not path.is_file():
        raise DataContractError(path, "h5ad file not found")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = ad.read_h5ad(path)
    except Exception as exc:  # h5py / anndata raise many types for a broken file
        raise DataContractError(path, f"cannot be read as an AnnData .h5ad file ({type(exc).__name__})") from None
    if a.n_obs == 0 or a.n_vars == 0:
        raise DataContractError(path, f"holds {a.n_obs} cells x {a.n_vars} genes")
    counts = None
    for where, x in (("layers['counts']", a.layers.get("counts")), ("raw.X", a.raw.X if a.raw is not None else None),
                     ("X", a.X)):
        if x is not None and x.shape == a.shape and _is_counts(x):
            counts = x
            break
        if where == "raw.X" and x is not None and x.shape[1] != a.n_vars and _is_counts(x):
            a = a.raw.to_adata()  # raw keeps all genes, X only the variable ones: the counts are the full matrix
            counts = a.X
            break
    if counts is None:
        if not log_normalized:
            raise DataContractError(path, "no raw counts: X is not integer counts and there is no layers['counts'] "
                                    "or raw.X of counts (give --log-normalized to annotate normalised data)",
                                    column="X")
        out = ad.AnnData(X=sp.csr_matrix(a.X, dtype=np.float32), obs=a.obs.copy(), var=a.var.copy())
        out.uns["log_normalized"] = True
    else:
        out = ad.AnnData(X=sp.csr_matrix(counts, dtype=np.float32), obs=a.obs.copy(), var=a.var.copy())
    if not out.obs_names.is_unique:
        raise DataContractError(path, f"barcode '{out.obs_names[out.obs_names.duplicated()][0]}' appears twice",
                                column="obs_names")
    out.var_names_make_unique()
    if "gene_ids" not in out.var:
        out.var["gene_ids"] = out.var_names.astype(str)
    return out


def atlas_frames(obs: pd.DataFrame, var: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Order and type the atlas' ``obs`` and ``var`` for writing.

    Parameters
    ----------
    obs, var
        The cells' and genes' annotations.

    Returns
    -------
    tuple of pandas.DataFrame
        ``obs`` with the columns of :data:`ATLAS_OBS` first and text as categories; ``var`` with text as ``str``.
    """
    cols = [c for c in ATLAS_OBS if c in obs] + [c for c in obs.columns if c not in ATLAS_OBS]
    obs = obs[cols].copy()
    for c in obs.columns:
        if obs[c].dtype == object:
            obs[c] = pd.Categorical(obs[c].astype(str))
    var = var.copy()
    for c in var.columns:
        if var[c].dtype == object:
            var[c] = var[c].astype(str)
    return obs, var


def write_atlas(adata: ad.AnnData, path: str | Path) -> Path:
    """Write the annotated atlas as one ``.h5ad`` (see the module docstring).

    Parameters
    ----------
    adata
        The annotated cells (:attr:`helpers.scrna.Atlas.adata`).
    path
        The file to write.

    Returns
    -------
    Path
        The written file.
    """
    obs, var = atlas_frames(adata.obs, adata.var)
    out = ad.AnnData(X=sp.csr_matrix(adata.X, dtype=np.float32), obs=obs, var=var,
                     obsm={k: np.asarray(v) for k, v in adata.obsm.items() if k in ("X_pca", "X_pca_harmony",
                                                                                        "X_umap")})
    if "counts" in adata.layers:
        out.layers["counts"] = sp.csr_matrix(adata.layers["counts"], dtype=np.float32)
    for k in ("connectivities", "distances"):
        if k in adata.obsp:
            out.obsp[k] = sp.csr_matrix(adata.obsp[k])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        out.write_h5ad(tmp, compression="gzip")
    return path
