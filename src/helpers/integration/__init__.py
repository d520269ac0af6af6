"""Integration of the four axes with the clinical data: patient and sample tables, models of primary and adaptive
resistance, and the publication figures and tables."""

from .associate import association_screen, dream_association_inputs
from .competing import (
    MULTISTATE_STATES,
    FineGrayFit,
    cif_curve,
    cif_group_test,
    fine_gray_data,
    fine_gray_wald_test,
    fit_fine_gray,
    gray_test,
    multistate_occupation,
    multistate_transitions,
)
from .figures import (
    FigureIndex,
    biomarker_heatmap,
    calibration_plot,
    forest_plot,
    group_boxplot,
    km_plot,
    paired_plot,
    roc_plot,
)
from .figures_clinical import cif_plot, decision_curve_plot, occupation_plot
from .longitudinal import timepoint_shifts
from .stats import (
    CVResult,
    LogisticFit,
    added_value,
    auc,
    auc_ci,
    bh_fdr,
    calibration,
    cross_validated_auc,
    design_matrix,
    fit_logistic,
    is_binary,
    likelihood_ratio_test,
    univariable_logistic,
)
from .survival import CoxFit, cox_added_value, cumulative_incidence, fit_cox, km_summary, logrank, univariable_cox
from .table1 import format_p, table_one, write_table_one
from .tables import (
    AXES,
    AXIS_OF_NOTEBOOK,
    CLINICAL_DICTIONARY,
    MARKER_ROLES,
    FeatureTable,
    assemble_patient_table,
    assemble_sample_table,
    biomarker_candidates,
    collect_features,
    combined_dictionary,
    data_dictionary,
    find_markers,
    genetic_groups,
    load_feature_table,
    log_transform_concentrations,
    remission_endpoints,
)
from .validation import (
    bootstrap_optimism,
    calibration_slope_intercept,
    cv_cutoff,
    decision_curve,
    mice_logistic,
    r2_cox_snell_from_c,
    riley_max_parameters,
    riley_sample_size,
)
from .within import between_patient_differences, fixed_effects_shift, within_patient_shifts

__all__ = [
    "AXES", "AXIS_OF_NOTEBOOK", "CLINICAL_DICTIONARY", "FeatureTable", "assemble_patient_table",
    "assemble_sample_table", "collect_features", "combined_dictionary", "data_dictionary", "genetic_groups", "load_feature_table",
    "remission_endpoints", "MARKER_ROLES", "find_markers", "biomarker_candidates", "log_transform_concentrations",
    "CVResult", "LogisticFit", "added_value", "auc", "auc_ci", "bh_fdr", "calibration", "cross_validated_auc",
    "design_matrix", "fit_logistic", "is_binary", "likelihood_ratio_test", "univariable_logistic",
    "CoxFit", "cumulative_incidence", "fit_cox", "km_summary", "logrank", "univariable_cox",
    "timepoint_shifts",
    "FigureIndex", "biomarker_heatmap", "calibration_plot", "forest_plot", "km_plot", "roc_plot", "group_boxplot", "paired_plot",
    "table_one", "write_table_one", "format_p",
    "association_screen", "MULTISTATE_STATES", "FineGrayFit", "cif_curve", "cif_group_test", "fine_gray_data",
    "fit_fine_gray", "fine_gray_wald_test", "gray_test", "multistate_occupation", "multistate_transitions",
    "bootstrap_optimism", "calibration_slope_intercept", "cv_cutoff", "decision_curve", "mice_logistic",
    "r2_cox_snell_from_c", "riley_max_parameters", "riley_sample_size",
    "between_patient_differences", "fixed_effects_shift", "within_patient_shifts",
    "cif_plot", "decision_curve_plot", "occupation_plot", "cox_added_value", "dream_association_inputs",
]  # fmt: skip
