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
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only annotations: run_all.py's no-change path never loads pandas
    import pandas as pd

__all__ = ["atomic_path", "write_table", "write_text", "sha256_file"]

FLOAT_FORMAT = "%.6g"


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it over ``path`` atomically."""
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
    """Write ``df`` as CSV (or TSV for ``.tsv``) deterministically and atomically; return the path."""
    if str(path) == "-":  # command lines: "-" is standard output (CSV)
        df.to_csv(sys.stdout, index=index, float_format=float_format, lineterminator="\n")
        return Path("-")
    path = Path(path)
    sep = "\t" if path.suffix == ".tsv" else ","
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep=sep, index=index, float_format=float_format, lineterminator="\n")
    return path


def write_text(text: str, path: str | Path) -> Path:
    """Write text atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


def sha256_file(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
