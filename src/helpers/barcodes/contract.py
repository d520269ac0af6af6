"""The barcoding data contract: sample sheet, library pattern and FASTQ files, validated on load.

Layout of ``<data_dir>/barcodes/`` (see docs/barcodes.md)::

    sample_sheet.csv       one row per sequenced PCR library
    library_pattern.txt    the library's read pattern (``pattern: ...``)
    fastq/<library>.fastq.gz

Sample sheet columns: ``file`` (relative to ``barcodes/``), ``library_id`` (unique), ``pdx_id``, ``patient_id``,
``sample_id`` (the patient sample the xenograft came from), ``mouse_id``, ``arm`` (``vehicle`` or ``aza_ven``),
``timepoint`` (``pre_treatment``, ``post_treatment`` or ``relapse``), ``pcr_replicate`` (positive integer).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import DataContractError
from ..plausibility import fastq_problems, report
from ..safepaths import check_name, confined_path
from ..validation import read_csv_checked
from .patterns import ReadPattern, read_pattern_file

__all__ = ["SHEET_COLUMNS", "ARMS", "TIMEPOINTS", "BarcodeDataset", "load_sample_sheet", "load_barcode_dataset"]

SHEET_COLUMNS = ("file", "library_id", "pdx_id", "patient_id", "sample_id", "mouse_id", "arm", "timepoint",
                 "pcr_replicate")  # fmt: skip
ARMS = ("vehicle", "aza_ven")
TIMEPOINTS = ("pre_treatment", "post_treatment", "relapse")


@dataclass
class BarcodeDataset:
    """A validated barcoding data folder."""

    root: Path
    sheet: pd.DataFrame
    pattern: ReadPattern

    def fastq_path(self, library_id: str) -> Path:
        """Locate a library's FASTQ file.

        Parameters
        ----------
        library_id
            A ``library_id`` of the sample sheet.

        Returns
        -------
        pathlib.Path
            ``root`` joined with the sheet's ``file`` of that library.

        Raises
        ------
        KeyError
            ``library_id`` is not in the sheet.
        """
        return self.root / self.sheet.set_index("library_id").loc[library_id, "file"]


def load_sample_sheet(path: str | Path, *, check_files: bool = True, problems: list | None = None) -> pd.DataFrame:
    """Read and validate ``sample_sheet.csv``.

    Parameters
    ----------
    path
        The sheet.
    check_files
        Also check that every FASTQ file exists and holds reads.
    problems
        When given, plausibility problems of the FASTQ files are appended to it instead of raised
        (``python -m helpers check`` lists them all).

    Returns
    -------
    DataFrame
        The sheet, ``pcr_replicate`` as integers.

    Raises
    ------
    DataContractError
        Missing file or column, empty cell, unknown arm or timepoint, non-integer or non-positive PCR replicate,
        duplicated library, a mouse in two arms or two PDX, a duplicated (mouse, timepoint, replicate), a PDX with
        two patients, an id unusable as a file name, a path outside the folder, or (``check_files``) a FASTQ file that
        does not exist or holds no reads. The message names the row (line number in the file, header = 1) and column.
    """
    path = Path(path)
    df = read_csv_checked(path, what="sample sheet", dtype=str, na_values=[])  # empty cells stay "" for the checks below
    missing = [c for c in SHEET_COLUMNS if c not in df.columns]
    if missing:
        raise DataContractError(path, f"missing required column(s): {', '.join(missing)}", column=missing[0])
    for col in SHEET_COLUMNS:
        empty = df.index[df[col].str.strip() == ""]
        if len(empty):
            raise DataContractError(path, "empty value", row=int(empty[0]) + 2, column=col)
    for col in ("library_id", "pdx_id", "patient_id", "sample_id", "mouse_id"):  # they become file names of figures
        for i, v in enumerate(df[col]):
            check_name(v, what=col, path=path, row=i + 2, column=col)
    for col, allowed in (("arm", ARMS), ("timepoint", TIMEPOINTS)):
        bad = df.index[~df[col].isin(allowed)]
        if len(bad):
            raise DataContractError(path, f"{df.loc[bad[0], col]!r} is not one of {', '.join(allowed)}",
                                    row=int(bad[0]) + 2, column=col)  # fmt: skip
    rep = pd.to_numeric(df["pcr_replicate"], errors="coerce")
    bad = df.index[rep.isna() | (rep < 1) | (rep % 1 != 0)]
    if len(bad):
        raise DataContractError(path, f"PCR replicate must be a positive integer, got {df.loc[bad[0], 'pcr_replicate']!r}",
                                row=int(bad[0]) + 2, column="pcr_replicate")  # fmt: skip
    df["pcr_replicate"] = rep.astype("int64")
    dup = df.index[df["library_id"].duplicated()]
    if len(dup):
        raise DataContractError(path, f"duplicated library {df.loc[dup[0], 'library_id']!r}", row=int(dup[0]) + 2,
                                column="library_id")  # fmt: skip
    dup = df.index[df.duplicated(["mouse_id", "timepoint", "pcr_replicate"])]
    if len(dup):
        raise DataContractError(path, "duplicated (mouse_id, timepoint, pcr_replicate)", row=int(dup[0]) + 2,
                                column="pcr_replicate")  # fmt: skip
    for key, col in (("mouse_id", "arm"), ("mouse_id", "pdx_id"), ("pdx_id", "patient_id")):
        n = df.groupby(key)[col].transform("nunique")
        bad = df.index[n > 1]
        if len(bad):
            raise DataContractError(path, f"{key} {df.loc[bad[0], key]!r} has more than one {col}",
                                    row=int(bad[0]) + 2, column=col)  # fmt: skip
    full = [confined_path(path.parent, f, sheet=path, row=i + 2, column="file") for i, f in enumerate(df["file"])]
    if check_files:
        for i, f in enumerate(df["file"]):
            if not full[i].is_file():
                raise DataContractError(path, f"FASTQ file {f!r} not found", row=i + 2, column="file")
        report(fastq_problems(((i + 2, p, f) for i, (p, f) in enumerate(zip(full, df["file"], strict=True))), path),
               problems)
    return df


def load_barcode_dataset(data_dir: str | Path) -> BarcodeDataset:
    """Load ``<data_dir>/barcodes`` (or a ``barcodes`` folder itself): sample sheet and library pattern.

    Parameters
    ----------
    data_dir
        Cohort folder, or its ``barcodes`` folder.

    Returns
    -------
    BarcodeDataset
        The folder, its validated sheet and its read pattern.

    Raises
    ------
    DataContractError
        A missing folder, or a sheet or pattern file that breaks the contract.
    """
    root = Path(data_dir)
    if (root / "barcodes").is_dir():
        root = root / "barcodes"
    if not root.is_dir():
        raise DataContractError(root, "barcoding folder not found")
    sheet = load_sample_sheet(root / "sample_sheet.csv")
    pattern = read_pattern_file(root / "library_pattern.txt")
    return BarcodeDataset(root, sheet, pattern)
