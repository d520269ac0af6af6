"""Deterministic, atomic writing of tables and files.

Every table the compendium writes goes through :func:`write_table` so that the same inputs give the same bytes (fixed
float format, fixed line endings, no index) and a crash never leaves a half-written file over a good one (write to a
temporary file in the same folder, then ``os.replace``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only annotations: run_all.py's no-change path never loads pandas
    import pandas as pd

__all__ = ["atomic_path", "write_table", "write_tables", "write_text", "sha256_file"]

FLOAT_FORMAT = "%.6g"


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it over ``path`` atomically.

    The temporary file gets the permissions of the user's umask (as a plain ``open`` would), and is removed when the
    block raises, leaving any previous ``path`` untouched.

    Parameters
    ----------
    path
        The file to write; its folder is created.

    Yields
    ------
    pathlib.Path
        A temporary file in the same folder, to be written by the caller.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    # mkstemp creates 0600 files: outputs are for the group on a shared server, so the user's umask decides.
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_table(df: pd.DataFrame, path: str | Path, *, float_format: str = FLOAT_FORMAT, index: bool = False) -> Path:
    """Write ``df`` as CSV (or TSV for ``.tsv``) deterministically and atomically.

    Parameters
    ----------
    df
        The table.
    path
        Target file; ``"-"`` writes CSV to standard output (command lines).
    float_format
        ``printf`` format of floats (default six significant digits, so that last-bit noise does not change bytes).
    index
        Write the index as the first column.

    Returns
    -------
    pathlib.Path
        ``path`` (``Path("-")`` for standard output).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> df = pd.DataFrame({"sample_id": ["P001_dx", "P002_dx"], "ven_auc": [0.123456789, 2.0]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(write_table(df, Path(tmp) / "auc.csv").read_text(), end="")
    sample_id,ven_auc
    P001_dx,0.123457
    P002_dx,2
    """
    if str(path) == "-":  # command lines: "-" is standard output (CSV)
        df.to_csv(sys.stdout, index=index, float_format=float_format, lineterminator="\n")
        return Path("-")
    path = Path(path)
    sep = "\t" if path.suffix == ".tsv" else ","
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep=sep, index=index, float_format=float_format, lineterminator="\n")
    return path


def write_tables(tables: Mapping[str, pd.DataFrame], folder: str | Path) -> list[Path]:
    """:func:`write_table` of every table of a mapping of file names to tables, in the mapping's order.

    Parameters
    ----------
    tables
        File name (``.csv`` or ``.tsv``, relative to ``folder``) -> table.
    folder
        Output folder.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    return [write_table(df, Path(folder) / name) for name, df in tables.items()]


def write_text(text: str, path: str | Path) -> Path:
    """Write text atomically.

    Parameters
    ----------
    text
        The content (encoded with the locale's default encoding, as :meth:`pathlib.Path.write_text`).
    path
        Target file; its folder is created.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


def sha256_file(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """Compute the hex sha256 of a file, read in chunks.

    Parameters
    ----------
    path
        The file.
    chunk
        Bytes read at a time.

    Returns
    -------
    str
        The 64-character hexadecimal digest.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     sha256_file(write_text("abc", Path(tmp) / "abc.txt"))
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
