"""The whole per-cell pipeline in one call.

QC, normalisation, HVG, PCA, Harmony, kNN, Leiden, UMAP, malignant call, annotation.
"""

from __future__ import annotations

import dataclasses

import anndata as ad
import numpy as np
import pandas as pd

from .embedding import cluster_and_umap, embed, normalise, select_hvg
from .malignant import call_malignant
from .qc import run_qc
from .scores import cell_programme_scores

__all__ = ["Atlas", "build_atlas"]


@dataclasses.dataclass(frozen=True)
class Atlas:
    """What :func:`build_atlas` made, step by step.

    Attributes
    ----------
    adata
        The QC-passed, annotated cells: log-normalised ``X``, raw ``layers['counts']``, ``obs`` with the QC metrics,
        ``cell_type``, ``compartment``, ``malignant_call``, ``malignant_evidence``, ``hierarchy_state``, ``leiden``
        and the programme scores, ``obsm['X_pca']`` (and ``X_pca_harmony``), ``obsm['X_umap']``.
    qc_summary
        Per sample: cells before and after QC, removed per reason (first reason only, so the columns add up), the
        limits used and the haemoglobin shares (:func:`~helpers.scrna.qc.run_qc`).
    qc_cells
        Per input cell: QC metrics, ``qc_status`` (``pass`` or the first reason) and the doublet score.
    hvg
        Boolean mask over genes of the highly variable genes (also ``adata.var['highly_variable']``).
    representation
        The embedding the neighbours were built on (``X_pca_harmony``, or ``X_pca`` with one batch).
    knn
        The kNN search used (``sklearn`` exact or ``pynndescent``).
    malignant_by_patient
        Per patient: the copy-number reference, the changes found, the evidence of the calls
        (:func:`~helpers.scrna.malignant.call_malignant`; ``attrs['expression_rule']`` says how expression decided).
    """

    adata: ad.AnnData
    qc_summary: pd.DataFrame
    qc_cells: pd.DataFrame
    hvg: np.ndarray
    representation: str
    knn: str
    malignant_by_patient: pd.DataFrame

    @property
    def n_hvg(self) -> int:
        """Number of highly variable genes."""
        return int(self.hvg.sum())

    @property
    def n_clusters(self) -> int:
        """Number of Leiden clusters."""
        return int(self.adata.obs["leiden"].nunique())


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
) -> Atlas:
    """Run every per-cell step on raw counts and return the annotated atlas with what each step found.

    The steps: per-sample QC (:func:`~helpers.scrna.qc.run_qc`), normalisation and batch-aware highly variable genes
    (:func:`~helpers.scrna.embedding.normalise`, :func:`~helpers.scrna.embedding.select_hvg`), PCA and Harmony
    (:func:`~helpers.scrna.embedding.embed`), kNN graph, Leiden and UMAP
    (:func:`~helpers.scrna.embedding.cluster_and_umap`), the malignant call with copy number and the hierarchy
    (:func:`~helpers.scrna.malignant.call_malignant`), then the programme scores
    (:func:`~helpers.scrna.scores.cell_programme_scores`).

    Parameters
    ----------
    adata
        Raw counts with ``obs`` ``sample_id`` and ``patient_id`` (as the loaders return them).
    seed
        Random state of scrublet, PCA, Harmony, Leiden and UMAP.
    min_genes
        Absolute floor on detected genes, on top of the per-sample MAD limits.
    hb_max
        Haemoglobin share (%) above which a barcode is removed as a red cell / reticulocyte.
    doublets
        Detect doublets with scrublet.
    n_top_genes
        Highly variable genes.
    n_pcs
        Principal components.
    integrate_key
        ``obs`` column Harmony integrates across (``None``: no integration).
    knn
        ``"auto"``, ``"sklearn"`` or ``"pynndescent"``.
    resolution
        Leiden resolution.
    umap
        Compute the UMAP layout.
    cnv
        Infer copy number for the malignant call (``False``: expression only).
    species
        ``"human"`` or ``"mouse"`` gene symbols.

    Returns
    -------
    Atlas
        The annotated cells and the tables of every step.
    """
    kept, summary, cells = run_qc(adata, min_genes=min_genes, hb_max=hb_max, doublets=doublets, seed=seed)
    normalise(kept)
    hvg = select_hvg(kept, n_top_genes=n_top_genes)
    rep = embed(kept, n_pcs=n_pcs, batch_key=integrate_key, seed=seed)
    knn_used = cluster_and_umap(kept, use_rep=rep, knn=knn, resolution=resolution, umap=umap, seed=seed)
    by_patient = call_malignant(kept, cnv=cnv, species=species)
    cell_programme_scores(kept)
    return Atlas(adata=kept, qc_summary=summary, qc_cells=cells, hvg=hvg, representation=rep, knn=knn_used,
                 malignant_by_patient=by_patient)  # fmt: skip
