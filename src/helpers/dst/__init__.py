"""Drug sensitivity testing (DST): plates to curves, scores, synergy and the link to the clinical response.

Modules: :mod:`~helpers.dst.contract` (the data contract: plates, maps, manifest, long tables), :mod:`~helpers.dst.qc` (plate QC, normalisation),
:mod:`~helpers.dst.fit` (vectorised probit and 4PL fits), :mod:`~helpers.dst.dss` (DSS and selective DSS),
:mod:`~helpers.dst.synergy` (Bliss, HSA, Loewe, ZIP), :mod:`~helpers.dst.drc` (R drc's LL.4 fit, for
results published with drc-based tools), :mod:`~helpers.dst.response` (ROC, cut-off, PPV/NPV),
:mod:`~helpers.dst.cohort` (the chain for a cohort),
:mod:`~helpers.dst.features` (the feature table for the integration and its dictionary), :mod:`~helpers.dst.beataml` (BeatAML 2.0 dose curves and
published fits; its patient table is :mod:`helpers.beataml`), :mod:`~helpers.dst.plots`. Command line:
``python -m helpers.dst {fit,qc,synergy} --help``.
"""

# Names are imported from their submodule on first use (helpers._lazy): importing the package, or running its
# command line's --help, does not load pandas, scipy and the axis' libraries.
from .._lazy import lazy_exports

_EXPORTS = {
    "cohort": ["DSTResult", "process_plates"],
    "dss": ["dss_scores", "selective_dss"],
    "features": ["FEATURE_DICTIONARY", "beataml_feature_dictionary", "feature_dictionary", "sample_features"],
    "outcome": [
        "OUTCOME_ORDER", "diagnosis_table", "example_plates", "outcome_groups", "relapse_comparison",
        "resistance_scores", "roc_table", "sample_groups",
    ],
    "fit": ["fit_curves", "fit_ll4", "fit_probit", "ll4_inhibition", "pad_curves", "probit_auc"],
    "contract": ["load_plate_manifest", "load_plates", "read_long_table", "read_plate_map", "read_reader_export"],
    "qc": ["QC_THRESHOLDS", "flag_wells", "normalise_plates", "plate_qc"],
    "response": ["bootstrap_auc", "diagnostic_table", "roc_auc", "roc_curve", "youden_cutoff"],
    "synergy": ["block_synergy", "fit_drc_ll4", "synergy_scores", "synergy_table"],
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
