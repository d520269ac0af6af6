"""Names and paths that come from data files: validated before they become paths on disk.

A sample sheet is written by a person, a cohort YAML too; a value such as ``../../../../etc/passwd`` or a sample id with
a slash must never make the compendium read or write outside the folders it was given.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import DataContractError

__all__ = ["NAME_PATTERN", "check_name", "confined_path", "private_dir"]

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_name(name: str, *, what: str, path: str | Path | None = None, row: int | None = None,
               column: str | None = None) -> str:  # fmt: skip
    """Return ``name`` when it is safe as one path component (letters, digits, ``_ . -``; no leading dot, no ``..``).

    Parameters
    ----------
    name
        The value from a data file (converted with ``str``).
    what
        What the value is, for the message (e.g. "cohort name", "pdx_id").
    path, row, column
        File, line (header = 1) and column the value comes from, for the message.

    Returns
    -------
    str
        ``name`` as a string.

    Raises
    ------
    DataContractError
        Naming ``what`` (e.g. "cohort name", "pdx_id") and the offending value.
    """
    s = str(name)
    if not NAME_PATTERN.fullmatch(s) or ".." in s:
        raise DataContractError(path, f"{what} {s!r} cannot be used as a file name (letters, digits, '_', '.', '-'; "
                                      "no leading dot, no '..')", row=row, column=column)  # fmt: skip
    return s


def confined_path(base: str | Path, rel: str, *, root: str | Path | None = None, sheet: str | Path | None = None,
                  row: int | None = None, column: str | None = None) -> Path:  # fmt: skip
    """Join ``base / rel`` when it stays inside ``root`` (default ``base``) once symlinks are resolved.

    Absolute paths and ``..`` components are refused outright, so that a sheet never reaches outside the data folder;
    the file itself is not opened here (the error must not echo any of its bytes).

    Parameters
    ----------
    base
        The folder ``rel`` is relative to (usually the sheet's folder).
    rel
        The path as written in the sheet.
    root
        The folder the result must stay inside (default ``base``).
    sheet, row, column
        The sheet, line (header = 1) and column holding ``rel``, for the message.

    Returns
    -------
    pathlib.Path
        ``base / rel`` (not resolved, not required to exist).

    Raises
    ------
    DataContractError
        Naming the sheet, row and column of the path.
    """
    base = Path(base)
    p = Path(str(rel))
    if p.is_absolute() or ".." in p.parts or str(rel).startswith("~"):
        raise DataContractError(sheet, f"path {str(rel)!r} must be relative to the sheet's folder, without '..'",
                                row=row, column=column)  # fmt: skip
    full = base / p
    top = Path(root if root is not None else base).resolve()
    if not full.resolve().is_relative_to(top):
        raise DataContractError(sheet, f"path {str(rel)!r} leads outside the data folder (through a symbolic link)",
                                row=row, column=column)  # fmt: skip
    return full


def private_dir(cohort: str) -> Path:
    """Locate a cohort's private folder, for what must not be shared: tracebacks with data values, file-name mappings.

    ``$DREAM_PRIVATE_DIR`` when ``run_all.py`` set it for the run, else ``data/private/<cohort>/`` of the repository
    (git-ignored; the data folders themselves are never written into), or ``$DREAM_OUTPUT_ROOT/private/<cohort>/``
    when a scratch output root is set (tests). Never under ``results/``, which is meant to be shared.

    Parameters
    ----------
    cohort
        The cohort's name (one path component, checked by :func:`check_name`).

    Returns
    -------
    pathlib.Path
        The folder (not created here).

    Raises
    ------
    DataContractError
        ``cohort`` is not usable as a folder name.
    """
    from .paths import OUTPUT_ROOT_ENV, repo_root

    name = check_name(cohort, what="cohort name")
    if os.environ.get("DREAM_PRIVATE_DIR"):
        return Path(os.environ["DREAM_PRIVATE_DIR"])
    scratch = os.environ.get(OUTPUT_ROOT_ENV)
    base = Path(scratch).expanduser().resolve() / "private" if scratch else repo_root() / "data" / "private"
    return base / name
