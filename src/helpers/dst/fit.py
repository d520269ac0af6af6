"""Dose-response fitting vectorised over many curves at once: the BeatAML probit model and the 4-parameter logistic.

Curves are held as padded 2-D arrays (one row per curve, one column per point, NaN where a curve has fewer points), so
that every iteration of a fit updates all curves with a few numpy operations. There is no per-curve Python loop: a
cohort of 58,000 curves is fitted in one call.

- :func:`fit_probit`: BeatAML 2.0 (Tyner et al. 2018, Bottomly et al. 2022): a binomial GLM with probit link of
  ``clip(viability / 100, 0, 1)`` on ``log10(conc_uM)``, fitted by iteratively reweighted least squares exactly as R's
  ``glm.fit`` does (same starting values, link clamping, deviance convergence rule), so the published intercepts and
  slopes are reproduced. AUC = 100 x integral of the fitted viability over log10 conc on the tested range (closed
  form); IC50 by BeatAML's rule: the 50 % crossing of the fitted curve where it lies in the tested range, the lowest
  concentration when the fitted viability stays below 50 % over the whole range, the top one when it never falls
  below 50 %.
- :func:`fit_ll4`: the logistic used by FIMM/Breeze for DSS (Yadav et al. 2014) in % inhibition,
  ``f(x) = d + (a - d) / (1 + 10^(b (c - x)))`` with ``x = log10 conc``, bottom ``d`` fixed at 0, slope ``b`` in
  [0.1, 2.5], top ``a`` between the highest observed inhibition (clipped to [0, 100]) and 100, ``c`` (log10 IC50)
  within the tested range: Breeze's bounds. Solved by a batched, bound-projected Levenberg-Marquardt from several
  starts.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from ..numeric import solve_spd_batched
from ..plausibility import raise_first, truncated_low_doses, viability_fraction_problems
from .dss import dss_scores

__all__ = ["pad_curves", "fit_probit", "fit_ll4", "probit_auc", "fit_curves", "ll4_inhibition"]

_EPS = np.finfo(float).eps
_PROBIT_THRESH = -ndtri(_EPS)  # R's probit linkinv clamps eta to +-8.1259


def pad_curves(points: pd.DataFrame, keys: list[str], *, x: str = "conc_uM", y: str = "viability_pct"):
    """Turn a long table of points into padded arrays, one row per curve.

    Parameters
    ----------
    points
        Long table with the ``keys`` columns, concentration ``x`` and response ``y``.
    keys
        Columns that identify a curve (e.g. ``["sample", "drug"]``).

    Returns
    -------
    index : pandas.DataFrame
        The curves' keys, in row order of the arrays.
    conc, resp : numpy.ndarray
        Shape (n_curves, max_points); NaN-padded, points sorted by concentration within each curve.
    """
    df = points[[*keys, x, y]].sort_values([*keys, x], kind="mergesort")
    grp = df.groupby(keys, sort=False, observed=True)
    curve = grp.ngroup().to_numpy()
    pos = grp.cumcount().to_numpy()
    n, k = int(curve.max()) + 1 if len(curve) else 0, int(pos.max()) + 1 if len(pos) else 0
    conc = np.full((n, k), np.nan)
    resp = np.full((n, k), np.nan)
    conc[curve, pos] = df[x].to_numpy(float)
    resp[curve, pos] = df[y].to_numpy(float)
    index = df.drop_duplicates(keys)[keys].reset_index(drop=True)
    return index, conc, resp


def _probit_deviance(y, mu, w):
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(y > 0, y * np.log(y / mu), 0.0)
        t2 = np.where(y < 1, (1 - y) * np.log((1 - y) / (1 - mu)), 0.0)
    return 2 * np.sum(w * (t1 + t2), axis=1)


def probit_auc(intercept, beta, lo, hi):
    """100 x integral of Phi(intercept + beta * x) over x in [lo, hi] (x = log10 conc), vectorised.

    Uses the antiderivative G(u) = u Phi(u) + phi(u) of Phi; a flat curve (|beta| < 1e-9) integrates to Phi(a) (hi - lo).
    """
    a, b = np.asarray(intercept, float), np.asarray(beta, float)
    flat = np.abs(b) < 1e-9
    bs = np.where(flat, 1.0, b)
    u1, u2 = a + bs * lo, a + bs * hi

    def g(u):
        return u * ndtr(u) + np.exp(-0.5 * u * u) / np.sqrt(2 * np.pi)

    area = np.where(flat, ndtr(a) * (hi - lo), (g(u2) - g(u1)) / bs)
    return 100 * area


def fit_probit(conc_uM: np.ndarray, viability_pct: np.ndarray, *, maxit: int = 25, tol: float = 1e-8) -> pd.DataFrame:
    """Fit the BeatAML probit model to many curves at once (R ``glm.fit`` IRLS, vectorised).

    Parameters
    ----------
    conc_uM, viability_pct
        Arrays of shape (n_curves, n_points); NaN marks a missing point.
    maxit, tol
        R's defaults: 25 iterations, relative deviance change below 1e-8.

    Returns
    -------
    pandas.DataFrame
        ``intercept, beta, auc, ic50_uM, min_conc_uM, max_conc_uM, n_points, converged, iterations``.
    """
    conc = np.atleast_2d(np.asarray(conc_uM, float))
    via = np.atleast_2d(np.asarray(viability_pct, float))
    w = (np.isfinite(conc) & np.isfinite(via) & (conc > 0)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(w > 0, np.log10(np.where(w > 0, conc, 1.0)), 0.0)
    y = np.where(w > 0, np.clip(via / 100.0, 0.0, 1.0), 0.5)
    n = len(y)
    # R: mustart = (weights * y + 0.5) / (weights + 1); eta = linkfun(mustart)
    mu = (y + 0.5) / 2
    eta = ndtri(mu)
    dev = _probit_deviance(y, mu, w)
    coef = np.full((n, 2), np.nan)
    active = w.sum(axis=1) >= 2
    converged = np.zeros(n, bool)
    iters = np.zeros(n, int)
    for it in range(1, maxit + 1):
        idx = np.flatnonzero(active & ~converged)
        if not len(idx):
            break
        e, m, yy, ww, xx = eta[idx], mu[idx], y[idx], w[idx], x[idx]
        mu_eta = np.maximum(np.exp(-0.5 * e * e) / np.sqrt(2 * np.pi), _EPS)
        z = e + (yy - m) / mu_eta
        wt = ww * mu_eta**2 / (m * (1 - m))
        # Weighted least squares of z on [1, x], closed form for two parameters.
        s0, s1, s2 = wt.sum(1), (wt * xx).sum(1), (wt * xx * xx).sum(1)
        t0, t1 = (wt * z).sum(1), (wt * xx * z).sum(1)
        det = s0 * s2 - s1 * s1
        with np.errstate(divide="ignore", invalid="ignore"):
            b = (s0 * t1 - s1 * t0) / det
            a = (t0 - b * s1) / s0
        ok = np.isfinite(a) & np.isfinite(b)
        a, b = np.where(ok, a, 0.0), np.where(ok, b, 0.0)
        e_new = np.clip(a[:, None] + b[:, None] * xx, -_PROBIT_THRESH, _PROBIT_THRESH)
        m_new = ndtr(e_new)
        d_new = _probit_deviance(yy, m_new, ww)
        done = np.abs(d_new - dev[idx]) / (np.abs(d_new) + 0.1) < tol
        coef[idx] = np.column_stack([a, b])
        eta[idx], mu[idx], dev[idx] = e_new, m_new, d_new
        iters[idx] = it
        converged[idx] = done & ok
        active[idx[~ok]] = False
    has = w.sum(1) > 0
    lo = np.where(has, np.log10(np.min(np.where(w > 0, conc, np.inf), axis=1)), np.nan)
    hi = np.where(has, np.log10(np.max(np.where(w > 0, conc, 1e-300), axis=1)), np.nan)
    a, b = coef[:, 0], coef[:, 1]
    auc = probit_auc(a, b, lo, hi)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cross = -a / b
    # BeatAML's rule: a crossing outside the range (or a flat or rising curve) is read from which side of 50 % the
    # fitted curve lies on, not from the sign of the slope: a curve killed over the whole range is sensitive.
    in_range = (b != 0) & (cross >= lo) & (cross <= hi)
    below = ndtr(a + b * (lo + hi) / 2) < 0.5
    log_ic50 = np.where(in_range, cross, np.where(below, lo, hi))
    log_ic50 = np.where(np.isfinite(a) & np.isfinite(b), log_ic50, np.nan)
    return pd.DataFrame(
        {
            "intercept": a,
            "beta": b,
            "auc": auc,
            "ic50_uM": 10**log_ic50,
            "min_conc_uM": 10**lo,
            "max_conc_uM": 10**hi,
            "n_points": w.sum(1).astype(int),
            "converged": converged,
            "iterations": iters,
        }
    )


def ll4_inhibition(x: np.ndarray, top, slope, log_ic50, bottom=0.0) -> np.ndarray:
    """% inhibition of the logistic ``bottom + (top - bottom) / (1 + 10^(slope (log_ic50 - x)))``, x = log10 conc."""
    with np.errstate(over="ignore"):
        return bottom + (top - bottom) / (1 + 10.0 ** (slope * (log_ic50 - x)))


def fit_ll4(
    conc_uM: np.ndarray,
    inhibition_pct: np.ndarray,
    *,
    slope_bounds: tuple[float, float] = (0.1, 2.5),
    max_iter: int = 100,
    n_starts: int = 3,
) -> pd.DataFrame:
    """Fit the 4-parameter logistic (bottom fixed at 0) to many curves at once, within Breeze's bounds.

    Parameters
    ----------
    conc_uM, inhibition_pct
        Arrays of shape (n_curves, n_points); NaN marks a missing point.
    slope_bounds
        Hill slope bounds (Breeze: 0.1-2.5).
    max_iter
        Levenberg-Marquardt iterations per start.
    n_starts
        Starting log10 IC50 values spread over the tested range (the best least-squares fit is kept).

    Returns
    -------
    pandas.DataFrame
        ``top, slope, log10_ic50_uM, bottom, ic50_uM, sse, r2, rmse, min_conc_uM, max_conc_uM, n_points``.
    """
    conc = np.atleast_2d(np.asarray(conc_uM, float))
    y = np.atleast_2d(np.asarray(inhibition_pct, float))
    w = (np.isfinite(conc) & np.isfinite(y) & (conc > 0)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(w > 0, np.log10(np.where(w > 0, conc, 1.0)), 0.0)
    y = np.where(w > 0, y, 0.0)
    n = len(y)
    xmin = np.where(w.sum(1) > 0, np.min(np.where(w > 0, x, np.inf), 1), 0.0)
    xmax = np.where(w.sum(1) > 0, np.max(np.where(w > 0, x, -np.inf), 1), 1.0)
    ymax = np.max(np.where(w > 0, y, -np.inf), 1)
    # Breeze bounds the top between the highest observed inhibition and an upper bound that equals it unless the
    # curve bends down at the highest doses; both clipped to [0, 100]. The top is therefore the highest observed
    # inhibition, which keeps a noisy plateau from inflating the DSS.
    top = np.clip(ymax, 0, 100)
    lo = np.column_stack([top, np.full(n, slope_bounds[0]), xmin])
    hi = np.column_stack([top, np.full(n, slope_bounds[1]), xmax])

    free = (hi > lo).astype(float)

    def resid_jac(p, ii):
        a, b, c = p[:, 0:1], p[:, 1:2], p[:, 2:3]
        xi, wi = x[ii], w[ii]
        with np.errstate(over="ignore"):
            e = 10.0 ** np.clip(b * (c - xi), -300, 300)
        g = 1 / (1 + e)
        f = a * g
        r = (y[ii] - f) * wi
        # d f / d a = g; d f / d b = a g^2 e ln10 (x - c); d f / d c = -a g^2 e ln10 b
        dg = a * g * g * e * np.log(10)
        # Parameters pinned by equal bounds (the top) get no Jacobian column, so the others' steps do not assume
        # they move.
        jac = np.stack([g, dg * (xi - c), -dg * b], axis=2) * wi[:, :, None] * free[ii][:, None, :]
        return r, jac

    every = np.arange(n)
    best_p = np.full((n, 3), np.nan)
    best_sse = np.full(n, np.inf)
    for s in range(n_starts):
        frac = (s + 1) / (n_starts + 1)
        p = np.column_stack([np.clip(ymax, lo[:, 0], hi[:, 0]), np.ones(n), xmin + frac * (xmax - xmin)])
        p = np.clip(p, lo, hi)
        lam = np.full(n, 1e-2)
        r, jac = resid_jac(p, every)
        sse = (r * r).sum(1)
        active = w.sum(1) >= 4
        for _ in range(max_iter):
            ii = np.flatnonzero(active)  # converged curves leave the batch
            if not len(ii):
                break
            pi, ji, ri = p[ii], jac[ii], r[ii]
            # Active set: a parameter sitting on a bound that the gradient pushes against is held there, so the
            # step of the others is not computed as if it could move.
            grad = np.einsum("nki,nk->ni", ji, ri)
            held = ((pi <= lo[ii]) & (grad < 0)) | ((pi >= hi[ii]) & (grad > 0))
            ja = ji * ~held[:, None, :]
            jtj = np.einsum("nki,nkj->nij", ja, ja)
            jtr = np.einsum("nki,nk->ni", ja, ri)
            diag = np.einsum("nii->ni", jtj)
            a_mat = jtj + (lam[ii, None] * np.maximum(diag, 1e-9))[:, :, None] * np.eye(3) + 1e-12 * np.eye(3)
            step = solve_spd_batched(a_mat, jtr)  # BLAS-free: the same bits on every CPU kernel
            step = np.where(np.isfinite(step), step, 0.0)
            p_new = np.clip(pi + step, lo[ii], hi[ii])
            r_new, jac_new = resid_jac(p_new, ii)
            sse_new = (r_new * r_new).sum(1)
            better = sse_new < sse[ii]
            gain = (sse[ii] - sse_new) / (sse[ii] + 1e-12)
            up = ii[better]
            p[up], r[up], jac[up], sse[up] = p_new[better], r_new[better], jac_new[better], sse_new[better]
            lam[ii] = np.where(better, lam[ii] / 10, np.minimum(lam[ii] * 4, 1e8))
            active[ii[(better & (gain < 1e-12)) | (lam[ii] >= 1e8)]] = False
        take = sse < best_sse
        best_p[take], best_sse[take] = p[take], sse[take]
    npts = w.sum(1)
    ybar = np.where(npts > 0, (y * w).sum(1) / np.maximum(npts, 1), np.nan)
    sst = (((y - ybar[:, None]) * w) ** 2).sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(sst > 0, 1 - best_sse / sst, np.nan)
        rmse = np.sqrt(best_sse / np.maximum(npts, 1))
    out = pd.DataFrame(
        {
            "top": best_p[:, 0],
            "slope": best_p[:, 1],
            "log10_ic50_uM": best_p[:, 2],
            "bottom": 0.0,
            "ic50_uM": 10 ** best_p[:, 2],
            "sse": best_sse,
            "r2": r2,
            "rmse": rmse,
            "min_conc_uM": 10**xmin,
            "max_conc_uM": 10**xmax,
            "n_points": npts.astype(int),
        }
    )
    out.loc[npts < 4, ["top", "slope", "log10_ic50_uM", "ic50_uM", "sse", "r2", "rmse"]] = np.nan
    return out


def fit_curves(
    points: pd.DataFrame,
    *,
    model: str = "ll4",
    keys: tuple[str, ...] = ("sample", "drug"),
    threshold: float = 10.0,
) -> pd.DataFrame:
    """Fit every curve of a long table of points with one model.

    Parameters
    ----------
    points
        Columns ``keys``, ``conc_uM`` and ``viability_pct`` (replicates are separate rows of the same curve).
    model
        ``"probit"`` (BeatAML) or ``"ll4"`` (4-parameter logistic with DSS1-3).
    keys
        Columns that identify a curve.
    threshold
        DSS activity threshold t in % inhibition (ll4 only).

    Returns
    -------
    pandas.DataFrame
        One row per curve: the keys, ``auc`` (BeatAML AUC of the fitted viability, both models), ``ic50_uM``, the
        model's parameters, ``n_points``; with ll4 also ``dss1, dss2, dss3`` and fit quality (``r2``, ``rmse``) with
        a ``fit_flag`` (``ok``, ``few_points``, ``poor_fit`` for r2 < 0.5 on an active curve;
        ``truncated_low_doses`` when a curve's lowest concentration is ten times above its drug's usual one).

    Raises
    ------
    DataContractError
        Viability given as a fraction (every value within [0, 1.5]) instead of %.
    """
    keys = list(keys)
    raise_first(viability_fraction_problems(points, None))
    index, conc, via = pad_curves(points, keys)
    if model == "probit":
        fit = fit_probit(conc, via)
        fit["fit_flag"] = np.where(fit["n_points"] < 3, "few_points", np.where(fit["converged"], "ok", "not_converged"))
    elif model == "ll4":
        fit = fit_ll4(conc, 100 - via)
        # Breeze: a curve whose top stays below the activity threshold has its IC50 set to the top concentration.
        fit.loc[fit["top"] < threshold, "ic50_uM"] = fit["max_conc_uM"]
        lo, hi = np.log10(fit["min_conc_uM"].to_numpy()), np.log10(fit["max_conc_uM"].to_numpy())
        scores = dss_scores(fit["top"], fit["slope"], fit["log10_ic50_uM"], lo, hi, threshold=threshold)
        fit = pd.concat([fit, scores], axis=1)
        # AUC of the fitted viability on the tested range, in BeatAML units (100 x log10 conc).
        grid = lo[:, None] + (hi - lo)[:, None] * np.linspace(0, 1, 201)[None, :]
        inh = ll4_inhibition(grid, fit["top"].to_numpy()[:, None], fit["slope"].to_numpy()[:, None],
                             fit["log10_ic50_uM"].to_numpy()[:, None])
        fit["auc"] = np.trapezoid(100 - inh, grid, axis=1)
        active = fit["top"] > threshold
        fit["fit_flag"] = np.where(fit["n_points"] < 4, "few_points",
                                   np.where(active & (fit["r2"] < 0.5), "poor_fit", "ok"))
    else:
        raise ValueError(f"model must be 'probit' or 'll4', got {model!r}")
    out = pd.concat([index, fit], axis=1)
    if "drug" in out:
        trunc = truncated_low_doses(out) & (out["fit_flag"] != "few_points")
        if trunc.any():
            warnings.warn(f"{int(trunc.sum())} curve(s) miss their drug's low doses (lowest concentration > 10x the "
                          "usual one): flagged truncated_low_doses", UserWarning, stacklevel=2)
            out.loc[trunc, "fit_flag"] = "truncated_low_doses"
    return out
