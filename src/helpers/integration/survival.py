"""Adaptive resistance: Kaplan-Meier estimates, log-rank tests and Cox models with the proportional-hazards check.

Times are in months from CR/CRi (responders only). Cox effects follow the conventions of :mod:`.stats`: continuous
covariates per standard deviation, 0/1 flags as is, categorical ones as indicators against their first level.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test, proportional_hazard_test

from ..numeric import matmul_fixed_order
from .stats import bh_fdr, design_matrix

__all__ = ["km_summary", "logrank", "CoxFit", "fit_cox", "univariable_cox", "cumulative_incidence", "cox_added_value"]


def km_summary(df: pd.DataFrame, time: str, event: str, group: str, *, at: tuple[float, ...] = (12.0, 24.0)) -> pd.DataFrame:
    """Kaplan-Meier summary per group: patients, events, median with 95 % CI, survival at fixed times.

    Parameters
    ----------
    df
        One row per patient.
    time, event
        Follow-up time (months) and event (0/1) columns.
    group
        Grouping column (missing values left out).
    at
        Times (months) of the survival estimates.

    Returns
    -------
    pandas.DataFrame
        ``group, n, events, median, median_ci_low, median_ci_high, surv_<t>m`` (medians not reached are missing).
    """
    from lifelines.utils import median_survival_times

    d = df[[time, event, group]].dropna()
    rows = []
    for g, sub in d.groupby(group, observed=True, sort=True):
        km = KaplanMeierFitter().fit(sub[time], sub[event], label=str(g))
        ci = median_survival_times(km.confidence_interval_)
        med = km.median_survival_time_
        row = {"group": str(g), "n": len(sub), "events": int(sub[event].sum()),
               "median": med if np.isfinite(med) else np.nan,
               "median_ci_low": _finite(ci.iloc[0, 0]), "median_ci_high": _finite(ci.iloc[0, 1])}  # fmt: skip
        for t in at:
            row[f"surv_{t:g}m"] = float(km.predict(t))
        rows.append(row)
    return pd.DataFrame(rows)


def _finite(x: object) -> float:
    x = float(x)
    return x if np.isfinite(x) else np.nan


def logrank(df: pd.DataFrame, time: str, event: str, group: str) -> dict:
    """Log-rank test across the groups of ``group``.

    Parameters
    ----------
    df
        One row per patient.
    time, event
        Follow-up time and event (0/1) columns.
    group
        Grouping column.

    Returns
    -------
    dict
        ``statistic, df, p, n, events``.
    """
    d = df[[time, event, group]].dropna()
    r = multivariate_logrank_test(d[time], d[group].astype(str), d[event])
    return {"statistic": float(r.test_statistic), "df": int(r.degrees_of_freedom), "p": float(r.p_value),
            "n": len(d), "events": int(d[event].sum())}  # fmt: skip


@dataclass
class CoxFit:
    """A fitted Cox model.

    Attributes
    ----------
    table
        ``term, scale, hazard_ratio, ci_low, ci_high, p, ph_p`` (``ph_p``: Schoenfeld-residual test of proportional
        hazards against rank-transformed time; small values flag a time-varying effect).
    ph_global_p
        Smallest per-term PH p-value, Bonferroni-adjusted over the terms.
    concordance
        Harrell's C of the fitted model (in-sample).
    """

    table: pd.DataFrame
    model: CoxPHFitter
    n: int
    events: int
    concordance: float
    ph_global_p: float


def fit_cox(df: pd.DataFrame, time: str, event: str, covariates: list[str], *, standardize: bool = True,
            penalizer: float = 0.0) -> CoxFit:  # fmt: skip
    """Cox proportional-hazards model on complete cases, with the PH check.

    Parameters
    ----------
    df
        One row per patient.
    time, event
        Follow-up time and event (0/1) columns.
    covariates
        Columns of the model (categories expanded to indicators).
    standardize
        Continuous covariates per SD.
    penalizer
        lifelines' ridge penalty (0: maximum likelihood).

    Returns
    -------
    CoxFit
        Hazard ratios with 95 % CI, p and the Schoenfeld PH-check p per term, ``n``, ``events``, Harrell's C.

    Raises
    ------
    ValueError
        With fewer than 5 events among the complete cases.
    """
    d = df[[time, event, *covariates]].dropna()
    if d[event].sum() < 5:
        raise ValueError(f"too few events for a Cox model of {event}: {int(d[event].sum())}")
    X, scales = design_matrix(d, covariates, standardize=standardize)
    data = pd.concat([d[[time, event]].astype(float), X], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines' convergence chatter would pollute notebook output
        cph = CoxPHFitter(penalizer=penalizer).fit(data, duration_col=time, event_col=event)
        ph = proportional_hazard_test(cph, data, time_transform="rank")
    s = cph.summary
    ph_p = ph.summary["p"].reindex(X.columns).to_numpy()
    table = pd.DataFrame(
        {
            "term": X.columns,
            "scale": [scales[c][0] for c in X.columns],
            "hazard_ratio": s.loc[X.columns, "exp(coef)"].to_numpy(),
            "ci_low": s.loc[X.columns, "exp(coef) lower 95%"].to_numpy(),
            "ci_high": s.loc[X.columns, "exp(coef) upper 95%"].to_numpy(),
            "p": s.loc[X.columns, "p"].to_numpy(),
            "ph_p": ph_p,
        }
    )
    glob = float(min(1.0, np.nanmin(ph_p) * len(ph_p))) if len(ph_p) else np.nan
    return CoxFit(table, cph, len(d), int(d[event].sum()), harrell_c(cph, X, d[time], d[event]), glob)


def harrell_c(cph: CoxPHFitter, X: pd.DataFrame, time: pd.Series, event: pd.Series) -> float:
    """Harrell's C of a fitted Cox model on its design ``X``, with tied risk scores tied on every machine.

    Not lifelines' ``concordance_index_``: it ranks ``exp(X beta)`` from a BLAS product, whose rounding depends on the
    row's position and on the CPU kernel, so patients with the same design row (e.g. the same ELN class) tie on one
    machine and not on another, and C moved by 0.004 between two OpenBLAS kernels. Here the linear predictor is a
    fixed-order sum (:func:`helpers.numeric.matmul_fixed_order`) rounded to 1e-10, far below any real difference in
    risk and far above last-bit noise (docs/reproducibility.md).

    Parameters
    ----------
    cph
        The fitted model.
    X
        Its design matrix.
    time, event
        Follow-up times and events of the rows of ``X``.

    Returns
    -------
    float
        Harrell's concordance index.
    """
    from lifelines.utils import concordance_index

    lp = matmul_fixed_order(X.to_numpy(dtype=float), cph.params_.loc[X.columns].to_numpy()[:, None])[:, 0]
    return float(concordance_index(time.to_numpy(float), -np.round(lp, 10), event.to_numpy(float)))


def univariable_cox(df: pd.DataFrame, time: str, event: str, features: list[str]) -> pd.DataFrame:
    """One Cox model per feature: hazard ratio with CI, p, PH-check p, and Benjamini-Hochberg q over the features.

    Parameters
    ----------
    df
        One row per patient.
    time, event
        Follow-up time and event (0/1) columns.
    features
        Candidate columns.

    Returns
    -------
    pandas.DataFrame
        One row per design term, with a ``note`` where a model could not be fitted.
    """
    rows = []
    for f in features:
        d = df[[time, event, f]].dropna()
        if len(d) < 10 or d[event].sum() < 5 or d[f].nunique() < 2:
            rows.append({"feature": f, "term": f, "n": len(d), "events": int(d[event].sum()), "note": "too few data"})
            continue
        try:
            fit = fit_cox(d, time, event, [f])
        except Exception as exc:  # noqa: BLE001 - a failed fit of one feature must not stop the screen
            rows.append({"feature": f, "term": f, "n": len(d), "events": int(d[event].sum()),
                         "note": f"failed: {type(exc).__name__}"})  # fmt: skip
            continue
        for r in fit.table.itertuples(index=False):
            rows.append({"feature": f, "term": r.term, "scale": r.scale, "n": fit.n, "events": fit.events,
                         "hazard_ratio": r.hazard_ratio, "ci_low": r.ci_low, "ci_high": r.ci_high, "p": r.p,
                         "ph_p": r.ph_p, "note": ""})  # fmt: skip
    cols = ["feature", "term", "scale", "n", "events", "hazard_ratio", "ci_low", "ci_high", "p", "q", "ph_p", "note"]
    out = pd.DataFrame(rows, columns=[c for c in cols if c != "q"])
    out["q"] = bh_fdr(out["p"])
    return out[cols].sort_values(["p", "feature"], na_position="last", kind="stable").reset_index(drop=True)


def cumulative_incidence(
    df: pd.DataFrame, time: str, cause: str, group: str, *, at: tuple[float, ...] = (12.0, 24.0)
) -> pd.DataFrame:
    """Estimate the cumulative incidence of cause 1 with cause 2 as a competing risk (Aalen-Johansen), per group.

    Relapse after CR/CRi competes with death in remission: ``1 - Kaplan-Meier`` with deaths censored overstates
    the probability of relapse. Here CIF(t) = sum over event times t_j <= t of S(t_j-) d1_j / n_j, with S the
    all-cause Kaplan-Meier. Ties are handled exactly (no random jitter), so results are reproducible.

    Parameters
    ----------
    df
        One row per patient; rows with a missing time, cause or group are dropped.
    time
        Column of the follow-up time in months (the unit of ``at``).
    cause
        0 = censored, 1 = event of interest (relapse), 2 = competing event (death without relapse).
    group
        Column of the groups estimated separately.
    at
        Times (months) at which the incidence is read off the step function.

    Returns
    -------
    pandas.DataFrame
        ``group, n, events, competing, cif_<t>m`` for each time in ``at`` (e.g. ``cif_12m``, a probability 0-1).

    Raises
    ------
    ValueError
        A ``cause`` value other than 0, 1 or 2.
    """
    d = df[[time, cause, group]].dropna()
    rows = []
    for g, sub in d.groupby(group, observed=True, sort=True):
        t = sub[time].to_numpy(float)
        c = sub[cause].to_numpy(int)
        if not set(np.unique(c)) <= {0, 1, 2}:
            raise ValueError(f"{cause} must be coded 0/1/2, got {sorted(set(np.unique(c)))}")
        times = np.unique(t[c > 0])
        surv, cif, steps = 1.0, 0.0, []
        for tj in times:
            n_at_risk = (t >= tj).sum()
            d1 = ((t == tj) & (c == 1)).sum()
            d_all = ((t == tj) & (c > 0)).sum()
            cif += surv * d1 / n_at_risk
            surv *= 1 - d_all / n_at_risk
            steps.append((tj, cif))
        row = {"group": str(g), "n": len(sub), "events": int((c == 1).sum()), "competing": int((c == 2).sum())}
        for a in at:
            row[f"cif_{a:g}m"] = max([v for tj, v in steps if tj <= a], default=0.0)
        rows.append(row)
    return pd.DataFrame(rows)


def cox_added_value(df: pd.DataFrame, time: str, event: str, base: list[str], markers: dict[str, list[str]]
                    ) -> pd.DataFrame:  # fmt: skip
    """Test the added value of each marker over a base Cox model (e.g. ELN 2024, or ELN 2024 + MRD).

    Both models are fitted on the same complete cases (lifelines); likelihood-ratio test and the change in Harrell's
    C (in-sample, descriptive).

    Parameters
    ----------
    df
        One row per patient.
    time, event
        Follow-up time and event (0/1) columns.
    base
        Covariates of the base model.
    markers
        Marker name -> its columns.

    Returns
    -------
    pandas.DataFrame
        ``marker, base, n, events, lr_stat, df, p_lrt, q_lrt, c_base, c_full, hazard_ratio, ci_low, ci_high`` (the
        marker's hazard ratio in the full model, first design column).
    """
    from scipy import stats

    rows = []
    for label, extra in markers.items():
        d = df[[time, event, *base, *extra]].dropna()
        row = {"marker": label, "base": " + ".join(base), "n": len(d), "events": int(d[event].sum())}
        try:
            fb = fit_cox(d, time, event, base)
            ff = fit_cox(d, time, event, [*base, *extra])
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:  # ConvergenceError is a ValueError
            rows.append({**row, "note": f"not fitted: {exc}"})
            continue
        lr = max(0.0, 2 * (ff.model.log_likelihood_ - fb.model.log_likelihood_))
        k = len(ff.table) - len(fb.table)
        hr = ff.table.iloc[len(fb.table)]
        rows.append({**row, "lr_stat": lr, "df": k, "p_lrt": float(stats.chi2.sf(lr, k)), "c_base": fb.concordance,
                     "c_full": ff.concordance, "hazard_ratio": hr["hazard_ratio"], "ci_low": hr["ci_low"],
                     "ci_high": hr["ci_high"], "note": ""})  # fmt: skip
    cols = ["marker", "base", "n", "events", "lr_stat", "df", "p_lrt", "q_lrt", "c_base", "c_full", "hazard_ratio",
            "ci_low", "ci_high", "note"]  # fmt: skip
    out = pd.DataFrame(rows, columns=[c for c in cols if c != "q_lrt"])
    out["q_lrt"] = bh_fdr(out["p_lrt"])
    return out[cols]
