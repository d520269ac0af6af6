"""The cytometry axis's features for the integration: the per-sample table and its dictionary.

The table is built by :func:`helpers.cytometry.readouts.sample_features` (re-exported here, the axis's feature builder
in the registry); the dictionary follows the contract of every axis (``helpers/data/feature_dictionary.yaml``). The
cytometry features stand for three of the study's biomarkers: the monocytic fraction, the BCL2-family score (the
batch-normalised score when the cohort has reference controls, else the raw one) and T/NK activation.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ..axes import dictionary_spec
from .readouts import FEATURES, sample_features

__all__ = ["BIOMARKERS", "feature_dictionary", "feature_direction", "feature_role", "sample_features"]

# Which feature stands for which pre-specified biomarker; the first listed that is present carries it.
BIOMARKERS = {
    "monocytic fraction": ("pct_monocytic",),
    "BCL2-family score": ("bcl2_family_score_norm", "bcl2_family_score"),
    "T/NK activation": ("immune_activation_score",),
}
# Pre-specified directions for the response to AZA/VEN (DOMAIN: monocytic differentiation and low BCL2 / high MCL1
# or BCL-xL go with resistance; drug-induced death and arrest ex vivo with sensitivity; residual disease with relapse).
_RESISTANT = ("pct_monocytic", "pct_cd14", "lsc_bclxl_mfi", "lsc_mcl1_mfi", "lsc_bclxl_mfi_norm", "lsc_mcl1_mfi_norm",
              "mrd_flow_pct", "mrd_flow_events")  # fmt: skip
_SENSITIVE_PREFIX = ("spec_apoptosis_", "prolif_arrest_", "dye_prolif_arrest_", "bcl2_family_score")
_SENSITIVE = ("apoptosis_ven", "apoptosis_aza", "apoptosis_azaven", "lsc_bcl2_mfi", "lsc_bcl2_mfi_norm")


def feature_role(name: str) -> tuple[str, str]:
    """Role of a feature of :data:`helpers.cytometry.readouts.FEATURES` and what a higher value means, in words.

    Parameters
    ----------
    name
        Feature column.

    Returns
    -------
    role, prose
        The group (``composition``, ``drug_effect``, ``bcl2_family``, ``metabolism``, ``immune``, ``qc``) and a
        phrase such as ``"higher = more cells"`` (kept in the dictionary's definition).
    """
    if name.startswith(("spec_apoptosis", "apoptosis_")) and name != "apoptosis_untreated":
        return "drug_effect", "higher = more drug-induced death"
    if name.startswith("prolif_arrest"):
        return "drug_effect", "higher = stronger arrest by the drug"
    if name.startswith(("lsc_", "bcl2_family")):
        return "bcl2_family", "higher = more BCL2-dependent" if "score" in name else "higher = more protein"
    if name.startswith("scenith"):
        return "metabolism", "higher = more dependent" if "dependence" in name else "higher = more capacity"
    if name.startswith(("t_", "nk_", "immune")):
        return "immune", "higher = more activated"
    if name == "cyto_files_failed_qc":
        return "qc", "higher = more files failed"
    return "composition", "higher = more cells"


def feature_direction(name: str) -> str:
    """Look up the pre-specified direction of a feature for the response to AZA/VEN (empty when none is).

    Parameters
    ----------
    name
        Feature column.

    Returns
    -------
    str
        ``resistant``, ``sensitive`` or ``""``.
    """
    if name in _RESISTANT:
        return "resistant"
    if name in _SENSITIVE or name.startswith(_SENSITIVE_PREFIX):
        return "sensitive"
    return ""


def feature_dictionary(columns: Iterable[str]) -> pd.DataFrame:
    """Describe the feature columns present (``features_dictionary.csv`` of the cytometry notebook).

    Parameters
    ----------
    columns
        Columns of the feature table (:func:`sample_features`, plus the tube and MRD read-outs of
        :data:`helpers.cytometry.tubes.TUBE_FEATURES` when present).

    Returns
    -------
    pandas.DataFrame
        ``name, unit, source, definition, role, biomarker, direction`` (the feature-dictionary contract): ``role``
        groups the read-outs (composition, drug_effect, proliferation, bcl2_family, metabolism, immune, mrd, qc), the
        definition ends with what a higher value means, ``biomarker`` names the study biomarker a feature stands for.
    """
    from .tubes import TUBE_FEATURES

    columns = list(columns)
    carrier = {}
    for biomarker, candidates in BIOMARKERS.items():
        present = [c for c in candidates if c in columns]
        if present:
            carrier[present[0]] = biomarker
    rows = []
    for c in columns:
        if c in FEATURES:
            (unit, definition), (role, prose) = FEATURES[c], feature_role(c)
            source = "cytometry"
        elif c in TUBE_FEATURES:
            unit, definition, role, prose = TUBE_FEATURES[c]
            source = "cytometry" if role != "qc" else "cytometry qc"
        else:
            continue
        rows.append({"name": c, "unit": unit, "source": source,
                     "definition": f"{definition}; {prose}" if prose else definition, "role": role,
                     "biomarker": carrier.get(c, ""), "direction": feature_direction(c)})  # fmt: skip
    base = {"sample_id": "sample identifier", "patient_id": "patient identifier", "timepoint": "sampling time point"}
    head = [{"name": c, "unit": "", "source": "samples.csv", "definition": d, "role": "id", "biomarker": "",
             "direction": ""} for c, d in base.items() if c in columns]  # fmt: skip
    return pd.DataFrame(head + rows, columns=list(dictionary_spec().columns))
