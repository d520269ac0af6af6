"""Genetic barcoding of xenografts, from reads to the test of pre-existing resistance to AZA/VEN.

Extraction from FASTQ or count tables, error correction, counts, diversity, clonal dynamics, differential clone
abundance between arms and the test of pre-existing, heritable resistance. The chain from a data folder to counts per
mouse is one call, :func:`process_barcodes`, returning a :class:`BarcodeData`. Command line:
``python -m helpers.barcodes --help``.
"""

# Names are imported from their submodule on first use (helpers._lazy): importing the package, or running its
# command line's --help, does not load pandas, scipy and the axis' libraries.
from .._lazy import lazy_exports

_EXPORTS = {
    "chain": ["INPUT_KINDS", "BarcodeData", "input_kind", "process_barcodes"],
    "contract": ["ARMS", "SHEET_COLUMNS", "TIMEPOINTS", "BarcodeDataset", "load_barcode_dataset", "load_sample_sheet"],
    "correct": ["CLUSTER_METHODS", "cluster_barcodes", "collapse_counts", "correct_counts", "neighbour_pairs"],
    "counts": ["correct_by_group", "count_libraries", "detection_thresholds", "sample_counts", "wide_matrix"],
    "diff": [
        "DiffResult", "comparison_units", "differential_abundance", "exact_agreement", "exact_agreement_table", "exact_test"
    ],
    "diversity": ["diversity_table", "gini", "hill_numbers"],
    "dynamics": ["DOMINANT_THRESHOLD", "dominant_clones", "fold_changes", "frequency_table", "shared_clones"],
    "extract": ["REJECT_REASONS", "ExtractionResult", "extract_barcodes", "iter_fastq_blocks"],
    "features": ["FEATURE_DICTIONARY", "feature_dictionary", "pdx_features"],
    "metrics": ["BIAS_BREAKS", "bias_histogram", "pairwise_correlation", "replicate_agreement", "replicate_r"],
    "patterns": ["BC32_GFP", "PYCASHIER_DEFAULT", "ReadPattern", "parse_pattern", "read_pattern_file"],
    "preexisting": [
        "calibration_summary", "control_split_calibration", "resistance_by_arm", "resistance_call_summary",
        "resistance_calls", "resistance_tables", "split_calibration"
    ],
    "qc": [
        "correlation_matrix", "detected_per_mouse", "rarefaction", "rarefaction_curves", "replicate_correlation",
        "saturation"
    ],
    "resistance": ["ResistanceResult", "resistance_test", "uniform_overlap_test"],
    "singlecell": [
        "clone_state_table", "expanding_clones", "load_clone_matrix", "shared_clones_with_cells", "state_enrichment"
    ],
    "tables": [
        "BASELINE_ARM", "COUNT_FILE_NAMES", "DESIGN_COLUMNS", "CountDataset", "absolute_clone_sizes",
        "collapse_replicates", "control_arm", "design_from_bartools", "design_from_fastq_sheet", "load_count_dataset",
        "load_design", "read_count_table", "samples_from_units"
    ],
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
