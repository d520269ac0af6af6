"""Differential tests of clusters between groups of samples, in the manner of diffcyt (Weber et al. 2019).

Following diffcyt (Commun Biol 2:183): differential abundance (DA) from cell counts per sample and metacluster,
differential state (DS) from a marker's median per sample and metacluster, one test per metacluster,
Benjamini-Hochberg FDR over metaclusters.

- DA: diffcyt's ``diffcyt-DA-edgeR`` model, with edgeR's quasi-likelihood F-test (``glmQLFit`` / ``glmQLFTest``,
  Lund et al. 2012; Chen et al. 2016) in place of its likelihood-ratio test, through ``edgepython`` (a maintained
  port of edgeR 5, also used by the barcoding axis). Metaclusters are edgeR's features, samples its libraries, the
  library size is the sample's number of cells: a negative-binomial GLM of ``log E[count] = log(total) + design``
  with ``design = patient + group`` for paired designs (diagnosis vs relapse of the same patients: each patient is
  its own control, as diffcyt blocks on patient) or ``1 + group`` for independent groups (responders vs primary
  resistant). The NB dispersion models the extra-multinomial variation of a cluster's share between samples, the
  quasi-likelihood dispersion (squeezed towards a common value by empirical Bayes, robustly) its cluster-to-cluster
  differences, and the F-test accounts for their uncertainty with few patients.

  Why not the quasi-binomial GLM used before: its variance is ``phi x n p (1 - p)``, proportional to the cells of a
  sample, whereas the between-sample variation of a cluster's share does not shrink with more cells; with unequal
  totals it weights the big samples far too much and its Pearson dispersion over a handful of residual df is
  unstable. On paired nulls with overdispersion, between-patient differences and unequal totals it gave 9-10 % false
  positives at alpha 0.05 (``tests/unit/test_cytometry_calibration.py`` measures the present model on the same nulls and
  on permuted labels of real events).
- DS: a linear mixed model per metacluster (statsmodels MixedLM), ``median ~ group + (1 | patient)`` when patients
  repeat, ordinary least squares otherwise.

diffcyt itself is an R/Bioconductor package; edgepython and statsmodels provide the models, this module lays out the
design.
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
    """Cells per sample (rows) and metacluster (columns).

    Parameters
    ----------
    sample_ids
        Sample of every cell.
    labels
        Metacluster of every cell.

    Returns
    -------
    pandas.DataFrame
        Samples x metaclusters counts (index ``sample_id``).
    """
    return pd.crosstab(pd.Series(np.asarray(sample_ids), name="sample_id"), pd.Series(labels, name="metacluster"))


def _design(meta: pd.DataFrame, group: str, paired: bool) -> pd.DataFrame:
    levels = sorted(meta[group].unique())
    if len(levels) != 2:
        raise DataContractError(None, f"column '{group}' must have exactly 2 groups, found {levels}", column=group)
    g = pd.DataFrame({"group": (meta[group] == levels[1]).astype(float)}, index=meta.index)
    if paired:
        # Patient indicators span the intercept; the group coefficient is the within-patient contrast.
        X = pd.get_dummies(meta["patient_id"], prefix="p", drop_first=False, dtype=float).join(g)
    else:
        X = g
        X.insert(0, "const", 1.0)
    return X


def differential_abundance(counts: pd.DataFrame, meta: pd.DataFrame, *, group: str, paired: bool = False,
                           min_cells: int = 3, min_samples: int | None = None) -> pd.DataFrame:  # fmt: skip
    """Differential abundance of every metacluster between two groups of samples (edgeR quasi-likelihood NB GLM).

    Parameters
    ----------
    counts
        Samples x metaclusters cell counts (:func:`cluster_counts`).
    meta
        Indexed by sample: ``patient_id`` and the ``group`` column (two levels; the second in sorted order is the
        one whose fold change is reported).
    group
        Column of ``meta`` with the two groups.
    paired
        Block on patient (each patient contributes both groups; patients with one sample only are dropped).
    min_cells, min_samples
        diffcyt's filter (``testDA_edgeR`` defaults): a metacluster is tested only if it has at least ``min_cells``
        cells in at least ``min_samples`` samples (default: half the samples); others get NaN. A metacluster of a
        few events, all in one sample (a clump, a burst of debris), would otherwise be "significant" on one
        patient. Their cells still count in every sample's total.

    Returns
    -------
    pandas.DataFrame
        One row per metacluster: ``metacluster, log2_fc`` (log2 ratio of the metacluster's share of cells, second
        group vs first), ``log_cpm`` (edgeR's average log2 cells per million), ``f`` (quasi-likelihood F statistic),
        ``p_value, fdr`` (Benjamini-Hochberg), ``n_samples``.

    Raises
    ------
    DataContractError
        Fewer than 3 samples (after dropping unpaired ones), fewer than 2 metaclusters, no residual degrees of
        freedom, or a group column without exactly 2 levels.
    """
    import edgepython as ep

    meta = meta.loc[counts.index]
    if paired:
        both = meta.groupby("patient_id")[group].transform("nunique") == 2
        meta, counts = meta[both], counts[both.to_numpy()]
    if len(meta) < 3:
        raise DataContractError(None, f"too few samples for a test ({len(meta)})")
    if counts.shape[1] < 2:
        raise DataContractError(None, "differential abundance needs at least 2 metaclusters (shares of cells)")
    X = _design(meta, group, paired)
    if len(X) <= X.shape[1]:
        raise DataContractError(None, f"{len(X)} samples leave no residual degrees of freedom for {X.shape[1]} "
                                      "model terms")  # fmt: skip
    y = counts.to_numpy(dtype=float).T  # features (metaclusters) x libraries (samples)
    total = y.sum(axis=0)
    need = int(np.ceil(len(meta) / 2)) if min_samples is None else int(min_samples)
    keep = ((y >= min_cells).sum(axis=1) >= need) & (y.sum(axis=1) > 0)
    cols = ["metacluster", "log2_fc", "log_cpm", "f", "p_value", "n_samples"]
    res = pd.DataFrame({"metacluster": counts.columns, "n_samples": len(meta)}).reindex(columns=cols)
    res["n_samples"] = len(meta)
    if keep.sum() >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dge = ep.make_dgelist(y[keep], lib_size=total)
            fit = ep.glm_ql_fit(dge, design=X.to_numpy(), robust=True)
            tab = ep.glm_ql_ftest(fit, coef=X.shape[1] - 1)["table"]
        res.loc[keep, "log2_fc"] = np.asarray(tab["logFC"], dtype=float)
        res.loc[keep, "log_cpm"] = np.asarray(tab["logCPM"], dtype=float)
        res.loc[keep, "f"] = np.asarray(tab["F"], dtype=float)
        res.loc[keep, "p_value"] = np.asarray(tab["PValue"], dtype=float)
    res["n_samples"] = res["n_samples"].astype(int)
    return _with_fdr(res)


def differential_state(medians: pd.DataFrame, meta: pd.DataFrame, *, group: str) -> pd.DataFrame:
    """Differential state: a marker's median per sample (rows) and metacluster (columns) between two groups.

    A random intercept per patient when patients contribute several samples (paired diagnosis / relapse), else OLS.

    Parameters
    ----------
    medians
        Samples x metaclusters: a marker's median (transformed scale) in each metacluster of each sample; NaN where a
        sample has too few cells of the metacluster.
    meta
        Indexed by sample: ``patient_id`` and the ``group`` column (two levels).
    group
        Column of ``meta`` with the two groups.

    Returns
    -------
    pandas.DataFrame
        One row per metacluster: ``metacluster, effect`` (second group minus first, in the medians' unit), ``se,
        p_value, fdr, n_samples``.

    Raises
    ------
    DataContractError
        When ``group`` does not have exactly two levels among the samples.
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
