"""Drug sensitivity testing (DST): plates to curves, scores, synergy and the link to the clinical response.

Modules: :mod:`~helpers.dst.io` (data contract and loaders), :mod:`~helpers.dst.qc` (plate QC, normalisation),
:mod:`~helpers.dst.fit` (vectorised probit and 4PL fits), :mod:`~helpers.dst.dss` (DSS and selective DSS),
:mod:`~helpers.dst.synergy` (Bliss, HSA, Loewe, ZIP), :mod:`~helpers.dst.drc` (R drc's LL.4 fit, for
results published with drc-based tools), :mod:`~helpers.dst.response` (ROC, cut-off, PPV/NPV),
:mod:`~helpers.dst.cohort` (the chain for a cohort), :mod:`~helpers.dst.beataml` (BeatAML 2.0 dose curves and
published fits; its patient table is :mod:`helpers.beataml`), :mod:`~helpers.dst.plots`. Command line:
``python -m helpers.dst {fit,qc,synergy} --help``.
"""

from .cohort import FEATURE_DICTIONARY, process_plates, sample_features
from .dss import dss_scores, selective_dss
from .fit import fit_curves, fit_ll4, fit_probit, ll4_inhibition, pad_curves, probit_auc
from .io import load_plate_manifest, load_plates, read_long_table, read_plate_map, read_reader_export
from .qc import QC_THRESHOLDS, flag_wells, normalise_plates, plate_qc
from .response import bootstrap_auc, diagnostic_table, roc_auc, roc_curve, youden_cutoff
from .synergy import block_synergy, fit_drc_ll4, synergy_scores, synergy_table

__all__ = [
    "FEATURE_DICTIONARY",
    "QC_THRESHOLDS",
    "block_synergy",
    "bootstrap_auc",
    "diagnostic_table",
    "dss_scores",
    "fit_curves",
    "fit_drc_ll4",
    "fit_ll4",
    "fit_probit",
    "flag_wells",
    "ll4_inhibition",
    "load_plate_manifest",
    "load_plates",
    "normalise_plates",
    "pad_curves",
    "plate_qc",
    "probit_auc",
    "process_plates",
    "read_long_table",
    "read_plate_map",
    "read_reader_export",
    "roc_auc",
    "roc_curve",
    "sample_features",
    "selective_dss",
    "synergy_scores",
    "synergy_table",
    "youden_cutoff",
]
