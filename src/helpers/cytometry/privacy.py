"""Instrument file names never leave the data folder: tubes are named by the sample sheet's ids.

Cytometers often build FCS file names from the patient's name or hospital number, so every shareable table names a
tube by ``tube_id`` = ``<sample_id>_<panel>_<condition>`` (unique per sheet, which refuses two files for one sample,
panel and condition). The sample sheet itself, kept with the data, is the private mapping from tube to file.
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["tube_id", "tube_ids"]


def tube_id(sample_id: str, panel: str, condition: str) -> str:
    """Name one tube in a shareable way, safe as a file name (``AZA+VEN`` becomes ``AZA-VEN``).

    Parameters
    ----------
    sample_id, panel, condition
        The tube's sample, panel (e.g. ``FUNC``) and condition (e.g. ``untreated``, ``AZA+VEN``).

    Returns
    -------
    str
        ``<sample_id>_<panel>_<condition>`` with every character other than letters, digits, ``_``, ``.`` and ``-``
        replaced by ``-``; no patient identifier beyond the pseudonymous sample id.
    """
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"{sample_id}_{panel}_{condition}")


def tube_ids(sheet: pd.DataFrame) -> pd.Series:
    """Name every row of a validated sample sheet with :func:`tube_id`.

    Parameters
    ----------
    sheet
        The cytometry sample sheet (``sample_id``, ``panel``, ``condition`` columns).

    Returns
    -------
    pandas.Series
        Named ``tube_id``, with the index of ``sheet``.
    """
    return pd.Series([tube_id(s, p, c) for s, p, c in zip(sheet["sample_id"], sheet["panel"], sheet["condition"],
                                                           strict=True)], index=sheet.index, name="tube_id")
