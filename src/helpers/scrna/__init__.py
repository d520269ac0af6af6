"""Axis 3: single-cell RNA-seq of AML before treatment and at relapse (scanpy / anndata based).

Loading 10x outputs per sample with a sample sheet (:mod:`.tenx`, :mod:`.load`), per-sample MAD-based QC with
haemoglobin handling and scrublet doublets (:mod:`.qc`), normalisation / HVG / PCA / Harmony / kNN / Leiden / UMAP
(:mod:`.embedding`), malignant versus normal calls from copy number (infercnvpy, :mod:`.cnv`) and expression
(:mod:`.malignant`), AnnData in and out (:mod:`.h5ad`), annotation of the Zeng 2022 hierarchy and normal cells from the real gene sets (:mod:`.annotate`,
:mod:`.genesets`), programme scores and per-sample features (:mod:`.scores`), composition tests, pseudobulk DE and
enrichment (:mod:`.compare`), figures (:mod:`.plots`). Command line: ``python -m helpers.scrna --help``.
"""

from . import plots
from .annotate import annotate_cells, evaluate_annotation, match_genes, score_gene_sets
from .atlas import build_atlas
from .cnv import annotate_positions, choose_reference, gene_positions, infer_cnv_patient
from .compare import clr, compare_groups, enrichment, paired_composition_test, pseudobulk_de, state_counts
from .embedding import cluster_and_umap, embed, normalise, select_hvg
from .genesets import (
    CELL_TYPES,
    HIERARCHY_STATES,
    LSPC_STATES,
    MONOCYTIC_STATES,
    NORMAL_MARKERS,
    NORMAL_TYPES,
    hallmark_sets,
    hb_genes,
    hierarchy_gene_sets,
    linclass7_weights,
    lsc17_weights,
    mito_genes,
    read_gmt,
    signatures,
)
from .h5ad import read_h5ad_counts, write_atlas
from .load import load_aml027, load_cohort_scrna, load_larry, load_samples_10x, read_sample_sheet
from .malignant import call_malignant
from .qc import QC_REASONS, detect_doublets, mad_outliers, otsu_threshold, qc_metrics, run_qc
from .scores import FEATURE_DICTIONARY, cell_programme_scores, linclass7_score, lsc17_score, pseudobulk, sample_features
from .tenx import read_10x, read_10x_h5, read_10x_mtx, write_10x_h5

__all__ = [
    "CELL_TYPES",
    "FEATURE_DICTIONARY",
    "HIERARCHY_STATES",
    "LSPC_STATES",
    "MONOCYTIC_STATES",
    "NORMAL_MARKERS",
    "NORMAL_TYPES",
    "QC_REASONS",
    "annotate_cells",
    "annotate_positions",
    "call_malignant",
    "choose_reference",
    "gene_positions",
    "infer_cnv_patient",
    "linclass7_score",
    "linclass7_weights",
    "read_h5ad_counts",
    "write_atlas",
    "build_atlas",
    "cell_programme_scores",
    "cluster_and_umap",
    "clr",
    "compare_groups",
    "detect_doublets",
    "embed",
    "enrichment",
    "evaluate_annotation",
    "hallmark_sets",
    "hb_genes",
    "hierarchy_gene_sets",
    "load_aml027",
    "load_cohort_scrna",
    "load_larry",
    "load_samples_10x",
    "lsc17_score",
    "lsc17_weights",
    "mad_outliers",
    "match_genes",
    "mito_genes",
    "normalise",
    "otsu_threshold",
    "paired_composition_test",
    "plots",
    "pseudobulk",
    "pseudobulk_de",
    "qc_metrics",
    "read_10x",
    "read_10x_h5",
    "read_10x_mtx",
    "read_gmt",
    "read_sample_sheet",
    "run_qc",
    "sample_features",
    "score_gene_sets",
    "select_hvg",
    "signatures",
    "state_counts",
    "write_10x_h5",
]
