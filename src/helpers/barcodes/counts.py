"""From FASTQ libraries to error-corrected count matrices, per PDX and per sample.

Error correction is done per PDX on the reads pooled over all its libraries: a true barcode is then abundant in the
pool even when it is rare in one sample, so its sequencing-error variants are absorbed everywhere consistently and the
same clone gets the same name in every mouse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .contract import BarcodeDataset
from .correct import cluster_barcodes
from .extract import extract_barcodes

__all__ = ["count_libraries", "correct_by_group", "sample_counts", "wide_matrix", "detection_thresholds"]


def count_libraries(
    dataset: BarcodeDataset, *, min_mean_quality: float | None = 30, max_mismatches: int = 0,
    mapper: Callable[[Callable, list], list] | None = None, **kwargs: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Extract barcodes from every library of a dataset, one task per FASTQ.

    Parameters
    ----------
    dataset
        A validated barcoding folder (:func:`helpers.barcodes.load_barcode_dataset`).
    min_mean_quality
        Reads with a lower mean Phred quality are rejected (``None``: no filter).
    max_mismatches
        Mismatches allowed in the fixed positions of the read pattern.
    mapper
        ``mapper(fn, items) -> list`` running one task per library, results in the order of ``items``: e.g.
        :func:`helpers.workflow.map_tasks` (the dask cluster of a ``run_all.py --scheduler/--local-cluster`` run, else a
        local pool) or an executor's ``map``. Default: one library after the other in this process. The tables are the
        same, byte for byte, either way; a worker holds one library at a time.
    **kwargs
        Further options of :func:`helpers.barcodes.extract_barcodes`.

    Returns
    -------
    counts : pandas.DataFrame
        Long table ``library_id, barcode, count`` (reads, uncorrected).
    qc : pandas.DataFrame
        One row per library: ``library_id`` and the fields of
        :meth:`helpers.barcodes.extract.ExtractionResult.summary` (reads, matched reads, match rate, distinct
        barcodes, rejections by reason).
    """
    opts = {"min_mean_quality": min_mean_quality, "max_mismatches": max_mismatches, **kwargs}
    items = [(str(dataset.root / rel), dataset.pattern, opts) for rel in dataset.sheet["file"]]
    results = [_count_one(it) for it in items] if mapper is None else list(mapper(_count_one, items))
    rows, qc = [], []
    for lib, (c, summary) in zip(dataset.sheet["library_id"], results, strict=True):
        c.insert(0, "library_id", lib)
        rows.append(c)
        qc.append({"library_id": lib, **summary})
    counts = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["library_id", "barcode", "count"])
    return counts, pd.DataFrame(qc)


def _count_one(item: tuple) -> tuple[pd.DataFrame, dict]:
    """Count one FASTQ as one task (module level, so that process pools and dask workers can unpickle it)."""
    path, pattern, opts = item
    res = extract_barcodes(path, pattern, **opts)
    return res.counts.reset_index(), res.summary()


def correct_by_group(
    counts: pd.DataFrame,
    sheet: pd.DataFrame,
    *,
    group: str = "pdx_id",
    method: str = "message_passing",
    distance: int = 2,
    ratio: float = 5.0,
    metric: str = "hamming",
) -> pd.DataFrame:
    """Error-correct barcodes within each ``group`` (pooled over its libraries); return corrected long counts.

    Parameters
    ----------
    counts
        Long uncorrected counts ``library_id, barcode, count`` (:func:`count_libraries`).
    sheet
        The sample sheet (``library_id`` and ``group``).
    group
        Sheet column whose libraries are pooled for clustering (a clone keeps one name in every mouse of a PDX).
    method, distance, ratio, metric
        Clustering (:func:`helpers.barcodes.cluster_barcodes`).

    Returns
    -------
    DataFrame
        ``group, library_id, barcode, count`` with barcodes replaced by their centroid and summed.
    """
    lib_group = sheet.set_index("library_id")[group]
    df = counts.assign(**{group: counts["library_id"].map(lib_group)})
    out = []
    for _, sub in df.groupby(group, sort=True):
        pooled = sub.groupby("barcode")["count"].sum()
        centroid = cluster_barcodes(pooled, method=method, distance=distance, ratio=ratio, metric=metric)
        s = sub.assign(barcode=sub["barcode"].map(centroid))
        out.append(s.groupby([group, "library_id", "barcode"], as_index=False)["count"].sum())
    return pd.concat(out, ignore_index=True)


def detection_thresholds(long: pd.DataFrame, *, quantile: float = 0.99, floor: int = 2) -> pd.Series:
    """Estimate per sample the read count that noise reaches: a high quantile of single-replicate barcode counts.

    ``long`` holds ``sample_key, barcode, library_id, count`` for samples with PCR replicates. Barcodes seen in one PCR
    replicate only are PCR or sequencing noise (or clones too rare to sample twice); a barcode whose summed count is above
    this level, or that is seen in two replicates, is called detected. Samples without a second replicate get ``floor``.

    Parameters
    ----------
    long
        Long counts ``sample_key, barcode, library_id, count``.
    quantile
        Quantile of the single-replicate counts taken as the noise level.
    floor
        The lowest threshold (and that of samples with one replicate).

    Returns
    -------
    Series
        ``detection_threshold`` (reads) per sample key, at least ``floor``.
    """
    per = long.groupby(["sample_key", "barcode"]).agg(n_rep=("library_id", "nunique"), count=("count", "sum"))
    n_lib = long.groupby("sample_key")["library_id"].nunique()
    single = per[per["n_rep"] == 1].reset_index()
    thr = single.groupby("sample_key")["count"].quantile(quantile).reindex(n_lib.index)
    thr = np.maximum(thr.fillna(floor), floor)
    thr[n_lib < 2] = floor
    return thr.rename("detection_threshold")


def sample_counts(corrected: pd.DataFrame, sheet: pd.DataFrame, *, quantile: float = 0.99, floor: int = 2) -> pd.DataFrame:
    """Merge PCR replicates into samples (a mouse at a timepoint) and flag detected barcodes.

    Parameters
    ----------
    corrected
        Long corrected counts ``library_id, barcode, count`` (:func:`correct_by_group`).
    sheet
        The validated sample sheet (``library_id, mouse_id, arm, timepoint, pdx_id``).
    quantile, floor
        Detection threshold (:func:`detection_thresholds`).

    Returns
    -------
    DataFrame
        ``pdx_id, mouse_id, arm, timepoint, sample_key, barcode, count, n_replicates, detected, frequency``; the
        frequency is among detected barcodes of the sample (0 for a barcode not detected; detected frequencies sum
        to 1 per sample).
    """
    meta = sheet.drop_duplicates("library_id").set_index("library_id")
    df = corrected.copy()
    for col in ("mouse_id", "arm", "timepoint"):
        df[col] = df["library_id"].map(meta[col])
    if "pdx_id" not in df:
        df["pdx_id"] = df["library_id"].map(meta["pdx_id"])
    df["sample_key"] = df["mouse_id"] + "|" + df["timepoint"]
    thr = detection_thresholds(df, quantile=quantile, floor=floor)
    agg = df.groupby(["pdx_id", "mouse_id", "arm", "timepoint", "sample_key", "barcode"], as_index=False).agg(
        count=("count", "sum"), n_replicates=("library_id", "nunique")
    )
    n_lib = df.groupby("sample_key")["library_id"].nunique()
    agg["detected"] = (agg["count"] > agg["sample_key"].map(thr)) | (
        (agg["n_replicates"] >= 2) & (agg["sample_key"].map(n_lib) >= 2)
    )
    det_tot = agg[agg["detected"]].groupby("sample_key")["count"].sum()
    agg["frequency"] = np.where(agg["detected"], agg["count"] / agg["sample_key"].map(det_tot), 0.0)
    return agg.sort_values(["pdx_id", "mouse_id", "timepoint", "count", "barcode"], ascending=[1, 1, 1, 0, 1],
                           ignore_index=True)  # fmt: skip


def wide_matrix(long: pd.DataFrame, *, columns: str = "library_id", value: str = "count") -> pd.DataFrame:
    """Pivot a long table into a barcode x ``columns`` matrix (zeros where absent), rows ordered by total count.

    Parameters
    ----------
    long
        Long table with ``barcode``, ``columns`` and ``value``.
    columns
        Column whose values become the matrix columns.
    value
        Column summed into the cells.

    Returns
    -------
    DataFrame
        Barcodes (most reads first, ties by barcode) x ``columns``.
    """
    m = long.pivot_table(index="barcode", columns=columns, values=value, aggfunc="sum", fill_value=0)
    m = m.loc[m.sum(axis=1).sort_index().sort_values(ascending=False, kind="stable").index]
    m.columns.name = columns
    return m
