"""Ex vivo drug sensitivity against the clinical course: outcome groups, oriented scores, ROC, relapse comparisons.

The steps of the DST notebook's clinical section, each a function so that it is tested and the notebook only narrates:
which samples belong to which outcome group, which scores are oriented so that higher predicts primary resistance,
their ROC AUCs with bootstrap intervals, and the diagnosis-to-relapse comparison of the venetoclax AUC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu

from .response import bootstrap_auc

__all__ = [
    "OUTCOME_ORDER",
    "diagnosis_table",
    "example_plates",
    "outcome_groups",
    "relapse_comparison",
    "resistance_scores",
    "roc_table",
    "sample_groups",
]

#: Outcome groups of the diagnosis samples, from best to worst course.
OUTCOME_ORDER = ("ongoing remission", "relapsed", "primary resistant")


def example_plates(qc: pd.DataFrame) -> list[str]:
    """Pick the plates shown as examples: the first plate that passed QC and the first that failed (if any).

    Parameters
    ----------
    qc
        Plate QC table (:func:`helpers.dst.qc.plate_qc`): ``plate_id``, ``qc_pass``.

    Returns
    -------
    list of str
        One or two plate ids: the passed one first.

    Raises
    ------
    ValueError
        No plate passed QC.
    """
    passed = qc.loc[qc["qc_pass"] == 1, "plate_id"]
    if passed.empty:
        raise ValueError("no plate passed QC: there is no example of a good plate")
    return [passed.iloc[0]] + qc.loc[qc["qc_pass"] == 0, "plate_id"].head(1).tolist()


def sample_groups(samples: pd.DataFrame, endpoints: pd.DataFrame) -> pd.Series:
    """Group each sample for the curve plots: its patient's response at diagnosis, ``relapse`` for relapse samples.

    Parameters
    ----------
    samples
        samples.csv table: ``sample_id, patient_id, timepoint``.
    endpoints
        :func:`helpers.clinical.clinical_endpoints`, indexed by ``patient_id``, with ``response_group``.

    Returns
    -------
    pandas.Series
        Indexed by ``sample_id``: ``responder`` (relapsed or ongoing), ``primary_resistant`` or ``relapse``.
    """
    smp = samples.set_index("sample_id")
    group = smp["patient_id"].map(endpoints["response_group"]).where(smp["timepoint"] == "diagnosis", "relapse")
    return group.replace({"responder_relapsed": "responder", "responder_ongoing": "responder"})


def diagnosis_table(features: pd.DataFrame, endpoints: pd.DataFrame) -> pd.DataFrame:
    """Select the diagnosis samples with QC-passed DST and join their patient's clinical endpoints.

    Parameters
    ----------
    features
        DST feature table (:func:`helpers.dst.features.sample_features`).
    endpoints
        :func:`helpers.clinical.clinical_endpoints`, indexed by ``patient_id``.

    Returns
    -------
    pandas.DataFrame
        One row per diagnosis sample: the features and the endpoints (``primary_resistant``, ``responder``,
        ``relapse``, ...).
    """
    keep = (features["timepoint"] == "diagnosis") & (features["dst_qc_pass"] == 1)
    return features[keep].join(endpoints, on="patient_id")


def resistance_scores(dx: pd.DataFrame) -> dict[str, pd.Series]:
    """Orient the DST scores so that a higher value predicts primary resistance.

    VEN AUC and AZA AUC as they are (higher = more viable cells = resistant), VEN IC50 on a log10 scale; DSS2, ZIP
    synergy and the maximal combination inhibition are negated (higher = more sensitive).

    Parameters
    ----------
    dx
        :func:`diagnosis_table`.

    Returns
    -------
    dict of str to pandas.Series
        Readable score name (``VEN AUC``, ``VEN log10 IC50``, ...) -> score per sample, indexed like ``dx``.
    """
    return {
        "VEN AUC": dx["ven_auc"],
        "VEN log10 IC50": np.log10(dx["ven_ic50_um"]),
        "VEN DSS2 (negated)": -dx["ven_dss2"],
        "AZA AUC": dx["aza_auc"],
        "AZA+VEN ZIP (negated)": -dx["azaven_zip_mean"],
        "AZA+VEN max inhibition (negated)": -dx["azaven_max_inhibition"],
    }


def roc_table(scores: dict[str, pd.Series], label: pd.Series, *, n_boot: int = 2000,
              seed: int = 0) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:  # fmt: skip
    """Compute the ROC AUC of each score for ``label``, with a stratified bootstrap interval.

    Parameters
    ----------
    scores
        Score name -> score per sample (:func:`resistance_scores`).
    label
        1 = primary resistant, 0 = responder, aligned with the scores.
    n_boot
        Bootstrap resamples (the interval is the 2.5-97.5 percentile of their AUCs).
    seed
        Seed of the bootstrap (the same for every score).

    Returns
    -------
    table : pandas.DataFrame
        One row per score (in the order of ``scores``), indexed by score name: ``auc, ci_low, ci_high, n_pos,
        n_neg``.
    aucs : dict
        Score name -> the full result of :func:`helpers.dst.response.bootstrap_auc` (for the ROC plot).
    """
    aucs = {k: bootstrap_auc(v, label, n_boot=n_boot, seed=seed) for k, v in scores.items()}
    return pd.DataFrame(aucs).T[["auc", "ci_low", "ci_high", "n_pos", "n_neg"]], aucs


def outcome_groups(dx: pd.DataFrame) -> pd.DataFrame:
    """Add a ``group`` column to the diagnosis table: primary resistant, relapsed or ongoing remission.

    Parameters
    ----------
    dx
        :func:`diagnosis_table` (``primary_resistant``, ``relapse``).

    Returns
    -------
    pandas.DataFrame
        A copy of ``dx`` with ``group`` (one of :data:`OUTCOME_ORDER`).
    """
    group = np.where(dx["primary_resistant"] == 1, "primary resistant",
                     np.where(dx["relapse"] == 1, "relapsed", "ongoing remission"))  # fmt: skip
    return dx.assign(group=group)


def relapse_comparison(dx: pd.DataFrame, features: pd.DataFrame, *, value: str = "ven_auc") -> dict[str, float]:
    """Compare ``value`` at diagnosis in responders who later relapsed and those still in remission, and its shift.

    The shift is paired: relapse minus diagnosis in the patients with both samples.

    Parameters
    ----------
    dx
        :func:`diagnosis_table` (``responder``, ``relapse``, ``value``).
    features
        DST feature table with every timepoint (``patient_id, timepoint, dst_qc_pass, value``).
    value
        The feature compared.

    Returns
    -------
    dict
        ``median_relapsed, n_relapsed, median_ongoing, n_ongoing, p_mannwhitney`` (two-sided), and over the patients
        with QC-passed DST at diagnosis and at relapse: ``n_paired``, ``median_shift`` (relapse - diagnosis) and
        ``n_higher_at_relapse`` (NaN / 0 when there is no pair).
    """
    resp = dx[dx["responder"] == 1]
    rel, ongoing = resp.loc[resp["relapse"] == 1, value], resp.loc[resp["relapse"] == 0, value]
    paired = features[features["dst_qc_pass"] == 1].pivot_table(index="patient_id", columns="timepoint",
                                                                  values=value).dropna()  # fmt: skip
    if not {"diagnosis", "relapse"} <= set(paired.columns):
        paired = paired.iloc[:0]
    out = {"median_relapsed": float(rel.median()), "n_relapsed": len(rel), "median_ongoing": float(ongoing.median()),
           "n_ongoing": len(ongoing), "p_mannwhitney": float(mannwhitneyu(rel, ongoing).pvalue),
           "n_paired": len(paired), "median_shift": float("nan"), "n_higher_at_relapse": 0}  # fmt: skip
    if len(paired):
        shift = paired["relapse"] - paired["diagnosis"]
        out.update(median_shift=float(shift.median()), n_higher_at_relapse=int((shift > 0).sum()))
    return out
