"""Genetic barcoding of xenografts: extraction from FASTQ or count tables, error correction, counts, diversity,
clonal dynamics, differential clone abundance between arms and the test of pre-existing, heritable resistance to
AZA/VEN. Command line: ``python -m helpers.barcodes --help``."""

from .contract import ARMS, SHEET_COLUMNS, TIMEPOINTS, BarcodeDataset, load_barcode_dataset, load_sample_sheet
from .correct import CLUSTER_METHODS, cluster_barcodes, collapse_counts, correct_counts, neighbour_pairs
from .counts import correct_by_group, count_libraries, detection_thresholds, sample_counts, wide_matrix
from .diff import DiffResult, comparison_units, differential_abundance, exact_agreement, exact_test
from .diversity import diversity_table, gini, hill_numbers
from .dynamics import DOMINANT_THRESHOLD, dominant_clones, fold_changes, frequency_table, shared_clones
from .extract import REJECT_REASONS, ExtractionResult, extract_barcodes, iter_fastq_blocks
from .features import FEATURE_DICTIONARY, pdx_features
from .metrics import BIAS_BREAKS, bias_histogram, pairwise_correlation, replicate_agreement, replicate_r
from .patterns import BC32_GFP, PYCASHIER_DEFAULT, ReadPattern, parse_pattern, read_pattern_file
from .preexisting import calibration_summary, resistance_calls, split_calibration
from .qc import correlation_matrix, rarefaction, replicate_correlation
from .resistance import ResistanceResult, resistance_test, uniform_overlap_test
from .singlecell import clone_state_table, load_clone_matrix, shared_clones_with_cells, state_enrichment
from .tables import (
    BASELINE_ARM,
    COUNT_FILE_NAMES,
    DESIGN_COLUMNS,
    CountDataset,
    absolute_clone_sizes,
    collapse_replicates,
    control_arm,
    design_from_bartools,
    design_from_fastq_sheet,
    load_count_dataset,
    load_design,
    read_count_table,
    samples_from_units,
)  # fmt: skip

__all__ = [
    "ARMS", "SHEET_COLUMNS", "TIMEPOINTS", "BarcodeDataset", "load_barcode_dataset", "load_sample_sheet",
    "CLUSTER_METHODS", "cluster_barcodes", "collapse_counts", "correct_counts", "neighbour_pairs",
    "correct_by_group", "count_libraries", "detection_thresholds", "sample_counts", "wide_matrix",
    "DiffResult", "comparison_units", "differential_abundance", "exact_agreement", "exact_test",
    "diversity_table", "gini", "hill_numbers",
    "DOMINANT_THRESHOLD", "dominant_clones", "fold_changes", "frequency_table", "shared_clones",
    "REJECT_REASONS", "ExtractionResult", "extract_barcodes", "iter_fastq_blocks",
    "FEATURE_DICTIONARY", "pdx_features",
    "BIAS_BREAKS", "bias_histogram", "pairwise_correlation", "replicate_agreement", "replicate_r",
    "calibration_summary", "resistance_calls", "split_calibration",
    "BC32_GFP", "PYCASHIER_DEFAULT", "ReadPattern", "parse_pattern", "read_pattern_file",
    "correlation_matrix", "rarefaction", "replicate_correlation",
    "ResistanceResult", "resistance_test", "uniform_overlap_test",
    "clone_state_table", "load_clone_matrix", "shared_clones_with_cells", "state_enrichment",
    "BASELINE_ARM", "COUNT_FILE_NAMES", "DESIGN_COLUMNS", "CountDataset", "collapse_replicates", "control_arm",
    "design_from_bartools", "design_from_fastq_sheet", "load_count_dataset", "load_design", "read_count_table",
    "absolute_clone_sizes", "samples_from_units",
]  # fmt: skip
