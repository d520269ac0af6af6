"""Numeric regression checks: the tables a reference notebook writes, compared by value with a stated tolerance.

nbval compares a notebook's printed outputs as text, which suits the narrative and the structure but not numbers: a
value that moves in its last printed digit because of a CPU's rounding is not a regression, and a table that moves
in a column nobody prints is one. The reference notebooks' small tables are therefore committed beside them
(``notebooks/reference/tables/<cohort>/<notebook>/*.csv``) and :func:`compare_tables` compares a fresh run with them
number by number, ``|new - ref| <= atol + rtol * |ref|``, reporting the table, column and row that moved.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["RTOL", "ATOL", "MAX_TABLE_BYTES", "Difference", "compare_tables", "compare_table_dirs",
           "copy_reference_tables", "reference_table_files"]  # fmt: skip

# Relative tolerance: one unit in the sixth significant digit, the precision tables are written with (helpers.io,
# "%.6g"): last-bit noise of another CPU can round a value to either neighbour, a real change moves it further.
RTOL = 2e-5
ATOL = 1e-9  # absolute tolerance, for values that should be 0
MAX_TABLE_BYTES = 64_000  # tables larger than this are not committed (the nbval outputs still show their summaries)


@dataclasses.dataclass(frozen=True)
class Difference:
    """One value (or one structural element) of a table that differs from its reference."""

    table: str
    column: str
    row: str
    reference: object
    actual: object

    def __str__(self) -> str:
        """Describe the difference in one line: table, column, row, reference and new value."""
        return f"{self.table}: column {self.column!r}, row {self.row}: reference {self.reference!r}, now {self.actual!r}"


def reference_table_files(output_dir: str | Path, *, max_bytes: int = MAX_TABLE_BYTES) -> list[Path]:
    """List the CSV tables of a notebook's output folder small enough to commit as references.

    Parameters
    ----------
    output_dir
        The notebook's output folder.
    max_bytes
        Largest table size kept.

    Returns
    -------
    list of pathlib.Path
        The tables, sorted by name.
    """
    return sorted(p for p in Path(output_dir).glob("*.csv") if p.is_file() and p.stat().st_size <= max_bytes)


def copy_reference_tables(output_dir: str | Path, target_dir: str | Path, *, max_bytes: int = MAX_TABLE_BYTES) -> list[str]:
    """Replace the committed reference tables in ``target_dir`` by the small tables of ``output_dir``.

    Parameters
    ----------
    output_dir
        The notebook's output folder of a fresh run.
    target_dir
        The reference folder; emptied and refilled.
    max_bytes
        Largest table size copied.

    Returns
    -------
    list of str
        Names of the tables copied.
    """
    target = Path(target_dir)
    if target.is_dir():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    names = []
    for f in reference_table_files(output_dir, max_bytes=max_bytes):
        shutil.copyfile(f, target / f.name)
        names.append(f.name)
    return names


def _row_label(df: pd.DataFrame, i: int) -> str:
    first = df.columns[0] if len(df.columns) else None
    # The first column names the row when it is a label (sample, gate, marker): more useful than a number.
    if first is not None and not pd.api.types.is_numeric_dtype(df[first]):
        return f"{i + 2} ({first}={df[first].iloc[i]!r})"
    return str(i + 2)  # line number in the file, header = 1


def _same(a: object, b: object, rtol: float, atol: float) -> bool:
    fa, fb = _as_float(a), _as_float(b)
    if fa is not None and fb is not None:
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        if math.isinf(fa) or math.isinf(fb):
            return fa == fb
        return abs(fa - fb) <= atol + rtol * abs(fb)
    return str(a) == str(b)


def _as_float(v: object) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return math.nan
    if isinstance(v, bool | np.bool_):
        return float(v)
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v)
    return None


def compare_tables(reference: str | Path, actual: str | Path, *, rtol: float = RTOL, atol: float = ATOL,
                   name: str | None = None) -> list[Difference]:  # fmt: skip
    """Compare two CSV tables cell by cell: numbers within tolerance, everything else exactly.

    Parameters
    ----------
    reference, actual
        The committed reference table and the freshly written one.
    rtol, atol
        A number passes when ``|actual - reference| <= atol + rtol * |reference|``; NaN matches only NaN.
    name
        Name of the table in the report (default: the file name).

    Returns
    -------
    list of Difference
        Empty when the tables agree; otherwise missing or extra columns, a changed number of rows, and every cell that
        moved, each with its column and row (line number in the file, header = 1, and the row's label).
    """
    name = name or Path(reference).name
    ref = pd.read_csv(reference, keep_default_na=True)
    new = pd.read_csv(actual, keep_default_na=True)
    out: list[Difference] = []
    for c in ref.columns:
        if c not in new.columns:
            out.append(Difference(name, c, "-", "column present", "column missing"))
    for c in new.columns:
        if c not in ref.columns:
            out.append(Difference(name, c, "-", "no such column", "column added"))
    if len(ref) != len(new):
        out.append(Difference(name, "-", "-", f"{len(ref)} rows", f"{len(new)} rows"))
    n = min(len(ref), len(new))
    for c in [c for c in ref.columns if c in new.columns]:
        rv, nv = ref[c].to_numpy(object)[:n], new[c].to_numpy(object)[:n]
        for i in range(n):
            if not _same(nv[i], rv[i], rtol, atol):
                out.append(Difference(name, c, _row_label(ref, i), rv[i], nv[i]))
    return out


def compare_table_dirs(reference_dir: str | Path, output_dir: str | Path, *, rtol: float = RTOL,
                       atol: float = ATOL) -> list[Difference]:  # fmt: skip
    """Compare every committed reference table of ``reference_dir`` with the same table in ``output_dir``.

    A reference table that the run did not write is a difference; tables the run wrote beyond the references are not
    (large tables are never committed).

    Parameters
    ----------
    reference_dir
        Folder of committed reference tables.
    output_dir
        The notebook's output folder of a fresh run.
    rtol, atol
        Tolerances of :func:`compare_tables`.

    Returns
    -------
    list of Difference
        Empty when every reference table agrees.

    Raises
    ------
    FileNotFoundError
        ``reference_dir`` holds no table.
    """
    out: list[Difference] = []
    refs = sorted(Path(reference_dir).glob("*.csv"))
    if not refs:
        raise FileNotFoundError(f"no reference tables in {reference_dir}")
    for ref in refs:
        new = Path(output_dir) / ref.name
        if not new.is_file():
            out.append(Difference(ref.name, "-", "-", "table present", "table not written"))
            continue
        out.extend(compare_tables(ref, new, rtol=rtol, atol=atol))
    return out
