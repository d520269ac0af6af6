"""The processing chain of the barcoding axis in one call: a data folder to counts per mouse.

A folder holds either FASTQ libraries (``barcodes/sample_sheet.csv``, ``library_pattern.txt``, ``fastq/``; see
:mod:`.contract`) or a count table written by another tool (``barcodes/counts.*`` and a design sheet; see
:mod:`.tables`). FASTQ libraries are extracted (:func:`~helpers.barcodes.counts.count_libraries`), error-corrected per
PDX over their pooled reads (:func:`~helpers.barcodes.counts.correct_by_group`) and thresholded per sample
(:func:`~helpers.barcodes.counts.sample_counts`); a count table comes corrected. Both then have their PCR replicates
merged per mouse (:func:`~helpers.barcodes.tables.collapse_replicates`), the unit of every test.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .contract import BarcodeDataset, load_barcode_dataset
from .counts import correct_by_group, count_libraries, sample_counts, wide_matrix
from .tables import (
    COUNT_FILE_NAMES,
    collapse_replicates,
    design_from_fastq_sheet,
    load_count_dataset,
    samples_from_units,
)

__all__ = ["INPUT_KINDS", "BarcodeData", "input_kind", "process_barcodes"]

INPUT_KINDS = ("fastq", "counts")


def input_kind(data_dir: str | Path) -> str:
    """Whether a cohort's barcoding folder holds FASTQ libraries or a count table.

    Parameters
    ----------
    data_dir
        Cohort folder (or its ``barcodes`` folder).

    Returns
    -------
    str
        ``"counts"`` when ``barcodes/`` holds one of :data:`~helpers.barcodes.tables.COUNT_FILE_NAMES`, else
        ``"fastq"``.
    """
    root = Path(data_dir)
    root = root / "barcodes" if (root / "barcodes").is_dir() else root
    return "counts" if any((root / n).is_file() for n in COUNT_FILE_NAMES) else "fastq"


@dataclasses.dataclass(frozen=True)
class BarcodeData:
    """A barcoding data folder after the processing chain.

    Attributes
    ----------
    kind
        ``"fastq"`` or ``"counts"`` (:func:`input_kind`).
    design
        One row per library: ``sample, mouse, arm, tissue, timepoint, pcr_replicate, pdx_id, ...``.
    library_counts
        Barcodes x libraries (error-corrected counts).
    counts
        Barcodes x mice (PCR replicates merged), the unit of the tests.
    units
        One row per column of ``counts``: ``unit, mouse, arm, tissue, timepoint, pdx_id, lib_size, ...``.
    samples
        Long table of each barcode's count per sample with its detection call.
    dataset
        The validated FASTQ folder (``None`` for a count table).
    uncorrected
        Long ``library_id, barcode, count`` before error correction (FASTQ only).
    library_qc
        Per library: reads, matched reads, match rate, rejections by reason (FASTQ only).
    corrected
        Long ``pdx_id, library_id, barcode, count`` after error correction (FASTQ only).
    distinct
        Per PDX: distinct barcodes before and after error correction (FASTQ only).
    """

    kind: str
    design: pd.DataFrame
    library_counts: pd.DataFrame
    counts: pd.DataFrame
    units: pd.DataFrame
    samples: pd.DataFrame
    dataset: BarcodeDataset | None = None
    uncorrected: pd.DataFrame | None = None
    library_qc: pd.DataFrame | None = None
    corrected: pd.DataFrame | None = None
    distinct: pd.DataFrame | None = None


def process_barcodes(
    data_dir: str | Path,
    *,
    min_mean_quality: float | None = 30,
    max_mismatches: int = 1,
    cluster_method: str = "message_passing",
    cluster_distance: int = 2,
    cluster_ratio: float = 5.0,
    cluster_metric: str = "hamming",
    collapse: str = "sum",
    mapper: Callable[[Callable, list], list] | None = None,
) -> BarcodeData:
    """Read a cohort's barcoding folder and bring it to counts per mouse.

    Parameters
    ----------
    data_dir
        Cohort folder (or its ``barcodes`` folder).
    min_mean_quality
        Reads with a lower mean Phred quality are rejected (``None``: no filter). FASTQ only.
    max_mismatches
        Mismatches allowed in the fixed positions of the read pattern. FASTQ only.
    cluster_method, cluster_distance, cluster_ratio, cluster_metric
        Error correction (:func:`~helpers.barcodes.correct.cluster_barcodes`). FASTQ only.
    collapse
        How PCR replicates of a mouse are merged: ``"sum"`` or ``"truncated_mean"``.
    mapper
        Runs the per-FASTQ extraction, one task per library (e.g. :func:`helpers.workflow.map_tasks`, which uses the
        run's dask cluster); ``None``: in this process. FASTQ only.

    Returns
    -------
    BarcodeData
        Every table of the chain.

    Raises
    ------
    DataContractError
        A sheet, pattern, FASTQ file or count table that breaks the data contract.
    """
    if input_kind(data_dir) == "counts":
        cds = load_count_dataset(data_dir)
        counts, units = collapse_replicates(cds.counts, cds.design, method=collapse)
        return BarcodeData(kind="counts", design=cds.design, library_counts=cds.counts, counts=counts, units=units,
                           samples=samples_from_units(counts, units))  # fmt: skip
    ds = load_barcode_dataset(data_dir)
    sheet = ds.sheet
    design = design_from_fastq_sheet(sheet)
    raw, lib_qc = count_libraries(ds, min_mean_quality=min_mean_quality, max_mismatches=max_mismatches, mapper=mapper)
    corrected = correct_by_group(raw, sheet, method=cluster_method, distance=cluster_distance, ratio=cluster_ratio,
                                 metric=cluster_metric)  # fmt: skip
    pdx_of = raw["library_id"].map(sheet.set_index("library_id")["pdx_id"])
    distinct = pd.DataFrame({"distinct_before": raw.assign(pdx_id=pdx_of).groupby("pdx_id")["barcode"].nunique(),
                             "distinct_after": corrected.groupby("pdx_id")["barcode"].nunique()})  # fmt: skip
    library_counts = wide_matrix(corrected, columns="library_id").reindex(columns=sheet["library_id"], fill_value=0)
    library_counts.columns.name = "sample"
    counts, units = collapse_replicates(library_counts, design, method=collapse)
    return BarcodeData(kind="fastq", design=design, library_counts=library_counts, counts=counts, units=units,
                       samples=sample_counts(corrected, sheet), dataset=ds, uncorrected=raw, library_qc=lib_qc,
                       corrected=corrected, distinct=distinct)  # fmt: skip
