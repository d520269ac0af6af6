"""Plate-reader exports and dispenser picklists as instruments write them.

:func:`read_plate` reads one plate of raw signal from the layouts plate readers export, into a (rows x columns)
array for 96, 384 or 1536 wells:

- **grid** layouts, after any number of free header lines: a line of column numbers (``1 2 ... 24``, or ``01 02
  ...``) with any corner cell, then one line per row letter (``A``...``P``; ``A``...``AF`` for 1536 wells). This is
  the layout of Tecan i-control / SparkControl exports (Infinite, Spark: corner ``<>``, tab separated in text, one
  sheet in ``.xlsx``), of BMG MARS "microplate view" exports (Omega, CLARIOstar, PHERAstar) and of PerkinElmer
  EnVision "Results" blocks (two-digit column headers). Separators: comma, semicolon, tab (detected); with
  semicolons or tabs a decimal comma is accepted. Trailing separators and empty trailing cells are ignored.
- **long** layouts: a header line with a well column (``Well``, ``Well Position``, ``Well ID``; or BMG's ``Well
  Row`` + ``Well Col``) and one signal column (``Signal``, ``Result``, ``Value``, ``Raw Data (...)``, ``Counts``,
  ``RLU``, ...; or the one given as ``value_column``), as in EnVision list exports, BMG "table view" exports and a
  generic ``well,value`` file. Wells are ``A1`` or ``A01``.

Saturated reads (``OVER``, ``OVRFLW``, ``Overflow``, ``SAT``) become ``inf`` so that QC flags them.

:func:`plate_map_from_picklist` turns a dispenser's transfer list (Labcyte/Beckman Echo picklists, Tecan D300e
exports, or any CSV with destination well, compound, concentration and volume) into the plate map of the data
contract (``well, role, drug, conc, conc_unit, drug2, conc2, conc2_unit``).

Written here because no maintained Python library reads these vendor layouts into plates (plate-reader software
exports them for spreadsheets; parsers in the wild are per-lab scripts).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataContractError

__all__ = [
    "PLATE_SHAPES",
    "SATURATED_TOKENS",
    "read_plate",
    "row_labels",
    "parse_well",
    "format_well",
    "plate_map_from_picklist",
]

# wells -> (rows, columns), SBS/ANSI microplate formats.
PLATE_SHAPES = {96: (8, 12), 384: (16, 24), 1536: (32, 48)}
SATURATED_TOKENS = {"OVER", "OVRFLW", "OVERFLOW", "SAT", "SATURATED"}
_SEPARATORS = ("\t", ";", ",")
_WELL_RE = re.compile(r"^\s*([A-Za-z]{1,2})\s*0*(\d{1,2})\s*$")
_VALUE_NAMES = re.compile(r"signal|result|value|raw data|counts|rlu|rfu|lum|fluor|abs|od\b|meas", re.I)
_WELL_NAMES = {"well", "well position", "wellposition", "well id", "wellid", "well name", "wellname", "position"}


def row_labels(n_rows: int) -> list[str]:
    """List the row labels of a plate: ``A``...``Z`` then ``AA``, ``AB``... (1536 wells: 32 rows, ``A``-``AF``).

    Parameters
    ----------
    n_rows
        Rows of the plate (8, 16 or 32).

    Returns
    -------
    list of str
        One label per row, top to bottom.
    """
    letters = [chr(ord("A") + i) for i in range(26)]
    return (letters + [f"A{c}" for c in letters])[:n_rows]


def parse_well(well: str, *, n_rows: int = 32, n_cols: int = 48) -> tuple[int, int] | None:
    """Parse ``"B07"`` or ``"B7"`` into 0-based (row, column); ``None`` when it is not a well of such a plate.

    Parameters
    ----------
    well
        Well id as written in a file (case-insensitive, column with or without a leading zero).
    n_rows, n_cols
        Size of the plate.

    Returns
    -------
    tuple of int or None
        ``(row, column)``, 0-based; None for text that is not a well id or a well outside the plate.
    """
    m = _WELL_RE.match(str(well))
    if not m:
        return None
    labels = row_labels(n_rows)
    row = m.group(1).upper()
    if row not in labels:
        return None
    col = int(m.group(2)) - 1
    return (labels.index(row), col) if 0 <= col < n_cols else None


def format_well(row: int, col: int) -> str:
    """Format 0-based (row, column) as the contract's well id, ``"B07"`` (``"AB07"`` on 1536-well plates).

    Parameters
    ----------
    row, col
        0-based row and column.

    Returns
    -------
    str
        The well id, column zero-padded to two digits.
    """
    return f"{row_labels(row + 1)[row]}{col + 1:02d}"


# ------------------------------------------------------------------------------------------------------- reading
def _read_rows(path: Path, sheet: str | int | None) -> tuple[list[list[str]], str]:
    """Read the file as rows of stripped cell strings (xlsx) or lines of text, with ``"xlsx"`` or None."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            import openpyxl

            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # a corrupt or non-xlsx file: say so, not a zipfile traceback
            raise DataContractError(path, f"cannot be read as an .xlsx workbook: {exc}") from None
        try:
            ws = wb.worksheets[0] if sheet is None else (wb.worksheets[sheet] if isinstance(sheet, int) else wb[sheet])
        except (KeyError, IndexError):
            raise DataContractError(path, f"no sheet {sheet!r} (sheets: {', '.join(wb.sheetnames)})") from None
        rows = [["" if v is None else (repr(v) if isinstance(v, float) else str(v)).strip() for v in r]
                for r in ws.iter_rows(values_only=True)]
        wb.close()
        return rows, "xlsx"
    if not path.is_file():
        raise DataContractError(path, "file not found")
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "utf-16", "cp1252"):  # Windows instrument PCs write UTF-16 or ANSI text
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    return text.splitlines(), None


def _split(lines: list[str], sep: str) -> list[list[str]]:
    return [[c.strip().strip('"') for c in ln.split(sep)] for ln in lines]


def _candidates(path: Path, sheet: str | int | None):
    """(rows, separator) to try, in order: the sheet of an xlsx, else tab, semicolon, then comma splits of the text.

    Tab and semicolon come first so that a decimal comma inside a semicolon- or tab-separated export is not taken
    for a separator.
    """
    rows, sep = _read_rows(path, sheet)
    if sep == "xlsx":
        yield rows, sep
        return
    for s in _SEPARATORS:
        if any(s in ln for ln in rows):
            yield _split(rows, s), s


def _trim(cells: list[str]) -> list[str]:
    while cells and cells[-1] == "":
        cells = cells[:-1]
    return cells


def _number(v: str, sep: str) -> float:
    if v.upper() in SATURATED_TOKENS:
        return np.inf
    if sep in (";", "\t") and "," in v and "." not in v:
        v = v.replace(",", ".")  # decimal comma, as European-locale exports write it
    return float(v)


def _grid_header(cells: list[str]) -> int | None:
    """Count the columns when ``cells`` (after the corner) are 1..N of a plate format, else return ``None``."""
    nums = _trim(cells[1:])
    if len(nums) not in (12, 24, 48):
        return None
    try:
        return len(nums) if [int(c) for c in nums] == list(range(1, len(nums) + 1)) else None
    except ValueError:
        return None


def _read_grid(path, rows, sep, at, n_cols):
    n_rows = {12: 8, 24: 16, 48: 32}[n_cols]
    labels = row_labels(n_rows)
    grid = np.full((n_rows, n_cols), np.nan)
    for r in range(n_rows):
        i = at + 1 + r
        line_no = i + 1
        if i >= len(rows):
            raise DataContractError(path, f"plate grid is truncated: {r} of {n_rows} rows", row=line_no)
        cells = _trim(rows[i])
        if not cells or cells[0].upper() != labels[r]:
            got = cells[0] if cells else ""
            raise DataContractError(path, f"expected row letter {labels[r]!r}, got {got!r}", row=line_no)
        values = cells[1:]
        if len(values) != n_cols:
            raise DataContractError(path, f"row {labels[r]} has {len(values)} values, expected {n_cols}", row=line_no)
        for c, v in enumerate(values):
            well = format_well(r, c)
            try:
                x = _number(v, sep)
            except ValueError:
                raise DataContractError(path, f"well {well}: not a number: {v!r}", row=line_no,
                                        column=str(c + 1)) from None
            if x < 0 or np.isnan(x):
                raise DataContractError(path, f"well {well}: invalid signal {v!r}", row=line_no, column=str(c + 1))
            grid[r, c] = x
    return grid


def _long_header(cells: list[str], value_column: str | None) -> tuple[list[int], int] | None:
    """(well column index or [row, col] indices, value column index) when ``cells`` is a long-table header."""
    low = [c.lower() for c in cells]
    if "well row" in low and "well col" in low:
        well = [low.index("well row"), low.index("well col")]
    else:
        idx = [i for i, c in enumerate(low) if c in _WELL_NAMES]
        if not idx:
            return None
        well = [idx[0]]
    if value_column is not None:
        if value_column.lower() not in low:
            return None
        return well, low.index(value_column.lower())
    cand = [i for i, c in enumerate(cells) if i not in well and _VALUE_NAMES.search(c)]
    if not cand:
        others = [i for i, c in enumerate(cells) if i not in well and c]
        cand = others if len(others) == 1 else []
    return (well, cand[0]) if cand else None


def _read_long(path, rows, sep, at, well_idx, value_idx, wells):
    entries = []
    for i in range(at + 1, len(rows)):
        cells = rows[i]
        if not any(cells):
            break  # end of the table block
        if max(*well_idx, value_idx) >= len(cells):
            raise DataContractError(path, "line has fewer cells than the header", row=i + 1)
        if len(well_idx) == 2:
            name = f"{cells[well_idx[0]]}{cells[well_idx[1]]}"
        else:
            name = cells[well_idx[0]]
        pos = parse_well(name)
        if pos is None:
            raise DataContractError(path, f"not a well id: {name!r}", row=i + 1, column=rows[at][well_idx[0]])
        v = cells[value_idx]
        try:
            x = _number(v, sep)
        except ValueError:
            raise DataContractError(path, f"well {name}: not a number: {v!r}", row=i + 1,
                                    column=rows[at][value_idx]) from None
        if x < 0 or np.isnan(x):
            raise DataContractError(path, f"well {name}: invalid signal {v!r}", row=i + 1, column=rows[at][value_idx])
        entries.append((pos, x, i + 1))
    if not entries:
        raise DataContractError(path, "the well table has no rows", row=at + 2)
    if wells is None:  # the smallest plate format that holds every well listed
        wells = next(n for n, (nr, nc) in PLATE_SHAPES.items()
                     if all(r < nr and c < nc for (r, c), _, _ in entries))  # fmt: skip
    n_rows, n_cols = PLATE_SHAPES[wells]
    grid = np.full((n_rows, n_cols), np.nan)  # wells not listed were not read: NaN
    for (r, c), x, line_no in entries:
        if r >= n_rows or c >= n_cols:
            raise DataContractError(path, f"well {format_well(r, c)} is outside a {wells}-well plate", row=line_no)
        if not np.isnan(grid[r, c]):
            raise DataContractError(path, f"well {format_well(r, c)} is listed twice", row=line_no)
        grid[r, c] = x
    return grid


def read_plate(
    path: str | Path,
    *,
    wells: int | None = None,
    sheet: str | int | None = None,
    value_column: str | None = None,
) -> np.ndarray:
    """Read one plate of raw signal from a plate-reader export (grid or long layout, CSV/TSV/TXT or xlsx).

    Parameters
    ----------
    path
        The export, as the instrument wrote it.
    wells
        Expected plate format (96, 384 or 1536); an export of another size is an error. Default: from the file
        (long layouts: the smallest format that holds every listed well).
    sheet
        Sheet name or index of an ``.xlsx`` export (default: the first).
    value_column
        Signal column of a long layout, when the file has several candidates.

    Returns
    -------
    numpy.ndarray
        Shape (rows, columns) of the plate, float, row A first; ``inf`` = saturated; ``NaN`` = a well a long
        layout does not list (not read).

    Raises
    ------
    ValueError
        ``wells`` is not 96, 384 or 1536.
    DataContractError
        The file is missing or unreadable, has neither a grid nor a well table, a grid is truncated or has a wrong
        row letter or number of values, a signal is not a number, a well is listed twice or lies outside the plate,
        or the plate is not of ``wells`` wells; the message names the line and column.
    """
    path = Path(path)
    if wells is not None and wells not in PLATE_SHAPES:
        raise ValueError(f"wells must be one of {sorted(PLATE_SHAPES)}, got {wells}")
    grid = None
    for rows, sep in _candidates(path, sheet):
        for i, cells in enumerate(rows):
            n_cols = _grid_header(cells)
            if n_cols:
                grid = _read_grid(path, rows, sep, i, n_cols)
                break
            head = _long_header(cells, value_column)
            if head:
                grid = _read_long(path, rows, sep, i, head[0], head[1], wells)
                break
        if grid is not None:
            break
    if grid is None:
        raise DataContractError(path, "no plate grid found: expected a grid (a line of column numbers 1-12, 1-24 or 1-48, "
                                "then rows A, B, ...) or a well table (a header with a 'Well' column and a signal "
                                "column)")
    if wells is not None and grid.shape != PLATE_SHAPES[wells]:
        raise DataContractError(path, f"a {grid.size}-well plate, expected {wells} wells")
    return grid


# ------------------------------------------------------------------------------------------------------ picklists
_PICK_ALIASES = {
    "well": ("destination well", "dest well", "destwell", "dispensed well", "target well", "well"),
    "compound": ("compound", "compound name", "fluid", "fluid name", "drug", "sample name", "sample id", "substance"),
    "conc": ("final concentration", "final conc", "concentration", "conc", "dispensed concentration"),
    "conc_unit": ("concentration unit", "conc unit", "unit", "units"),
    "volume": ("transfer volume", "dispensed volume", "volume", "vol"),
    "stock": ("source concentration", "stock concentration", "stock conc"),
    "plate": ("destination plate name", "destination plate barcode", "dest plate", "destination plate", "plate"),
}
_UNIT_IN_HEADER = re.compile(r"^(.*?)\s*[\(\[]\s*([pnuµμm]?M|[pnuµμm]?L)\s*[\)\]]\s*$")
_CONC_UNITS = {"pM": 1e-6, "nM": 1e-3, "uM": 1.0, "µM": 1.0, "μM": 1.0, "mM": 1e3, "M": 1e6}
_VOL_UNITS = {"pL": 1e-6, "nL": 1e-3, "uL": 1.0, "µL": 1.0, "μL": 1.0, "mL": 1e3}


def _picklist_columns(path: Path, columns: list[str]) -> dict[str, tuple[str, str | None]]:
    """{role: (column name, unit written in the header or None)} for the picklist's columns."""
    out = {}
    for col in columns:
        m = _UNIT_IN_HEADER.match(col)
        base, unit = (m.group(1), m.group(2)) if m else (col, None)
        key = base.strip().lower()
        for role, names in _PICK_ALIASES.items():
            if role not in out and key in names:
                out[role] = (col, unit)
                break
    return out


def plate_map_from_picklist(
    path: str | Path,
    *,
    well_volume_uL: float | None = None,
    controls: dict[str, str] | None = None,
    plate: str | None = None,
) -> pd.DataFrame:
    """Build the plate map of the data contract from a dispenser's transfer list (Echo, D300 export, generic CSV).

    Each line is one transfer into a destination well. The final concentration is read from a concentration column
    (``Concentration``/``Final Concentration``, unit in a ``Unit`` column or the header, e.g. ``Concentration (nM)``)
    or computed from the stock concentration and the transfer volume: ``stock x volume / well_volume_uL`` (the
    well's final volume). Transfers of a vehicle (``controls``, default DMSO) into a well that also receives a drug
    are back-fill and do not make it a control well; a well with two drugs is a combination well (``drug2``).

    Parameters
    ----------
    path
        The transfer list (CSV with any separator, or ``.xlsx``).
    well_volume_uL
        Final assay volume per well (µL), needed when concentrations are computed from stock and volume.
    controls
        ``{compound name: role}`` for control wells (roles ``neg_control``, ``pos_control``); names are matched
        case-insensitively. Default ``{"DMSO": "neg_control"}``.
    plate
        Keep only transfers into this destination plate (name or barcode), when the list covers several.

    Returns
    -------
    pandas.DataFrame
        ``well, role, drug, conc, conc_unit, drug2, conc2, conc2_unit`` (concentrations in µM), one row per
        destination well, sorted by well; write it with :func:`helpers.io.write_table` as a ``maps/*_map.csv``.

    Raises
    ------
    DataContractError
        The list is empty or unreadable, lacks a well, compound or concentration (or stock and volume) column,
        covers several plates without ``plate``, names a bad well, an unknown unit or a non-numeric value, needs
        ``well_volume_uL`` that is not given, or sends more than two compounds into one well.
    """
    path = Path(path)
    controls = {k.lower(): v for k, v in (controls or {"DMSO": "neg_control"}).items()}
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        rows, _ = _read_rows(path, None)
        df = pd.DataFrame(rows[1:], columns=rows[0]).astype(str)
    else:
        lines, _ = _read_rows(path, None)
        if not lines:
            raise DataContractError(path, "empty picklist")
        head = lines[0]
        sep = max(_SEPARATORS, key=lambda x: (head.count(x), x == ","))  # the header has no decimal commas
        rows = _split(lines, sep)
        df = pd.DataFrame([r + [""] * (len(rows[0]) - len(r)) for r in rows[1:] if any(r)], columns=rows[0])
    cols = _picklist_columns(path, list(df.columns))
    for need in ("well", "compound"):
        if need not in cols:
            raise DataContractError(path, f"no {need} column (accepted names: {', '.join(_PICK_ALIASES[need])})")
    if "conc" not in cols and not ("stock" in cols and "volume" in cols):
        raise DataContractError(path, "no concentration column, and no stock concentration with transfer volume")
    if plate is not None and "plate" in cols:
        df = df[df[cols["plate"][0]].astype(str) == plate]
    elif "plate" in cols and df[cols["plate"][0]].nunique() > 1:
        raise DataContractError(path, f"transfers into several plates ({', '.join(sorted(df[cols['plate'][0]].unique()))}):"
                                " choose one with plate=")
    transfers = []
    for i, rec in df.iterrows():
        line_no = int(i) + 2
        well_id = str(rec[cols["well"][0]])
        pos = parse_well(well_id)
        if pos is None:
            raise DataContractError(path, f"not a well id: {well_id!r}", row=line_no, column=cols["well"][0])
        compound = str(rec[cols["compound"][0]]).strip()
        if not compound:
            raise DataContractError(path, "no compound name", row=line_no, column=cols["compound"][0])
        if "conc" in cols:
            col, unit = cols["conc"]
            unit = unit or (str(rec[cols["conc_unit"][0]]).strip() if "conc_unit" in cols else None)
            if unit not in _CONC_UNITS:
                raise DataContractError(path, f"unknown or missing concentration unit {unit!r} (allowed: "
                                        f"{', '.join(_CONC_UNITS)})", row=line_no, column=col)
            value = _picked_number(path, rec[col], line_no, col) * _CONC_UNITS[unit]
        else:
            if well_volume_uL is None or well_volume_uL <= 0:
                raise DataContractError(path, "concentrations must be computed from stock and volume: give "
                                        "well_volume_uL (the final volume per well)")
            (scol, sunit), (vcol, vunit) = cols["stock"], cols["volume"]
            vunit = vunit or "nL"  # Echo and D300 transfer volumes are in nanolitres
            if sunit not in _CONC_UNITS:
                raise DataContractError(path, f"stock concentration needs a unit in its header, e.g. '{scol} (mM)'",
                                        row=1, column=scol)
            if vunit not in _VOL_UNITS:
                raise DataContractError(path, f"unknown volume unit {vunit!r}", row=1, column=vcol)
            stock = _picked_number(path, rec[scol], line_no, scol) * _CONC_UNITS[sunit]
            vol = _picked_number(path, rec[vcol], line_no, vcol) * _VOL_UNITS[vunit]
            value = stock * vol / well_volume_uL
        transfers.append((pos, compound, value))
    by_well: dict[tuple[int, int], dict[str, float]] = {}
    for pos, compound, value in transfers:
        w = by_well.setdefault(pos, {})
        w[compound] = w.get(compound, 0.0) + value  # repeated transfers of one compound add up
    out = []
    for (r, c), comp in sorted(by_well.items()):
        drugs = [(k, v) for k, v in comp.items() if k.lower() not in controls]
        well = format_well(r, c)
        if not drugs:
            name = next(iter(comp))
            out.append({"well": well, "role": controls[name.lower()], "drug": name, "conc": np.nan, "conc_unit": "",
                        "drug2": "", "conc2": np.nan, "conc2_unit": ""})
            continue
        if len(drugs) > 2:
            raise DataContractError(path, f"well {well} receives {len(drugs)} compounds ({', '.join(d for d, _ in drugs)}); "
                                    "plate maps hold at most two")
        (d1, c1), (d2, c2) = drugs[0], (drugs[1] if len(drugs) == 2 else ("", np.nan))
        out.append({"well": well, "role": "sample", "drug": d1, "conc": c1, "conc_unit": "µM", "drug2": d2,
                    "conc2": c2, "conc2_unit": "µM" if d2 else ""})
    return pd.DataFrame(out, columns=["well", "role", "drug", "conc", "conc_unit", "drug2", "conc2", "conc2_unit"])


def _picked_number(path: Path, value: Any, line_no: int, column: str) -> float:
    try:
        x = float(str(value).replace(",", ".")) if str(value).count(",") == 1 and "." not in str(value) else float(value)
    except (TypeError, ValueError):
        raise DataContractError(path, f"not a number: {value!r}", row=line_no, column=column) from None
    if not np.isfinite(x) or x < 0:
        raise DataContractError(path, f"invalid value {value!r}", row=line_no, column=column)
    return x
