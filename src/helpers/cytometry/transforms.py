"""Compensation and the display transforms of flow and mass cytometry.

- Compensation: observed = true . S (S = spillover, dyes x detectors, FCS 3.1 convention), so true = observed . S^-1.
  Solved once per matrix and applied as one matrix product on the fluorescence columns (both BLAS-free, in float64,
  so that the compensated events have the same bits under every BLAS kernel).
- arcsinh(x / cofactor): cofactor 150 for fluorescence flow cytometry, 5 for mass cytometry (CyTOF).
- Gating-ML 2.0 transforms (Spidlen et al. 2015): flin, flog, fasinh, logicle (Moore & Parks 2012) and hyperlog; the
  last two through ``flowutils`` (the C implementation that FlowKit uses).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from flowutils import transforms as _fu

from ..errors import DataContractError
from ..numeric import inv_fixed_order, matmul_fixed_order
from . import _kernels
from .fcs import FCSData, parse_spillover

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "compensate",
    "arcsinh",
    "gml_asinh",
    "gml_linear",
    "gml_log",
    "logicle",
    "hyperlog",
    "fluorescence_columns",
    "COFACTOR_FLOW",
    "COFACTOR_MASS",
]

COFACTOR_FLOW = 150.0
COFACTOR_MASS = 5.0
_NON_FLUORESCENCE = ("FSC", "SSC", "TIME", "EVENT_LENGTH", "CELL_LENGTH", "WIDTH", "RESIDUAL", "CENTER", "OFFSET")


def fluorescence_columns(data: FCSData) -> list[int]:
    """List the fluorescence (or mass) channels: everything except scatter, time and instrument parameters.

    Parameters
    ----------
    data
        One file; its detector names ($PnN) decide.

    Returns
    -------
    list of int
        Column indices of :attr:`FCSData.events`, in file order (the channels compensation and arcsinh apply to).
    """
    return [i for i, c in enumerate(data.channels) if not c.upper().replace("-", "_").startswith(_NON_FLUORESCENCE)]


def compensate(data: FCSData, spillover: pd.DataFrame | None = None, *, inplace: bool = False) -> FCSData:
    """Compensate the fluorescence channels of ``data``.

    Parameters
    ----------
    data
        Events as read (uncompensated).
    spillover
        Dyes x detectors spillover matrix whose labels are detector names ($PnN); default: the file's own
        ($SPILLOVER / $SPILL). A given matrix overrides the file's (e.g. when the file's is an identity placeholder).
    inplace
        Overwrite ``data.events`` instead of returning a copy (saves one event matrix of memory when streaming).

    Returns
    -------
    FCSData
        With compensated fluorescence columns.

    Raises
    ------
    DataContractError
        No spillover matrix at all, a detector of the matrix missing from the file, or a singular matrix.
    """
    if spillover is None and "spillover" not in vars(data):
        # The file's own matrix, straight from its keyword: parsed once per matrix text, no DataFrame per file.
        text = next((data.metadata[k] for k in ("$SPILLOVER", "$SPILL", "SPILL") if k in data.metadata), None)
        if text is None:
            raise DataContractError(data.path, "no spillover matrix in the file ($SPILLOVER/$SPILL) and none given")
        detectors, mat = _file_matrix(text, data.path)
    else:
        spill = data.spillover if spillover is None else spillover
        if spill is None:
            raise DataContractError(data.path, "no spillover matrix in the file ($SPILLOVER/$SPILL) and none given")
        detectors, mat = _ordered(spill)
    missing = [d for d in detectors if d not in data.channels]
    if missing:
        raise DataContractError(data.path, "spillover matrix names a detector the file does not have", channel=missing[0])
    try:
        inv = _inverse(mat.tobytes(), mat.shape[0])
    except np.linalg.LinAlgError as err:
        raise DataContractError(data.path, f"spillover matrix is singular: {err}") from err
    idx = [data.channels.index(d) for d in detectors]
    ev = data.events if inplace else data.events.copy()
    # Detectors are usually adjacent columns: a slice avoids a gather and a scatter of the event matrix.
    cols = slice(idx[0], idx[-1] + 1) if idx == list(range(idx[0], idx[0] + len(idx))) else idx
    # Not ``@``: a float32 BLAS product rounds differently under each OpenBLAS kernel (Sandybridge vs SkylakeX), and
    # FlowSOM's online training turns that into another map; float64 sums in a fixed order give the same bits
    # everywhere (docs/reproducibility.md).
    if ev.dtype == np.float32 and ev.flags.c_contiguous:
        # The same sums as matmul_fixed_order, row by row in place: no float64 copy of the events.
        _kernels.compensate_inplace(ev, np.asarray(idx, dtype=np.int64), inv)
    else:
        ev[:, cols] = matmul_fixed_order(ev[:, cols], inv, dtype=ev.dtype)
    if inplace:
        return data
    return FCSData(data.path, list(data.channels), list(data.markers), ev, data.metadata, data.version)


def _ordered(spill: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    detectors = spill.columns.tolist()  # once: iterating an Arrow-backed index name by name is slow
    if spill.index.tolist() != detectors:
        spill = spill.loc[detectors]
    return detectors, spill.to_numpy(dtype=np.float64)


def _file_matrix(text: str, path: str | Path | None) -> tuple[list[str], np.ndarray]:
    # Keyed by the matrix text (a cohort shares a handful); a bad matrix raises, naming its file, and is not kept.
    hit = _FILE_MATRICES.get(text)
    if hit is None:
        hit = _ordered(parse_spillover(text, path=path))
        if len(_FILE_MATRICES) < 64:
            _FILE_MATRICES[text] = hit
    return hit


_FILE_MATRICES: dict[str, tuple[list[str], np.ndarray]] = {}


@functools.lru_cache(maxsize=64)
def _inverse(matrix_bytes: bytes, n: int) -> np.ndarray:
    # A cohort shares a handful of spillover matrices: invert each once (without LAPACK, like the product).
    return inv_fixed_order(np.frombuffer(matrix_bytes, dtype=np.float64).reshape(n, n))


def arcsinh(x: np.ndarray, cofactor: float = COFACTOR_FLOW) -> np.ndarray:
    """Compute arcsinh(x / cofactor), the usual variance-stabilising transform (150 flow, 5 mass cytometry).

    Parameters
    ----------
    x
        Linear (compensated) intensities, any shape.
    cofactor
        Divisor of the linear scale: roughly the width of the negative population (150 for fluorescence flow,
        5 for mass cytometry).

    Returns
    -------
    numpy.ndarray
        Same shape; the float dtype of ``x`` is kept (float32 stays float32), other dtypes become float64.
    """
    x = np.asarray(x)
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    out = x.astype(dt, copy=True)
    out *= dt.type(1.0 / cofactor)
    return np.arcsinh(out, out=out)


def gml_asinh(x: np.ndarray, t: float, m: float, a: float) -> np.ndarray:
    """Apply the Gating-ML 2.0 fasinh = (asinh(x sinh(M ln10) / T) + A ln10) / ((M + A) ln10).

    Parameters
    ----------
    x
        Linear intensities.
    t, m, a
        Top of scale (linear units), decades, extra negative decades.

    Returns
    -------
    numpy.ndarray
        float64, same shape; 1 at ``x = T``.
    """
    ln10 = np.log(10.0)
    return (np.arcsinh(np.asarray(x, dtype=np.float64) * np.sinh(m * ln10) / t) + a * ln10) / ((m + a) * ln10)


def gml_linear(x: np.ndarray, t: float, a: float) -> np.ndarray:
    """Apply the Gating-ML 2.0 flin = (x + A) / (T + A).

    Parameters
    ----------
    x
        Linear intensities.
    t, a
        Top of scale and offset (linear units).

    Returns
    -------
    numpy.ndarray
        float64, same shape; 1 at ``x = T``.
    """
    return (np.asarray(x, dtype=np.float64) + a) / (t + a)


def gml_log(x: np.ndarray, t: float, m: float) -> np.ndarray:
    """Apply the Gating-ML 2.0 flog = (1/M) log10(x / T) + 1 (undefined, NaN, for x <= 0).

    Parameters
    ----------
    x
        Linear intensities.
    t, m
        Top of scale (linear units) and decades.

    Returns
    -------
    numpy.ndarray
        float64, same shape; 1 at ``x = T``, NaN where ``x <= 0``.
    """
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, np.log10(np.where(x > 0, x, 1.0) / t) / m + 1.0, np.nan)


def logicle(x: np.ndarray, t: float = 262144, w: float = 0.5, m: float = 4.5, a: float = 0.0, *,
            scale: str = "unit", exact: bool = False) -> np.ndarray:  # fmt: skip
    """Apply the logicle transform (Moore & Parks 2012) with the Gating-ML 2.0 parameters T, W, M, A.

    Parameters
    ----------
    x
        Values (any shape).
    t, w, m, a
        Top of scale, linearisation width (decades), decades, extra negative decades.
    scale
        ``"unit"``: Gating-ML 2.0 / FlowKit scale, 0 to 1 at T; ``"flowcore"``: flowCore's ``logicleTransform``
        scale, 0 to M (the unit scale times M).
    exact
        Solve every value with flowutils' C root finder (FlowKit's implementation). The default interpolates a table
        of 2^16 + 1 exact values at knots uniform in asinh(x) (the knot of a value is computed, not searched), in
        float64 by a compiled loop, many times faster and within 1e-6 of the exact values on [-T, T] (tested); values
        beyond are solved exactly.

    Returns
    -------
    numpy.ndarray
        Same shape as ``x``, float64 (float32 in, float32 out on the fast path).

    Raises
    ------
    ValueError
        An unknown ``scale``.
    """
    if scale not in ("unit", "flowcore"):
        raise ValueError(f"scale must be 'unit' or 'flowcore', not {scale!r}")
    xa = np.asarray(x)
    if exact:
        out = _logicle_exact(xa, t, w, m, a)
    else:
        flat = xa.reshape(-1)
        dt = np.float32 if flat.dtype == np.float32 else np.float64
        u0, inv_du, ys, slope = _logicle_table(float(t), float(w), float(m), float(a), "float64")
        # Knots uniform in asinh(x): the knot of a value is found by arithmetic, not by a search (one compiled pass).
        out = np.empty(flat.shape, dtype=dt)
        if flat.dtype not in (np.float32, np.float64):
            flat = flat.astype(np.float64)
        if _kernels.logicle_lookup(flat, u0, inv_du, ys, slope, float(t), out):
            outside = (flat < -t) | (flat > t) | np.isnan(flat)
            out[outside] = _logicle_exact(flat[outside], t, w, m, a)
        out = out.reshape(xa.shape)
    return out * m if scale == "flowcore" else out


def _logicle_exact(x: np.ndarray, t: float, w: float, m: float, a: float) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64).reshape(-1, 1)
    return _fu.logicle(arr, [0], t=t, m=m, w=w, a=a).reshape(np.shape(x))


@functools.lru_cache(maxsize=16)
def _logicle_table(t: float, w: float, m: float, a: float, dtype: str) -> tuple[float, float, np.ndarray, np.ndarray]:
    # 2^16 + 1 exact values at knots uniform in asinh(x) over [-T, T]: logicle is smooth in asinh(x) (linear near 0,
    # logarithmic above), so linear interpolation between the knots is within 1e-7 of the root-found values.
    n = 2**16
    u = np.linspace(np.arcsinh(-t), np.arcsinh(t), n + 1)
    ys = _logicle_exact(np.sinh(u), t, w, m, a)
    slope = np.append(np.diff(ys), 0.0)
    # Kept in the caller's precision: converting 2 x 65,537 values on every call cost more than a small file's events.
    return float(u[0]), float(n / (u[-1] - u[0])), ys.astype(dtype), slope.astype(dtype)


def hyperlog(x: np.ndarray, t: float = 262144, w: float = 0.5, m: float = 4.5, a: float = 0.0) -> np.ndarray:
    """Apply the hyperlog transform (Bagwell 2005) with the Gating-ML 2.0 parameters T, W, M, A.

    Parameters
    ----------
    x
        Linear intensities (scalar, vector or events x channels).
    t, w, m, a
        Top of scale (linear units), linearisation width (decades), decades, extra negative decades.

    Returns
    -------
    numpy.ndarray
        float64 on the unit scale (1 at ``x = T``), same shape as ``x``.
    """
    arr = np.atleast_2d(np.asarray(x, dtype=np.float64)).reshape(-1, 1) if np.ndim(x) <= 1 else np.asarray(x, float)
    out = _fu.hyperlog(arr, list(range(arr.shape[1])), t=t, m=m, w=w, a=a)
    return out.reshape(np.shape(x))
