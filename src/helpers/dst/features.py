"""The DST axis's features for the integration: one row per sample (or per BeatAML patient) and their dictionary.

The dictionary follows the contract of every axis (``helpers/data/feature_dictionary.yaml``): ``name, unit, source,
definition, role, biomarker, direction``. The venetoclax AUC of the chosen fit model stands for the study's "ex vivo
VEN sensitivity" biomarker; AUC and IC50 read-outs are higher in resistant cells, DSS scores in sensitive ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..assays import has_assay
from ..axes import dictionary_spec
from .dss import selective_dss

__all__ = ["FEATURE_DICTIONARY", "beataml_feature_dictionary", "feature_dictionary", "sample_features"]

_VEN = "ex vivo VEN sensitivity"
_ROWS = [
    ("sample_id", "", "samples.csv", "Sample identifier", "id", "", ""),
    ("patient_id", "", "samples.csv", "Patient identifier", "id", "", ""),
    ("timepoint", "", "samples.csv", "diagnosis or relapse", "id", "", ""),
    ("dst_qc_pass", "0/1", "plate QC", "1 when at least one plate of the sample passed QC (Z' >= 0.3, SSMD >= 3, "
     "DMSO CV <= 20 %, edge ratio 0.8-1.2); features are missing otherwise", "qc", "", ""),
    ("dst_z_prime", "", "plate QC", "Best Z'-factor among the sample's plates", "qc", "", ""),
    ("ven_auc", "% x log10(uM)", "probit fit", "Venetoclax AUC of the fitted viability over the tested range "
     "(BeatAML definition; 0.0001-10 uM here, so the maximum is 500); higher = more resistant", "auc", _VEN,
     "resistant"),
    ("ven_ic50_um", "uM", "probit fit", "Venetoclax IC50, clamped to the tested range", "ic50", "",
     "resistant"),
    ("ven_dss2", "", "ll4 fit", "Venetoclax DSS2 (Yadav 2014, threshold 10 %); higher = more sensitive",
     "dss", "", "sensitive"),
    ("ven_zdss2", "", "ll4 fit", "Venetoclax DSS2 as (x - mean)/(SD + 1) against the cohort's diagnosis samples",
     "dss", "", "sensitive"),
    ("aza_auc", "% x log10(uM)", "probit fit", "Azacitidine AUC (0.0137-10 uM, maximum 286.3)", "auc", "",
     "resistant"),
    ("aza_ic50_um", "uM", "probit fit", "Azacitidine IC50, clamped to the tested range", "ic50", "",
     "resistant"),
    ("aza_dss2", "", "ll4 fit", "Azacitidine DSS2", "dss", "", "sensitive"),
    ("azaven_bliss_mean", "% inhibition", "dose matrix", "Mean Bliss excess over the 49 combination cells", "synergy",
     "", ""),
    ("azaven_hsa_mean", "% inhibition", "dose matrix", "Mean HSA excess over the combination cells", "synergy", "", ""),
    ("azaven_loewe_mean", "% inhibition", "dose matrix", "Mean Loewe excess over the combination cells", "synergy", "",
     ""),
    ("azaven_zip_mean", "% inhibition", "dose matrix", "Mean ZIP delta over the combination cells", "synergy", "", ""),
    ("azaven_zip_max", "% inhibition", "dose matrix", "Largest ZIP delta of the matrix", "synergy", "", ""),
    ("azaven_max_inhibition", "%", "dose matrix", "Highest observed inhibition in the combination cells", "synergy",
     "", "sensitive"),
]  # fmt: skip


def feature_dictionary(*, fit_model: str = "probit") -> pd.DataFrame:
    """Build the dictionary of :func:`sample_features` (``features_dictionary.csv`` of the DST notebook).

    Parameters
    ----------
    fit_model
        Model of the AUC and IC50 read-outs (``probit`` or ``ll4``), recorded as their source.

    Returns
    -------
    pandas.DataFrame
        One row per column of the feature table, in the columns of the feature-dictionary contract
        (:func:`helpers.axes.dictionary_spec`: ``name``, ``unit``, ``source``, ``definition``, ``role``,
        ``biomarker``, ``direction``).
    """
    d = pd.DataFrame(_ROWS, columns=list(dictionary_spec().columns))
    return d.replace({"source": {"probit fit": f"{fit_model} fit"}})


FEATURE_DICTIONARY = feature_dictionary()


def sample_features(samples: pd.DataFrame, result: dict) -> pd.DataFrame:
    """Tabulate the features of :func:`feature_dictionary` per DST sample (NaN where plate QC failed).

    Parameters
    ----------
    samples
        The cohort's samples.csv (samples whose ``assays`` list ``dst``).
    result
        Output of :func:`helpers.dst.process_plates` (a :class:`~helpers.dst.cohort.DSTResult`, or a dict of its
        tables): ``qc``, ``fits``, ``synergy``, ``synergy_cells``.

    Returns
    -------
    pandas.DataFrame
        One row per sample listing ``dst``, in the order and columns of :data:`FEATURE_DICTIONARY`: ``sample_id,
        patient_id, timepoint``, plate QC (``dst_qc_pass`` 0/1, ``dst_z_prime``), venetoclax / azacitidine read-outs
        (AUC, IC50 in µM, DSS2; ``ven_zdss2`` against the cohort's diagnosis samples) and AZA + VEN synergy
        (% inhibition).
    """
    has = has_assay(samples["assays"], "dst")
    out = samples.loc[has, ["sample_id", "patient_id", "timepoint"]].reset_index(drop=True)
    qc = result["qc"].groupby("sample_id").agg(dst_qc_pass=("qc_pass", "max"), dst_z_prime=("z_prime", "max"))
    out = out.join(qc, on="sample_id")
    out["dst_qc_pass"] = out["dst_qc_pass"].fillna(0).astype(int)
    f = result["fits"]
    dx = out.loc[out["timepoint"] == "diagnosis", "sample_id"]
    ven = f[f["drug"] == "Venetoclax"]
    ref = ven[ven["sample_id"].isin(dx)]
    ven = selective_dss(ven, ref)
    for prefix, d in (("ven", ven), ("aza", f[f["drug"] == "Azacitidine"])):
        cols = {"auc": f"{prefix}_auc", "ic50_uM": f"{prefix}_ic50_um", "dss2": f"{prefix}_dss2"}
        if prefix == "ven":
            cols["zdss2"] = "ven_zdss2"
        out = out.join(d.set_index("sample_id")[list(cols)].rename(columns=cols), on="sample_id")
    syn = result["synergy"].set_index("sample_id")
    syn_cols = {f"{k}_mean": f"azaven_{k}_mean" for k in ("bliss", "hsa", "loewe", "zip")} | {"zip_max": "azaven_zip_max"}
    out = out.join(syn[list(syn_cols)].rename(columns=syn_cols), on="sample_id")
    cells = result["synergy_cells"]
    comb = cells[(cells["conc_uM"] > 0) & (cells["conc2_uM"] > 0)]
    out = out.join(comb.groupby("sample_id")["inhibition_pct"].max().rename("azaven_max_inhibition"), on="sample_id")
    names = list(FEATURE_DICTIONARY["name"])
    feature_cols = [c for c in names if c not in ("sample_id", "patient_id", "timepoint")]
    out.loc[out["dst_qc_pass"] == 0, [c for c in feature_cols if c not in ("dst_qc_pass", "dst_z_prime")]] = np.nan
    return out[names]


def beataml_feature_dictionary() -> pd.DataFrame:
    """Build the dictionary of the BeatAML 2.0 patient-level DST features (refitted probit AUC / IC50, 4PL DSS2).

    Returns
    -------
    pandas.DataFrame
        One row per column (``patient_id``, ``monocytic``, then per drug AUC, IC50 and DSS2), in the columns of the
        feature-dictionary contract; the refitted venetoclax AUC stands for "ex vivo VEN sensitivity".
    """
    rows = [
        ("patient_id", "", "BeatAML 2.0", "dbGaP subject id", "id", "", ""),
        ("monocytic", "0/1", "cohort.json", "FAB M4/M5 (incl. M4eo, M5a, M5b); missing when FAB is missing or NOS",
         "annotation", "", "resistant"),
        ("ven_auc", "% x log10(uM)", "probit refit", "Venetoclax AUC over 0.0137-10 uM (max 286.3), refitted",
         "auc", _VEN, "resistant"),
        ("ven_ic50_um", "uM", "probit refit", "Venetoclax IC50, clamped to the tested range", "ic50", "",
         "resistant"),
        ("ven_dss2", "", "ll4 fit", "Venetoclax DSS2 (threshold 10 %)", "dss", "", "sensitive"),
        ("aza_auc", "% x log10(uM)", "probit refit", "Azacytidine AUC over the tested range, refitted",
         "auc", "", "resistant"),
        ("aza_ic50_um", "uM", "probit refit", "Azacytidine IC50, clamped to the tested range", "ic50", "",
         "resistant"),
        ("aza_dss2", "", "ll4 fit", "Azacytidine DSS2 (threshold 10 %)", "dss", "", "sensitive"),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=list(dictionary_spec().columns))
