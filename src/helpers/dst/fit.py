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
  starts: a compiled per-curve kernel (numba), each curve-start iterated in registers until it finishes.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import numba
import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from ..plausibility import raise_first, truncated_low_doses, viability_fraction_problems
from .dss import dss_scores

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["pad_curves", "fit_probit", "fit_ll4", "probit_auc", "fit_curves", "ll4_inhibition"]

_EPS = np.finfo(float).eps
_PROBIT_THRESH = -ndtri(_EPS)  # R's probit linkinv clamps eta to +-8.1259


def pad_curves(points: pd.DataFrame, keys: list[str], *, x: str = "conc_uM",
               y: str = "viability_pct") -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:  # fmt: skip
    """Turn a long table of points into padded arrays, one row per curve.

    Parameters
    ----------
    points
        Long table with the ``keys`` columns, concentration ``x`` and response ``y``.
    keys
        Columns that identify a curve (e.g. ``["sample", "drug"]``).
    x
        Concentration column (µM for the fits of this module).
    y
        Response column (% viability for the fits of this module).

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


def probit_auc(intercept: ArrayLike, beta: ArrayLike, lo: ArrayLike, hi: ArrayLike) -> np.ndarray:
    """Integrate the probit viability curve: 100 x integral of Phi(intercept + beta x) over x in [lo, hi], vectorised.

    ``x`` is log10 concentration (µM).

    Uses the antiderivative G(u) = u Phi(u) + phi(u) of Phi; a flat curve (|beta| < 1e-9) integrates to Phi(a) (hi - lo).

    Parameters
    ----------
    intercept, beta
        Probit parameters of the viability fraction on log10(conc in µM), scalars or arrays (broadcast).
    lo, hi
        log10 of the lowest and highest tested concentration (µM).

    Returns
    -------
    numpy.ndarray
        The AUC in % x log10(µM) (BeatAML's definition; higher = more viable cells = more resistant).
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
        One row per curve: ``intercept, beta`` (probit of the viability fraction on log10 µM), ``auc`` (% x
        log10 µM, :func:`probit_auc`), ``ic50_uM`` (clamped to the tested range), ``min_conc_uM, max_conc_uM``,
        ``n_points`` (usable points: finite, concentration > 0), ``converged``, ``iterations``.
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


def ll4_inhibition(x: np.ndarray, top: ArrayLike, slope: ArrayLike, log_ic50: ArrayLike,
                   bottom: ArrayLike = 0.0) -> np.ndarray:  # fmt: skip
    """Evaluate the logistic ``bottom + (top - bottom) / (1 + 10^(slope (log_ic50 - x)))`` in % inhibition.

    ``x`` is log10 concentration (µM).

    Parameters
    ----------
    x
        log10 concentrations (µM).
    top, slope, log_ic50, bottom
        The curve's plateau (% inhibition), Hill slope, log10 IC50 (µM) and lower asymptote (%), broadcast with ``x``.

    Returns
    -------
    numpy.ndarray
        % inhibition at each ``x`` (the broadcast shape of the arguments).
    """
    with np.errstate(over="ignore"):
        return bottom + (top - bottom) / (1 + 10.0 ** (slope * (log_ic50 - x)))


_LN10 = float(np.log(10.0))
_LL4_BLOCK = 4096  # curve-starts iterated together: arrays of 7 x 4096 values stay in cache
_LL4_GAIN = 1e-12


def _colsum(a: np.ndarray) -> np.ndarray:
    """Sum over the first axis (the points of each curve) as a fixed sequence of vector additions.

    Why not ``a.sum(0)`` or a matrix product: numpy's pairwise blocking and BLAS kernels change the summation order
    with the array layout and the CPU; a fixed order gives the same bits on every machine.
    """
    s = a[0].copy()
    for row in a[1:]:
        s += row
    return s


class _LL4Block:
    """State of a block of curve-starts: data as (points, curves), parameters, damping and the normal equations."""

    per_curve = ("top", "clo", "chi", "fc", "rows", "b", "c", "lam", "it", "live")

    def __init__(self, x, w, y, top, clo, chi, b, c, rows):
        self.x, self.w, self.y = x, w, y
        self.lnw = _LN10 * w
        self.top, self.clo, self.chi = top, clo, chi
        self.fc = (chi > clo).astype(float)  # log IC50 pinned where every point has the same concentration
        self.rows = rows
        self.b, self.c = b, c
        self.lam = np.full(len(rows), 1e-2)
        self.it = np.zeros(len(rows), np.int64)
        self.live = np.ones(len(rows), bool)
        self.sums = self.evaluate(b, c)

    def evaluate(self, b, c):
        """SSE and the sums that make up J'J and J'r at (b, c), the top fixed.

        With f = a g, g = 1 / (1 + 10^(b (c - x))), e = 10^(b (c - x)) and h = a g (1 - g) ln10 (w the point's
        weight): df/db = -h (c - x) and df/dc = -h b, so J'r and J'J need only five sums over the points; the
        Jacobian itself is never formed.
        """
        d = c - self.x
        t = d * b[None, :]
        np.clip(t, -300, 300, out=t)
        t *= _LN10
        np.exp(t, out=t)  # e
        t += 1
        g = np.reciprocal(t, out=t)
        f = g * self.top
        r = self.y - f
        r *= self.w
        h = np.subtract(1, g, out=g)
        h *= f
        h *= self.lnw  # h = f (1 - g) ln10 w
        hr = h * r
        s_hr = _colsum(hr)
        hr *= d
        s_hrd = _colsum(hr)
        r *= r
        h *= h
        s_h2 = _colsum(h)
        h *= d
        s_h2d = _colsum(h)
        h *= d
        return _colsum(r), s_hr, s_hrd, s_h2, s_h2d, _colsum(h)

    def take(self, keep):
        for name in _LL4Block.per_curve:
            setattr(self, name, getattr(self, name)[keep])
        self.x, self.w, self.y, self.lnw = self.x[:, keep], self.w[:, keep], self.y[:, keep], self.lnw[:, keep]
        self.sums = tuple(v[keep] for v in self.sums)

    def extend(self, other):
        for name in _LL4Block.per_curve:
            setattr(self, name, np.concatenate([getattr(self, name), getattr(other, name)]))
        self.x, self.w, self.y, self.lnw = (np.concatenate([getattr(self, k), getattr(other, k)], axis=1)
                                            for k in ("x", "w", "y", "lnw"))
        self.sums = tuple(np.concatenate([u, v]) for u, v in zip(self.sums, other.sums, strict=True))


def _ll4_step(blk: _LL4Block, blo: float, bhi: float, max_iter: int) -> None:
    """One bound-projected Levenberg-Marquardt iteration of the live curves of ``blk`` (the others stay as they are)."""
    b, c, fc = blk.b, blk.c, blk.fc
    sse, s_hr, s_hrd, s_h2, s_h2d, s_h2dd = blk.sums
    gb, gc = -s_hrd, -b * fc * s_hr  # J'r
    # Active set: a parameter sitting on a bound that the gradient pushes against is held there, so the step of the
    # other is not computed as if it could move.
    kb = ~(((b <= blo) & (gb < 0)) | ((b >= bhi) & (gb > 0)))
    kc = ~(((c <= blk.clo) & (gc < 0)) | ((c >= blk.chi) & (gc > 0)))
    jbb = s_h2dd * kb
    jcc = (b * b * fc * s_h2) * kc
    jbc = (b * fc * s_h2d) * (kb & kc)
    rb, rc = gb * kb, gc * kc
    lam = blk.lam
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        a11 = jbb + lam * np.maximum(jbb, 1e-9) + 1e-12
        a22 = jcc + lam * np.maximum(jcc, 1e-9) + 1e-12
        # The damped 2 x 2 normal equations, eliminated in a fixed order.
        q = jbc / a11
        sc = (rc - q * rb) / (a22 - q * jbc)
        sb = (rb - jbc * sc) / a11
    sb = np.where(np.isfinite(sb), sb, 0.0)
    sc = np.where(np.isfinite(sc), sc, 0.0)
    b_new = np.clip(b + sb, blo, bhi)
    c_new = np.clip(c + sc, blk.clo, blk.chi)
    new = blk.evaluate(b_new, c_new)
    live = blk.live
    better = (new[0] < sse) & live
    gain = (sse - new[0]) / (sse + 1e-12)
    blk.b, blk.c = np.where(better, b_new, b), np.where(better, c_new, c)
    blk.sums = tuple(np.where(better, u, v) for u, v in zip(new, blk.sums, strict=True))
    # Finished curves are frozen (never ``better``); their damping and count no longer matter.
    blk.lam = np.where(better, lam / 10, np.minimum(lam * 4, 1e8))
    blk.it += 1
    blk.live = live & ~((better & (gain < _LL4_GAIN)) | (blk.lam >= 1e8) | (blk.it >= max_iter))


def _ll4_blocks(x, w, y, npts, top, xmin, xmax, blo, bhi, max_iter, n_starts):
    """Best (slope, log10 IC50) and SSE of every curve by the vectorised block iteration (the kernel's reference)."""
    n = len(y)
    # Row j of the work list is curve fit_me[j % m] from start j // m.
    fit_me = np.flatnonzero(npts >= 4)
    m = len(fit_me)
    total = m * n_starts
    xt, wt, yt = x[fit_me].T, w[fit_me].T, y[fit_me].T
    xlo, xhi, topf = xmin[fit_me], xmax[fit_me], top[fit_me]

    def make(lo_row: int, hi_row: int) -> _LL4Block:
        rows = np.arange(lo_row, hi_row)
        cur, start = rows % m, rows // m
        frac = (start + 1) / (n_starts + 1)
        lo, hi = xlo[cur], xhi[cur]
        b0 = np.clip(np.ones(len(rows)), blo, bhi)
        c0 = np.clip(lo + frac * (hi - lo), lo, hi)
        return _LL4Block(xt[:, cur], wt[:, cur], yt[:, cur], topf[cur], lo, hi, b0, c0, rows)

    res_b, res_c, res_sse = np.full(total, np.nan), np.full(total, np.nan), np.full(total, np.nan)
    nxt = min(_LL4_BLOCK, total)
    blk = make(0, nxt) if total else None
    while blk is not None and len(blk.rows):
        _ll4_step(blk, blo, bhi, max_iter)
        done = ~blk.live
        n_done = int(done.sum())
        # Finished curves leave the block (and new ones enter) once a quarter of it has finished.
        if n_done >= max(1, len(done) // 4):
            res_b[blk.rows[done]], res_c[blk.rows[done]], res_sse[blk.rows[done]] = (
                blk.b[done], blk.c[done], blk.sums[0][done])
            blk.take(~done)
            if nxt < total:  # refill the block with curve-starts not yet begun
                more = min(total, nxt + _LL4_BLOCK - len(blk.rows))
                blk.extend(make(nxt, more))
                nxt = more
    best_p = np.full((n, 2), np.nan)
    best_sse = np.full(n, np.inf)
    for s in range(n_starts):
        ss = np.full(n, np.inf)
        part = slice(s * m, (s + 1) * m)
        ss[fit_me] = res_sse[part]
        take = ss < best_sse
        p = np.full((n, 2), np.nan)
        p[fit_me] = np.column_stack([res_b[part], res_c[part]])
        best_p[take], best_sse[take] = p[take], ss[take]
    return best_p, best_sse


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _ll4_eval(x, w, y, lnw, npt, top, b, c, out):  # pragma: no cover - compiled
    sse = s_hr = s_hrd = s_h2 = s_h2d = s_h2dd = 0.0
    for j in range(npt):
        d = c - x[j]
        t = d * b
        t = min(max(t, -300.0), 300.0) * _LN10
        g = 1.0 / (math.exp(t) + 1.0)
        f = g * top
        r = (y[j] - f) * w[j]
        h = ((1.0 - g) * f) * lnw[j]
        hr = h * r
        s_hr += hr
        s_hrd += hr * d
        sse += r * r
        h2 = h * h
        s_h2 += h2
        h2d = h2 * d
        s_h2d += h2d
        s_h2dd += h2d * d
    out[0], out[1], out[2], out[3], out[4], out[5] = sse, s_hr, s_hrd, s_h2, s_h2d, s_h2dd


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _ll4_kernel(x, w, y, npts, top, xlo, xhi, blo, bhi, max_iter, n_starts, res):  # pragma: no cover - compiled
    """Fit every curve from every start; ``res[i]`` = best (slope, log10 IC50, SSE, status, iterations) of curve i.

    Status: 1 the relative SSE gain of an accepted step fell below 1e-12, 2 no damping found a better point (a
    stationary point to working precision), 0 the iteration limit was reached first.
    """
    n, k = x.shape
    xs, ws, ys, lnw = np.empty(k), np.empty(k), np.empty(k), np.empty(k)
    cur, new = np.empty(6), np.empty(6)
    for i in range(n):
        npt = 0
        for j in range(k):  # the curve's points with a weight; padding adds nothing to the sums
            if w[i, j] > 0:
                xs[npt], ws[npt], ys[npt], lnw[npt] = x[i, j], w[i, j], y[i, j], _LN10 * w[i, j]
                npt += 1
        res[i, 2] = np.inf
        if npts[i] < 4:
            continue
        lo, hi, a = xlo[i], xhi[i], top[i]
        fc = 1.0 if hi > lo else 0.0
        for s in range(n_starts):
            frac = (s + 1) / (n_starts + 1)
            b = min(max(1.0, blo), bhi)
            c = min(max(lo + frac * (hi - lo), lo), hi)
            lam = 1e-2
            _ll4_eval(xs, ws, ys, lnw, npt, a, b, c, cur)
            status, it = 0, 0
            while True:
                sse, s_hr, s_hrd, s_h2, s_h2d, s_h2dd = cur[0], cur[1], cur[2], cur[3], cur[4], cur[5]
                gb, gc = -s_hrd, -b * fc * s_hr
                kb = not (((b <= blo) and (gb < 0)) or ((b >= bhi) and (gb > 0)))
                kc = not (((c <= lo) and (gc < 0)) or ((c >= hi) and (gc > 0)))
                jbb = s_h2dd if kb else 0.0
                jcc = (b * b * fc * s_h2) if kc else 0.0
                jbc = (b * fc * s_h2d) if (kb and kc) else 0.0
                rb = gb if kb else 0.0
                rc = gc if kc else 0.0
                lam0 = lam
                a11 = jbb + lam * max(jbb, 1e-9) + 1e-12
                a22 = jcc + lam * max(jcc, 1e-9) + 1e-12
                q = jbc / a11
                sc = (rc - q * rb) / (a22 - q * jbc)
                sb = (rb - jbc * sc) / a11
                if not np.isfinite(sb):
                    sb = 0.0
                if not np.isfinite(sc):
                    sc = 0.0
                b_new = min(max(b + sb, blo), bhi)
                c_new = min(max(c + sc, lo), hi)
                _ll4_eval(xs, ws, ys, lnw, npt, a, b_new, c_new, new)
                better = new[0] < sse
                gain = (sse - new[0]) / (sse + 1e-12)
                if better:
                    b, c = b_new, c_new
                    cur[:] = new
                    lam = lam / 10
                else:
                    lam = min(lam * 4, 1e8)
                    # A rejected step whose predicted SSE decrease (2 h'g - h'J'Jh of the damped model) is below the
                    # gain tolerance ends the fit: only ever smaller steps would follow, to the damping's limit.
                    pred = sb * rb + sc * rc + lam0 * (max(jbb, 1e-9) * sb * sb + max(jcc, 1e-9) * sc * sc)
                    if pred < _LL4_GAIN * (sse + 1e-12):
                        status = 2
                        it += 1
                        break
                it += 1
                if better and gain < _LL4_GAIN:
                    status = 1
                    break
                if lam >= 1e8:
                    status = 2
                    break
                if it >= max_iter:
                    break
            if cur[0] < res[i, 2]:
                res[i, 0], res[i, 1], res[i, 2], res[i, 3], res[i, 4] = b, c, cur[0], status, it


def fit_ll4(
    conc_uM: np.ndarray,
    inhibition_pct: np.ndarray,
    *,
    slope_bounds: tuple[float, float] = (0.1, 2.5),
    max_iter: int = 100,
    n_starts: int = 3,
) -> pd.DataFrame:
    """Fit the 4-parameter logistic (bottom fixed at 0) to many curves at once, within Breeze's bounds.

    The top is pinned by Breeze's bounds (see below), so each fit has two free parameters (slope, log10 IC50); their
    damped normal equations are solved in closed form. Each curve-start is iterated by a compiled kernel until it
    finishes (numba: the numpy blocks spent most of their time writing and reading temporaries of a few thousand
    values per operation), and every curve's arithmetic is its own and done in a fixed order, without BLAS: the same
    bits whatever the number of curves, thread count or BLAS kernel.

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
        One row per curve: ``top`` (% inhibition), ``slope``, ``log10_ic50_uM``, ``bottom`` (0), ``ic50_uM``,
        ``sse``, ``r2``, ``rmse`` (% inhibition), ``min_conc_uM, max_conc_uM``, ``n_points``; the fit columns are
        NaN for curves with fewer than 4 usable points.
    """
    return _fit_ll4(conc_uM, inhibition_pct, slope_bounds=slope_bounds, max_iter=max_iter, n_starts=n_starts)[0]


def _fit_ll4(conc_uM, inhibition_pct, *, slope_bounds=(0.1, 2.5), max_iter=100, n_starts=3, engine="kernel"):
    """:func:`fit_ll4` with the per-curve status and iterations of the best start (-1 with ``engine="blocks"``).

    ``engine="blocks"``: the earlier vectorised numpy iteration (same algorithm), kept as the reference the kernel is
    checked against (tests, ``benchmarks/bench_dst.py``).
    """
    conc = np.atleast_2d(np.asarray(conc_uM, float))
    y = np.atleast_2d(np.asarray(inhibition_pct, float))
    w = (np.isfinite(conc) & np.isfinite(y) & (conc > 0)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(w > 0, np.log10(np.where(w > 0, conc, 1.0)), 0.0)
    y = np.where(w > 0, y, 0.0)
    n = len(y)
    npts = w.sum(1)
    xmin = np.where(npts > 0, np.min(np.where(w > 0, x, np.inf), 1), 0.0)
    xmax = np.where(npts > 0, np.max(np.where(w > 0, x, -np.inf), 1), 1.0)
    ymax = np.max(np.where(w > 0, y, -np.inf), 1)
    # Breeze bounds the top between the highest observed inhibition and an upper bound that equals it unless the
    # curve bends down at the highest doses; both clipped to [0, 100]. The top is therefore the highest observed
    # inhibition, which keeps a noisy plateau from inflating the DSS.
    top = np.clip(ymax, 0, 100)
    blo, bhi = float(slope_bounds[0]), float(slope_bounds[1])
    best_p = np.full((n, 3), np.nan)
    best_p[:, 0] = top
    best_sse = np.full(n, np.inf)
    if engine == "kernel":
        res = np.zeros((n, 5))
        _ll4_kernel(x, w, y, npts, top, xmin, xmax, blo, bhi, int(max_iter), int(n_starts), res)
        best_p[:, 1], best_p[:, 2], best_sse = res[:, 0], res[:, 1], res[:, 2]
        status, iters = res[:, 3].astype(np.int64), res[:, 4].astype(np.int64)
    else:
        best_p[:, 1:], best_sse = _ll4_blocks(x, w, y, npts, top, xmin, xmax, blo, bhi, max_iter, n_starts)
        status, iters = np.full(n, -1), np.full(n, -1)
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
    return out, status, iters


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
    ValueError
        ``model`` is neither ``probit`` nor ``ll4``.
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
