"""Small numeric kernels whose results do not depend on the BLAS library, its CPU kernel or its thread count.

Why by hand: numpy's ``linalg.solve`` and ``@`` go through OpenBLAS, which picks a CPU-specific kernel at start-up
(``OPENBLAS_CORETYPE``: Haswell, SkylakeX, ...). The kernels sum in different orders, so the same 4 x 4 system gives
answers that differ in the last bits from one machine to the next; an iterative fit that solves thousands of them then
follows a different path and, on a flat or two-optimum least-squares surface, stops somewhere else (see
docs/reproducibility.md). The functions here use only element-wise numpy operations in a fixed order, which IEEE 754
rounds the same way on every x86-64 or ARM machine, and are fast enough for the small systems of the vectorised fits.
"""

from __future__ import annotations

import numpy as np

__all__ = ["solve_spd_batched"]


def solve_spd_batched(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve many small symmetric positive-definite systems ``a[i] x[i] = b[i]`` without BLAS.

    Gaussian elimination without pivoting, which is stable for symmetric positive-definite matrices (the damped
    normal equations of a Levenberg-Marquardt step), in a fixed order of element-wise operations.

    Parameters
    ----------
    a
        Matrices, shape (n, m, m), m small (a few parameters).
    b
        Right-hand sides, shape (n, m).

    Returns
    -------
    numpy.ndarray
        Solutions, shape (n, m); NaN or inf where a system is singular (callers test ``isfinite``).
    """
    a = np.array(a, dtype=float, copy=True)
    x = np.array(b, dtype=float, copy=True)
    m = a.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for k in range(m):
            piv = a[:, k, k]
            for i in range(k + 1, m):
                f = a[:, i, k] / piv
                a[:, i, k:] -= f[:, None] * a[:, k, k:]
                x[:, i] -= f * x[:, k]
        for i in range(m - 1, -1, -1):
            s = x[:, i].copy()
            for j in range(i + 1, m):
                s -= a[:, i, j] * x[:, j]
            x[:, i] = s / a[:, i, i]
    return x

