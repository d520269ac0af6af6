"""Functional flow cytometry (axis 2): FCS reading, compensation, transforms, QC, gating as data, read-outs.

Modules: ``fcs`` (reading, scrubbing), ``transforms`` (compensation, arcsinh, Gating-ML transforms), ``qc``,
``gating`` (YAML strategies, Gating-ML 2.0, the gating entry point), ``contract`` (sample sheet, panels),
``readouts`` (functional read-outs and features), ``clustering`` (FlowSOM, UMAP), ``panel`` (the panel contract:
stain synonyms, swapped channels), ``proliferation`` (dye dilution, EdU), ``normalise`` (reference-sample intensity
standardisation), ``differential`` (paired differential cluster tests), ``calibration`` (their real negative
controls), ``mrd`` (flow MRD at remission), ``plots``.
Command line: ``python -m helpers.cytometry {gate, readouts, proliferation, scrub}``.
"""

# Names are imported from their submodule on first use (helpers._lazy): importing the package, or running its
# command line's --help, does not load pandas, scipy and the axis' libraries.
from .._lazy import lazy_exports

_EXPORTS = {
    "clustering": [
        "cluster_abundance", "collect_events", "flowsom_stability", "run_flowsom", "stability_table", "umap_embedding"
    ],
    "contract": ["CONDITIONS", "CytometryInputs", "check_panel", "load_cytometry", "load_panels", "load_sample_sheet"],
    "calibration": ["block_design", "null_fpr", "permutation_null"],
    "differential": ["cluster_counts", "differential_abundance", "differential_state"],
    "features": ["feature_dictionary"],
    "fcs": ["SAFE_KEYWORDS", "FCSData", "parse_spillover", "read_fcs", "scrub_metadata", "write_fcs"],
    "gating": [
        "Gate", "GatingOutcome", "Strategy", "apply_strategy", "compensate_for", "compile_gatingml", "flowkit_sample",
        "gate_file", "gate_files", "gate_workspace", "is_linear_dimension", "load_strategy"
    ],
    "mrd": ["ELN_LIMITS", "dfn_events", "laip_events", "laip_profile", "mrd_call"],
    "normalise": ["QuantileNormaliser"],
    "panel": ["MARKER_SYNONYMS", "canonical_marker", "enforce_panel", "swap_warnings"],
    "proliferation": ["edu_positive_fraction", "fit_generations", "proliferation_indices", "proliferation_table"],
    "qc": ["QC_THRESHOLDS", "qc_file"],
    "results": ["CytometryResult"],
    "readouts": [
        "FEATURES", "MFI_READOUTS", "bcl2_family_score", "derive_cutoff", "process_file", "process_files",
        "sample_features", "scenith_indices", "specific_apoptosis"
    ],
    "transforms": [
        "COFACTOR_FLOW", "COFACTOR_MASS", "arcsinh", "compensate", "fluorescence_columns", "gml_asinh", "gml_linear",
        "gml_log", "hyperlog", "logicle"
    ],
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
