"""Changes between diagnosis and relapse samples: linear mixed models with a random intercept per patient.

Samples repeat within patients (diagnosis, remission, relapse), so a plain two-sample test would treat a patient's
samples as independent. The mixed model ``feature ~ timepoint + (1 | patient)`` uses every sample, lets patients
with only one sample inform the diagnosis level, and estimates the within-patient shift at relapse. The paired
Wilcoxon signed-rank test on patients with both samples is reported beside it as a model-free check.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats

from .stats import bh_fdr

__all__ = ["timepoint_shifts"]


def timepoint_shifts(
    samples: pd.DataFrame,
    features: list[str],
    *,
    reference: str = "diagnosis",
    contrast: str = "relapse",
    group: str = "patient_id",
) -> pd.DataFrame:
    """Estimate the shift of each feature from ``reference`` to ``contrast`` samples within patients.

    Parameters
    ----------
    samples
        Longitudinal sample table (one row per sample, ``timepoint`` and ``patient_id`` columns).
    features
        Numeric feature columns to test.
    reference, contrast
        Timepoints compared; other timepoints are left out (remission samples hold few leukemic cells).
    group
        Column of the unit whose samples are paired (the random intercept of the mixed model), the patient.

    Returns
    -------
    pandas.DataFrame
        ``feature, n_samples, n_patients, n_paired, estimate, ci_low, ci_high, p, q, median_paired_change,
        p_wilcoxon, method`` where ``estimate`` is the mixed-model fixed effect of ``contrast`` (in the feature's
        units). Features measured at only one of the timepoints are reported with a note and no estimate.
    """
    rows = []
    base = samples[samples["timepoint"].isin([reference, contrast])]
    for f in features:
        d = base[[group, "timepoint", f]].dropna().rename(columns={f: "y"})
        ref_n, con_n = (d["timepoint"] == reference).sum(), (d["timepoint"] == contrast).sum()
        wide = d.pivot_table(index=group, columns="timepoint", values="y", aggfunc="mean")
        paired = wide.dropna(subset=[c for c in (reference, contrast) if c in wide]) if con_n and ref_n else wide.iloc[:0]
        row = {"feature": f, "n_samples": len(d), "n_patients": d[group].nunique(), "n_paired": len(paired)}
        if ref_n < 3 or con_n < 3 or d["y"].nunique() < 2:
            rows.append({**row, "method": "not tested: too few samples at one timepoint"})
            continue
        diff = (paired[contrast] - paired[reference]) if len(paired) else pd.Series(dtype=float)
        if len(diff) >= 3 and np.any(diff != 0):
            row.update(median_paired_change=float(diff.median()), p_wilcoxon=float(stats.wilcoxon(diff).pvalue))
        d["is_contrast"] = (d["timepoint"] == contrast).astype(float)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # boundary (zero variance) fits are legitimate here
                # BFGS first: L-BFGS stopped on the boundary fits at a point whose random-effects covariance was
                # singular under one OpenBLAS kernel and not under another (a failed fit here, a p-value there);
                # BFGS converges on every feature of the CI cohort, to the same estimates under both kernels
                # (docs/reproducibility.md).
                fit = smf.mixedlm("y ~ is_contrast", d, groups=d[group]).fit(reml=True, method=["bfgs", "lbfgs"])
            ci = fit.conf_int().loc["is_contrast"]
            row.update(estimate=float(fit.params["is_contrast"]), ci_low=float(ci[0]), ci_high=float(ci[1]),
                       p=float(fit.pvalues["is_contrast"]), method="mixed model (random intercept)")  # fmt: skip
        except (np.linalg.LinAlgError, ValueError) as exc:
            row.update(method=f"mixed model failed: {type(exc).__name__}")
        rows.append(row)
    cols = ["feature", "n_samples", "n_patients", "n_paired", "estimate", "ci_low", "ci_high", "p", "q",
            "median_paired_change", "p_wilcoxon", "method"]  # fmt: skip
    out = pd.DataFrame(rows, columns=[c for c in cols if c != "q"])
    out["q"] = bh_fdr(out["p"])
    return out[cols].sort_values(["p", "feature"], na_position="last", kind="stable").reset_index(drop=True)
