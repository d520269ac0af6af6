"""R drc's 4-parameter log-logistic fit, step for step, to reproduce results published with drc-based tools.

Why by hand: published SynergyFinder scores (the R package's ZIP, SynergyFinder 2's Loewe) depend on where R's
``drc::drm(..., fct = LL.4())`` stops, and on its fallbacks, not only on the least-squares optimum. On shallow curves drc's default optimiser (``optim(method = "BFGS")`` with a
numerical gradient, relative tolerance 1e-7) stops well short of the optimum (the NVP-LGK974 example: b -0.4164,
e 46,832, SSE 60.2 against b -0.319, e 149,388, SSE 22.7 at the optimum), and the published scores follow drc's
parameters. No Python library reproduces R's ``optim`` BFGS, so it is written here from its published description:
the variable-metric method of Nash (1990, *Compact Numerical Methods for Computers*, 2nd ed., Algorithm 21) with
R's defaults (backtracking factor 0.2, acceptance 1e-4, parameters divided by ``parscale`` and central-difference
gradients with step 1e-3 on that scale; R documentation ``?optim``). The drc steps (drc 3.0, Ritz et al. 2015,
PLoS One 10:e0146021):

- dose and response are divided by ``10^floor(log10(median))`` of each (1 when that is not a positive number);
- start values: bottom and top at the response range widened by 0.1 % of it on each side, slope and ED50 from a
  linear regression of ``log((d - y) / (y - c))`` on ``log(dose)`` over positive doses; fixed parameters are
  simply not optimised;
- ``parscale`` = |start| (values below 1e-4 set to 1); at most 500 iterations.

SynergyFinder (R package, all versions in the public record) fits every curve with ``LL.4`` and, whenever R signals a
warning or an error during that fit, refits with ``L.4`` (the same curve family, logistic in log dose, different start
values and optimiser path): :func:`fit_dose_response_synergyfinder`. R signals a warning when the optimiser tries a
negative ED50 (``log`` of a negative number), which :func:`drm_ll4` reports as :class:`DrcWarning`.

This is a compatibility path, one curve at a time: cohort-scale fitting uses the vectorised fits of
:mod:`helpers.dst.fit` and :func:`helpers.dst.synergy.fit_drc_ll4`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["DrcFitError", "DrcWarning", "drm_l4", "drm_ll4", "fit_dose_response_synergyfinder", "optim_bfgs"]

ZERO_DOSE = 1e-10  # SynergyFinder's stand-in for a zero concentration on the log scale


class DrcFitError(RuntimeError):
    """The optimiser could not start or its numerical gradient was not finite (drc's "Convergence failed")."""


class DrcWarning(DrcFitError):
    """R would signal a warning here ("NaNs produced": the optimiser tried a negative ED50)."""


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Left-to-right sum of products.

    Why not ``a @ b``: numpy hands dot products to BLAS, whose kernels (Haswell, SkylakeX, ...) sum in different
    orders and with or without fused multiply-add; the last bits then differ between machines and, through the
    line search's acceptance test, so does the optimiser's path (R's example: 118 function evaluations under one
    kernel, 119 under another). A fixed order makes the path the same on every machine.
    """
    total = 0.0
    for u, v in zip(a.tolist(), b.tolist(), strict=True):
        total += u * v
    return total


def _matvec(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``m @ v`` in a fixed summation order (see :func:`_dot`)."""
    return np.array([_dot(row, v) for row in m])


def _bfgs_update(hinv: np.ndarray, t: np.ndarray, hy: np.ndarray, d2: float, d1: float) -> np.ndarray:
    """Rank-two update of the inverse Hessian, element by element as Nash's Algorithm 21 writes it.

    The lower triangle is computed as ``(d2 t_i t_j - hy_i t_j - t_i hy_j) / d1`` (left to right) and mirrored, so
    the matrix stays exactly symmetric and every machine rounds the same way (see :func:`_dot`).
    """
    n = len(t)
    tl, hl, out = t.tolist(), hy.tolist(), hinv.tolist()
    for i in range(n):
        for j in range(i + 1):
            out[i][j] += (d2 * tl[i] * tl[j] - hl[i] * tl[j] - tl[i] * hl[j]) / d1
            out[j][i] = out[i][j]
    return np.array(out)


def optim_bfgs(fn: Callable[[np.ndarray], float], par: np.ndarray, *, maxit: int = 500, reltol: float = 1e-7,
               parscale: np.ndarray | None = None, ndeps: float = 1e-3) -> tuple[np.ndarray, float, tuple[int, int]]:
    """Minimise ``fn`` as R's ``optim(par, fn, method = "BFGS")`` does without an analytic gradient.

    Parameters
    ----------
    fn
        Objective of a parameter vector.
    par
        Start values.
    maxit, reltol, parscale, ndeps
        As R's ``control`` list (defaults 100 there; drc passes 500 and 1e-7).

    Returns
    -------
    tuple
        Parameters, objective value and the (function, gradient) evaluation counts R reports.

    Raises
    ------
    DrcFitError
        The objective or its finite-difference gradient is not finite at the start (R's "initial value in 'vmmin'
        is not finite") or along the way.
    """
    par = np.asarray(par, float)
    ps = np.ones_like(par) if parscale is None else np.asarray(parscale, float)

    def f(p):
        return float(fn(p * ps))

    def grad(p):
        g = np.empty(len(p))
        for i in range(len(p)):
            up, down = p.copy(), p.copy()
            up[i] += ndeps
            down[i] -= ndeps
            g[i] = (f(up) - f(down)) / (2 * ndeps)
        if not np.all(np.isfinite(g)):
            raise DrcFitError("non-finite finite-difference value")
        return g

    stepredn, acctol, reltest = 0.2, 1e-4, 10.0
    n = len(par)
    b = par / ps
    fmin = fval = f(b)
    if not np.isfinite(fmin):
        raise DrcFitError("initial value in 'vmmin' is not finite")
    g = grad(b)
    funcount = gradcount = iteration = 1
    ilast = gradcount
    hinv = np.eye(n)
    while True:
        if ilast == gradcount:
            hinv = np.eye(n)  # (re)start from steepest descent
        x, c = b.copy(), g.copy()
        t = -_matvec(hinv, g)
        gradproj = _dot(t, g)
        if gradproj < 0:  # downhill: backtracking line search
            steplength, accpoint = 1.0, False
            while True:
                b = x + steplength * t
                count = int(np.sum(reltest + x == reltest + b))  # coordinates that no longer move
                if count < n:
                    fval = f(b)
                    funcount += 1
                    accpoint = np.isfinite(fval) and fval <= fmin + gradproj * steplength * acctol
                    if not accpoint:
                        steplength *= stepredn
                if count == n or accpoint:
                    break
            # As in R, the test uses the last evaluated value, accepted or not (NaN counts as no change).
            if not (fval > -np.inf and abs(fval - fmin) > reltol * (abs(fmin) + reltol)):
                count, fmin = n, fval  # relative change too small: converged
            if count < n:
                fmin = fval
                g = grad(b)
                gradcount += 1
                iteration += 1
                t = t * steplength
                y = g - c
                d1 = _dot(t, y)
                if d1 > 0:  # BFGS update of the inverse Hessian
                    hy = _matvec(hinv, y)
                    d2 = 1 + _dot(hy, y) / d1
                    hinv = _bfgs_update(hinv, t, hy, d2, d1)
                else:
                    ilast = gradcount
            elif ilast < gradcount:  # no progress: restart unless just restarted
                count, ilast = 0, gradcount
        else:  # uphill direction: restart unless just restarted
            count = 0
            if ilast == gradcount:
                count = n
            else:
                ilast = gradcount
        if iteration >= maxit:
            break
        if gradcount - ilast > 2 * n:
            ilast = gradcount  # periodic restart
        if count == n and ilast == gradcount:
            break
    return b * ps, fmin, (funcount, gradcount)


def _drc_optimise(sse, start, fixed, free):
    """Call optim as drc does (parscale |start|, tiny values 1): all four parameters (fixed filled in) and the SSE."""
    parscale = np.abs(start)
    parscale[parscale < 1e-4] = 1.0
    p, value, _ = optim_bfgs(sse, start, parscale=parscale)
    q = fixed.copy()
    q[free] = p
    return q, value


def _drc_scale(v: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        s = 10.0 ** np.floor(np.log10(np.median(v)))
    return float(s) if np.isfinite(s) and s >= 1e-10 else 1.0


def drm_ll4(dose: ArrayLike, response: ArrayLike, *, bottom: float | None = None,
            top: float | None = None) -> dict[str, float]:  # fmt: skip
    """Fit one curve as ``drc::drm(response ~ dose, fct = LL.4(fixed = c(NA, bottom, top, NA)))`` does.

    Model: c + (d - c) / (1 + exp(b (ln x - ln e))). Missing responses are dropped (``na.omit``).

    Parameters
    ----------
    dose, response
        One curve, one value per point (any one dose unit; ``e`` comes back in it); doses > 0 enter the start-value
        regression, a zero dose is fitted as the asymptote.
    bottom, top
        Fixed c and d (in the response's unit); None = estimated.

    Returns
    -------
    dict
        ``b`` (slope), ``c`` (lower asymptote), ``d`` (upper asymptote), ``e`` (ED50, dose unit) and ``sse``
        (residual sum of squares, response unit squared).

    Raises
    ------
    DrcFitError
        Fewer than two positive doses with a response, or where drc reports "Convergence failed" (non-finite start
        or gradient).
    DrcWarning
        Where R signals a warning during the fit (the optimiser tried a negative ED50).
    """
    dose, response = np.asarray(dose, float), np.asarray(response, float)
    keep = np.isfinite(dose) & np.isfinite(response)
    dose, response = dose[keep], response[keep]
    if len(dose) < 2 or (dose > 0).sum() < 2:
        raise DrcFitError("fewer than two positive doses with a response")
    fixed = np.array([np.nan, np.nan if bottom is None else bottom, np.nan if top is None else top, np.nan])
    free = np.isnan(fixed)
    dose_scale, resp_scale = _drc_scale(dose), _drc_scale(response)
    x, y = dose / dose_scale, response / resp_scale
    widen = 0.001 * (y.max() - y.min())
    c0, d0 = y.min() - widen, y.max() + widen
    pos = x > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        logit = np.log((d0 - y[pos]) / (y[pos] - c0))
    design = np.column_stack([np.ones(pos.sum()), np.log(x[pos])])
    (intercept, slope), *_ = np.linalg.lstsq(design, logit, rcond=None)
    start = np.array([slope, c0, d0, np.exp(-intercept / slope)])[free]
    scale = np.array([1.0, resp_scale, resp_scale, dose_scale])
    fixed_scaled = fixed / scale

    def sse(p):
        q = fixed_scaled.copy()
        q[free] = p
        if q[3] < 0 and (x > 0).any():
            raise DrcWarning("NaNs produced: the optimiser tried a negative ED50")
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            f = q[1] + (q[2] - q[1]) / (1 + np.exp(q[0] * np.log(x / q[3])))
        return np.sum((y - f) ** 2)

    q, value = _drc_optimise(sse, start, fixed_scaled, free)
    b, c, d, e = q * scale
    return {"b": float(b), "c": float(c), "d": float(d), "e": float(e), "sse": float(value * resp_scale**2)}


def drm_l4(log_dose: ArrayLike, response: ArrayLike, *, bottom: float | None = None,
           top: float | None = None) -> dict[str, float]:  # fmt: skip
    """Fit one curve as ``drc::drm(response ~ log(dose), fct = L.4(fixed = c(NA, bottom, top, NA)))`` does.

    Model: c + (d - c) / (1 + exp(b (x - e))) in x = log dose; drc scales neither axis for L.4, and its start values
    come from the same response range and a logit regression on x over all points.

    Parameters
    ----------
    log_dose
        Natural log of the doses.
    response
        Response at each dose (non-finite pairs are left out).
    bottom, top
        Fixed lower (``c``) and upper (``d``) asymptote; None = estimated.

    Returns
    -------
    dict
        ``b, c, d, e, sse``, with ``e`` on the log-dose scale.

    Raises
    ------
    DrcFitError
        Fewer than two distinct doses with a response, or a non-finite start or gradient.
    """
    x, y = np.asarray(log_dose, float), np.asarray(response, float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(np.unique(x)) < 2:
        raise DrcFitError("fewer than two distinct doses with a response")
    fixed = np.array([np.nan, np.nan if bottom is None else bottom, np.nan if top is None else top, np.nan])
    free = np.isnan(fixed)
    widen = 0.001 * (y.max() - y.min())
    c0, d0 = y.min() - widen, y.max() + widen
    with np.errstate(divide="ignore", invalid="ignore"):
        logit = np.log((d0 - y) / (y - c0))
    (intercept, slope), *_ = np.linalg.lstsq(np.column_stack([np.ones(len(x)), x]), logit, rcond=None)
    start = np.array([slope, c0, d0, -intercept / slope])[free]

    def sse(p):
        q = fixed.copy()
        q[free] = p
        with np.errstate(over="ignore", invalid="ignore"):
            f = q[1] + (q[2] - q[1]) / (1 + np.exp(q[0] * (x - q[3])))
        return np.sum((y - f) ** 2)

    q, value = _drc_optimise(sse, start, fixed, free)
    return {"b": float(q[0]), "c": float(q[1]), "d": float(q[2]), "e": float(q[3]), "sse": float(value)}


def fit_dose_response_synergyfinder(dose: ArrayLike, response: ArrayLike, *, bottom: float | None = None,
                                    top: float | None = None) -> dict[str, float | str]:
    """Fit one curve as SynergyFinder's ``FitDoseResponse`` does: LL.4, or L.4 in log dose where R warns or fails.

    Zero doses become 1e-10; a constant response gets 1e-10 added to its last value (as SynergyFinder does).

    Parameters
    ----------
    dose
        Doses (any one unit; 0 allowed).
    response
        Response at each dose (% inhibition).
    bottom, top
        Fixed lower and upper asymptote; None = estimated.

    Returns
    -------
    dict
        LL.4 parameters ``b, c, d, e`` of the curve (an L.4 fit converted: ED50 = exp(e)), ``sse`` and ``model``
        (``"LL.4"`` or ``"L.4"``).

    Raises
    ------
    DrcFitError
        Where both fits fail (SynergyFinder then keeps the observed responses).
    """
    dose = np.asarray(dose, float)
    dose = np.where(dose == 0, ZERO_DOSE, dose)
    response = np.array(response, float)
    ok = np.isfinite(response)
    if ok.sum() > 1 and np.var(response[ok]) == 0:
        response[np.flatnonzero(ok)[-1]] += 1e-10
    try:
        return {**drm_ll4(dose, response, bottom=bottom, top=top), "model": "LL.4"}
    except DrcFitError:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            fit = drm_l4(np.log(dose), response, bottom=bottom, top=top)
            return {**fit, "e": float(np.exp(fit["e"])), "model": "L.4"}
