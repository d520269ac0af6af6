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
    """The shareable name of one tube, safe as a file name (``AZA+VEN`` becomes ``AZA-VEN``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"{sample_id}_{panel}_{condition}")


def tube_ids(sheet: pd.DataFrame) -> pd.Series:
    """``tube_id`` of every row of a validated sample sheet (same index)."""
    return pd.Series([tube_id(s, p, c) for s, p, c in zip(sheet["sample_id"], sheet["panel"], sheet["condition"],
                                                           strict=True)], index=sheet.index, name="tube_id")
