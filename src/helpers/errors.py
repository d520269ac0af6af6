"""Errors raised when input data break the data contract."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DataContractError"]


class DataContractError(ValueError):
    """An input file does not follow the data contract.

    The message always names the file and, where it applies, the row, column or channel and what is wrong, so that a
    user can fix the file without reading a traceback.

    Parameters
    ----------
    path
        The file at fault (``None`` when the problem is not in one file).
    problem
        What is wrong, in the user's terms.
    row
        Line number in the file (header = 1), or a label such as a well.
    column
        The column (or sheet field) at fault.
    channel
        The cytometry channel at fault.
    """

    def __init__(
        self,
        path: str | Path | None,
        problem: str,
        *,
        row: int | str | None = None,
        column: str | None = None,
        channel: str | None = None,
    ):
        where = []
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        if channel is not None:
            where.append(f"channel '{channel}'")
        loc = f" ({', '.join(where)})" if where else ""
        self.path = None if path is None else Path(path)
        self.row, self.column, self.channel, self.problem = row, column, channel, problem
        super().__init__(f"{path}{loc}: {problem}" if path is not None else f"{loc.strip()} {problem}".strip())
