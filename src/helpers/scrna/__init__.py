"""Axis 3: single-cell RNA-seq of AML before treatment and at relapse (scanpy / anndata based).

The data contract: a sample sheet and one 10x output per sample (:mod:`.contract`, :mod:`.tenx`); the public AML027
and LARRY data sets (:mod:`.public`); per-sample MAD-based QC with
haemoglobin handling and scrublet doublets (:mod:`.qc`), normalisation / HVG / PCA / Harmony / kNN / Leiden / UMAP
(:mod:`.embedding`), malignant versus normal calls from copy number (infercnvpy, :mod:`.cnv`) and expression
(:mod:`.malignant`), AnnData in and out (:mod:`.h5ad`), annotation of the Zeng 2022 hierarchy and normal cells from the real gene sets (:mod:`.annotate`,
:mod:`.genesets`), programme scores (:mod:`.scores`), the per-sample features and their dictionary (:mod:`.features`), composition tests, pseudobulk DE and
enrichment (:mod:`.compare`), the cohort's contrasts by response and from diagnosis to relapse (:mod:`.contrasts`),
summaries of an atlas (:mod:`.summaries`), recovery of known labels (:mod:`.recovery`), figures (:mod:`.plots`).
The chain from raw counts to the annotated atlas is one call, :func:`build_atlas`, returning an :class:`Atlas`.
Command line: ``python -m helpers.scrna --help``.
"""

# Names are imported from their submodule on first use (helpers._lazy): importing the package, or running its
# command line's --help, does not load pandas, scipy and the axis' libraries.
from .._lazy import lazy_exports

_EXPORTS = {
    "annotate": ["annotate_cells", "evaluate_annotation", "match_genes", "score_gene_sets"],
    "atlas": ["Atlas", "build_atlas"],
    "cnv": ["annotate_positions", "choose_reference", "gene_positions", "infer_cnv_patient"],
    "contract": ["SHEET_SCHEMA", "load_cohort_scrna", "load_samples_10x", "read_sample_sheet"],
    "contrasts": [
        "RESPONSE_GROUPS", "ResponseComparison", "compare_by_response", "de_by_response", "de_relapse_vs_diagnosis",
        "paired_samples", "response_labels"
    ],
    "compare": ["clr", "compare_groups", "enrichment", "paired_composition_test", "pseudobulk_de", "state_counts"],
    "embedding": ["cluster_and_umap", "embed", "normalise", "select_hvg"],
    "genesets": [
        "CELL_TYPES", "HIERARCHY_STATES", "LSPC_STATES", "MONOCYTIC_STATES", "NORMAL_MARKERS", "NORMAL_TYPES",
        "hallmark_sets", "hb_genes", "hierarchy_gene_sets", "linclass7_weights", "lsc17_weights", "mito_genes",
        "read_gmt", "signatures"
    ],
    "h5ad": ["read_h5ad_counts", "write_atlas"],
    "public": ["load_aml027", "load_larry"],
    "malignant": ["call_malignant"],
    "qc": ["QC_REASONS", "detect_doublets", "mad_outliers", "otsu_threshold", "qc_metrics", "run_qc"],
    "features": ["FEATURES", "feature_dictionary", "sample_features"],
    "recovery": ["FEATURE_TRUTH_PAIRS", "CellRecovery", "feature_recovery", "recover_cell_labels"],
    "scores": ["cell_programme_scores", "linclass7_score", "lsc17_score", "pseudobulk"],
    "summaries": ["call_counts", "cell_type_counts", "hb_contamination", "qc_outcome", "qc_totals"],
    "tenx": ["read_10x", "read_10x_h5", "read_10x_mtx", "write_10x_h5"],
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ += ["plots"]
