"""Relapse with death in remission as a competing event, and the multi-state course of the study.

The course is diagnosis -> remission -> relapse -> death.

- Cumulative incidence: Aalen-Johansen (:func:`helpers.integration.cumulative_incidence`; checked against lifelines'
  ``AalenJohansenFitter`` in the tests), here also as a curve (:func:`cif_curve`) for figures.
- Cause-specific Cox: :func:`helpers.integration.fit_cox` with deaths in remission censored (lifelines).
- Fine-Gray subdistribution hazards: lifelines ``CoxPHFitter`` (maintained, with case weights, counting-process
  entry times and a cluster-robust variance) on the weighted data set of Fine & Gray (1999) / Geskus (2011), as R's
  ``survival::finegray`` builds it: a patient who dies in remission stays in the risk set of relapse with weight
  G(t) / G(T), G the Kaplan-Meier of censoring. lifelines, scikit-survival and statsmodels have no Fine-Gray model, so
  only the data expansion is written here.
- Test of equal cumulative incidence across groups: Gray's (1988) K-sample test (:func:`gray_test`, what R's
  ``cmprsk::cuminc`` reports), written here from the paper's formulas: lifelines has none, scikit-survival (0.28) has
  the Aalen-Johansen estimate and a log-rank test but no test of cumulative incidence, statsmodels has none; the one
  package that ships it (comprisk) is an alpha-stage forest toolkit, too young and heavy a dependency for one test.
  The robust Wald test of the group terms of a Fine-Gray model is kept as :func:`fine_gray_wald_test` (a
  model-based second opinion).
- Multi-state summary: transition counts and Aalen-Johansen state-occupation probabilities of the illness-death
  model with recovery states (no Python library estimates a general multi-state Aalen-Johansen; the product-integral
  of the transition-intensity increments is a few lines).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from scipy import stats

from ..errors import DataContractError
from ..units import DAYS_PER_MONTH
from .stats import design_matrix

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "cif_curve",
    "FineGrayFit",
    "fine_gray_data",
    "fit_fine_gray",
    "cif_group_test",
    "gray_test",
    "fine_gray_wald_test",
    "MULTISTATE_STATES",
    "multistate_transitions",
    "multistate_occupation",
]

MONTH = DAYS_PER_MONTH


def cif_curve(time: ArrayLike, cause: ArrayLike, *, event: int = 1) -> pd.DataFrame:
    """Estimate the Aalen-Johansen cumulative incidence of ``event`` (other non-zero causes compete), exact at ties.

    Parameters
    ----------
    time
        Follow-up times, one per patient (any unit; the returned ``time`` is in the same unit).
    cause
        Integer code per patient: 0 censored, else the cause of the event (e.g. 1 relapse, 2 death in remission).
    event
        The cause of interest.

    Returns
    -------
    pandas.DataFrame
        ``time, cif`` at 0 and at every event time (a step function, right-continuous).
    """
    t = np.asarray(time, dtype=float)
    c = np.asarray(cause, dtype=int)
    times = np.unique(t[c > 0])
    surv, cif, rows = 1.0, 0.0, [(0.0, 0.0)]
    for tj in times:
        at_risk = (t >= tj).sum()
        d1 = ((t == tj) & (c == event)).sum()
        d_all = ((t == tj) & (c > 0)).sum()
        cif += surv * d1 / at_risk
        surv *= 1 - d_all / at_risk
        rows.append((float(tj), float(cif)))
    return pd.DataFrame(rows, columns=["time", "cif"])


def fine_gray_data(df: pd.DataFrame, time: str, cause: str, covariates: list[str], *, event: int = 1) -> pd.DataFrame:
    """Build the weighted counting-process data set of the Fine-Gray model for cause ``event``.

    Patients with the event or censored keep one row ``(0, T]``; a patient with a competing event at T keeps ``(0, T]``
    and then one row per later event time t_j of interest, ``(t_{j-1}, t_j]`` with weight G(t_j-) / G(T), where G is
    the Kaplan-Meier estimate of the censoring distribution (censoring = cause 0).

    Parameters
    ----------
    df
        One row per patient.
    time, cause
        Follow-up time and cause (0 censored) columns.
    covariates
        Columns carried into the data set.
    event
        The cause of interest.

    Returns
    -------
    pandas.DataFrame
        ``id, start, stop, status, weight`` and the covariates (rows with a missing value dropped first).
    """
    d = df[[time, cause, *covariates]].dropna().reset_index(drop=True)
    t = d[time].to_numpy(float)
    c = d[cause].to_numpy(int)
    km = KaplanMeierFitter().fit(t, (c == 0).astype(int))
    sf = km.survival_function_.iloc[:, 0]

    def g_left(x):  # G(x-): censoring survival just before x
        idx = np.searchsorted(sf.index.to_numpy(), x, side="left") - 1
        return np.where(idx >= 0, sf.to_numpy()[np.clip(idx, 0, None)], 1.0)

    ev_times = np.unique(t[c == event])
    base = d[covariates].assign(id=np.arange(len(d)), start=0.0, stop=t, status=(c == event).astype(int), weight=1.0)
    parts = [base]
    comp = np.flatnonzero((c > 0) & (c != event))
    ids, starts, stops, weights = [], [], [], []
    for i in comp:  # extra rows only for the (few) patients with a competing event
        later = ev_times[ev_times > t[i]]
        if len(later):
            ids.append(np.full(len(later), i))
            starts.append(np.concatenate([[t[i]], later[:-1]]))
            stops.append(later)
            weights.append(g_left(later) / g_left(np.array([t[i]]))[0])
    if ids:
        idx = np.concatenate(ids)
        extra = d[covariates].iloc[idx].reset_index(drop=True).assign(
            id=idx, start=np.concatenate(starts), stop=np.concatenate(stops), status=0,
            weight=np.concatenate(weights))  # fmt: skip
        parts.append(extra)
    out = pd.concat(parts, ignore_index=True).sort_values(["id", "start"], kind="stable").reset_index(drop=True)
    return out[["id", "start", "stop", "status", "weight", *covariates]]


@dataclass
class FineGrayFit:
    """A fitted Fine-Gray model.

    ``table`` has ``term, scale, shr, ci_low, ci_high, p`` (subdistribution hazard ratios, robust 95 % intervals);
    ``model`` is the lifelines fit, ``n`` the patients, ``events`` the events of interest and ``competing`` the
    competing events.
    """

    table: pd.DataFrame
    model: CoxPHFitter
    n: int
    events: int
    competing: int


def fit_fine_gray(df: pd.DataFrame, time: str, cause: str, covariates: list[str], *, event: int = 1,
                  standardize: bool = True) -> FineGrayFit:  # fmt: skip
    """Fine-Gray proportional subdistribution hazards model of cause ``event`` (lifelines, weighted, robust variance).

    Covariates follow :func:`helpers.integration.design_matrix` (continuous per SD, 0/1 as is, categories against
    the first level).

    Parameters
    ----------
    df
        One row per patient.
    time, cause
        Follow-up time and cause (0 censored) columns.
    covariates
        Columns of the model.
    event
        The cause of interest.
    standardize
        Continuous covariates per SD.

    Returns
    -------
    FineGrayFit
        Subdistribution hazard ratios with 95 % CI and p per term, ``n``, ``events``.

    Raises
    ------
    ValueError
        With fewer than 5 events of interest among the complete cases.
    """
    d = df[[time, cause, *covariates]].dropna()
    n_ev = int((d[cause] == event).sum())
    if n_ev < 5:
        raise ValueError(f"too few events for a Fine-Gray model of {cause} = {event}: {n_ev}")
    X, scales = design_matrix(d, covariates, standardize=standardize)
    base = pd.concat([d[[time, cause]].astype(float), X], axis=1)
    fg = fine_gray_data(base, time, cause, list(X.columns), event=event)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines notes that weights are not integers: expected here
        cph = CoxPHFitter().fit(fg.drop(columns="id").assign(id=fg["id"]), duration_col="stop", event_col="status",
                                entry_col="start", weights_col="weight", cluster_col="id", robust=True)  # fmt: skip
    s = cph.summary.loc[X.columns]
    table = pd.DataFrame({"term": X.columns, "scale": [scales[c][0] for c in X.columns],
                          "shr": s["exp(coef)"].to_numpy(), "ci_low": s["exp(coef) lower 95%"].to_numpy(),
                          "ci_high": s["exp(coef) upper 95%"].to_numpy(), "p": s["p"].to_numpy()})  # fmt: skip
    comp = int(((d[cause] > 0) & (d[cause] != event)).sum())
    return FineGrayFit(table, cph, len(d), n_ev, comp)


def fine_gray_wald_test(df: pd.DataFrame, time: str, cause: str, group: str, *, event: int = 1) -> dict:
    """Robust Wald chi-square of the group indicators of the Fine-Gray model (degrees of freedom = levels - 1).

    A model-based test of equal subdistribution hazards; :func:`gray_test` is the standard nonparametric test.

    Parameters
    ----------
    df
        One row per patient.
    time, cause
        Follow-up time and cause (0 censored) columns.
    group
        Grouping column.
    event
        The cause of interest.

    Returns
    -------
    dict
        ``statistic, df, p, n, events, competing, method``.
    """
    d = df[[time, cause, group]].dropna()
    d = d.assign(**{group: d[group].astype(str)})
    fit = fit_fine_gray(d, time, cause, [group], event=event)
    terms = list(fit.table["term"])
    beta = fit.model.params_.loc[terms].to_numpy()
    cov = fit.model.variance_matrix_.loc[terms, terms].to_numpy()
    w = float(beta @ np.linalg.solve(cov, beta))
    return {"statistic": w, "df": len(terms), "p": float(stats.chi2.sf(w, len(terms))), "n": fit.n,
            "events": fit.events, "competing": fit.competing,
            "method": "Fine-Gray robust Wald test of equal subdistribution hazards"}  # fmt: skip


def _group_curves(t: np.ndarray, c: np.ndarray, times: np.ndarray, event: int) -> dict[str, np.ndarray]:
    """Compute one group's quantities at the pooled event times.

    At risk Y, events of the cause (d1) and of other causes (d2), all-cause Kaplan-Meier S(t-) and Aalen-Johansen
    F(t-) just before, and the jump dF of the cause.
    """
    y = (t[None, :] >= times[:, None]).sum(1).astype(float)
    at = t[None, :] == times[:, None]
    d1 = (at & (c[None, :] == event)).sum(1).astype(float)
    d2 = (at & (c[None, :] > 0) & (c[None, :] != event)).sum(1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        h1, hall = np.where(y > 0, d1 / y, 0.0), np.where(y > 0, (d1 + d2) / y, 0.0)
    s_after = np.cumprod(1 - hall)
    s_left = np.concatenate([[1.0], s_after[:-1]])
    df1 = s_left * h1
    f_left = np.concatenate([[0.0], np.cumsum(df1)[:-1]])
    return {"y": y, "d1": d1, "d2": d2, "s_left": s_left, "f_left": f_left, "df1": df1, "hall": hall}


def gray_test(df: pd.DataFrame, time: str, cause: str, group: str, *, event: int = 1, rho: float = 0.0,
              source: str | None = None) -> dict:  # fmt: skip
    """Gray's (1988) K-sample test of equal cumulative incidence of ``event`` (other non-zero causes compete).

    Following Gray (1988, Ann. Statist. 16:1141-1154): the score of group k is
    ``z_k = sum_t L(t) [dN_k(t) - R_k(t) dN(t) / R(t)]``, where ``R_k(t) = Y_k(t) (1 - F_k(t-)) / S_k(t-)`` is the
    group's subdistribution risk set (at risk, reweighted by the left-continuous Aalen-Johansen cumulative incidence
    F_k and all-cause Kaplan-Meier S_k), R and dN are summed over groups and ``L(t) = (1 - F_0(t-))^rho`` with F_0 the
    pooled-hazard cumulative incidence (rho = 0, the default of ``cmprsk::cuminc``, gives a log-rank-type weight).
    The variance is the paper's martingale estimator: z is expanded in the cause-specific counting-process martingales
    of every group, cause of interest (coefficient ``a_kr``) and competing causes (``b_kr``), and
    ``V_kk' = sum_r sum_t [a_kr a_k'r dN_1r + b_kr b_k'r dN_2r] / Y_r^2``. The statistic is ``z' V^- z`` on the first
    K - 1 groups, chi-square with K - 1 degrees of freedom.

    Parameters
    ----------
    df
        One row per patient; rows with a missing time, cause or group are dropped.
    time, cause, group
        Columns: follow-up time, cause (0 = censored, ``event`` = cause of interest, other positive = competing),
        group label.
    event
        Cause of interest.
    rho
        Weight exponent of ``(1 - F_0(t-))^rho``.
    source
        Name of the input, for error messages.

    Returns
    -------
    dict
        ``statistic, df, p, n, events, competing, method``.

    Raises
    ------
    DataContractError
        Fewer than two groups, no event of the cause, negative or non-finite times, or causes that are not
        non-negative integers.
    """
    d = df[[time, cause, group]].dropna()
    t = d[time].to_numpy(float)
    c_raw = d[cause].to_numpy(float)
    if not np.all(np.isfinite(t)) or (t < 0).any():
        raise DataContractError(source, "follow-up times must be finite and >= 0", column=time)
    if (c_raw < 0).any() or not np.all(c_raw == np.round(c_raw)):
        raise DataContractError(source, "causes must be non-negative integers (0 = censored)", column=cause)
    c = c_raw.astype(int)
    g = d[group].astype(str).to_numpy()
    levels = sorted(set(g))
    if len(levels) < 2:
        raise DataContractError(source, f"Gray's test needs at least two groups, found {len(levels)}", column=group)
    n_ev = int((c == event).sum())
    if n_ev == 0:
        raise DataContractError(source, f"no event of cause {event} to compare", column=cause)
    times = np.unique(t[c > 0])
    cur = [_group_curves(t[g == lv], c[g == lv], times, event) for lv in levels]
    y = np.array([q["y"] for q in cur])  # K x J
    d1 = np.array([q["d1"] for q in cur])
    d2 = np.array([q["d2"] for q in cur])
    s_left = np.array([q["s_left"] for q in cur])
    f_left = np.array([q["f_left"] for q in cur])
    df1 = np.array([q["df1"] for q in cur])
    hall = np.array([q["hall"] for q in cur])
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(y > 0, y * (1 - f_left) / s_left, 0.0)
        r_tot = r.sum(0)
        # Pooled subdistribution hazard and its cumulative incidence, for the weight L(t).
        dlam0 = np.where(r_tot > 0, d1.sum(0) / r_tot, 0.0)
        f0_left = 1 - np.concatenate([[1.0], np.cumprod(1 - dlam0)[:-1]])
        weight = (1 - f0_left) ** rho
        share = np.where(r_tot > 0, r / r_tot, 0.0)  # R_r / R
        z = (weight * (d1 - r * (d1.sum(0) / np.where(r_tot > 0, r_tot, 1.0)))).sum(1)
        k = len(levels)
        # W[k, r, j] = L R_k (delta_kr - R_r / R): z_k = sum_r sum_j W_krj dLambda_r(j).
        w = weight * r[:, None, :] * (np.eye(k)[:, :, None] - share[None, :, :])
        one_minus_f = np.where(1 - f_left > 0, 1 - f_left, np.inf)
        # dLambda_r = dF_r / (1 - F_r(t-)): phi = dz / dF_r(u) (own jump and through F_r(t-) of later times).
        later = w * (df1 / one_minus_f**2)[None, :, :]
        after = np.cumsum(later[:, :, ::-1], axis=2)[:, :, ::-1] - later
        phi = w / one_minus_f[None, :, :] + after
        # F_r = sum S_r(u-) dA_1r: psi = dz / dA_r(u) through S_r(t-) of later times.
        jumps = phi * df1[None, :, :]
        after_f = np.cumsum(jumps[:, :, ::-1], axis=2)[:, :, ::-1] - jumps
        denom = np.where(1 - hall > 0, 1 - hall, np.inf)
        psi = after_f / denom[None, :, :]
        a = phi * s_left[None, :, :] - psi
        b = -psi
        y2 = np.where(y > 0, y**2, np.inf)
    v = np.einsum("krj,lrj->kl", a * (d1 / y2)[None], a) + np.einsum("krj,lrj->kl", b * (d2 / y2)[None], b)
    zz, vv = z[:-1], v[:-1, :-1]
    stat = float(zz @ np.linalg.pinv(vv) @ zz)
    dof = k - 1
    comp = int(((c > 0) & (c != event)).sum())
    return {"statistic": stat, "df": dof, "p": float(stats.chi2.sf(stat, dof)), "n": len(d), "events": n_ev,
            "competing": comp, "method": f"Gray's test of equal cumulative incidence (rho = {rho:g})"}  # fmt: skip


def cif_group_test(df: pd.DataFrame, time: str, cause: str, group: str, *, event: int = 1) -> dict:
    """Test of equal cumulative incidence of ``event`` across the levels of ``group``: :func:`gray_test` (rho = 0).

    Parameters
    ----------
    df
        One row per patient.
    time, cause
        Follow-up time and cause (0 censored) columns.
    group
        Grouping column.
    event
        The cause of interest.

    Returns
    -------
    dict
        ``statistic, df, p, n, events, competing, method``.
    """
    return gray_test(df, time, cause, group, event=event)


MULTISTATE_STATES = ("no remission yet", "in remission", "relapsed", "dead")


def _paths(patients: pd.DataFrame) -> list[list[tuple[int, float, float]]]:
    """Per patient: the states visited as (state, entry month, exit month) and whether the last one ends in death."""
    d0 = pd.to_datetime(patients["diagnosis_date"])
    months = {c: (pd.to_datetime(patients[c]) - d0).dt.days / MONTH
              for c in ("response_date", "relapse_date", "last_followup_date")}  # fmt: skip
    dead = (patients["vital_status"] == "dead").to_numpy()
    out = []
    for i in range(len(patients)):
        resp, rel, end = (months[c].iloc[i] for c in ("response_date", "relapse_date", "last_followup_date"))
        steps, t, state = [], 0.0, 0
        for nxt, when in ((1, resp), (2, rel)):
            if pd.notna(when) and when >= t:
                steps.append((state, t, float(when), nxt))
                t, state = float(when), nxt
        steps.append((state, t, float(end), 3 if dead[i] else -1))
        out.append(steps)
    return out


def multistate_transitions(patients: pd.DataFrame) -> pd.DataFrame:
    """Transition counts of diagnosis -> remission (CR/CRh/CRi) -> relapse -> death.

    Parameters
    ----------
    patients
        ``diagnosis_date, response_date`` (responders), ``relapse_date, last_followup_date, vital_status``.

    Returns
    -------
    pandas.DataFrame
        ``from_state, to_state, n, fraction_of_from`` (``censored`` = alive at last follow-up in that state).
    """
    counts: dict[tuple[int, int], int] = {}
    for steps in _paths(patients):
        for state, _, _, nxt in steps:
            counts[(state, nxt)] = counts.get((state, nxt), 0) + 1
    rows = [{"from_state": MULTISTATE_STATES[a], "to_state": "censored" if b < 0 else MULTISTATE_STATES[b], "n": n}
            for (a, b), n in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] % 10))]
    out = pd.DataFrame(rows)
    out["fraction_of_from"] = out["n"] / out.groupby("from_state")["n"].transform("sum")
    return out


def multistate_occupation(patients: pd.DataFrame, *, at: tuple[float, ...] = (3.0, 6.0, 12.0, 24.0)) -> pd.DataFrame:
    """Aalen-Johansen probabilities of being in each state, months from diagnosis (all start in the first state).

    P(0, t) is the product over transition times of (I + dA(t)), dA[h, j] = transitions h -> j at t / patients in h just
    before t. Censoring is assumed independent of the course (as for Kaplan-Meier).

    Parameters
    ----------
    patients
        The integration's patient table (diagnosis, response, relapse and follow-up dates, vital status).
    at
        Months at which the probabilities are reported.

    Returns
    -------
    pandas.DataFrame
        ``month`` then one column per state of :data:`MULTISTATE_STATES` (rows sum to 1), at 0, every transition time
        and the times ``at`` (``at`` rows flagged by ``reported``).
    """
    paths = _paths(patients)
    k = len(MULTISTATE_STATES)
    seg = np.array([(s, a, b, nxt) for steps in paths for s, a, b, nxt in steps], dtype=float)
    times = np.unique(seg[seg[:, 3] >= 0, 2])
    p = np.zeros(k)
    p[0] = 1.0
    rows = [(0.0, *p)]
    for tj in times:
        da = np.zeros((k, k))
        for h in range(k - 1):
            in_h = seg[:, 0] == h
            at_risk = (in_h & (seg[:, 1] < tj) & (seg[:, 2] >= tj)).sum()
            if at_risk == 0:
                continue
            for j in range(k):
                n_hj = (in_h & (seg[:, 2] == tj) & (seg[:, 3] == j)).sum()
                da[h, j] = n_hj / at_risk
            da[h, h] = -da[h].sum()
        p = p @ (np.eye(k) + da)
        rows.append((float(tj), *p))
    curve = pd.DataFrame(rows, columns=["month", *MULTISTATE_STATES])
    rep = []
    for a in at:
        r = curve[curve["month"] <= a].iloc[-1].copy()
        r["month"] = a
        rep.append(r)
    out = pd.concat([curve.assign(reported=False), pd.DataFrame(rep).assign(reported=True)], ignore_index=True)
    return out.sort_values(["month", "reported"], kind="stable").reset_index(drop=True)
