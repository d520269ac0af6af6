"""Quality control of barcode libraries: PCR-replicate agreement and saturation (rarefaction)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.special import gammaln

__all__ = ["replicate_correlation", "rarefaction", "correlation_matrix", "rarefaction_curves", "saturation",
           "detected_per_mouse"]


def correlation_matrix(counts: pd.DataFrame, *, method: str = "pearson", log: bool = False) -> pd.DataFrame:
    """Correlation between samples (columns) of a barcode x sample matrix.

    Counts are scaled to counts per million; with ``log`` they are also ``log1p``-transformed, which weighs rare
    clones (and their sampling noise) as much as dominant ones (barcodetrackR correlates raw or log values).

    Parameters
    ----------
    counts
        Barcode x sample counts.
    method
        ``"pearson"``, ``"spearman"`` or ``"kendall"``.
    log
        Correlate ``log1p`` of counts per million.

    Returns
    -------
    DataFrame
        Samples x samples.
    """
    x = (counts.astype(float) / counts.sum(axis=0).replace(0, np.nan) * 1e6).fillna(0.0)
    if log:
        x = np.log1p(x)
    return x.corr(method=method)


def replicate_correlation(corrected: pd.DataFrame, sheet: pd.DataFrame, *, method: str = "pearson",
                          log: bool = False) -> pd.DataFrame:  # fmt: skip
    """Correlation between the PCR replicates of every sample (mouse x timepoint) on counts per million.

    Parameters
    ----------
    corrected
        Long corrected counts ``library_id, barcode, count``.
    sheet
        The sample sheet (``library_id, mouse_id, timepoint``).
    method, log
        As in :func:`correlation_matrix`.

    Returns
    -------
    DataFrame
        One row per sample: ``mouse_id, timepoint, n_replicates, correlation`` (mean over replicate pairs).
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


def rarefaction(counts: pd.Series | np.ndarray, depths: float | Iterable[float] | np.ndarray) -> np.ndarray:
    """Compute the expected number of distinct barcodes in a random subsample of ``depths`` reads (Hurlbert 1971).

    Exact, not simulated.

    ``E[S(n)] = sum_i 1 - C(N - N_i, n) / C(N, n)``; a curve that flattens means the library was sequenced to
    saturation.

    Parameters
    ----------
    counts
        Reads per barcode of one sample.
    depths
        Subsample sizes (reads).

    Returns
    -------
    ndarray
        Expected distinct barcodes at each depth (all barcodes with reads at or beyond the sample's depth).
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


def rarefaction_curves(samples: pd.DataFrame, *, points: int = 25) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Rarefaction curve of every sample over its detected barcodes.

    Parameters
    ----------
    samples
        Long per-sample counts (:func:`helpers.barcodes.sample_counts`: ``sample_key, count, detected``).
    points
        Depths per curve, evenly spaced from 0 to the sample's reads.

    Returns
    -------
    dict
        ``sample_key -> (depths, expected distinct barcodes)`` (:func:`rarefaction`).
    """
    curves = {}
    for key, sub in samples[samples["detected"]].groupby("sample_key"):
        depth = np.linspace(0, sub["count"].sum(), points)
        curves[key] = (depth, rarefaction(sub["count"].to_numpy(), depth))
    return curves


def saturation(curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> pd.Series:
    """Share of a sample's barcodes first seen in the last step of its rarefaction curve.

    Parameters
    ----------
    curves
        Output of :func:`rarefaction_curves`.

    Returns
    -------
    Series
        Per sample key; near 0 for a library sequenced to saturation.
    """
    return pd.Series({k: (y[-1] - y[-2]) / max(y[-1], 1) for k, (_, y) in curves.items()})


def detected_per_mouse(samples: pd.DataFrame) -> pd.DataFrame:
    """Mean number of detected barcodes per mouse, by PDX, arm and timepoint.

    Parameters
    ----------
    samples
        Long per-sample counts (``pdx_id, arm, timepoint, mouse_id, detected``).

    Returns
    -------
    DataFrame
        Indexed by PDX, one column per (arm, timepoint), one decimal.
    """
    keys = ["pdx_id", "arm", "timepoint"]
    det = samples.groupby(keys).agg(detected=("detected", "sum"))
    det = det.join(samples[samples["detected"]].groupby(keys)["mouse_id"].nunique())
    return (det["detected"] / det["mouse_id"]).unstack(["arm", "timepoint"]).round(1)
