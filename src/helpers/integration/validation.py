"""TRIPOD-grade validation of the primary-resistance models.

- Minimum sample size of Riley et al. (BMJ 2020;368:m441; Stat Med 2019;38:1276) for a binary outcome: the three
  criteria (global shrinkage >= 0.9, optimism in Nagelkerke R2 <= 0.05, overall risk within +-0.05), as in the
  pmsampsize package (R/Stata; not available for Python), and the largest number of predictor parameters a design
  of n patients supports. The anticipated Cox-Snell R2 can come from a C statistic through the binormal model of
  Riley et al. (Stat Med 2022;41:1280), here by Gauss-Hermite quadrature instead of a large simulated data set.
- Bootstrap optimism correction (Harrell, Lee & Mark 1996; Steyerberg 2019, ch. 17) of the ROC AUC, calibration
  slope and calibration intercept: every modelling step is repeated in each bootstrap sample.
- Decision curves (Vickers & Elkin 2006): net benefit = TP/n - FP/n x pt / (1 - pt). The formula is one line, so no
  dependency (dcurves) is added for it.
- A marker cut-off chosen inside cross-validation (Youden index on the training folds), with sensitivity,
  specificity, PPV and NPV of the out-of-fold classifications.
- Missing assays: complete cases as the primary analysis, multiple imputation by chained equations (statsmodels
  MICE, Rubin's rules) as the sensitivity analysis (:func:`mice_logistic`).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import special, stats
from sklearn.model_selection import RepeatedStratifiedKFold

from .stats import _auc_matrix, _model, _wilson, design_matrix

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "riley_sample_size",
    "riley_max_parameters",
    "r2_cox_snell_from_c",
    "calibration_slope_intercept",
    "bootstrap_optimism",
    "decision_curve",
    "cv_cutoff",
    "mice_logistic",
]


def _max_r2(prevalence: float) -> float:
    lnl_null = prevalence * np.log(prevalence) + (1 - prevalence) * np.log(1 - prevalence)
    return float(1 - np.exp(2 * lnl_null))


def riley_sample_size(*, parameters: int, prevalence: float, r2_cs: float, shrinkage: float = 0.9,
                      delta_r2: float = 0.05, margin: float = 0.05) -> pd.DataFrame:  # fmt: skip
    """Compute the minimum sample size to develop a logistic prediction model (Riley et al. 2020, criteria 1-3).

    Parameters
    ----------
    parameters
        Candidate predictor parameters (every coefficient, including indicator columns).
    prevalence
        Anticipated outcome proportion.
    r2_cs
        Anticipated (adjusted) Cox-Snell R2 of the model (see :func:`r2_cox_snell_from_c`).
    shrinkage, delta_r2, margin
        Target global shrinkage, tolerated optimism in Nagelkerke R2, margin of error of the overall risk.

    Returns
    -------
    pandas.DataFrame
        One row per criterion and the final one: ``criterion, n, events, epp, shrinkage``.

    Raises
    ------
    ValueError
        ``r2_cs`` at or above its maximum for the prevalence, or at or above ``shrinkage``.
    """
    max_r2 = _max_r2(prevalence)
    if r2_cs >= max_r2 or r2_cs >= shrinkage:
        raise ValueError(f"Cox-Snell R2 {r2_cs} must be below its maximum {max_r2:.3f} and the shrinkage {shrinkage}")
    n1 = int(np.ceil(parameters / ((shrinkage - 1) * np.log(1 - r2_cs / shrinkage))))
    s2 = r2_cs / (r2_cs + delta_r2 * max_r2)
    n2 = int(np.ceil(parameters / ((s2 - 1) * np.log(1 - r2_cs / s2))))
    n3 = int(np.ceil((stats.norm.ppf(0.975) / margin) ** 2 * prevalence * (1 - prevalence)))
    rows = [("1: shrinkage", n1, shrinkage), ("2: optimism in R2", n2, s2), ("3: overall risk", n3, np.nan)]
    n = max(n1, n2, n3)
    rows.append(("minimum", n, max(shrinkage, s2)))
    out = pd.DataFrame(rows, columns=["criterion", "n", "shrinkage"])
    out["events"] = out["n"] * prevalence
    out["epp"] = out["events"] / parameters
    return out[["criterion", "n", "events", "epp", "shrinkage"]]


def riley_max_parameters(n: int, *, prevalence: float, r2_cs: float, shrinkage: float = 0.9,
                         delta_r2: float = 0.05) -> float:  # fmt: skip
    """Largest number of predictor parameters that ``n`` patients support under criteria 1 and 2 (not rounded).

    Parameters
    ----------
    n
        Patients.
    prevalence
        Outcome proportion.
    r2_cs
        Anticipated Cox-Snell R2.
    shrinkage
        Target global shrinkage (criterion 1).
    delta_r2
        Largest optimism in Nagelkerke R2 (criterion 2).

    Returns
    -------
    float
        The number of parameters.
    """
    s2 = r2_cs / (r2_cs + delta_r2 * _max_r2(prevalence))
    p1 = n * (shrinkage - 1) * np.log(1 - r2_cs / shrinkage)
    p2 = n * (s2 - 1) * np.log(1 - r2_cs / s2)
    return float(min(p1, p2))


def r2_cox_snell_from_c(c_statistic: float, prevalence: float, *, nodes: int = 200) -> float:
    """Cox-Snell R2 implied by a C statistic and a prevalence (binormal, equal-variance linear predictor).

    With the linear predictor N(0, 1) in non-events and N(mu, 1) in events, C = Phi(mu / sqrt 2) and the true risk is
    exactly logistic in it; the expected log-likelihood ratio per patient gives R2_CS = 1 - exp(-LR / n).

    Parameters
    ----------
    c_statistic
        Anticipated C statistic (above 0.5).
    prevalence
        Outcome proportion.
    nodes
        Gauss-Hermite nodes of the integral.

    Returns
    -------
    float
        The Cox-Snell R2.
    """
    mu = np.sqrt(2) * stats.norm.ppf(c_statistic)
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    b0 = np.log(prevalence / (1 - prevalence)) - mu**2 / 2

    def ll(z):  # expected log-likelihood contributions, for events (z ~ N(mu,1)) and non-events (z ~ N(0,1))
        return special.log_expit(b0 + mu * z), special.log_expit(-(b0 + mu * z))

    ev, _ = ll(x + mu)
    _, ne = ll(x)
    ll_model = prevalence * (w @ ev) + (1 - prevalence) * (w @ ne)
    ll_null = prevalence * np.log(prevalence) + (1 - prevalence) * np.log(1 - prevalence)
    return float(1 - np.exp(-2 * (ll_model - ll_null)))


def calibration_slope_intercept(y: ArrayLike, p: ArrayLike) -> tuple[float, float]:
    """Estimate the calibration slope (logistic y on logit p) and intercept (calibration-in-the-large, offset logit p).

    Parameters
    ----------
    y
        0/1 outcomes.
    p
        Predicted probabilities.

    Returns
    -------
    slope, intercept
        1 and 0 are ideal.
    """
    y = np.asarray(y, float)
    lp = special.logit(np.clip(np.asarray(p, float), 1e-8, 1 - 1e-8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        slope = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit().params[1]
        icpt = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=lp).fit().params[0]
    return float(slope), float(icpt)


def _fit_predict(Xtr, ytr, Xte, penalty, seed):
    model = _model(penalty, seed, inner_folds=min(5, int(np.bincount(ytr).min())))
    model.fit(Xtr, ytr)
    return model.predict_proba(Xte)[:, 1], model.predict_proba(Xtr)[:, 1]


def bootstrap_optimism(df: pd.DataFrame, outcome: str, predictors: list[str], *, penalty: str = "none",
                       n_boot: int = 200, seed: int = 0, calibration: bool = True) -> pd.DataFrame:  # fmt: skip
    """Harrell's bootstrap optimism correction of the AUC, calibration slope and calibration intercept.

    The model (median imputation, scaling, logistic fit with ``penalty``; see
    :func:`helpers.integration.cross_validated_auc`) is refitted in each of ``n_boot`` bootstrap samples; optimism =
    mean(performance in the bootstrap sample - performance of that model on the original patients).

    Parameters
    ----------
    df
        Patient table.
    outcome
        0/1 column.
    predictors
        Columns of the model.
    penalty
        ``"none"``, ``"l2"`` or ``"l1"``.
    n_boot
        Bootstrap replicates.
    seed
        Seed of the resampling.
    calibration
        Also correct the calibration slope and intercept.

    Returns
    -------
    pandas.DataFrame
        ``measure, apparent, optimism, corrected, n, events, n_boot`` for ``auc``, ``calibration_slope``,
        ``calibration_intercept`` (missing without ``calibration``, which skips their two GLM fits per replicate).
    """
    d = df.dropna(subset=[outcome])
    X = design_matrix(d, predictors)[0].to_numpy(float)
    y = d[outcome].astype(int).to_numpy()
    rng = np.random.default_rng(seed)

    def perf(yy, pp):
        s, i = calibration_slope_intercept(yy, pp) if calibration else (np.nan, np.nan)
        return np.array([_auc_matrix(yy, pp)[0], s, i])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p_full, _ = _fit_predict(X, y, X, penalty, seed)
        apparent = perf(y, p_full)
        opt = []
        for _ in range(n_boot):
            idx = rng.integers(0, len(y), len(y))
            if len(np.unique(y[idx])) < 2 or np.bincount(y[idx]).min() < 2:
                continue
            p_orig, p_boot = _fit_predict(X[idx], y[idx], X, penalty, seed)
            opt.append(perf(y[idx], p_boot) - perf(y, p_orig))
    o = np.mean(opt, axis=0)
    return pd.DataFrame({"measure": ["auc", "calibration_slope", "calibration_intercept"], "apparent": apparent,
                         "optimism": o, "corrected": apparent - o, "n": len(y), "events": int(y.sum()),
                         "n_boot": len(opt)})  # fmt: skip


def decision_curve(y: ArrayLike, p: ArrayLike, *, thresholds: ArrayLike | None = None) -> pd.DataFrame:
    """Compute the net benefit of acting on predicted risk ``p`` at each threshold, beside treating all and none.

    Parameters
    ----------
    y
        0/1 outcomes.
    p
        Predicted risks.
    thresholds
        Risk thresholds (default: 0.05 to 0.80 by 0.01).

    Returns
    -------
    pandas.DataFrame
        ``threshold, net_benefit, treat_all, treat_none``.
    """
    y = np.asarray(y, int)
    p = np.asarray(p, float)
    th = np.round(np.arange(0.05, 0.81, 0.01), 2) if thresholds is None else np.asarray(thresholds, float)
    n, prev = len(y), y.mean()
    rows = []
    for t in th:
        pos = p >= t
        tp, fp = (pos & (y == 1)).sum(), (pos & (y == 0)).sum()
        odds = t / (1 - t)
        rows.append({"threshold": t, "net_benefit": tp / n - fp / n * odds, "treat_all": prev - (1 - prev) * odds,
                     "treat_none": 0.0})  # fmt: skip
    return pd.DataFrame(rows)


def _youden_cut(x: np.ndarray, y: np.ndarray, sign: int) -> float:
    s = sign * x
    cand = np.unique(s)
    best, cut = -np.inf, cand[0]
    for c in cand:
        pos = s >= c
        j = pos[y == 1].mean() + (~pos[y == 0]).mean() - 1
        if j > best + 1e-12:
            best, cut = j, c
    return float(sign * cut)


def cv_cutoff(df: pd.DataFrame, outcome: str, marker: str, *, high_is_positive: bool, n_splits: int = 5,
              n_repeats: int = 10, seed: int = 0) -> dict:  # fmt: skip
    """Classify out of fold by a marker cut-off chosen (Youden) on the training folds only.

    Parameters
    ----------
    df
        Patient table; rows missing the outcome or the marker are dropped.
    outcome
        0/1 column.
    marker
        Continuous marker column (in its own unit; the cut-offs are reported in it).
    high_is_positive
        True when high marker values predict the outcome (e.g. a VEN AUC for primary resistance), False otherwise.
    n_splits, n_repeats
        Folds (fewer when an outcome class is small) and repeats of the stratified cross-validation.
    seed
        Fixes the folds.

    Returns
    -------
    dict
        ``n, events, cutoff_median, cutoff_q1, cutoff_q3`` (over folds), out-of-fold ``sensitivity, specificity,
        ppv, npv`` pooled over repeats, each with a Wilson 95 % interval (``*_ci``; counts divided by repeats).
    """
    d = df[[outcome, marker]].dropna()
    x, y = d[marker].to_numpy(float), d[outcome].astype(int).to_numpy()
    sign = 1 if high_is_positive else -1
    cv = RepeatedStratifiedKFold(n_splits=min(n_splits, int(np.bincount(y).min())), n_repeats=n_repeats,
                                 random_state=seed)  # fmt: skip
    cuts, tp, fp, tn, fn = [], 0, 0, 0, 0
    for tr, te in cv.split(x.reshape(-1, 1), y):
        c = _youden_cut(x[tr], y[tr], sign)
        cuts.append(c)
        pos = sign * x[te] >= sign * c
        tp += int((pos & (y[te] == 1)).sum())
        fp += int((pos & (y[te] == 0)).sum())
        tn += int((~pos & (y[te] == 0)).sum())
        fn += int((~pos & (y[te] == 1)).sum())
    out = {"n": len(y), "events": int(y.sum()), "cutoff_median": float(np.median(cuts)),
           "cutoff_q1": float(np.quantile(cuts, 0.25)), "cutoff_q3": float(np.quantile(cuts, 0.75))}  # fmt: skip
    for name, k, m in (("sensitivity", tp, tp + fn), ("specificity", tn, tn + fp), ("ppv", tp, tp + fp),
                       ("npv", tn, tn + fn)):  # fmt: skip
        out[name] = k / m if m else np.nan
        out[f"{name}_ci"] = _wilson(k / n_repeats, int(round(m / n_repeats)))
    return out


def mice_logistic(df: pd.DataFrame, outcome: str, predictors: list[str], *, n_imputations: int = 20,
                  n_burnin: int = 10, seed: int = 0) -> pd.DataFrame:  # fmt: skip
    """Logistic model after multiple imputation by chained equations (statsmodels MICE, pooled by Rubin's rules).

    The outcome is used in the imputation models (as MICE requires) and never imputed: patients without it are
    dropped. Continuous predictors are standardised first, so that odds ratios are per SD as in the complete-case fit.

    Parameters
    ----------
    df
        Patient table.
    outcome
        0/1 column.
    predictors
        Columns of the model (with missing values to impute).
    n_imputations
        Imputed data sets.
    n_burnin
        MICE cycles before the first imputation.
    seed
        Seed of the imputations.

    Returns
    -------
    pandas.DataFrame
        ``term, odds_ratio, ci_low, ci_high, p, fraction_missing_info, n, n_complete``.
    """
    from statsmodels.imputation import mice

    d = df.dropna(subset=[outcome])
    X, _ = design_matrix(d, predictors)
    X.columns = [f"x{i}" for i in range(X.shape[1])]
    names = dict(zip(X.columns, design_matrix(d, predictors)[0].columns, strict=True))
    data = pd.concat([d[[outcome]].astype(float).rename(columns={outcome: "y"}).reset_index(drop=True),
                      X.reset_index(drop=True)], axis=1)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imp = mice.MICEData(data, rng=np.random.default_rng(seed))
        res = mice.MICE("y ~ " + " + ".join(X.columns), sm.GLM, imp,
                        init_kwds={"family": sm.families.Binomial()}).fit(n_burnin, n_imputations)  # fmt: skip
    params = pd.Series(res.params, index=res.model.exog_names)
    bse = pd.Series(res.bse, index=res.model.exog_names)
    fmi = pd.Series(res.frac_miss_info, index=res.model.exog_names)
    terms = list(X.columns)
    z = stats.norm.ppf(0.975)
    return pd.DataFrame({
        "term": [names[t] for t in terms],
        "odds_ratio": np.exp(params[terms]).to_numpy(),
        "ci_low": np.exp(params[terms] - z * bse[terms]).to_numpy(),
        "ci_high": np.exp(params[terms] + z * bse[terms]).to_numpy(),
        "p": 2 * stats.norm.sf(np.abs((params[terms] / bse[terms]).to_numpy())),
        "fraction_missing_info": fmi[terms].to_numpy(),
        "n": len(data), "n_complete": int(data.notna().all(axis=1).sum()),
    })  # fmt: skip
