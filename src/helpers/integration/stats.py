"""Primary resistance: logistic models of the 0/1 outcome and how well they discriminate.

Univariable screens, multivariable and penalised logistic models, cross-validated ROC AUC with bootstrap intervals,
added value over ELN 2024, calibration.

Conventions
-----------
- Continuous predictors are standardised (effects per standard deviation); 0/1 predictors keep their scale (effect of
  mutated versus wild type); text / categorical predictors (``eln2024``) become indicator columns against their first
  category (``favorable``).
- Cross-validation is repeated stratified k-fold; every fitting step (imputation, scaling, choice of the penalty)
  happens inside the training folds, so the out-of-fold predictions are honest.
- Intervals for cross-validated AUCs resample patients (percentile bootstrap) over the out-of-fold predictions of
  every repeat, so they include both sampling and split variability.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..stats import bh_fdr

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "bh_fdr",
    "is_binary",
    "design_matrix",
    "auc",
    "auc_ci",
    "univariable_logistic",
    "LogisticFit",
    "fit_logistic",
    "likelihood_ratio_test",
    "CVResult",
    "cross_validated_auc",
    "added_value",
    "calibration",
]


def is_binary(s: pd.Series) -> bool:
    """Tell whether a column is a numeric 0/1 flag (a mutation flag).

    Parameters
    ----------
    s
        A column.

    Returns
    -------
    bool
        Whether every non-missing value is 0 or 1 (and there is one).
    """
    v = pd.to_numeric(s, errors="coerce").dropna().unique()
    return len(v) > 0 and set(np.round(v, 12)) <= {0.0, 1.0} and pd.api.types.is_numeric_dtype(s)


def design_matrix(df: pd.DataFrame, predictors: list[str], *, standardize: bool = True) -> tuple[pd.DataFrame, dict]:
    """Numeric design matrix of ``predictors`` (no intercept).

    Parameters
    ----------
    df
        Patient table.
    predictors
        Its columns: numbers, 0/1 flags or categories.
    standardize
        z-score the continuous predictors (effects per SD).

    Returns
    -------
    X
        Float columns: continuous predictors (z-scored when ``standardize``), 0/1 flags as is, one indicator per
        non-reference level of categorical predictors (named ``<predictor>[<level>]``).
    scales
        Column -> ``(scale label, SD used)`` for reporting.
    """
    cols, scales = {}, {}
    for p in predictors:
        s = df[p]
        if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_string_dtype(s):
            cats = list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else sorted(s.dropna().unique())
            for lev in cats[1:]:
                name = f"{p}[{lev}]"
                cols[name] = (s == lev).astype(float).where(s.notna())
                scales[name] = (f"{lev} vs {cats[0]}", 1.0)
        elif is_binary(s):
            cols[p] = s.astype(float)
            scales[p] = ("1 vs 0", 1.0)
        else:
            x = s.astype(float)
            sd = float(x.std()) if standardize else 1.0
            sd = sd if np.isfinite(sd) and sd > 0 else 1.0
            cols[p] = (x - x.mean()) / sd if standardize else x
            scales[p] = ("per SD" if standardize else "per unit", sd)
    return pd.DataFrame(cols, index=df.index), scales


def _auc_matrix(y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """ROC AUC of every column of ``s`` (Mann-Whitney statistic, ties counted one half)."""
    s = s.reshape(len(y), -1)
    r = stats.rankdata(s, axis=0)
    n1 = y.sum()
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return np.full(s.shape[1], np.nan)
    return (r[y == 1].sum(axis=0) - n1 * (n1 + 1) / 2) / (n1 * n0)


def auc(y: ArrayLike, score: ArrayLike) -> float:
    """Compute the ROC AUC of ``score`` for the 0/1 outcome ``y`` (Mann-Whitney, ties count one half).

    Parameters
    ----------
    y
        0/1 outcomes.
    score
        Scores, higher for the positive class.

    Returns
    -------
    float
        The area under the ROC curve.
    """
    return float(_auc_matrix(np.asarray(y, dtype=int), np.asarray(score, dtype=float))[0])


def auc_ci(y: ArrayLike, score: ArrayLike, *, n_boot: int = 1000, seed: int = 0,
           level: float = 0.95) -> tuple[float, float, float]:  # fmt: skip
    """Compute the ROC AUC with a percentile bootstrap interval (patients resampled, stratified by outcome).

    ``score`` may be a matrix (one column per repeat of a cross-validation): the estimate is then the mean AUC over
    columns, and each bootstrap replicate averages the columns on the same resampled patients.

    Parameters
    ----------
    y
        0/1 outcomes.
    score
        Scores (a vector, or one column per repeat).
    n_boot
        Bootstrap replicates.
    seed
        Seed of the resampling.
    level
        Coverage of the interval.

    Returns
    -------
    auc, low, high
        The estimate and its percentile interval.
    """
    y = np.asarray(y, dtype=int)
    s = np.asarray(score, dtype=float).reshape(len(y), -1)
    est = float(np.nanmean(_auc_matrix(y, s)))
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    boots = np.empty(n_boot)
    for b in range(n_boot):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        boots[b] = np.nanmean(_auc_matrix(y[idx], s[idx]))
    a = (1 - level) / 2
    return est, float(np.quantile(boots, a)), float(np.quantile(boots, 1 - a))


def _fit_logit(y: pd.Series, X: pd.DataFrame):
    """Fit a statsmodels Logit with an intercept; return (result, note), note flagging separation / no convergence."""
    note = ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = sm.Logit(y.astype(float), sm.add_constant(X, has_constant="add")).fit(disp=0, maxiter=200)
        except (np.linalg.LinAlgError, ValueError) as exc:
            return None, f"failed: {type(exc).__name__}"
    if any("separation" in str(w.message).lower() for w in caught):
        note = "quasi-separation"
    elif not res.mle_retvals.get("converged", True):
        note = "not converged"
    return res, note


def univariable_logistic(df: pd.DataFrame, outcome: str, features: list[str], *, standardize: bool = True) -> pd.DataFrame:
    """One logistic model per feature: odds ratio with 95 % CI, Wald p and Benjamini-Hochberg q over the features.

    Parameters
    ----------
    df
        Patient table.
    outcome
        0/1 column (e.g. ``primary_resistant``).
    features
        Candidate predictors; each is fitted on the patients where it and the outcome are known.
    standardize
        Odds ratios of continuous features per standard deviation.

    Returns
    -------
    pandas.DataFrame
        ``feature, term, scale, n, events, odds_ratio, ci_low, ci_high, p, q, note``, sorted by p.
    """
    rows = []
    for f in features:
        d = df[[outcome, f]].dropna()
        base = {"feature": f, "n": len(d), "events": int(d[outcome].sum()) if len(d) else 0}
        if len(d) < 10 or d[outcome].nunique() < 2 or d[f].nunique() < 2:
            rows.append({**base, "term": f, "scale": "", "note": "too few data"})
            continue
        X, scales = design_matrix(d, [f], standardize=standardize)
        res, note = _fit_logit(d[outcome], X)
        if res is None:
            rows.append({**base, "term": f, "scale": "", "note": note})
            continue
        ci = res.conf_int()
        for term in X.columns:
            rows.append({**base, "term": term, "scale": scales[term][0], "odds_ratio": np.exp(res.params[term]),
                         "ci_low": np.exp(ci.loc[term, 0]), "ci_high": np.exp(ci.loc[term, 1]),
                         "p": res.pvalues[term], "note": note})  # fmt: skip
    cols = ["feature", "term", "scale", "n", "events", "odds_ratio", "ci_low", "ci_high", "p", "q", "note"]
    out = pd.DataFrame(rows, columns=[c for c in cols if c != "q"])
    out["q"] = bh_fdr(out["p"])
    return out[cols].sort_values(["p", "feature"], na_position="last", kind="stable").reset_index(drop=True)


@dataclass
class LogisticFit:
    """A fitted multivariable logistic model.

    Attributes
    ----------
    table
        ``term, scale, sd, coef, odds_ratio, ci_low, ci_high, p`` per term (intercept excluded).
    result
        The statsmodels results object.
    n, events
        Patients used (complete cases) and events among them.
    apparent_auc
        In-sample ROC AUC (optimistic; use :func:`cross_validated_auc` for performance).
    note
        Fit problems (separation, convergence), empty when none.
    """

    table: pd.DataFrame
    result: object
    n: int
    events: int
    apparent_auc: float
    note: str


def fit_logistic(df: pd.DataFrame, outcome: str, predictors: list[str], *, standardize: bool = True) -> LogisticFit:
    """Multivariable logistic regression (maximum likelihood, statsmodels) on complete cases.

    Parameters
    ----------
    df
        Patient table.
    outcome
        0/1 column.
    predictors
        Columns of the model (categories expanded to indicators).
    standardize
        Continuous predictors per SD.

    Returns
    -------
    LogisticFit
        Odds ratios with 95 % CI and p per design column, ``n``, ``events`` and the apparent AUC.

    Raises
    ------
    ValueError
        When fewer than 10 complete cases or only one outcome class remain.
    """
    d = df[[outcome, *predictors]].dropna()
    if len(d) < 10 or d[outcome].nunique() < 2:
        raise ValueError(f"too few complete cases for {outcome} ~ {' + '.join(predictors)}: {len(d)}")
    X, scales = design_matrix(d, predictors, standardize=standardize)
    res, note = _fit_logit(d[outcome], X)
    if res is None:
        raise ValueError(f"logistic fit failed: {note}")
    ci = res.conf_int()
    table = pd.DataFrame(
        {
            "term": X.columns,
            "scale": [scales[c][0] for c in X.columns],
            "sd": [scales[c][1] for c in X.columns],
            "coef": res.params[X.columns].to_numpy(),
            "odds_ratio": np.exp(res.params[X.columns]).to_numpy(),
            "ci_low": np.exp(ci.loc[X.columns, 0]).to_numpy(),
            "ci_high": np.exp(ci.loc[X.columns, 1]).to_numpy(),
            "p": res.pvalues[X.columns].to_numpy(),
        }
    )
    return LogisticFit(table, res, len(d), int(d[outcome].sum()), auc(d[outcome], res.predict()), note)


def likelihood_ratio_test(df: pd.DataFrame, outcome: str, base: list[str], extra: list[str]) -> dict:
    """Likelihood-ratio test of ``base + extra`` against ``base`` on the same complete cases.

    Parameters
    ----------
    df
        Patient table.
    outcome
        0/1 column.
    base
        Predictors of the smaller model.
    extra
        Predictors added in the larger model.

    Returns
    -------
    dict
        ``n, events, lr_stat, df, p`` (chi-square with as many degrees of freedom as added design columns).
    """
    d = df[[outcome, *base, *extra]].dropna()
    Xb, _ = design_matrix(d, base) if base else (pd.DataFrame(index=d.index), {})
    Xf, _ = design_matrix(d, [*base, *extra])
    rb, _ = _fit_logit(d[outcome], Xb)
    rf, _ = _fit_logit(d[outcome], Xf)
    if rb is None or rf is None:
        return {"n": len(d), "events": int(d[outcome].sum()), "lr_stat": np.nan, "df": np.nan, "p": np.nan}
    lr = max(0.0, 2 * (rf.llf - rb.llf))
    k = Xf.shape[1] - Xb.shape[1]
    return {"n": len(d), "events": int(d[outcome].sum()), "lr_stat": lr, "df": k, "p": float(stats.chi2.sf(lr, k))}


@dataclass
class CVResult:
    """Out-of-fold predictions of a repeated stratified k-fold cross-validation.

    Attributes
    ----------
    y
        Outcome of the patients used.
    oof
        Out-of-fold predicted probabilities, shape (patients, repeats).
    index
        Row labels of the patients used (complete outcome).
    auc, ci_low, ci_high
        Mean out-of-fold ROC AUC over repeats, with its bootstrap interval.
    auc_repeats
        AUC of each repeat (split variability).
    """

    y: np.ndarray
    oof: np.ndarray
    index: pd.Index
    auc: float
    ci_low: float
    ci_high: float
    auc_repeats: np.ndarray

    @property
    def mean_prediction(self) -> np.ndarray:
        """Out-of-fold probability averaged over repeats (for ROC and calibration plots)."""
        return self.oof.mean(axis=1)


def _model(penalty: str, seed: int, inner_folds: int):
    if penalty == "none":
        # Maximum likelihood in effect; the negligible ridge (C = 1000 on standardised predictors) keeps the fit
        # finite and fast when a small training fold is (quasi-)separated, where the exact MLE does not exist.
        clf = LogisticRegression(C=1000.0, max_iter=500)
    elif penalty in ("l2", "l1"):
        # The penalty strength is chosen by an inner cross-validation on the training folds only.
        # liblinear is fast on these small designs; a large intercept_scaling keeps the intercept (nearly) unpenalised.
        kw = {"l1_ratios": (1.0 if penalty == "l1" else 0.0,), "solver": "liblinear", "intercept_scaling": 100.0}
        clf = LogisticRegressionCV(Cs=np.logspace(-3, 2, 12), cv=inner_folds, scoring="neg_log_loss", max_iter=2000,
                                   use_legacy_attributes=False, random_state=seed, **kw)  # fmt: skip
    else:
        raise ValueError(f"penalty must be 'none', 'l1' or 'l2', got {penalty!r}")
    return make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), clf)


def cross_validated_auc(
    df: pd.DataFrame,
    outcome: str,
    predictors: list[str],
    *,
    penalty: str = "l2",
    n_splits: int = 5,
    n_repeats: int = 10,
    n_boot: int = 500,
    seed: int = 0,
) -> CVResult:
    """Estimate the repeated stratified k-fold ROC AUC of a logistic model, with a bootstrap interval.

    Parameters
    ----------
    df
        Patient table; rows with a missing outcome are dropped; missing predictor values are imputed by the training
        folds' median (so that a failed assay does not drop the patient).
    outcome
        0/1 column.
    predictors
        Columns of the model (categorical ones are expanded to indicators).
    penalty
        ``"none"`` (maximum likelihood, up to a negligible ridge), ``"l2"`` (ridge) or ``"l1"`` (lasso), strength by
        inner 5-fold CV.
    n_splits, n_repeats
        Outer folds and repeats.
    n_boot
        Bootstrap replicates of the interval.
    seed
        Fixes the splits (the same seed gives the same folds for every model on the same patients, so that AUC
        differences between models are paired).

    Returns
    -------
    CVResult
        Cross-validated AUC with its bootstrap interval, the AUC of every repeat and the mean out-of-fold prediction.

    Raises
    ------
    ValueError
        Fewer than two patients in either outcome class (no stratified split), or an unknown ``penalty``.
    """
    d = df.dropna(subset=[outcome])
    X, _ = design_matrix(d, predictors)
    y = d[outcome].astype(int).to_numpy()
    n_splits = int(min(n_splits, np.bincount(y).min()))
    if n_splits < 2:
        raise ValueError(f"too few events in {outcome} for cross-validation")
    oof = np.full((len(y), n_repeats), np.nan)
    cv = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    Xv = X.to_numpy(dtype=float)
    with warnings.catch_warnings():
        # Small folds can make a bootstrap-free penalised fit hit its iteration limit; the result is still usable.
        warnings.simplefilter("ignore")
        for k, (tr, te) in enumerate(cv.split(Xv, y)):
            model = _model(penalty, seed, inner_folds=min(5, int(np.bincount(y[tr]).min())))
            model.fit(Xv[tr], y[tr])
            oof[te, k // n_splits] = model.predict_proba(Xv[te])[:, 1]
    # Predictions that agree to 12 decimals are the same prediction: rounded, last-bit noise of another CPU's BLAS
    # cannot order two near-tied patients differently in the rank-based AUC.
    oof = np.round(oof, 12)
    reps = _auc_matrix(y, oof)
    est, lo, hi = auc_ci(y, oof, n_boot=n_boot, seed=seed)
    return CVResult(y, oof, d.index, est, lo, hi, reps)


def added_value(
    df: pd.DataFrame,
    outcome: str,
    base: list[str],
    markers: dict[str, list[str]],
    *,
    n_splits: int = 5,
    n_repeats: int = 10,
    n_boot: int = 500,
    seed: int = 0,
) -> pd.DataFrame:
    """Test the added value of each marker over a base model (ELN 2024): likelihood ratio and change in CV AUC.

    Each comparison uses the patients in whom the marker was measured, with the same folds for both models, so the
    AUC difference is paired; its interval resamples patients.

    Parameters
    ----------
    df
        Patient table, one row per patient.
    outcome
        0/1 column (e.g. primary resistance).
    base
        Predictor columns of the base model (e.g. ``["eln2024"]``; categorical ones become indicators).
    markers
        Label -> predictor columns added to ``base``.
    n_splits, n_repeats
        Folds and repeats of the cross-validation (fewer folds when an outcome class is small).
    n_boot
        Bootstrap replicates of the AUC difference (patients resampled within outcome class).
    seed
        Fixes the folds (shared by the base and the full model) and the bootstrap.

    Returns
    -------
    pandas.DataFrame
        ``marker, predictors, n, events, lr_stat, df, p_lrt, q_lrt, auc_base, auc_full, delta_auc, delta_ci_low,
        delta_ci_high``.
    """
    rows = []
    for label, extra in markers.items():
        d = df.dropna(subset=[outcome, *extra, *base])
        lrt = likelihood_ratio_test(d, outcome, base, extra)
        row = {"marker": label, "predictors": " + ".join(extra), **{k: lrt[k] for k in ("n", "events", "lr_stat", "df")},
               "p_lrt": lrt["p"]}  # fmt: skip
        try:
            # Intervals of the two AUCs are not needed here: the paired difference is bootstrapped below.
            cb = cross_validated_auc(d, outcome, base, penalty="none", n_splits=n_splits, n_repeats=n_repeats,
                                     n_boot=1, seed=seed)  # fmt: skip
            cf = cross_validated_auc(d, outcome, [*base, *extra], penalty="none", n_splits=n_splits,
                                     n_repeats=n_repeats, n_boot=1, seed=seed)  # fmt: skip
        except ValueError:
            rows.append(row)
            continue
        y = cb.y
        delta = _auc_matrix(y, cf.oof).mean() - _auc_matrix(y, cb.oof).mean()
        rng = np.random.default_rng(seed)
        pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
        boots = np.empty(n_boot)
        for b in range(n_boot):
            idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
            boots[b] = _auc_matrix(y[idx], cf.oof[idx]).mean() - _auc_matrix(y[idx], cb.oof[idx]).mean()
        row.update(auc_base=cb.auc, auc_full=cf.auc, delta_auc=delta,
                   delta_ci_low=float(np.quantile(boots, 0.025)), delta_ci_high=float(np.quantile(boots, 0.975)))
        rows.append(row)
    cols = ["marker", "predictors", "n", "events", "lr_stat", "df", "p_lrt", "q_lrt", "auc_base", "auc_full",
            "delta_auc", "delta_ci_low", "delta_ci_high"]  # fmt: skip
    out = pd.DataFrame(rows, columns=[c for c in cols if c != "q_lrt"])
    out["q_lrt"] = bh_fdr(out["p_lrt"])
    return out[cols]


def calibration(y: ArrayLike, p: ArrayLike, *, n_bins: int = 5) -> tuple[pd.DataFrame, dict]:
    """Assess the calibration of predicted probabilities: observed versus predicted by quantile bin, slope, intercept.

    Parameters
    ----------
    y
        0/1 outcomes.
    p
        Predicted probabilities.
    n_bins
        Quantile bins.

    Returns
    -------
    bins
        ``bin, n, mean_predicted, observed, ci_low, ci_high`` (Wilson 95 % interval of the observed rate).
    summary
        ``brier``, ``calibration_intercept`` (calibration-in-the-large, slope fixed at 1: 0 is ideal) and
        ``calibration_slope`` (logistic regression of the outcome on logit(p): 1 is ideal, below 1 means
        over-fitted, too extreme predictions).
    """
    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)))
    b = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    rows = []
    for k in range(len(edges) - 1):
        m = b == k
        n, obs = int(m.sum()), y[m].sum()
        lo, hi = _wilson(obs, n)
        rows.append({"bin": k + 1, "n": n, "mean_predicted": p[m].mean() if n else np.nan,
                     "observed": obs / n if n else np.nan, "ci_low": lo, "ci_high": hi})  # fmt: skip
    lp = np.log(p / (1 - p))
    slope_fit = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit()
    int_fit = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=lp).fit()
    summary = {"brier": float(np.mean((p - y) ** 2)), "calibration_intercept": float(int_fit.params[0]),
               "calibration_slope": float(slope_fit.params[1])}  # fmt: skip
    return pd.DataFrame(rows), summary


def _wilson(k: float, n: int, z: float = 1.959964) -> tuple[float, float]:
    if n == 0:
        return np.nan, np.nan
    ph = k / n
    den = 1 + z**2 / n
    c = (ph + z**2 / (2 * n)) / den
    h = z * np.sqrt(ph * (1 - ph) / n + z**2 / (4 * n**2)) / den
    return float(c - h), float(c + h)
