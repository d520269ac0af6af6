"""The cytometry data contract: sample sheet, panel definition and FCS files, validated on load.

Layout of ``<cohort>/cytometry/`` (see ``docs/cytometry.md``)::

    sample_sheet.csv   file, sample_id, panel, condition, ven_um, aza_um   (one row per FCS file)
    panels.csv         panel, marker, channel                             (marker = $PnS, channel = $PnN)
    gating.yaml        the gating strategy (YAML, see strategies/aml_functional.yaml) or gating.xml (Gating-ML 2.0)
    fcs/...            the FCS 3.0/3.1 files, paths relative to the cytometry folder
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from ..errors import DataContractError
from ..plausibility import concentration_problems, empty_file_problems, report
from ..safepaths import confined_path
from ..validation import read_csv_checked, validate_frame
from .fcs import FCSData

__all__ = [
    "CONDITIONS",
    "CytometryInputs",
    "load_sample_sheet",
    "load_panels",
    "load_cytometry",
    "check_panel",
]

# Allowed conditions per panel type. FUNC: drug exposure; PHENO: untreated phenotype / BCL2 family; SCENITH: the four
# metabolic conditions of Arguello et al. 2020; PROLIF: dye dilution (CFSE, CellTrace) with its day-0 (undivided,
# stained) reference and unstained control, and the cultured arms; MRD: the ELN 2021 core-marker tube of the
# diagnosis marrow (its LAIP) and of the remission marrow.
CONDITIONS = {
    "FUNC": ("untreated", "VEN", "AZA", "AZA+VEN"),
    "PHENO": ("untreated",),
    "SCENITH": ("Co", "DG", "O", "DGO"),
    "PROLIF": ("day0", "unstained", "untreated", "VEN", "AZA", "AZA+VEN"),
    "MRD": ("diagnosis", "remission"),
}

_SHEET_SCHEMA = pa.DataFrameSchema(
    {
        "file": pa.Column(str, pa.Check.str_length(min_value=1), unique=True),
        "sample_id": pa.Column(str, pa.Check.str_length(min_value=1)),
        "panel": pa.Column(str, pa.Check.isin(list(CONDITIONS))),
        "condition": pa.Column(str),
        "ven_um": pa.Column(float, pa.Check.in_range(0, 100), coerce=True),
        "aza_um": pa.Column(float, pa.Check.in_range(0, 100), coerce=True),
        # optional: the acquisition batch (day / instrument) of the tube, for intensity standardisation
        "batch": pa.Column(str, nullable=True, required=False),
    },
    strict=False,
)
_PANEL_SCHEMA = pa.DataFrameSchema(
    {
        "panel": pa.Column(str, pa.Check.str_length(min_value=1)),
        "marker": pa.Column(str, pa.Check.str_length(min_value=1)),
        "channel": pa.Column(str, pa.Check.str_length(min_value=1)),
    },
    strict=False,
)


def _validate(schema: pa.DataFrameSchema, df: pd.DataFrame, path: Path) -> pd.DataFrame:
    return validate_frame(df, schema, path)


def load_sample_sheet(path: str | Path, *, check_files: bool = True, problems: list | None = None) -> pd.DataFrame:
    """Read and validate ``sample_sheet.csv``.

    Parameters
    ----------
    path
        The sample sheet; ``file`` paths are relative to its folder.
    check_files
        Also check that every listed FCS file exists and is not empty.
    problems
        When a list, plausibility problems (concentrations above the drug's range, empty files) are appended to it
        instead of raised (``python -m helpers check``).

    Returns
    -------
    pandas.DataFrame
        The sheet with an extra ``path`` column (absolute path of each file).

    Raises
    ------
    DataContractError
        Missing column, empty or duplicated file, unknown panel, a condition the panel does not allow, a negative or
        non-numeric concentration (unit: uM), a file that does not exist; the message names the row and column.
    """
    path = Path(path)
    if not path.is_file():
        raise DataContractError(path, "sample sheet not found")
    df = read_csv_checked(path, dtype={"file": str, "sample_id": str, "panel": str, "condition": str})
    df = _validate(_SHEET_SCHEMA, df, path)
    report(concentration_problems(df, path, conc="ven_um", fixed_drug="venetoclax"), problems)
    report(concentration_problems(df, path, conc="aza_um", fixed_drug="azacitidine"), problems)
    for i, r in df.iterrows():
        if r["condition"] not in CONDITIONS[r["panel"]]:
            raise DataContractError(path, f"condition '{r['condition']}' is not one of {CONDITIONS[r['panel']]} for "
                                          f"panel {r['panel']}", row=int(i) + 2, column="condition")  # fmt: skip
    dup = df.duplicated(["sample_id", "panel", "condition"], keep=False)
    if dup.any():
        i = int(df.index[dup][1])
        raise DataContractError(path, "two files for the same sample, panel and condition", row=i + 2,
                                column="condition")  # fmt: skip
    prolif = df[df["panel"] == "PROLIF"]
    for sid, grp in prolif.groupby("sample_id", sort=True):
        if "day0" not in set(grp["condition"]):
            raise DataContractError(path, f"sample '{sid}' has PROLIF tubes but no day-0 reference (condition day0, "
                                          f"the undivided stained cells)", row=int(grp.index[0]) + 2,
                                    column="condition")  # fmt: skip
    df["path"] = [str(confined_path(path.parent, f, sheet=path, row=i + 2, column="file"))
                  for i, f in enumerate(df["file"])]
    if check_files:
        for i, p in enumerate(df["path"]):
            if not Path(p).is_file():
                raise DataContractError(path, f"listed FCS file does not exist: {df['file'].iat[i]}", row=i + 2,
                                        column="file")  # fmt: skip
        report(empty_file_problems(((i + 2, Path(p), f) for i, (p, f) in enumerate(zip(df["path"], df["file"],
                                         strict=True))), path, what="FCS file"), problems)  # fmt: skip
    return df


def load_panels(path: str | Path) -> dict[str, dict[str, str]]:
    """Read ``panels.csv`` into ``{panel: {marker: channel}}``.

    Parameters
    ----------
    path
        The cohort's ``cytometry/panels.csv`` (columns ``panel, marker, channel``; one row per marker of a panel).

    Returns
    -------
    dict of str to dict of str to str
        Panel (e.g. ``FUNC``, ``PHENO``) -> canonical marker name (``CD34``, ``Ki-67``) -> detector ($PnN, e.g.
        ``FL3-A``); panels sorted by name.

    Raises
    ------
    DataContractError
        Missing column, a marker listed twice in a panel, or two markers on one channel of a panel.
    """
    path = Path(path)
    if not path.is_file():
        raise DataContractError(path, "panel definition not found")
    df = _validate(_PANEL_SCHEMA, read_csv_checked(path, dtype=str), path)
    for cols, what in ((["panel", "marker"], "marker"), (["panel", "channel"], "channel")):
        dup = df.duplicated(cols, keep="first")
        if dup.any():
            i = int(df.index[dup][0])
            raise DataContractError(path, f"{what} '{df.at[i, what]}' listed twice in panel {df.at[i, 'panel']}",
                                    row=i + 2, column=what)  # fmt: skip
    return {p: dict(zip(g["marker"], g["channel"], strict=True)) for p, g in df.groupby("panel", sort=True)}


def check_panel(data: FCSData, panel: dict[str, str], *, panel_name: str = "") -> None:
    """Check that an FCS file carries every marker of its panel on the declared detector.

    Stains are compared as written (no synonyms): :func:`helpers.cytometry.panel.enforce_panel` is the tolerant check.

    Parameters
    ----------
    data
        The file as read.
    panel
        Marker -> detector ($PnN) of the tube's panel (from :func:`load_panels`).
    panel_name
        The panel's name, for messages.

    Raises
    ------
    DataContractError
        Naming the file and the channel that is missing or carries another stain.
    """
    for marker, channel in panel.items():
        if channel not in data.channels:
            raise DataContractError(data.path, f"detector of marker '{marker}' (panel {panel_name}) is missing",
                                    channel=channel)  # fmt: skip
        stain = data.markers[data.channels.index(channel)]
        if stain != marker:
            raise DataContractError(data.path, f"detector carries '{stain}', panel {panel_name} says '{marker}'",
                                    channel=channel)  # fmt: skip


@dataclass
class CytometryInputs:
    """The validated cytometry inputs of a cohort."""

    root: Path
    sheet: pd.DataFrame
    panels: dict[str, dict[str, str]]
    gating: Path


def load_cytometry(folder: str | Path) -> CytometryInputs:
    """Load and validate a cohort's ``cytometry/`` folder (sample sheet, panels, gating definition).

    Parameters
    ----------
    folder
        The ``cytometry`` folder of a cohort in the data-contract layout.

    Returns
    -------
    CytometryInputs
        ``root`` (the folder), ``sheet`` (the validated ``sample_sheet.csv`` with a resolved ``path`` per file),
        ``panels`` (:func:`load_panels`) and ``gating`` (``gating.yaml``, else ``gating.xml``).

    Raises
    ------
    DataContractError
        Missing folder or file, invalid sheet or panels, or a sheet naming a panel ``panels.csv`` does not define.
    """
    root = Path(folder)
    if not root.is_dir():
        raise DataContractError(root, "cytometry folder not found")
    sheet = load_sample_sheet(root / "sample_sheet.csv")
    panels = load_panels(root / "panels.csv")
    unknown = sorted(set(sheet["panel"]) - set(panels))
    if unknown:
        raise DataContractError(root / "sample_sheet.csv", f"panel '{unknown[0]}' is not defined in panels.csv",
                                column="panel")  # fmt: skip
    gating = next((root / n for n in ("gating.yaml", "gating.xml") if (root / n).is_file()), None)
    if gating is None:
        raise DataContractError(root, "no gating definition (gating.yaml or gating.xml)")
    return CytometryInputs(root, sheet, panels, gating)
