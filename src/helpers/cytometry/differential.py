"""Differential tests of clusters between groups of samples, in the manner of diffcyt (Weber et al. 2019, Commun Biol
2:183): differential abundance (DA) from cell counts per sample and metacluster, differential state (DS) from a
marker's median per sample and metacluster, one test per metacluster, Benjamini-Hochberg FDR over metaclusters.

- DA: a quasi-binomial GLM per metacluster (statsmodels), ``count / total ~ patient + group`` for paired designs
  (diagnosis vs relapse of the same patients: each patient is its own control, as diffcyt's edgeR and GLMM methods
  block on patient) or ``~ group`` for independent groups (responders vs primary resistant). The quasi-likelihood
  dispersion (Pearson chi2 / residual df) absorbs the overdispersion of cell counts between samples that makes a plain
  binomial test anti-conservative; the group coefficient is tested with a t distribution on the residual df.
- DS: a linear mixed model per metacluster (statsmodels MixedLM), ``median ~ group + (1 | patient)`` when patients
  repeat, ordinary least squares otherwise.

diffcyt itself is an R/Bioconductor package; statsmodels provides the models, this module only lays out the design.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from ..errors import DataContractError
from ..stats import bh_fdr

__all__ = ["cluster_counts", "differential_abundance", "differential_state"]


def cluster_counts(sample_ids: np.ndarray | pd.Series, labels: np.ndarray) -> pd.DataFrame:
    """Cells per sample (rows) and metacluster (columns)."""
    return pd.crosstab(pd.Series(np.asarray(sample_ids), name="sample_id"), pd.Series(labels, name="metacluster"))


def _design(meta: pd.DataFrame, group: str, paired: bool) -> pd.DataFrame:
    levels = sorted(meta[group].unique())
    if len(levels) != 2:
        raise DataContractError(None, f"column '{group}' must have exactly 2 groups, found {levels}", column=group)
    X = pd.DataFrame({"group": (meta[group] == levels[1]).astype(float)}, index=meta.index)
    if paired:
        X = X.join(pd.get_dummies(meta["patient_id"], prefix="p", drop_first=False, dtype=float))
    else:
        X.insert(0, "const", 1.0)
    return X


def differential_abundance(counts: pd.DataFrame, meta: pd.DataFrame, *, group: str, paired: bool = False) -> pd.DataFrame:
    """Differential abundance of every metacluster between two groups of samples.

    Parameters
    ----------
    counts
        Samples x metaclusters cell counts (:func:`cluster_counts`).
    meta
        Indexed by sample: ``patient_id`` and the ``group`` column (two levels; the second in sorted order is the
        one whose log odds ratio is reported).
    group
        Column of ``meta`` with the two groups.
    paired
        Block on patient (each patient contributes both groups; patients with one sample only are dropped).

    Returns
    -------
    pandas.DataFrame
        One row per metacluster: ``metacluster, log_or`` (log odds ratio of belonging to it, second group vs first),
        ``se, p_value, fdr`` (Benjamini-Hochberg), ``n_samples``.
    """
    meta = meta.loc[counts.index]
    if paired:
        both = meta.groupby("patient_id")[group].transform("nunique") == 2
        meta, counts = meta[both], counts[both.to_numpy()]
    if len(meta) < 3:
        raise DataContractError(None, f"too few samples for a test ({len(meta)})")
    X = _design(meta, group, paired)
    total = counts.sum(axis=1).to_numpy(dtype=float)
    rows = []
    for mc in counts.columns:
        k = counts[mc].to_numpy(dtype=float)
        y = np.column_stack([k, total - k])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = sm.GLM(y, X.to_numpy(), family=sm.families.Binomial()).fit()
                j = list(X.columns).index("group")
                df_r = max(int(fit.df_resid), 1)
                # Quasi-likelihood dispersion from the Pearson statistic. statsmodels' own scale="X2" is computed on
                # the proportion scale for (successes, failures) data and comes out far too small, so it is not used.
                phi = max(float(fit.pearson_chi2) / df_r, 1.0)
                coef, se = float(fit.params[j]), float(fit.bse[j]) * np.sqrt(phi)
                p = float(2 * stats.t.sf(abs(coef / se), df_r)) if se > 0 and np.isfinite(se) else np.nan
            except (np.linalg.LinAlgError, ValueError, ZeroDivisionError):
                coef, se, p = np.nan, np.nan, np.nan
        rows.append({"metacluster": mc, "log_or": coef, "se": se, "p_value": p, "n_samples": int(len(k))})
    return _with_fdr(pd.DataFrame(rows))


def differential_state(medians: pd.DataFrame, meta: pd.DataFrame, *, group: str) -> pd.DataFrame:
    """Differential state: a marker's median per sample (rows) and metacluster (columns) between two groups.

    A random intercept per patient when patients contribute several samples (paired diagnosis / relapse), else OLS.

    Returns
    -------
    pandas.DataFrame
        One row per metacluster: ``metacluster, effect`` (second group minus first, in the medians' unit), ``se,
        p_value, fdr, n_samples``.
    """
    meta = meta.loc[medians.index]
    levels = sorted(meta[group].unique())
    if len(levels) != 2:
        raise DataContractError(None, f"column '{group}' must have exactly 2 groups, found {levels}", column=group)
    g = (meta[group] == levels[1]).astype(float).to_numpy()
    repeated = meta["patient_id"].duplicated().any()
    rows = []
    for mc in medians.columns:
        y = medians[mc].to_numpy(dtype=float)
        ok = np.isfinite(y)
        if ok.sum() < 3 or len(np.unique(g[ok])) < 2:
            # A metacluster absent from (almost) every sample of a group has no median to compare: not testable.
            rows.append({"metacluster": mc, "effect": np.nan, "se": np.nan, "p_value": np.nan, "n_samples": int(ok.sum())})
            continue
        X = sm.add_constant(g[ok], has_constant="add")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if repeated:
                    fit = sm.MixedLM(y[ok], X, groups=meta["patient_id"].to_numpy()[ok]).fit(reml=True)
                    coef, se = float(fit.fe_params[1]), float(fit.bse_fe[1])
                    # A t reference on the within-patient df, not the normal: with 10-30 patients the Wald z of a
                    # mixed model is anti-conservative (checked on permuted nulls in the tests).
                    n_pat = len(np.unique(meta["patient_id"].to_numpy()[ok]))
                    df_r = max(int(ok.sum()) - n_pat - 1, 1)
                    p = float(2 * stats.t.sf(abs(coef / se), df_r)) if se > 0 else np.nan
                else:
                    fit = sm.OLS(y[ok], X).fit()
                    coef, se, p = float(fit.params[1]), float(fit.bse[1]), float(fit.pvalues[1])
            except (np.linalg.LinAlgError, ValueError):
                coef, se, p = np.nan, np.nan, np.nan
        rows.append({"metacluster": mc, "effect": coef, "se": se, "p_value": p, "n_samples": int(ok.sum())})
    return _with_fdr(pd.DataFrame(rows))


def _with_fdr(df: pd.DataFrame) -> pd.DataFrame:
    df["fdr"] = bh_fdr(df["p_value"].to_numpy(dtype=float))
    cols = [c for c in df.columns if c not in ("p_value", "fdr", "n_samples")]
    return df[cols + ["p_value", "fdr", "n_samples"]]
