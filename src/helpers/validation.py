"""Reading and validating contract tables: one place that turns pandera failures into clear file/row/column errors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .errors import DataContractError

if TYPE_CHECKING:
    import pandera.pandas as pa

__all__ = ["read_csv_checked", "validate_frame"]


def read_csv_checked(path: str | Path, *, what: str = "file", **kwargs: Any) -> pd.DataFrame:
    """Read a contract table with ``pd.read_csv``, turning every failure into a clear error (the one CSV reader).

    Parameters
    ----------
    path
        The table to read.
    what
        What the file is, for the "not found" message (``"sample sheet"``, ``"count table"``).
    **kwargs
        Passed to :func:`pandas.read_csv`; by default only empty cells are missing (``keep_default_na=False``,
        ``na_values=[""]``), so that a sample called ``NA`` stays a sample.

    Returns
    -------
    pandas.DataFrame
        The table as read.

    Raises
    ------
    DataContractError
        The file is missing, empty, not UTF-8 or not parseable as a table (naming the file).
    """
    path = Path(path)
    if not path.is_file():
        raise DataContractError(path, f"{what} not found")
    kwargs.setdefault("keep_default_na", False)
    kwargs.setdefault("na_values", [""])
    try:
        return pd.read_csv(path, **kwargs)
    except pd.errors.EmptyDataError:
        raise DataContractError(path, "the file is empty (no header line)") from None
    except UnicodeDecodeError as exc:
        raise DataContractError(path, f"not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r}); save the "
                                      "table as UTF-8 CSV") from None  # fmt: skip
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataContractError(path, f"cannot be parsed as a table: {exc}") from exc


def validate_frame(df: pd.DataFrame, schema: pa.DataFrameSchema, path: str | Path) -> pd.DataFrame:
    """Validate ``df`` with a pandera ``schema``, raising the first problem with its file, line and column.

    Duplicates point at the last repeat and name every line holding the value.

    Parameters
    ----------
    df
        The table as read from ``path`` (row ``i`` of the default index is line ``i + 2`` of the file).
    schema
        The contract's pandera schema.
    path
        The file, named in the error.

    Returns
    -------
    pandas.DataFrame
        The validated table (with the schema's coercions applied).

    Raises
    ------
    DataContractError
        A required column is missing, or a value fails a check (line number in the file, header = 1).
    """
    missing = [c for c, col in schema.columns.items() if col.required and c not in df.columns]
    if missing:
        raise DataContractError(path, f"missing required column(s): {', '.join(missing)}", column=missing[0])
    from pandera.errors import SchemaErrors  # lazy: readers of plain CSV files need no pandera

    try:
        return schema.validate(df, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        fc = cases.iloc[0]
        idx = fc.get("index")
        row = None if idx is None or pd.isna(idx) else int(idx) + 2
        col, check, value = fc.get("column"), str(fc.get("check")), fc.get("failure_case")
        if "unique" in check or "duplicates" in check:
            same = cases[(cases["column"] == col) & (cases["failure_case"] == value)]
            lines = sorted(int(i) + 2 for i in same["index"].dropna())
            raise DataContractError(  # the row named is the repeat, the message lists every occurrence
                path, f"duplicated value {value!r} (lines {', '.join(map(str, lines))})", row=lines[-1], column=col
            ) from None
        more = f" ({len(cases) - 1} more problem(s))" if len(cases) > 1 else ""
        raise DataContractError(path, f"invalid value '{value}': fails check {check}{more}", row=row, column=col) from None
