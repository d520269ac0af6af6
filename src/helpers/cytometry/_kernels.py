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
def compensate_inplace(ev, cols, inv):  # pragma: no cover - compiled
    """``ev[:, cols] = ev[:, cols] @ inv``, summed in float64 over ``j = 0, 1, ...`` and rounded once per value."""
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
def points_in_polygon(x, y, vx, vy, out):  # pragma: no cover - compiled
    """Crossing-number test of points (x, y) against the closed polygon (vx, vy), as matplotlib's ``points_in_path``.

    The same comparisons in the same float64 arithmetic as matplotlib's C++ (``_path.h``, ``point_in_path_impl``),
    so a point on an edge or a vertex falls on the same side; checked against ``Path.contains_points`` in the tests.
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
def logicle_lookup(x, u0, inv_du, ys, slope, t, out):  # pragma: no cover - compiled
    """Linear interpolation of the logicle table at knots uniform in asinh(x); returns how many |x| exceed ``t``."""
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
