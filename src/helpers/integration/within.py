"""Within-patient change from diagnosis to relapse, kept apart from between-patient differences.

The adaptive-resistance question is whether a leukemia *changes* between its diagnosis and relapse samples. A mixed
model with a random intercept (:func:`helpers.integration.timepoint_shifts`) pools the diagnosis samples of patients
who never relapse with the relapse samples of those who do: when relapsers already differ at diagnosis, that
between-patient difference leaks into the "shift" (its false-positive rate over simulated cohorts with no change is
well above alpha). The estimators here use only the contrast inside each patient:

- ``paired``: mean of the per-patient differences (contrast - reference), paired t interval and test, among patients
  with both samples (scipy);
- ``fixed_effects``: ``feature ~ timepoint + patient`` (patient fixed effects) on every sample of those patients, by
  the Frisch-Waugh-Lovell within transformation (identical to the OLS with one indicator per patient, checked against
  statsmodels in the tests; the closed form keeps the screen fast). With one sample per timepoint it equals ``paired``;
  with repeat samples it weights them.

:func:`between_patient_differences` reports, separately, how the diagnosis samples of relapsers and non-relapsers
differ (a prognostic question, not a change).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .stats import bh_fdr


def _t_test(test: Callable[..., Any], *args: Any, **kwargs: Any) -> Any | None:
    """Run a scipy t-test; return None when scipy reports catastrophic cancellation (values nearly identical).

    Its p-value would then be unreliable (scipy says so), and the warning would print a machine path into the notebook.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Precision loss occurred", category=RuntimeWarning)
        try:
            return test(*args, **kwargs)
        except RuntimeWarning:
            return None

__all__ = ["within_patient_shifts", "between_patient_differences", "fixed_effects_shift"]


def fixed_effects_shift(y: np.ndarray, is_contrast: np.ndarray, patient: np.ndarray) -> dict:
    """Patient fixed-effects estimate of the contrast effect: ``estimate, se, df, p, ci_low, ci_high``.

    Patients need at least one sample of each kind; others carry no within-patient information and are left out by
    the caller.

    Parameters
    ----------
    y
        Feature values, one per sample.
    is_contrast
        True for the contrast samples (e.g. relapse), False for the reference (diagnosis).
    patient
        Patient of each sample.

    Returns
    -------
    dict
        ``estimate, se, df, p, ci_low, ci_high``.
    """
    y = np.asarray(y, float)
    x = np.asarray(is_contrast, float)
    codes, inv = np.unique(np.asarray(patient), return_inverse=True)
    cnt = np.bincount(inv)
    yd = y - (np.bincount(inv, y) / cnt)[inv]
    xd = x - (np.bincount(inv, x) / cnt)[inv]
    sxx = float(xd @ xd)
    dof = len(y) - len(codes) - 1
    if sxx == 0 or dof < 1:
        return {"estimate": np.nan, "se": np.nan, "df": dof, "p": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    beta = float(xd @ yd) / sxx
    resid = yd - beta * xd
    se = float(np.sqrt(resid @ resid / dof / sxx))
    tq = stats.t.ppf(0.975, dof)
    p = float(2 * stats.t.sf(abs(beta / se), dof)) if se > 0 else (0.0 if beta != 0 else 1.0)
    return {"estimate": beta, "se": se, "df": dof, "p": p, "ci_low": beta - tq * se, "ci_high": beta + tq * se}


def within_patient_shifts(
    samples: pd.DataFrame,
    features: list[str],
    *,
    reference: str = "diagnosis",
    contrast: str = "relapse",
    group: str = "patient_id",
    method: str = "fixed_effects",
) -> pd.DataFrame:
    """Estimate the within-patient change of each feature from ``reference`` to ``contrast`` samples.

    Parameters
    ----------
    samples
        Longitudinal sample table (``patient_id``, ``timepoint`` and the feature columns).
    features
        Numeric features.
    reference, contrast
        The two timepoints compared; only patients with a value at both are used (fewer than 3: not tested).
    group
        Column of the patient, the unit of pairing (its fixed effect).
    method
        ``"fixed_effects"`` (default) or ``"paired"`` for the reported estimate and p; both are in the table.

    Returns
    -------
    pandas.DataFrame
        ``feature, n_paired, estimate, ci_low, ci_high, p, q, paired_mean, paired_p, p_wilcoxon, estimand, method``:
        ``estimate`` is the mean within-patient change (feature units), ``q`` Benjamini-Hochberg over the features.

    Raises
    ------
    ValueError
        An unknown ``method``.
    """
    if method not in ("fixed_effects", "paired"):
        raise ValueError(f"method must be 'fixed_effects' or 'paired', got {method!r}")
    base = samples[samples["timepoint"].isin([reference, contrast])]
    rows = []
    for f in features:
        d = base[[group, "timepoint", f]].dropna()
        both = set(d.loc[d["timepoint"] == reference, group]) & set(d.loc[d["timepoint"] == contrast, group])
        d = d[d[group].isin(both)]
        row = {"feature": f, "n_paired": len(both), "estimand": "within-patient change", "method": method}
        if row["n_paired"] < 3:
            rows.append({**row, "method": "not tested: fewer than 3 patients with both samples"})
            continue
        wide = d.groupby([group, "timepoint"])[f].mean().unstack()
        diff = (wide[contrast] - wide[reference]).to_numpy()
        tt = _t_test(stats.ttest_1samp, diff, 0.0)
        ok = tt is not None and np.any(diff != diff[0])
        row.update(paired_mean=float(diff.mean()), paired_p=float(tt.pvalue) if ok else np.nan)
        if np.any(diff != 0):
            row["p_wilcoxon"] = float(stats.wilcoxon(diff).pvalue)
        fe = fixed_effects_shift(d[f].to_numpy(), (d["timepoint"] == contrast).to_numpy(), d[group].to_numpy())
        if method == "fixed_effects":
            row.update(estimate=fe["estimate"], ci_low=fe["ci_low"], ci_high=fe["ci_high"], p=fe["p"])
        else:
            ci = tt.confidence_interval() if ok and np.isfinite(tt.statistic) else (np.nan, np.nan)
            row.update(estimate=float(diff.mean()), ci_low=float(ci[0]), ci_high=float(ci[1]), p=row["paired_p"])
        rows.append(row)
    cols = ["feature", "n_paired", "estimate", "ci_low", "ci_high", "p", "q", "paired_mean", "paired_p", "p_wilcoxon",
            "estimand", "method"]  # fmt: skip
    out = pd.DataFrame(rows, columns=[c for c in cols if c != "q"])
    out["q"] = bh_fdr(out["p"])
    return out[cols].sort_values(["p", "feature"], na_position="last", kind="stable").reset_index(drop=True)


def between_patient_differences(
    samples: pd.DataFrame,
    features: list[str],
    relapsed: pd.Series,
    *,
    timepoint: str = "diagnosis",
    group: str = "patient_id",
) -> pd.DataFrame:
    """Compare patients who relapse with those who do not at ``timepoint`` (a between-patient contrast).

    Parameters
    ----------
    samples
        Sample table (``timepoint``, ``group`` and the feature columns).
    features
        Numeric features compared (Welch t and Mann-Whitney U, at least 3 patients per side).
    relapsed
        0/1 per patient (indexed by patient id), e.g. responders' relapse flag.
    timepoint
        The samples compared (one per patient).
    group
        Column of ``samples`` holding the patient id that ``relapsed`` is indexed by.

    Returns
    -------
    pandas.DataFrame
        ``feature, n_relapsed, n_not_relapsed, mean_relapsed, mean_not_relapsed, difference, p_welch, p_mannwhitney,
        q, estimand``.
    """
    d = samples[samples["timepoint"] == timepoint]
    rel = d[group].map(relapsed)
    rows = []
    for f in features:
        a = d.loc[(rel == 1) & d[f].notna(), f].to_numpy(float)
        b = d.loc[(rel == 0) & d[f].notna(), f].to_numpy(float)
        row = {"feature": f, "n_relapsed": len(a), "n_not_relapsed": len(b), "estimand": "between-patient difference"}
        if len(a) >= 3 and len(b) >= 3:
            welch = _t_test(stats.ttest_ind, a, b, equal_var=False)
            row.update(mean_relapsed=a.mean(), mean_not_relapsed=b.mean(), difference=a.mean() - b.mean(),
                       p_welch=np.nan if welch is None else float(welch.pvalue),
                       p_mannwhitney=float(stats.mannwhitneyu(a, b).pvalue))  # fmt: skip
        rows.append(row)
    cols = ["feature", "n_relapsed", "n_not_relapsed", "mean_relapsed", "mean_not_relapsed", "difference", "p_welch",
            "p_mannwhitney", "q", "estimand"]  # fmt: skip
    out = pd.DataFrame(rows, columns=[c for c in cols if c != "q"])
    out["q"] = bh_fdr(out["p_welch"])
    return out[cols].sort_values(["p_welch", "feature"], na_position="last", kind="stable").reset_index(drop=True)
