"""The whole per-cell pipeline in one call: QC, normalisation, HVG, PCA, Harmony, kNN, Leiden, UMAP, malignant call,
annotation."""

from __future__ import annotations

import anndata as ad
import pandas as pd

from .embedding import cluster_and_umap, embed, normalise, select_hvg
from .malignant import call_malignant
from .qc import run_qc
from .scores import cell_programme_scores

__all__ = ["build_atlas"]


def build_atlas(
    adata: ad.AnnData,
    *,
    seed: int = 0,
    min_genes: int = 100,
    hb_max: float = 90.0,
    doublets: bool = True,
    n_top_genes: int = 2000,
    n_pcs: int = 30,
    integrate_key: str | None = "patient_id",
    knn: str = "auto",
    resolution: float = 1.0,
    umap: bool = True,
    cnv: bool = True,
    species: str = "human",
) -> tuple[ad.AnnData, pd.DataFrame, pd.DataFrame]:
    """Run every per-cell step on raw counts and return the annotated atlas with the QC tables.

    Parameters mirror the steps (:func:`~helpers.scrna.qc.run_qc`, :func:`~helpers.scrna.embedding.select_hvg`,
    :func:`~helpers.scrna.embedding.embed`, :func:`~helpers.scrna.embedding.cluster_and_umap`).

    The malignant call (:func:`~helpers.scrna.malignant.call_malignant`, copy number with ``cnv``) sets
    ``cell_type`` (hierarchy state of malignant cells, normal class otherwise); its per-patient table is in
    ``uns['malignant_by_patient']``.

    Returns
    -------
    (AnnData, DataFrame, DataFrame)
        The QC-passed, annotated cells (log-normalised ``X``, raw ``layers['counts']``, ``obs`` with ``cell_type``,
        ``compartment``, ``malignant_call``, ``hierarchy_state``, ``leiden`` and programme scores,
        ``obsm['X_umap']``), the per-sample QC summary and the per-cell QC table.
    """
    kept, summary, cells = run_qc(adata, min_genes=min_genes, hb_max=hb_max, doublets=doublets, seed=seed)
    normalise(kept)
    select_hvg(kept, n_top_genes=n_top_genes)
    rep = embed(kept, n_pcs=n_pcs, batch_key=integrate_key, seed=seed)
    cluster_and_umap(kept, use_rep=rep, knn=knn, resolution=resolution, umap=umap, seed=seed)
    kept.uns["malignant_by_patient"] = call_malignant(kept, cnv=cnv, species=species)
    cell_programme_scores(kept)
    return kept, summary, cells
