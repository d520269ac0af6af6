"""The ``assays`` column of ``samples.csv``: which assays were planned for a sample.

The contract writes the planned assays as tokens separated by ``;`` (``dst;cytometry``); an empty cell plans none.
Every reader goes through :func:`parse_assays` / :func:`has_assay` so that spaces, empty cells and empty tokens are
handled one way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ASSAY_SEPARATOR", "parse_assays", "has_assay"]

ASSAY_SEPARATOR = ";"


def parse_assays(value: object) -> frozenset[str]:
    """Split one ``assays`` cell into its assay tokens.

    Parameters
    ----------
    value
        A cell of the ``assays`` column: a string such as ``"dst;scrna"``, or missing (NaN/None).

    Returns
    -------
    frozenset of str
        The tokens, stripped of spaces; empty for a missing or blank cell.

    Examples
    --------
    >>> sorted(parse_assays(" dst; scrna;;"))
    ['dst', 'scrna']
    >>> parse_assays(float("nan"))
    frozenset()
    """
    if not isinstance(value, str):
        return frozenset()
    return frozenset(t.strip() for t in value.split(ASSAY_SEPARATOR) if t.strip())


def has_assay(assays: pd.Series, assay: str) -> pd.Series:
    """Boolean Series: which samples plan ``assay``.

    Parameters
    ----------
    assays
        The ``assays`` column of a sample table.
    assay
        An assay token (``"dst"``, ``"cytometry"``, ``"scrna"``, ``"barcoding"``).

    Returns
    -------
    pandas.Series
        ``True`` where the cell lists ``assay``, with the index of ``assays``.

    Examples
    --------
    >>> import pandas as pd
    >>> has_assay(pd.Series(["dst;cytometry", "", None, "scrna"]), "dst").tolist()
    [True, False, False, False]
    """
    return assays.map(lambda v: assay in parse_assays(v)).astype(bool)
