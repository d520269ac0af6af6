"""Quality control of barcode libraries: PCR-replicate agreement and saturation (rarefaction)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import gammaln

__all__ = ["replicate_correlation", "rarefaction", "correlation_matrix"]


def correlation_matrix(counts: pd.DataFrame, *, method: str = "pearson", log: bool = False) -> pd.DataFrame:
    """Correlation between samples (columns) of a barcode x sample matrix.

    Counts are scaled to counts per million; with ``log`` they are also ``log1p``-transformed, which weighs rare
    clones (and their sampling noise) as much as dominant ones (barcodetrackR correlates raw or log values).
    """
    x = (counts.astype(float) / counts.sum(axis=0).replace(0, np.nan) * 1e6).fillna(0.0)
    if log:
        x = np.log1p(x)
    return x.corr(method=method)


def replicate_correlation(corrected: pd.DataFrame, sheet: pd.DataFrame, *, method: str = "pearson",
                          log: bool = False) -> pd.DataFrame:  # fmt: skip
    """Correlation between the PCR replicates of every sample (mouse x timepoint) on counts per million.

    Returns one row per sample with ``mouse_id, timepoint, n_replicates, correlation`` (mean over replicate pairs).
    """
    meta = sheet.set_index("library_id")
    rows = []
    df = corrected.assign(mouse_id=corrected["library_id"].map(meta["mouse_id"]),
                          timepoint=corrected["library_id"].map(meta["timepoint"]))  # fmt: skip
    for (mouse, tp), sub in df.groupby(["mouse_id", "timepoint"], sort=True):
        m = sub.pivot_table(index="barcode", columns="library_id", values="count", aggfunc="sum", fill_value=0)
        r = np.nan
        if m.shape[1] >= 2:
            c = correlation_matrix(m, method=method, log=log).to_numpy()
            r = float(c[np.triu_indices_from(c, 1)].mean())
        rows.append({"mouse_id": mouse, "timepoint": tp, "n_replicates": m.shape[1], "correlation": r})
    return pd.DataFrame(rows)


def rarefaction(counts: pd.Series | np.ndarray, depths) -> np.ndarray:
    """Expected number of distinct barcodes in a random subsample of ``depths`` reads (Hurlbert 1971), exact.

    ``E[S(n)] = sum_i 1 - C(N - N_i, n) / C(N, n)``; a curve that flattens means the library was sequenced to
    saturation.
    """
    x = np.asarray(counts, dtype=float)
    x = x[x > 0]
    total = x.sum()
    depths = np.atleast_1d(np.asarray(depths, dtype=float))
    out = np.empty(depths.size)
    for k, n in enumerate(depths):
        if n >= total:
            out[k] = x.size
            continue
        # log C(N - Ni, n) - log C(N, n); the term is 0 when N - Ni < n
        with np.errstate(invalid="ignore"):
            lg = (gammaln(total - x + 1) - gammaln(total - x - n + 1)) - (gammaln(total + 1) - gammaln(total - n + 1))
        absent = np.where(total - x >= n, np.exp(lg), 0.0)
        out[k] = float((1 - absent).sum())
    return out
