"""Synergy of two-drug dose matrices: Bliss, HSA, Loewe and ZIP per cell and per block (SynergyFinder conventions).

A block is a matrix of % inhibition with the row drug's concentrations on rows and the column drug's on columns, the
first row and column at zero concentration (the monotherapies). Scores are observed minus expected, in % inhibition
(positive = synergy); cells with a zero concentration score 0.

- HSA: expected = max(y1, y2). Bliss: expected = y1 + y2 - y1 y2 / 100 (observed monotherapies).
- Loewe: expected y solves x1 / X1(y) + x2 / X2(y) = 1 with X_i the inverse of the monotherapy's 4-parameter
  log-logistic fit; where no solution exists, the larger of the two monotherapy curves at x1 + x2; capped at 100.
- ZIP (Yadav et al. 2015): expected = y1 + y2 - y1 y2 / 100 with y_i the fitted monotherapies; observed = average of
  the two fitted surfaces obtained by refitting each row (and each column) of the matrix as a log-logistic curve whose
  bottom is fixed at the other drug's fitted effect and top at 100.

Monotherapies are fitted with the 4-parameter log-logistic of R's drc (``LL.4``: c + (d - c) / (1 + exp(b (ln x -
ln e)))), zero concentrations entering as 1e-10 as SynergyFinder 3 does. All fits of a block, and of many blocks,
run together in one vectorised Levenberg-Marquardt (no per-curve loop); ``fit_engine="drc"`` instead fits each curve
as the R package does (R drc and its fallbacks), for scores identical to R SynergyFinder at 2-4 times the cost. Block
p-values for the mean use exp(-0.717 z - 0.416 z^2) (SynergyFinder 3 documentation).

``monotherapy_fit="synergyfinder2"`` reproduces the Loewe scores of SynergyFinder 2 (Ianevski et al. 2020, Nucleic
Acids Res 48:W488), which fitted each monotherapy on its nonzero concentrations only, with the top fixed at 100 and
the bottom at min(0, lowest observed monotherapy response), with R drc's optimiser (:mod:`helpers.dst.drc`); ZIP
always follows SynergyFinder 3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..numeric import solve_spd_batched
from ..plausibility import raise_first, synergy_problems
from .drc import DrcFitError, drm_ll4, fit_dose_response_synergyfinder

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["fit_drc_ll4", "drc_ll4", "synergy_scores", "block_synergy", "synergy_table"]

ZERO_DOSE = 1e-10
# |slope| bound of the batched LL.4 fits (per unit of ln dose): a steeper curve is a step between two tested doses, whose
# slope and ED50 the data cannot tell apart; unbounded, the optimiser stops anywhere along that flat valley.
MAX_SLOPE = 10.0
MONOTHERAPY_FITS = ("synergyfinder3", "synergyfinder2")
FIT_ENGINES = ("least_squares", "drc")


def drc_ll4(x: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike, e: ArrayLike) -> np.ndarray:
    """Evaluate drc's LL.4 at concentration x (> 0): c + (d - c) / (1 + exp(b (ln x - ln e))).

    Parameters
    ----------
    x
        Concentrations (> 0).
    b, c, d, e
        drc's slope, lower and upper asymptote, and ED50 (in the unit of ``x``), broadcast with ``x``.

    Returns
    -------
    numpy.ndarray
        The response at each ``x`` (unit of ``c`` and ``d``, % inhibition here), the broadcast shape.
    """
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        return c + (d - c) / (1 + np.exp(b * (np.log(x) - np.log(e))))


def fit_drc_ll4(dose: ArrayLike, resp: ArrayLike, *, fix_c: ArrayLike | None = None, fix_d: ArrayLike | None = None,
                max_iter: int = 200) -> dict[str, np.ndarray]:  # fmt: skip
    """Fit LL.4 curves by least squares, many at once (batched Levenberg-Marquardt, several starts).

    Parameters
    ----------
    dose, resp
        Arrays (n_curves, n_points); zero doses are replaced by 1e-10; NaN responses are ignored.
    fix_c, fix_d
        Optional fixed bottom (c) and top (d): a scalar for all curves or an array with one value per curve; NaN or
        None = free.
    max_iter
        Levenberg-Marquardt iterations per start.

    Returns
    -------
    dict
        ``b, c, d, e`` (arrays of n_curves), ``sse``, ``fitted`` (n_curves, n_points) and ``converged`` (False where
        no start met the convergence test: iteration limit or damping cap reached).

    Notes
    -----
    The result is the same on every machine, not only the same optimum up to rounding: the damped normal equations
    are solved without BLAS, the slope is bounded by ``MAX_SLOPE``, the starts are tried in a fixed order and a later
    start replaces an earlier one only when it lowers the SSE by more than a relative 1e-9 (last-bit noise never
    decides), and a curve with both asymptotes free is reported in the form with b <= 0 (d = the high-dose effect;
    the mirror image b > 0 with c and d swapped is the same curve). See docs/reproducibility.md.
    """
    dose = np.atleast_2d(np.asarray(dose, float))
    y = np.atleast_2d(np.asarray(resp, float))
    y = np.where(np.isfinite(dose), y, np.nan)
    dose = np.where(~np.isfinite(dose), 1.0, np.where(dose <= 0, ZERO_DOSE, dose))
    n, k = y.shape
    w = np.isfinite(y).astype(float)
    y0 = np.where(w > 0, y, 0.0)
    lx = np.log(dose)
    fc = np.full(n, np.nan) if fix_c is None else np.broadcast_to(np.asarray(fix_c, float), (n,)).copy()
    fd = np.full(n, np.nan) if fix_d is None else np.broadcast_to(np.asarray(fix_d, float), (n,)).copy()
    free = np.column_stack([np.ones(n), np.isnan(fc), np.isnan(fd), np.ones(n)])  # b, c, d, log e

    def model(p, ii):
        b, c, d, le = (p[:, i : i + 1] for i in range(4))
        z = np.clip(b * (lx[ii] - le), -700, 700)
        ez = np.exp(z)
        g = 1 / (1 + ez)
        f = c + (d - c) * g
        dg = -(d - c) * g * g * ez  # d f / d z
        jac = np.stack([dg * (lx[ii] - le), 1 - g, g, -dg * b], axis=2) * free[ii][:, None, :]
        return f, jac

    lxs = np.where(dose > ZERO_DOSE, lx, np.nan)
    mid = np.nanmedian(lxs, axis=1)
    span = np.nanmax(lxs, axis=1) - np.nanmin(lxs, axis=1)
    best = {"p": np.full((n, 4), np.nan), "sse": np.full(n, np.inf), "converged": np.zeros(n, bool)}
    every = np.arange(n)
    # Least squares on LL.4 has local optima (a plateau can be explained by a shallow or a steep curve, a noisy flat
    # curve by a step anywhere). Which of several optimiser runs wins then depends on last-bit noise, so the start is
    # chosen globally instead: the SSE profile over a fixed grid of slopes and mid-points, with the asymptotes solved
    # exactly for each (they enter linearly), and one Levenberg-Marquardt run from the best grid point.
    # The grid's best point goes first, then a few fixed starts (which find the optimum where the grid is too coarse);
    # the tie-break below keeps the earliest of equally good fits.
    ymin = np.nanmin(np.where(w > 0, y, np.nan), axis=1)
    ymax = np.nanmax(np.where(w > 0, y, np.nan), axis=1)
    shifts = (-0.2, 0.2) if (~np.isnan(fc)).all() and (~np.isnan(fd)).all() else (-0.35, -0.1, 0.1, 0.35)
    starts = [_grid_start(lx, y0, w, fc, fd, mid, span)] + [
        np.column_stack([np.full(n, b0), np.where(np.isnan(fc), ymin, fc), np.where(np.isnan(fd), ymax, fd),
                         mid + shift * span])
        for b0 in (-0.7, -1.5, -4.0) for shift in shifts]  # fmt: skip
    for p in starts:
        f, jac = model(p, every)
        r = (y0 - f) * w
        sse = (r * r).sum(1)
        lam = np.full(n, 1e-3)
        active = np.isfinite(sse)
        converged = np.zeros(n, bool)
        for _ in range(max_iter):
            # Only curves still improving are updated: converged ones drop out of the batch.
            ii = np.flatnonzero(active)
            if not len(ii):
                break
            jw = jac[ii] * w[ii, :, None]
            # Active set: a slope on its bound that the data push further out is held there for this step, so the
            # other parameters' step is not computed as if it could move.
            g0 = np.einsum("nk,nk->n", jw[:, :, 0], r[ii])
            held = ((p[ii, 0] <= -MAX_SLOPE) & (g0 < 0)) | ((p[ii, 0] >= MAX_SLOPE) & (g0 > 0))
            fr = free[ii].copy()
            fr[held, 0] = 0.0
            jw = jw * fr[:, None, :]
            jtj = np.einsum("nki,nkj->nij", jw, jw) + np.eye(4) * (1 - fr)[:, None, :]
            jtr = np.einsum("nki,nk->ni", jw, r[ii])
            diag = np.einsum("nii->ni", jtj)
            # A tiny ridge keeps the system solvable for flat or missing responses.
            a = jtj + (lam[ii, None] * np.maximum(diag, 1e-12))[:, :, None] * np.eye(4) + 1e-10 * np.eye(4)
            # BLAS-free solve: LAPACK's kernel-specific rounding would send the fits down another path per machine.
            step = solve_spd_batched(a, jtr) * fr
            step = np.where(np.isfinite(step), step, 0.0)
            p_new = p[ii] + step
            p_new[:, 3] = np.clip(p_new[:, 3], -60.0, 60.0)  # keep e finite
            p_new[:, 0] = np.clip(p_new[:, 0], -MAX_SLOPE, MAX_SLOPE)
            f_new, jac_new = model(p_new, ii)
            r_new = (y0[ii] - f_new) * w[ii]
            sse_new = (r_new * r_new).sum(1)
            better = np.isfinite(sse_new) & (sse_new < sse[ii])
            gain = (sse[ii] - sse_new) / (sse[ii] + 1e-12)
            up = ii[better]
            p[up], jac[up], r[up], sse[up] = p_new[better], jac_new[better], r_new[better], sse_new[better]
            lam[ii] = np.where(better, lam[ii] / 3, np.minimum(lam[ii] * 5, 1e10))
            converged[ii[better & (gain < 1e-12)]] = True
            active[ii[(better & (gain < 1e-12)) | (lam[ii] >= 1e10)]] = False
        # Deterministic tie-break: an earlier start keeps its place unless clearly beaten.
        take = sse < best["sse"] * (1 - 1e-9) - 1e-12
        best["p"][take], best["sse"][take], best["converged"][take] = p[take], sse[take], converged[take]
    p = best["p"]
    mirror = (p[:, 0] > 0) & np.isnan(fc) & np.isnan(fd)
    p[mirror] = p[mirror][:, [0, 2, 1, 3]] * np.array([-1.0, 1.0, 1.0, 1.0])
    fitted, _ = model(p, every)
    return {"b": p[:, 0], "c": p[:, 1], "d": p[:, 2], "e": np.exp(p[:, 3]), "sse": best["sse"], "fitted": fitted,
            "converged": best["converged"]}


def _grid_start(lx, y0, w, fc, fd, mid, span):
    """Best (b, c, d, log e) of each curve on a fixed grid of (b, log e), c and d by linear least squares (or fixed).

    The grid is visited in a fixed order and a later point replaces the best so far only when its SSE is lower by more
    than a relative 1e-9, so that the chosen start does not depend on the last bits of ``exp``.
    """
    n = len(lx)
    both_fixed = ~np.isnan(fc) & ~np.isnan(fd)
    # With both asymptotes free, b < 0 covers rising and falling curves (c and d may come in either order).
    slopes = (-0.5, -1.0, -2.0, -4.0, -8.0) if (np.isnan(fc) & np.isnan(fd)).all() else (
        -0.5, -1.0, -2.0, -4.0, -8.0, 0.5, 1.0, 2.0, 4.0, 8.0)
    best_p = np.column_stack([np.full(n, -1.0), np.where(np.isnan(fc), 0.0, fc), np.where(np.isnan(fd), 0.0, fd), mid])
    best_sse = np.full(n, np.inf)
    for b0 in slopes:
        for frac in np.linspace(-0.75, 0.75, 13):
            le = mid + frac * span
            g = 1 / (1 + np.exp(np.clip(b0 * (lx - le[:, None]), -700, 700)))
            h = 1 - g
            s_hh, s_hg, s_gg = (w * h * h).sum(1), (w * h * g).sum(1), (w * g * g).sum(1)
            s_yh, s_yg = (w * y0 * h).sum(1), (w * y0 * g).sum(1)
            with np.errstate(divide="ignore", invalid="ignore"):
                det = s_hh * s_gg - s_hg * s_hg
                c_free = (s_yh * s_gg - s_yg * s_hg) / det
                d_free = (s_yg * s_hh - s_yh * s_hg) / det
                flat = ~(np.abs(det) > 1e-12 * (s_hh * s_gg + 1e-300))
                mean = (w * y0).sum(1) / w.sum(1)
                c_free, d_free = np.where(flat, mean, c_free), np.where(flat, mean, d_free)
                c_only = (s_yh - fd * s_hg) / s_hh  # d fixed
                d_only = (s_yg - fc * s_hg) / s_gg  # c fixed
            c = np.where(np.isnan(fc), np.where(np.isnan(fd), c_free, c_only), fc)
            d = np.where(np.isnan(fd), np.where(np.isnan(fc), d_free, d_only), fd)
            c, d = np.where(both_fixed, fc, c), np.where(both_fixed, fd, d)
            r = (y0 - c[:, None] - (d - c)[:, None] * g) * w
            sse = (r * r).sum(1)
            take = np.isfinite(sse) & (sse < best_sse * (1 - 1e-9) - 1e-12)
            best_p[take] = np.column_stack([np.full(n, b0), c, d, le])[take]
            best_sse[take] = sse[take]
    return best_p


def _loewe_expected(x1, x2, par1, par2):
    """Loewe expected inhibition, vectorised by bisection over cells and blocks.

    ``x1``, ``x2``: concentrations, shape (B, R, C); ``par1``, ``par2``: LL.4 parameters (b, c, d, e) of the two
    monotherapies, each an array of B blocks.
    """
    b1, c1, d1, e1 = (np.asarray(v, float)[:, None, None] for v in par1)
    b2, c2, d2, e2 = (np.asarray(v, float)[:, None, None] for v in par2)

    def inv(y, b, c, d, e):  # concentration giving effect y on an LL.4 curve
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return e * ((d - y) / (y - c)) ** (1 / b)

    def g(y):
        with np.errstate(divide="ignore", invalid="ignore"):
            return x1 / inv(y, b1, c1, d1, e1) + x2 / inv(y, b2, c2, d2, e2) - 1

    # Both curves must rise (d > c); the solution lies where both inverses exist.
    lo = np.maximum(np.minimum(c1, d1), np.minimum(c2, d2))
    hi = np.minimum(np.maximum(c1, d1), np.maximum(c2, d2))
    with np.errstate(invalid="ignore", over="ignore"):
        fallback = np.maximum(drc_ll4(x1 + x2, b1, c1, d1, e1), drc_ll4(x1 + x2, b2, c2, d2, e2))
    valid = (d1 > c1) & (d2 > c2) & (hi > lo)
    span = np.where(valid, hi - lo, 1.0)
    a = np.broadcast_to(lo + 1e-9 * span, x1.shape).copy()
    z = np.broadcast_to(hi - 1e-9 * span, x1.shape).copy()
    ga, gz = g(a), g(z)
    solvable = valid & np.isfinite(ga) & np.isfinite(gz) & (ga > 0) & (gz < 0)
    for _ in range(60):
        m = (a + z) / 2
        pos = g(m) > 0
        a = np.where(pos, m, a)
        z = np.where(pos, z, m)
    y = np.where(solvable, (a + z) / 2, fallback)
    return np.minimum(y, 100.0)


def _refit_like_r(dose, resp, fits, *, bottom=None, top=None, fit=fit_dose_response_synergyfinder):
    """Overwrite rows of a batch of least-squares fits with R fits, one curve at a time (a failure keeps the batch's)."""
    for i in range(len(dose)):
        keep = np.isfinite(dose[i]) & np.isfinite(resp[i])
        try:
            one = fit(dose[i][keep], resp[i][keep], bottom=None if bottom is None else bottom[i], top=top)
        except DrcFitError:
            continue
        for q in "bcde":
            fits[q][i] = one[q]
    return fits


def _fit_monotherapies(cr, cc, y_row, y_col, *, monotherapy_fit, engine="least_squares"):
    """LL.4 fits of the row and column drugs' monotherapies of all blocks in one batch: (row, col) parameter tuples."""
    nb, nr, nc = len(y_row), len(cr), len(cc)
    k = max(nr, nc)

    def pad(v):
        return np.pad(v, ((0, 0), (0, k - v.shape[1])), constant_values=np.nan)

    dose = np.vstack([pad(np.broadcast_to(cr, (nb, nr))), pad(np.broadcast_to(cc, (nb, nc)))])
    resp = np.vstack([pad(y_row), pad(y_col)])
    if monotherapy_fit == "synergyfinder3":
        fits = fit_drc_ll4(dose, resp)
        if engine == "drc":
            fits = _refit_like_r(dose, resp, fits)
    else:
        # SynergyFinder 2: zero concentrations left out, top fixed at 100, bottom at min(0, lowest observed response),
        # fitted the way R drc fits (its optimiser's stopping point is part of the published scores).
        resp = np.where(dose > 0, resp, np.nan)
        bottom = np.minimum(0.0, np.where(np.isfinite(resp), resp, np.inf).min(axis=1))
        fits = _refit_like_r(dose, resp, fit_drc_ll4(dose, resp, fix_c=bottom, fix_d=100.0), bottom=bottom, top=100.0,
                             fit=drm_ll4)
    return tuple(fits[q][:nb] for q in "bcde"), tuple(fits[q][nb:] for q in "bcde")


def _zip_refits(dose, resp, bottom, *, engine):
    """ZIP's row/column refits: LL.4 with the bottom at the other drug's fitted effect and the top at 100."""
    fits = fit_drc_ll4(dose, resp, fix_c=bottom, fix_d=100.0)
    if engine == "least_squares":
        return fits["fitted"]
    fitted = fits["fitted"].copy()
    for i in range(len(dose)):
        try:
            one = fit_dose_response_synergyfinder(dose[i], resp[i], bottom=bottom[i], top=100.0)
        except DrcFitError:
            fitted[i] = resp[i]  # the R package keeps the observed responses when no curve converges
            continue
        fitted[i] = drc_ll4(dose[i], one["b"], one["c"], one["d"], one["e"])
    return fitted


def synergy_scores(inhibition: np.ndarray, conc_row: np.ndarray, conc_col: np.ndarray, *,
                   monotherapy_fit: str = "synergyfinder3", fit_engine: str = "least_squares") -> dict[str, np.ndarray]:
    """Score every cell of one dose matrix (or a stack of same-shaped matrices) for Bliss, HSA, Loewe and ZIP synergy.

    Parameters
    ----------
    inhibition
        % inhibition, shape (n_row, n_col) or (n_blocks, n_row, n_col); row 0 and column 0 are the zero
        concentrations. All fits of all blocks run in one batch.
    conc_row, conc_col
        Concentrations of the row and column drug (first entry 0), shared by the blocks; any one unit per drug.
    monotherapy_fit
        Monotherapy curves of the Loewe model. ``"synergyfinder3"`` (default): all four LL.4 parameters free,
        zero concentrations included at 1e-10 (SynergyFinder 3, Ianevski et al. 2022, Nucleic Acids Res 50:W739).
        ``"synergyfinder2"``: each curve fitted on its nonzero concentrations with the top fixed at 100 and the
        bottom at min(0, lowest observed monotherapy response), as SynergyFinder 2 did (Ianevski et al. 2020,
        Nucleic Acids Res 48:W488), and fitted as R drc fits (:func:`helpers.dst.drc.drm_ll4`, which stops where
        drc stops, short of the optimum on shallow curves), so that Loewe scores can be compared with results
        published with that version.
        ZIP is not affected and always follows SynergyFinder 3 (which reproduces the R package); SynergyFinder 2's
        ZIP is not reproduced by either choice.
    fit_engine
        ``"least_squares"`` (default): all curves of all blocks in one vectorised least-squares batch.
        ``"drc"``: every SynergyFinder 3 curve (monotherapies and ZIP refits) fitted one at a time exactly as the R
        package fits it (:func:`helpers.dst.drc.fit_dose_response_synergyfinder`: drc's LL.4 where it stops, L.4 in
        log dose where R warns, the observed responses where both fail), for results identical to R SynergyFinder;
        2-4 times slower.

    Returns
    -------
    dict
        ``bliss, hsa, loewe, zip`` score matrices (shape of ``inhibition``, 0 on the monotherapy row/column), the
        expected surfaces ``*_expected``, the monotherapy LL.4 parameters ``row_fit`` / ``col_fit`` (b, c, d, e) used
        by ZIP and ``loewe_row_fit`` / ``loewe_col_fit`` used by Loewe (the same under ``"synergyfinder3"``).
        Scores and surfaces are in % inhibition (positive score = synergy).

    Raises
    ------
    ValueError
        An unknown ``monotherapy_fit`` or ``fit_engine``, or a matrix whose first row and column are not at zero
        concentration or whose shape does not match the concentrations.
    """
    if monotherapy_fit not in MONOTHERAPY_FITS:
        raise ValueError(f"monotherapy_fit must be one of {MONOTHERAPY_FITS}, not {monotherapy_fit!r}")
    if fit_engine not in FIT_ENGINES:
        raise ValueError(f"fit_engine must be one of {FIT_ENGINES}, not {fit_engine!r}")
    y = np.asarray(inhibition, float)
    single = y.ndim == 2
    y = y[None] if single else y
    cr, cc = np.asarray(conc_row, float), np.asarray(conc_col, float)
    nb, nr, nc = y.shape
    if cr[0] != 0 or cc[0] != 0 or (nr, nc) != (len(cr), len(cc)):
        raise ValueError("the matrix needs zero-concentration first row and column, and concentrations matching its shape")
    y_row, y_col = y[:, :, 0], y[:, 0, :]  # monotherapy of the row drug (column 0) and of the column drug (row 0)
    bliss = y_row[:, :, None] + y_col[:, None, :] - y_row[:, :, None] * y_col[:, None, :] / 100
    hsa = np.maximum(y_row[:, :, None], y_col[:, None, :])
    prow, pcol = _fit_monotherapies(cr, cc, y_row, y_col, monotherapy_fit="synergyfinder3", engine=fit_engine)
    lrow, lcol = (prow, pcol) if monotherapy_fit == "synergyfinder3" else _fit_monotherapies(
        cr, cc, y_row, y_col, monotherapy_fit=monotherapy_fit)
    xr, xc = np.meshgrid(cr, cc, indexing="ij")
    xr, xc = np.broadcast_to(xr, y.shape), np.broadcast_to(xc, y.shape)
    loewe = _loewe_expected(xc, xr, lcol, lrow)
    # ZIP: fitted monotherapies at the nonzero doses, shape (B, R-1) and (B, C-1).
    fr = drc_ll4(cr[None, 1:], *(v[:, None] for v in prow))
    fc = drc_ll4(cc[None, 1:], *(v[:, None] for v in pcol))
    comb = y[:, 1:, 1:]
    # Each column j: the row drug's curve with bottom fixed at the column drug's fitted effect and top at 100; and
    # symmetrically for each row. All blocks' columns (rows) form one batch.
    col_fit = _zip_refits(np.broadcast_to(cr[1:], (nb * (nc - 1), nr - 1)), comb.transpose(0, 2, 1).reshape(-1, nr - 1),
                          fc.ravel(), engine=fit_engine)
    col_fit = col_fit.reshape(nb, nc - 1, nr - 1).transpose(0, 2, 1)
    row_fit = _zip_refits(np.broadcast_to(cc[1:], (nb * (nr - 1), nc - 1)), comb.reshape(-1, nc - 1), fr.ravel(),
                          engine=fit_engine).reshape(nb, nr - 1, nc - 1)
    zip_exp = fr[:, :, None] + fc[:, None, :] - fr[:, :, None] * fc[:, None, :] / 100
    zip_delta = np.zeros_like(y)
    zip_delta[:, 1:, 1:] = (col_fit + row_fit) / 2 - zip_exp
    out = {}
    for name, expected in (("bliss", bliss), ("hsa", hsa), ("loewe", loewe)):
        sc = y - expected
        sc[:, 0, :], sc[:, :, 0] = 0.0, 0.0
        out[name] = sc
        out[f"{name}_expected"] = expected
    out["zip"] = zip_delta
    out["zip_expected"] = np.pad(zip_exp, ((0, 0), (1, 0), (1, 0)))
    if single:
        out = {q: v[0] for q, v in out.items()}
        prow, pcol = tuple(v[0] for v in prow), tuple(v[0] for v in pcol)
        lrow, lcol = tuple(v[0] for v in lrow), tuple(v[0] for v in lcol)
    out["row_fit"], out["col_fit"] = prow, pcol
    out["loewe_row_fit"], out["loewe_col_fit"] = lrow, lcol
    return out


def block_synergy(scores: dict[str, np.ndarray]) -> pd.DataFrame:
    """Summarise each block over its combination cells: mean and maximum of each score, and the ZIP block p-value.

    Parameters
    ----------
    scores
        Score name (``bliss``, ``hsa``, ``loewe``, ``zip``) -> matrices (blocks x rows x columns, or one matrix) whose
        first row and column are the monotherapies.

    Returns
    -------
    pandas.DataFrame
        One row per block (a single matrix gives one row): ``<score>_mean``, ``<score>_max`` and ``zip_p`` (the
        ZIP block p-value, exp(-0.717 z - 0.416 z^2) of the mean ZIP delta's z score), scores in % inhibition.
    """
    out = {}
    stack = {k: (v[None] if v.ndim == 2 else v) for k, v in scores.items() if k in ("bliss", "hsa", "loewe", "zip")}
    for name, v in stack.items():
        comb = v[:, 1:, 1:].reshape(len(v), -1)
        out[f"{name}_mean"] = np.nanmean(comb, axis=1)
        out[f"{name}_max"] = np.nanmax(comb, axis=1)
    comb = stack["zip"][:, 1:, 1:].reshape(len(stack["zip"]), -1)
    n = np.isfinite(comb).sum(1)
    sd = np.nanstd(comb, axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(np.nanmean(comb, axis=1)) / (sd / np.sqrt(n))
    out["zip_p"] = np.exp(-0.717 * z - 0.416 * z * z)
    return pd.DataFrame(out)


def synergy_table(cells: pd.DataFrame, *, block: str = "block", conc_row: str = "conc_row", conc_col: str = "conc_col",
                  response: str = "inhibition_pct",
                  monotherapy_fit: str = "synergyfinder3",
                  fit_engine: str = "least_squares") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score the synergy of every block of a long table of combination cells, all blocks of one layout in one batch.

    Parameters
    ----------
    cells
        One row per cell (replicates are averaged): block id, the two concentrations and % inhibition. Blocks with
        the same concentrations are scored together.
    block
        Column identifying a block (one dose matrix, e.g. ``sample_id``).
    conc_row, conc_col
        Columns of the row and column drug's concentration (any one unit per drug, e.g. µM; 0 for the monotherapy).
    response
        Column of the observed effect (% inhibition).
    monotherapy_fit, fit_engine
        See :func:`synergy_scores`.

    Returns
    -------
    per_cell : pandas.DataFrame
        One row per cell, sorted by block and concentrations: ``block``, ``conc_row``, ``conc_col``, ``response``
        (columns under the given names) and ``bliss, hsa, loewe, zip`` (% inhibition; 0 on the monotherapies).
    per_block : pandas.DataFrame
        One row per block: ``block``, ``<score>_mean`` and ``<score>_max`` of the four scores and ``zip_p``
        (:func:`block_synergy`).

    Raises
    ------
    DataContractError
        A negative concentration, or a block without a zero dose or with a missing or all-NaN monotherapy, named.
    """
    raise_first(synergy_problems(cells, block=block, conc_row=conc_row, conc_col=conc_col, response=response))
    mean = cells.groupby([block, conc_row, conc_col], sort=True)[response].mean().reset_index()
    wide = mean.pivot_table(index=block, columns=[conc_row, conc_col], values=response, dropna=False)
    # Group blocks by their set of tested cells (one plate layout = one group).
    layout_key = wide.notna().apply(lambda r: tuple(r.to_numpy()), axis=1)
    per_cell, per_block = [], []
    for _, ids in wide.groupby(layout_key, sort=False).groups.items():
        sub = wide.loc[ids].dropna(axis=1, how="all")
        rows = np.unique(sub.columns.get_level_values(0).to_numpy(float))
        cols = np.unique(sub.columns.get_level_values(1).to_numpy(float))
        sub = sub.reindex(columns=pd.MultiIndex.from_product([rows, cols]))
        mats = sub.to_numpy().reshape(len(sub), len(rows), len(cols))
        sc = synergy_scores(mats, rows, cols, monotherapy_fit=monotherapy_fit, fit_engine=fit_engine)
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        nb = len(sub)
        per_cell.append(pd.DataFrame({
            block: np.repeat(sub.index.to_numpy(), rr.size), conc_row: np.tile(rr.ravel(), nb),
            conc_col: np.tile(cc.ravel(), nb), response: mats.ravel(),
            **{k: sc[k].ravel() for k in ("bliss", "hsa", "loewe", "zip")}}))
        per_block.append(pd.concat([pd.DataFrame({block: sub.index.to_numpy()}), block_synergy(sc)], axis=1))
    cell_df = pd.concat(per_cell, ignore_index=True).sort_values([block, conc_row, conc_col], ignore_index=True)
    block_df = pd.concat(per_block, ignore_index=True).sort_values(block, ignore_index=True)
    return cell_df, block_df
