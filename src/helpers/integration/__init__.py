"""Integration of the axes of the registry with the clinical data.

Patient and sample tables, models of primary and adaptive resistance, and the publication figures and tables.
"""

# Names are imported from their submodule on first use (helpers._lazy): importing the package, or running its
# command line's --help, does not load pandas, scipy and the axis' libraries.
from .._lazy import lazy_exports

_EXPORTS = {
    "associate": ["association_screen", "dream_association_inputs"],
    "competing": [
        "MULTISTATE_STATES", "FineGrayFit", "cif_curve", "cif_group_test", "fine_gray_data", "fine_gray_wald_test",
        "fit_fine_gray", "gray_test", "multistate_occupation", "multistate_transitions"
    ],
    "figures": [
        "biomarker_heatmap", "calibration_plot", "forest_plot", "group_boxplot", "km_plot", "paired_plot", "roc_plot",
        "readable_terms"
    ],
    "figures_clinical": ["cif_plot", "decision_curve_plot", "occupation_plot"],
    "longitudinal": ["timepoint_shifts"],
    "stats": [
        "CVResult", "LogisticFit", "added_value", "auc", "auc_ci", "bh_fdr", "calibration", "cross_validated_auc",
        "design_matrix", "fit_logistic", "is_binary", "likelihood_ratio_test", "univariable_logistic"
    ],
    "survival": [
        "CoxFit", "cox_added_value", "cumulative_incidence", "fit_cox", "km_summary", "logrank", "univariable_cox"
    ],
    "table1": ["format_p", "table_one", "write_table_one"],
    "tables": [
        "CLINICAL_DICTIONARY", "MARKER_COLUMNS", "FeatureTable", "assemble_patient_table", "assemble_sample_table",
        "biomarker_candidates", "collect_features", "combined_dictionary", "data_dictionary", "find_markers",
        "genetic_groups", "load_feature_table", "log_transform_concentrations", "remission_endpoints"
    ],
    "validation": [
        "bootstrap_optimism", "calibration_slope_intercept", "cv_cutoff", "decision_curve", "mice_logistic",
        "r2_cox_snell_from_c", "riley_max_parameters", "riley_sample_size"
    ],
    "within": ["between_patient_differences", "fixed_effects_shift", "within_patient_shifts"],
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
