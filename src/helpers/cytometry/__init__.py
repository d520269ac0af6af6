"""Functional flow cytometry (axis 2): FCS reading, compensation, transforms, QC, gating as data, read-outs.

Modules: ``fcs`` (reading, scrubbing), ``transforms`` (compensation, arcsinh, Gating-ML transforms), ``qc``,
``gating`` (YAML strategies, Gating-ML 2.0, the gating entry point), ``contract`` (sample sheet, panels),
``readouts`` (functional read-outs and features), ``clustering`` (FlowSOM, UMAP), ``panel`` (the panel contract:
stain synonyms, swapped channels), ``proliferation`` (dye dilution, EdU), ``normalise`` (reference-sample intensity
standardisation), ``differential`` (paired differential cluster tests), ``mrd`` (flow MRD at remission), ``plots``.
Command line: ``python -m helpers.cytometry {gate, readouts, proliferation, scrub}``.
"""

from .clustering import (
    cluster_abundance,
    collect_events,
    flowsom_stability,
    run_flowsom,
    umap_embedding,
)
from .contract import CONDITIONS, CytometryInputs, check_panel, load_cytometry, load_panels, load_sample_sheet
from .differential import cluster_counts, differential_abundance, differential_state
from .fcs import SAFE_KEYWORDS, FCSData, parse_spillover, read_fcs, scrub_metadata, write_fcs
from .gating import (
    Gate,
    GatingOutcome,
    Strategy,
    apply_strategy,
    compensate_for,
    compile_gatingml,
    flowkit_sample,
    gate_file,
    gate_files,
    gate_workspace,
    is_linear_dimension,
    load_strategy,
)
from .mrd import ELN_LIMITS, dfn_events, laip_events, laip_profile, mrd_call
from .normalise import QuantileNormaliser
from .panel import MARKER_SYNONYMS, canonical_marker, enforce_panel, swap_warnings
from .proliferation import edu_positive_fraction, fit_generations, proliferation_indices, proliferation_table
from .qc import QC_THRESHOLDS, qc_file
from .readouts import (
    FEATURES,
    MFI_READOUTS,
    bcl2_family_score,
    derive_cutoff,
    feature_dictionary,
    process_file,
    process_files,
    sample_features,
    scenith_indices,
    specific_apoptosis,
)
from .transforms import (
    COFACTOR_FLOW,
    COFACTOR_MASS,
    arcsinh,
    compensate,
    fluorescence_columns,
    gml_asinh,
    gml_linear,
    gml_log,
    hyperlog,
    logicle,
)

__all__ = [
    "cluster_abundance", "collect_events", "flowsom_stability", "run_flowsom", "umap_embedding",
    "cluster_counts", "differential_abundance", "differential_state",
    "ELN_LIMITS", "dfn_events", "laip_events", "laip_profile", "mrd_call",
    "QuantileNormaliser",
    "MARKER_SYNONYMS", "canonical_marker", "enforce_panel", "swap_warnings",
    "edu_positive_fraction", "fit_generations", "proliferation_indices", "proliferation_table",
    "CONDITIONS", "CytometryInputs", "check_panel", "load_cytometry", "load_panels", "load_sample_sheet",
    "SAFE_KEYWORDS", "FCSData", "parse_spillover", "read_fcs", "scrub_metadata", "write_fcs",
    "Gate", "GatingOutcome", "Strategy", "apply_strategy", "compensate_for", "compile_gatingml", "flowkit_sample", "gate_file", "gate_files",
    "gate_workspace", "is_linear_dimension", "load_strategy",
    "QC_THRESHOLDS", "qc_file",
    "FEATURES", "MFI_READOUTS", "bcl2_family_score", "derive_cutoff", "feature_dictionary", "process_file",
    "process_files", "sample_features", "scenith_indices", "specific_apoptosis",
    "COFACTOR_FLOW", "COFACTOR_MASS", "arcsinh", "compensate", "fluorescence_columns", "gml_asinh", "gml_linear",
    "gml_log", "hyperlog", "logicle",
]  # fmt: skip
