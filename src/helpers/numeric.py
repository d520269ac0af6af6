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

_ROWS = 1 << 16

__all__ = ["solve_spd_batched", "matmul_fixed_order", "inv_fixed_order", "solve_fixed_order"]


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



def matmul_fixed_order(a: np.ndarray, b: np.ndarray, *, dtype: np.dtype | type | None = None) -> np.ndarray:
    """Multiply a tall ``a`` (many rows, few columns) by a small ``b``, summed in float64 in a fixed order.

    ``c[:, k] = sum_j a[:, j] * b[j, k]``, accumulated over ``j = 0, 1, ...`` with separate multiplies and adds
    (no fused multiply-add), so the result has the same bits under every BLAS kernel and SIMD width. A float32 matrix
    product through BLAS does not: OpenBLAS' Sandybridge (no FMA) and SkylakeX sgemm kernels round the compensation of
    the same events differently (docs/reproducibility.md).

    Parameters
    ----------
    a
        Shape (n, m), m small (e.g. the detectors of a spillover matrix).
    b
        Shape (m, p).
    dtype
        Type of the result (default: that of ``a`` when it is a float type, else float64); the sums are float64 and
        rounded once.

    Returns
    -------
    numpy.ndarray
        Shape (n, p).
    """
    a = np.asarray(a)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"shapes {a.shape} and {b.shape} do not multiply")
    out_dtype = np.dtype(dtype) if dtype is not None else (a.dtype if a.dtype.kind == "f" else np.dtype(np.float64))
    out = np.zeros((a.shape[0], b.shape[1]), dtype=out_dtype)
    if a.shape[1] == 0:
        return out
    for lo in range(0, a.shape[0], _ROWS):  # row blocks: float64 work arrays stay small for million-event files
        blk = a[lo : lo + _ROWS].astype(np.float64)
        acc = blk[:, :1] * b[:1]
        for j in range(1, a.shape[1]):
            acc += blk[:, j : j + 1] * b[j : j + 1]
        out[lo : lo + _ROWS] = acc
    return out


def solve_fixed_order(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve one small general system ``a x = b`` (b a vector or a matrix of right-hand sides) without LAPACK.

    Gaussian elimination with partial pivoting (the first row of largest magnitude wins a tie), in a fixed order of
    scalar-by-row operations: the same bits on every CPU kernel.

    Parameters
    ----------
    a
        Square matrix, shape (n, n), n small.
    b
        Right-hand side, shape (n,), or several as columns, shape (n, k).

    Returns
    -------
    numpy.ndarray
        Float64 solution with the shape of ``b``.

    Raises
    ------
    numpy.linalg.LinAlgError
        When ``a`` is singular (a zero pivot) or not square.
    """
    a = np.array(a, dtype=np.float64, copy=True)
    x = np.array(b, dtype=np.float64, copy=True)
    vec = x.ndim == 1
    if vec:
        x = x[:, None]
    n = a.shape[0]
    if a.ndim != 2 or a.shape[1] != n or x.shape[0] != n:
        raise np.linalg.LinAlgError(f"need a square matrix and matching right-hand sides, got {a.shape}, {x.shape}")
    for k in range(n):
        p = k + int(np.argmax(np.abs(a[k:, k])))
        if a[p, k] == 0.0 or not np.isfinite(a[p, k]):
            raise np.linalg.LinAlgError("singular matrix")
        if p != k:
            a[[k, p]] = a[[p, k]]
            x[[k, p]] = x[[p, k]]
        for i in range(k + 1, n):
            f = a[i, k] / a[k, k]
            a[i, k:] -= f * a[k, k:]
            x[i] -= f * x[k]
    for i in range(n - 1, -1, -1):
        s = x[i].copy()
        for j in range(i + 1, n):
            s -= a[i, j] * x[j]
        x[i] = s / a[i, i]
    return x[:, 0] if vec else x


def inv_fixed_order(a: np.ndarray) -> np.ndarray:
    """Invert one small square matrix without LAPACK (:func:`solve_fixed_order` against the identity).

    Parameters
    ----------
    a
        Square matrix, shape (n, n).

    Returns
    -------
    numpy.ndarray
        Float64 inverse, shape (n, n).

    Raises
    ------
    numpy.linalg.LinAlgError
        When ``a`` is singular.
    """
    a = np.asarray(a, dtype=np.float64)
    return solve_fixed_order(a, np.eye(a.shape[0]))
