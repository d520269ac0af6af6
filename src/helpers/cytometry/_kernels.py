"""Compiled loops of the cytometry hot path: compensation in place and the logicle table lookup (numba).

Why by hand: numpy spends these steps writing and reading temporaries (a float64 copy of the events for the
fixed-order product, five arrays per logicle lookup), which cost more than the arithmetic; one pass per event does the
same operations in the same order. No fused multiply-add and no reassociation (numba's defaults without
``fastmath``), so the compensated events have exactly the bits of :func:`helpers.numeric.matmul_fixed_order`, and the
transcendental functions come from the C library rather than numpy's CPU-dispatched SIMD loops: the same bits under
every numpy CPU-feature set and BLAS kernel.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__: list[str] = []


_BLOCK = 256  # rows compensated together: the sums of different rows are independent, so the loop over rows vectorises


@numba.njit(cache=True, nogil=True)
def compensate_inplace(ev: np.ndarray, cols: np.ndarray, inv: np.ndarray) -> None:  # pragma: no cover - compiled
    """Compensate in place: ``ev[:, cols] = ev[:, cols] @ inv``, summed in float64 over ``j = 0, 1, ...``.

    Each value is rounded once, to the dtype of ``ev``.

    Parameters
    ----------
    ev
        Events x channels (C-contiguous float32 or float64), overwritten in the columns ``cols``.
    cols
        Integer indices of the fluorescence columns, in the order of the rows and columns of ``inv``.
    inv
        Inverse of the spillover matrix (float64, ``len(cols)`` x ``len(cols)``).
    """
    m = cols.size
    n = ev.shape[0]
    buf = np.empty((m, _BLOCK))
    acc = np.empty(_BLOCK)
    for lo in range(0, n, _BLOCK):
        nr = min(_BLOCK, n - lo)
        for r in range(nr):
            for j in range(m):
                buf[j, r] = ev[lo + r, cols[j]]
        for k in range(m):
            c0 = inv[0, k]
            for r in range(nr):
                acc[r] = buf[0, r] * c0
            for j in range(1, m):
                cj = inv[j, k]
                for r in range(nr):
                    acc[r] += buf[j, r] * cj
            for r in range(nr):
                ev[lo + r, cols[k]] = acc[r]


@numba.njit(cache=True, nogil=True)
def points_in_polygon(x: np.ndarray, y: np.ndarray, vx: np.ndarray, vy: np.ndarray,
                      out: np.ndarray) -> None:  # pragma: no cover - compiled
    """Test points (x, y) against the closed polygon (vx, vy) by crossing number, as matplotlib's ``points_in_path``.

    The same comparisons in the same float64 arithmetic as matplotlib's C++ (``_path.h``, ``point_in_path_impl``),
    so a point on an edge or a vertex falls on the same side; checked against ``Path.contains_points`` in the tests.

    Parameters
    ----------
    x, y
        Event coordinates (same length), in the gate's scale.
    vx, vy
        Polygon vertices (float64); the last connects back to the first.
    out
        Boolean array of ``len(x)``, filled with whether each point is inside.
    """
    nv = vx.size
    for i in range(x.size):
        tx, ty = np.float64(x[i]), np.float64(y[i])
        inside = False
        x0, y0 = vx[nv - 1], vy[nv - 1]
        yflag0 = y0 >= ty
        for v in range(nv):
            x1, y1 = vx[v], vy[v]
            yflag1 = y1 >= ty
            if yflag0 != yflag1:
                if ((y1 - ty) * (x0 - x1) >= (x1 - tx) * (y0 - y1)) == yflag1:
                    inside = not inside
            yflag0 = yflag1
            x0, y0 = x1, y1
        out[i] = inside


@numba.njit(cache=True, nogil=True)
def logicle_lookup(x: np.ndarray, u0: float, inv_du: float, ys: np.ndarray, slope: np.ndarray, t: float,
                   out: np.ndarray) -> int:  # pragma: no cover - compiled
    """Interpolate the logicle table linearly at knots uniform in asinh(x); return how many |x| exceed ``t``.

    Parameters
    ----------
    x
        Linear intensities (any float dtype).
    u0
        asinh of the first knot.
    inv_du
        1 / knot spacing in asinh units.
    ys
        Logicle values at the knots (float64).
    slope
        ``ys[k + 1] - ys[k]`` per knot.
    t
        Top of the scale (the logicle T); values beyond ``[-t, t]`` or NaN are clamped to the table's ends and
        counted.
    out
        Output array of ``len(x)``, filled with the transformed values.

    Returns
    -------
    int
        The number of values outside ``[-t, t]`` (or NaN).
    """
    last = ys.size - 1.000001
    n_out = 0
    for i in range(x.size):
        v = np.float64(x[i])
        p = (math.asinh(v) - u0) * inv_du
        if not p >= 0.0:  # also NaN
            p = 0.0
        elif p > last:
            p = last
        k = int(p)
        out[i] = ys[k] + (p - k) * slope[k]
        if v < -t or v > t or v != v:
            n_out += 1
    return n_out
