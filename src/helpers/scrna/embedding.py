"""Normalisation, highly variable genes, PCA, Harmony integration, neighbours, Leiden clusters and UMAP.

Choices (measured on these machines, see benchmarks/bench_scrna.py and docs/scrna.md):

- kNN search: ``knn="auto"`` (default) is exact (scikit-learn) below :data:`EXACT_KNN_MAX_CELLS` cells and pynndescent
  above. pynndescent's numba compilation costs tens of seconds in every fresh process, more than an exact search
  takes on a few thousand cells (and exact neighbours are bit-for-bit reproducible, which the CI notebook's reference
  outputs need); the exact search grows with the square of the cells, and in benchmarks/bench_scrna.py the whole
  pipeline already used less CPU with pynndescent at 26,000 cells (100 s against 118 s).
- Highly variable genes are chosen per sample and combined (scanpy's batch-aware selection), without the
  mitochondrial and haemoglobin genes, so that neither damaged cells nor the red-cell soup drive the embedding.
- Harmony (harmonypy) corrects the PCA embedding across patients; with one batch it is skipped.
"""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd

from .genesets import hb_genes

__all__ = ["EXACT_KNN_MAX_CELLS", "normalise", "select_hvg", "embed", "cluster_and_umap"]

#: Above this many cells, ``knn="auto"`` uses the approximate search (pynndescent).
EXACT_KNN_MAX_CELLS = 20_000


def normalise(adata: ad.AnnData, *, target_sum: float = 1e4, keep_counts: bool = True) -> None:
    """Keep raw counts in ``layers['counts']``; ``X`` becomes log1p of counts per ``target_sum`` (in place).

    Parameters
    ----------
    adata
        Raw counts in ``X``; changed in place.
    target_sum
        Counts per cell after scaling.
    keep_counts
        Store a copy of the raw counts in ``layers['counts']`` (``False`` when the caller keeps them itself).

    Returns
    -------
    None
        ``adata`` is changed in place.
    """
    import scanpy as sc

    if keep_counts:
        adata.layers["counts"] = adata.X.copy()
    sc.pp.normalize_total(adata, target_sum=target_sum)
    sc.pp.log1p(adata)


def select_hvg(adata: ad.AnnData, *, n_top_genes: int = 2000, batch_key: str | None = "sample_id") -> np.ndarray:
    """Batch-aware highly variable genes on log-normalised ``X``, excluding MT- and haemoglobin genes.

    Batches with fewer than 3 cells are pooled, because a variance needs cells.

    Parameters
    ----------
    adata
        Log-normalised ``X``; ``var['highly_variable']`` is set.
    n_top_genes
        Genes selected (at most the genes left after the exclusions).
    batch_key
        ``obs`` column of the batches genes are ranked in (``None``, or a single batch: no batches).

    Returns
    -------
    ndarray
        Boolean mask over ``var_names`` (also stored as ``var['highly_variable']``).
    """
    import scanpy as sc

    key = None
    if batch_key is not None and adata.obs[batch_key].nunique() > 1:
        sizes = adata.obs[batch_key].value_counts()
        small = sizes.index[sizes < 3]
        key = "_hvg_batch"
        adata.obs[key] = adata.obs[batch_key].astype(str).where(~adata.obs[batch_key].isin(small), "_pooled")
    excluded = adata.var_names.str.upper().str.startswith("MT-") | adata.var_names.isin(hb_genes())
    # A new AnnData with only what the selection reads, not a view: scanpy turns the strings of a view's obs and var
    # into categoricals, which silently copies the whole view (and warns).
    obs = pd.DataFrame({key: pd.Categorical(adata.obs[key])} if key else {}, index=adata.obs_names)
    sub = ad.AnnData(X=adata.X[:, np.flatnonzero(~excluded)], obs=obs,
                     var=pd.DataFrame(index=adata.var_names[~excluded]))
    n_top = int(min(n_top_genes, sub.n_vars))
    hv = sc.pp.highly_variable_genes(sub, n_top_genes=n_top, batch_key=key, flavor="seurat", inplace=False)
    mask = np.zeros(adata.n_vars, bool)
    mask[np.flatnonzero(~excluded)[hv["highly_variable"].to_numpy()]] = True
    adata.var["highly_variable"] = mask
    if key is not None:
        del adata.obs[key]
    return mask


def embed(
    adata: ad.AnnData,
    *,
    n_pcs: int = 30,
    batch_key: str | None = "patient_id",
    seed: int = 0,
    harmony_max_iter: int = 20,
) -> str:
    """PCA on the highly variable genes (scaled, clipped at 10) and Harmony across ``batch_key``.

    Parameters
    ----------
    adata
        Log-normalised ``X`` with ``var['highly_variable']``; ``obsm['X_pca']`` (and ``X_pca_harmony``) are set.
    n_pcs
        Principal components (at most genes - 1 and cells - 1).
    batch_key
        ``obs`` column Harmony integrates across (``None``, or one batch: no Harmony).
    seed
        Random state of PCA and Harmony.
    harmony_max_iter
        Harmony iterations.

    Returns
    -------
    str
        The representation to build neighbours on (``X_pca_harmony`` or ``X_pca``).
    """
    import scanpy as sc

    # Only the HVG columns of X are copied (not the raw-count layer nor obs): scaling makes them dense.
    hv = np.flatnonzero(adata.var["highly_variable"].to_numpy())
    sub = ad.AnnData(X=adata.X[:, hv].astype(np.float32), obs=pd.DataFrame(index=adata.obs_names),
                     var=pd.DataFrame(index=adata.var_names[hv]))
    sc.pp.scale(sub, max_value=10)
    n_pcs = int(min(n_pcs, sub.n_vars - 1, sub.n_obs - 1))
    sc.pp.pca(sub, n_comps=n_pcs, svd_solver="arpack", random_state=seed)
    adata.obsm["X_pca"] = sub.obsm["X_pca"]
    adata.uns["pca"] = sub.uns["pca"]
    if batch_key is None or adata.obs[batch_key].nunique() < 2:
        return "X_pca"
    import harmonypy

    ho = harmonypy.run_harmony(adata.obsm["X_pca"], adata.obs, batch_key, max_iter_harmony=harmony_max_iter,
                               verbose=False, random_state=seed)
    z = np.asarray(ho.Z_corr)
    adata.obsm["X_pca_harmony"] = z if z.shape[0] == adata.n_obs else z.T
    return "X_pca_harmony"


def cluster_and_umap(
    adata: ad.AnnData,
    *,
    use_rep: str = "X_pca_harmony",
    n_neighbors: int = 15,
    resolution: float = 1.0,
    knn: str = "auto",
    umap: bool = True,
    seed: int = 0,
) -> str:
    """Build the kNN graph, Leiden clusters (``obs['leiden']``) and UMAP (``obsm['X_umap']``), in place.

    Parameters
    ----------
    adata
        Cells with the representation ``use_rep`` in ``obsm``; gets ``obsp['connectivities']``/``['distances']``.
    use_rep
        Representation in ``obsm`` (from :func:`embed`).
    n_neighbors
        Neighbours per cell.
    resolution
        Leiden resolution (igraph implementation, 2 iterations).
    knn
        ``"auto"``, ``"sklearn"`` (exact) or ``"pynndescent"`` (approximate); see the module docstring.
    umap
        Compute the UMAP layout.
    seed
        Random state of Leiden and UMAP.

    Returns
    -------
    str
        The kNN search used (``"sklearn"`` or ``"pynndescent"``).

    Raises
    ------
    ValueError
        An unknown ``knn``.
    """
    import scanpy as sc

    if knn not in ("auto", "sklearn", "pynndescent"):
        raise ValueError(f"knn must be 'auto', 'sklearn' or 'pynndescent', got {knn!r}")
    if knn == "auto":
        knn = "sklearn" if adata.n_obs <= EXACT_KNN_MAX_CELLS else "pynndescent"
    sc.pp.neighbors(adata, n_neighbors=n_neighbors, use_rep=use_rep, transformer=knn, random_state=seed)
    sc.tl.leiden(adata, resolution=resolution, flavor="igraph", n_iterations=2, random_state=seed)
    if umap:
        sc.tl.umap(adata, random_state=seed, min_dist=0.3)
    return knn
