"""Clonal diversity: Hill numbers and the classical indices, per sample (columns of a barcode x sample matrix).

Hill numbers (Hill 1973; Chao et al. 2014): ``qD = (sum p_i^q)^(1/(1-q))``; q = 0 richness, q -> 1
``exp(Shannon)``, q = 2 inverse Simpson, q -> inf ``1 / max p``. Shannon uses natural logarithms; Simpson is the
Gini-Simpson index ``1 - sum p^2`` (vegan's and barcodetrackR's ``simpson``); the Gini coefficient measures inequality of
clone sizes among detected clones (0 = all equal).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["hill_numbers", "diversity_table", "gini"]


def _as_matrix(counts: ArrayLike | pd.Series | pd.DataFrame) -> tuple[np.ndarray, list]:
    if isinstance(counts, pd.DataFrame):
        return counts.to_numpy(dtype=float), list(counts.columns)
    if isinstance(counts, pd.Series):
        return counts.to_numpy(dtype=float)[:, None], [counts.name]
    arr = np.asarray(counts, dtype=float)
    return (arr[:, None] if arr.ndim == 1 else arr), list(range(1 if arr.ndim == 1 else arr.shape[1]))


def hill_numbers(counts: ArrayLike | pd.Series | pd.DataFrame,
                 q: Iterable[float] = (0, 0.5, 1, 2, np.inf)) -> pd.DataFrame | pd.Series:  # fmt: skip
    """Compute Hill numbers of order ``q`` for each column of ``counts`` (counts or proportions; zeros ignored).

    Parameters
    ----------
    counts
        A vector, or a barcode x sample matrix.
    q
        Orders (0 richness, 1 exp(Shannon), 2 inverse Simpson, inf the inverse of the largest share).

    Returns
    -------
    Series or DataFrame
        Effective numbers of clones, indexed by q (float) for a 1-D input, otherwise rows = q and columns = samples;
        NaN for an empty column.

    Raises
    ------
    ValueError
        A count is negative.
    """
    x, cols = _as_matrix(counts)
    if (x < 0).any():
        raise ValueError("counts must be non-negative")
    tot = x.sum(axis=0)
    p = np.divide(x, tot, out=np.zeros_like(x), where=tot > 0)
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.where(p > 0, np.log(np.where(p > 0, p, 1)), 0.0)
        for order in q:
            if order == 0:
                v = (p > 0).sum(axis=0).astype(float)
            elif order == 1:
                v = np.exp(-(p * logp).sum(axis=0))
            elif np.isinf(order):
                v = 1.0 / p.max(axis=0)
            else:
                v = np.where(p > 0, p**order, 0.0).sum(axis=0) ** (1.0 / (1.0 - order))
            out[float(order)] = np.where(tot > 0, v, np.nan)
    df = pd.DataFrame(out, index=cols).T
    df.index.name = "q"
    return df.iloc[:, 0].rename(None) if np.ndim(counts) == 1 else df


def gini(counts: ArrayLike | pd.Series | pd.DataFrame) -> np.ndarray:
    """Compute the Gini coefficient of the non-zero clone sizes of each column.

    Parameters
    ----------
    counts
        A vector, or a barcode x sample matrix.

    Returns
    -------
    ndarray
        One coefficient per column, 0 (all clones equal) to near 1 (one clone dominates); NaN for an empty column.
    """
    x, _ = _as_matrix(counts)
    out = []
    for col in x.T:
        v = np.sort(col[col > 0])
        n = v.size
        if n == 0:
            out.append(np.nan)
            continue
        ranks = np.arange(1, n + 1)
        out.append(float((2 * (ranks * v).sum()) / (n * v.sum()) - (n + 1) / n))
    return np.array(out)


def diversity_table(counts: pd.DataFrame) -> pd.DataFrame:
    """Tabulate per sample (column) total reads, richness, Shannon, Simpson, inverse Simpson, Gini and Hill numbers.

    Parameters
    ----------
    counts
        Barcode x sample counts.

    Returns
    -------
    DataFrame
        One row per sample (index ``sample``): ``reads``, ``richness``, ``shannon`` (natural log), ``simpson``
        (Gini-Simpson), ``inverse_simpson``, ``gini``, ``hill_0.5``, ``hill_1``, ``hill_2``, ``hill_inf``.

    Raises
    ------
    ValueError
        A count is negative.
    """
    h = hill_numbers(counts)
    x, cols = _as_matrix(counts)
    tot = x.sum(axis=0)
    p = np.divide(x, tot, out=np.zeros_like(x), where=tot > 0)
    sum_p2 = (p**2).sum(axis=0)
    df = pd.DataFrame(
        {
            "reads": tot,
            "richness": h.loc[0.0].to_numpy(),
            "shannon": np.log(h.loc[1.0].to_numpy()),
            "simpson": np.where(tot > 0, 1 - sum_p2, np.nan),
            "inverse_simpson": h.loc[2.0].to_numpy(),
            "gini": gini(counts),
            "hill_0.5": h.loc[0.5].to_numpy(),
            "hill_1": h.loc[1.0].to_numpy(),
            "hill_2": h.loc[2.0].to_numpy(),
            "hill_inf": h.loc[np.inf].to_numpy(),
        },
        index=pd.Index(cols, name="sample"),
    )
    return df
