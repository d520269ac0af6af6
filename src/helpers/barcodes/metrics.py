"""The metrics barcoding labs compare with, each as its tool defines it.

- :func:`replicate_r` - bartools' replicate agreement: ``sqrt(adjusted R^2)`` of the linear model rep1 ~ rep2 over all
  barcodes (``lm`` in R; statsmodels' OLS here), optionally on log10(CPM + 1).
- :func:`pairwise_correlation` - barcodetrackR's ``cor_plot``: for each pair of samples, the correlation of their
  proportions over the barcodes with a non-zero sum in that pair (``thresh = 0``), with ``cor.test`` p-values
  (``scipy.stats.pearsonr`` / ``spearmanr`` / ``kendalltau`` give the same tests).
- :func:`bias_histogram` - barcodetrackR's ``bias_histogram``: per barcode ``log2(p1 / p2)`` of the proportions in two
  samples (``+-Inf`` for a barcode absent from one), cut into bins with the breaks ``+-(10, 2, 1, 0.5)`` (R's ``cut``,
  right-closed, lowest included), the summed proportion ``p1 + p2`` of the barcodes of each bin.
- :func:`gini` - the Gini coefficient of clone sizes, over the detected clones or, as bartools and ``ineq::Gini`` on a
  whole column, with the zero rows included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .diversity import gini as _gini_nonzero

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["replicate_r", "replicate_agreement", "pairwise_correlation", "bias_histogram", "gini", "BIAS_BREAKS"]

BIAS_BREAKS = (10, 2, 1, 0.5)


def replicate_r(rep1: ArrayLike, rep2: ArrayLike, *, log: bool = False) -> float:
    """Compute bartools' replicate agreement, ``sqrt(adjusted R^2)`` of the least-squares fit ``rep1 ~ rep2``.

    Parameters
    ----------
    rep1, rep2
        Counts of the same barcodes in two PCR replicates (all barcodes, zeros included).
    log
        Fit on ``log10(CPM + 1)`` instead of the counts (R^2 does not depend on the scale of the counts).

    Returns
    -------
    float
        ``sqrt(max(adjusted R^2, 0))``.
    """
    import statsmodels.api as sm

    a, b = np.asarray(rep1, dtype=float), np.asarray(rep2, dtype=float)
    if log:
        a, b = np.log10(a / a.sum() * 1e6 + 1), np.log10(b / b.sum() * 1e6 + 1)
    fit = sm.OLS(a, sm.add_constant(b)).fit()
    return float(np.sqrt(max(fit.rsquared_adj, 0.0)))


def pairwise_correlation(counts: pd.DataFrame, *, method: str = "pearson") -> pd.DataFrame:
    """Correlate every pair of samples as barcodetrackR's ``cor_plot`` does (with p-values, non-zero rows).

    Parameters
    ----------
    counts
        Barcode x sample counts.
    method
        ``"pearson"``, ``"spearman"`` or ``"kendall"``.

    Returns
    -------
    DataFrame
        One row per ordered pair of samples (a sample with itself included): ``sample_1, sample_2, n_barcodes``
        (rows with reads in either), ``correlation`` of the proportions and its ``p_value`` (NaN with fewer than 3
        barcodes or a constant sample).

    Raises
    ------
    ValueError
        ``method`` is not ``pearson``, ``spearman`` or ``kendall``.
    """
    from scipy import stats

    tests = {"pearson": stats.pearsonr, "spearman": stats.spearmanr, "kendall": stats.kendalltau}
    if method not in tests:
        raise ValueError(f"method must be one of {', '.join(tests)}")
    prop = counts.astype(float) / counts.sum(axis=0).replace(0, np.nan)
    cols = list(prop.columns)
    rows = []
    for i in cols:
        for j in cols:
            x, y = prop[i].to_numpy(), prop[j].to_numpy()
            keep = (x + y) > 0
            r = p = np.nan
            if keep.sum() >= 3 and np.ptp(x[keep]) > 0 and np.ptp(y[keep]) > 0:
                res = tests[method](x[keep], y[keep])
                r, p = float(res[0]), float(res[1])
            rows.append({"sample_1": i, "sample_2": j, "n_barcodes": int(keep.sum()), "correlation": r, "p_value": p})
    return pd.DataFrame(rows)


def bias_histogram(counts_1: ArrayLike, counts_2: ArrayLike, *,
                   breaks: Sequence[float] = BIAS_BREAKS) -> pd.DataFrame:  # fmt: skip
    """Bin the barcodes by ``log2(p1 / p2)`` as barcodetrackR's ``bias_histogram`` does, summing their proportions.

    Parameters
    ----------
    counts_1, counts_2
        Counts of the same barcodes in two samples.
    breaks
        Positive bin edges of ``log2(p1 / p2)``, mirrored to the negative side (``-inf`` and ``inf`` close the ends).

    Returns
    -------
    DataFrame
        One row per bin in order: ``bin`` (R's interval label), ``lower, upper`` (log2 ratio), ``n_barcodes`` and
        ``added_proportion`` (summed ``p1 + p2``, 0-2).
    """
    a, b = np.asarray(counts_1, dtype=float), np.asarray(counts_2, dtype=float)
    p1, p2 = a / a.sum(), b / b.sum()
    keep = (p1 + p2) > 0
    p1, p2 = p1[keep], p2[keep]
    with np.errstate(divide="ignore"):
        lb = np.log2(p1) - np.log2(p2)
    edges = np.concatenate([[-np.inf], np.sort(np.unique(np.concatenate([-np.asarray(breaks, float), breaks]))),
                            [np.inf]])  # fmt: skip
    # R's cut(..., include.lowest = TRUE): intervals (a, b], the first one [a, b]
    idx = np.searchsorted(edges, lb, side="left") - 1
    idx[lb == edges[0]] = 0
    added = p1 + p2
    rows = []
    for k in range(edges.size - 1):
        lo, hi = edges[k], edges[k + 1]
        sel = idx == k
        label = f"{'[' if k == 0 else '('}{lo:g},{hi:g}]"
        rows.append({"bin": label, "lower": lo, "upper": hi, "n_barcodes": int(sel.sum()),
                     "added_proportion": float(added[sel].sum())})  # fmt: skip
    return pd.DataFrame(rows)


def gini(counts: ArrayLike | pd.Series | pd.DataFrame, *, include_zeros: bool = False) -> np.ndarray:
    """Compute the Gini coefficient of clone sizes per column, over detected clones or (``include_zeros``) all rows.

    With zeros, ``G = sum_i (2 i - n - 1) x_(i) / (n sum x)`` over all ``n`` rows (``ineq::Gini`` without its
    finite-sample correction), so unseen barcodes of the library count as clones of size zero.

    Parameters
    ----------
    counts
        A vector, or a barcode x sample matrix.
    include_zeros
        Count the zero rows as clones.

    Returns
    -------
    ndarray
        One coefficient per column (0 = equal sizes); NaN for an empty column.
    """
    if not include_zeros:
        return _gini_nonzero(counts)
    x = np.asarray(counts, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    out = []
    for col in x.T:
        v = np.sort(col)
        n, s = v.size, v.sum()
        out.append(np.nan if s <= 0 else float(((2 * np.arange(1, n + 1) - n - 1) * v).sum() / (n * s)))
    return np.array(out)


def replicate_agreement(counts: pd.DataFrame, design: pd.DataFrame) -> pd.DataFrame:
    """Measure PCR-replicate agreement per unit (mouse, tissue, timepoint): Pearson on CPM, bartools' R.

    Parameters
    ----------
    counts
        Barcodes x libraries.
    design
        One row per library (``sample, mouse, tissue, timepoint, pcr_replicate``).

    Returns
    -------
    DataFrame
        ``unit`` (``mouse|tissue|timepoint``), ``n_replicates``, ``pearson_cpm`` (mean over replicate pairs),
        ``bartools_r`` (:func:`replicate_r` of the first two replicates); NaN for a unit with one replicate or fewer
        than 3 barcodes.
    """
    d = design.set_index("sample").loc[list(counts.columns)].reset_index()
    d["unit"] = d["mouse"] + "|" + d["tissue"] + "|" + d["timepoint"]
    rows = []
    for unit, sub in d.sort_values("pcr_replicate").groupby("unit", sort=True):
        x = counts[list(sub["sample"])]
        x = x[x.sum(axis=1) > 0]
        r = br = np.nan
        if x.shape[1] >= 2 and len(x) >= 3:
            cpm = x / x.sum(axis=0) * 1e6
            c = np.corrcoef(cpm.to_numpy().T)
            r = float(c[np.triu_indices_from(c, 1)].mean())
            br = replicate_r(x.iloc[:, 0], x.iloc[:, 1])
        rows.append({"unit": unit, "n_replicates": x.shape[1], "pearson_cpm": r, "bartools_r": br})
    return pd.DataFrame(rows)
