"""DST data contract: reader exports, plate maps, the plate manifest and long-format tables, validated on read.

The layout is documented in ``docs/dst.md``. Every loader raises :class:`~helpers.errors.DataContractError` naming the
file, the row (1-based line number, header = line 1), column or well, and what is wrong.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from ..errors import DataContractError
from ..plausibility import concentration_problems, raise_first, report, viability_fraction_problems
from ..safepaths import confined_path
from ..validation import read_csv_checked, validate_frame
from .plate_formats import PLATE_SHAPES, format_well, parse_well, row_labels

__all__ = [
    "CONC_UNITS",
    "ROLES",
    "read_reader_export",
    "read_plate_map",
    "load_plate_manifest",
    "load_plates",
    "read_long_table",
]

ROW_LETTERS = "ABCDEFGHIJKLMNOP"
N_ROWS, N_COLS = 16, 24
# Concentration units accepted in plate maps and long tables, as factors to micromolar.
CONC_UNITS = {"pM": 1e-6, "nM": 1e-3, "uM": 1.0, "µM": 1.0, "mM": 1e3, "M": 1e6}
ROLES = ("sample", "neg_control", "pos_control", "empty")
SATURATED_TOKENS = {"OVER", "OVRFLW", "OVERFLOW", "SAT"}
_WELL = r"^[A-P](0[1-9]|1[0-9]|2[0-4])$"


def read_reader_export(path: str | Path, *, wells: int | None = None) -> np.ndarray:
    """Read a plate-reader export into a (rows x columns) array of raw signal (16 x 24 for 384 wells).

    Any layout :func:`helpers.dst.plate_formats.read_plate` reads: the contract's grid (free header lines, a grid
    header line ``,1,2,...,24`` and lines ``A,...`` to ``P,...``), Tecan, EnVision and BMG exports, a long
    ``well,value`` table; 96, 384 or 1536 wells; CSV with any separator or ``.xlsx``. Saturated wells (``OVER``,
    ``OVRFLW``) become ``inf`` so that QC flags them; empty grid cells are an error.

    Parameters
    ----------
    path
        The export, as the reader wrote it.
    wells
        Expected plate format (96, 384, 1536); default: from the file.

    Returns
    -------
    numpy.ndarray
        Shape (rows, columns), float, row A first.
    """
    from .plate_formats import read_plate

    return read_plate(path, wells=wells)


def _unit_check(s: pd.Series) -> pd.Series:
    return s.isna() | s.isin(list(CONC_UNITS))


PLATE_MAP_SCHEMA = pa.DataFrameSchema(
    {
        "well": pa.Column(str, pa.Check.str_matches(_WELL), unique=True),
        "role": pa.Column(str, pa.Check.isin(ROLES)),
        "drug": pa.Column(str, nullable=True),
        "conc": pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True),
        "conc_unit": pa.Column(str, pa.Check(_unit_check, name="known_unit"), nullable=True),
        "drug2": pa.Column(str, nullable=True, required=False),
        "conc2": pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True, required=False),
        "conc2_unit": pa.Column(str, pa.Check(_unit_check, name="known_unit"), nullable=True, required=False),
        "replicate": pa.Column(int, pa.Check.ge(0), required=False, coerce=True),
    },
    strict=False,
)


def read_plate_map(path: str | Path, *, wells: int = 384, problems: list | None = None) -> pd.DataFrame:
    """Read and validate a plate map; concentrations are converted to µM.

    Parameters
    ----------
    path
        CSV with columns ``well, role, drug, conc, conc_unit`` and, for the dose-matrix region, ``drug2, conc2,
        conc2_unit``; optional ``replicate``. Roles: sample, neg_control (DMSO), pos_control (killing control), empty.
        A dispenser's picklist converts to this layout with :func:`helpers.dst.plate_formats.plate_map_from_picklist`.
    wells
        Plate format the wells must belong to (96, 384 or 1536); ``A1`` and ``A01`` are both accepted.
    problems
        When given, implausible concentrations are appended to it (``python -m helpers check`` lists them all) instead
        of raising the first one.

    Returns
    -------
    pandas.DataFrame
        ``well, row, col, role, drug, conc_uM, drug2, conc2_uM, replicate``; ``row`` and ``col`` are 0-based.

    Raises
    ------
    DataContractError
        The file is unreadable or breaks the plate-map schema (unknown role, a well outside the plate or listed
        twice), a sample well lacks its drug, concentration or unit, a concentration has no unit, or (without
        ``problems``) a concentration is implausible for its drug; the message names the row and column.
    """
    path = Path(path)
    df = read_csv_checked(path, dtype={"well": str, "role": str, "drug": str, "conc_unit": str, "drug2": str,
                                       "conc2_unit": str})
    df = _normalise_wells(df, path, wells)
    df = validate_frame(df, PLATE_MAP_SCHEMA if wells == 384 else _map_schema(wells), path)
    for c in ("drug2", "conc2", "conc2_unit"):
        if c not in df:
            df[c] = np.nan
    if "replicate" not in df:
        df["replicate"] = 1
    # Sample wells need a drug with a concentration and its unit (a matrix well may carry 0 of one drug).
    sample = df["role"] == "sample"
    for col in ("drug", "conc", "conc_unit"):
        bad = np.flatnonzero(sample & df[col].isna())
        if len(bad):
            raise DataContractError(path, f"sample well {df['well'].iat[bad[0]]} has no {col}", row=int(bad[0]) + 2,
                                    column=col)
    for conc, unit in (("conc", "conc_unit"), ("conc2", "conc2_unit")):
        bad = np.flatnonzero(df[conc].notna() & df[unit].isna())
        if len(bad):
            raise DataContractError(path, f"concentration without unit in well {df['well'].iat[bad[0]]}",
                                    row=int(bad[0]) + 2, column=unit)
    out = pd.DataFrame(
        {
            "well": df["well"],
            "row": [parse_well(w)[0] for w in df["well"]],
            "col": [parse_well(w)[1] for w in df["well"]],
            "role": df["role"],
            "drug": df["drug"].fillna(""),
            "conc_uM": df["conc"] * df["conc_unit"].map(CONC_UNITS),
            "drug2": df["drug2"].fillna(""),
            "conc2_uM": df["conc2"] * df["conc2_unit"].map(CONC_UNITS),
            "replicate": df["replicate"].astype(int),
        }
    )
    # A nM value in a uM column passes every type check: the drug's plausible range catches it (``problems``: collect).
    report(concentration_problems(out, path, drug="drug", conc="conc_uM", column="conc"), problems)
    report(concentration_problems(out, path, drug="drug2", conc="conc2_uM", column="conc2"), problems)
    return out


def _normalise_wells(df: pd.DataFrame, path: Path, wells: int) -> pd.DataFrame:
    """Write well ids as the contract does (``A1`` -> ``A01``); ids outside the plate are left for the schema."""
    if "well" not in df:
        return df
    n_rows, n_cols = PLATE_SHAPES[wells]
    pos = [parse_well(str(w), n_rows=n_rows, n_cols=n_cols) if isinstance(w, str) else None for w in df["well"]]
    df = df.copy()
    df["well"] = [format_well(*p) if p else w for p, w in zip(pos, df["well"], strict=True)]
    return df


def _map_schema(wells: int) -> pa.DataFrameSchema:
    n_rows, n_cols = PLATE_SHAPES[wells]
    rows = "|".join(row_labels(n_rows))
    cols = "|".join(f"{c:02d}" for c in range(1, n_cols + 1))
    columns = dict(PLATE_MAP_SCHEMA.columns)
    columns["well"] = pa.Column(str, pa.Check.str_matches(rf"^({rows})({cols})$"), unique=True)
    return pa.DataFrameSchema(columns, strict=False)


MANIFEST_SCHEMA = pa.DataFrameSchema(
    {
        "plate_id": pa.Column(str, pa.Check.str_matches(r"^[A-Za-z0-9_.-]+$"), unique=True),
        "sample_id": pa.Column(str),
        "reader_file": pa.Column(str),
        "map_file": pa.Column(str),
        "plate_replicate": pa.Column(int, pa.Check.ge(1), required=False, coerce=True),
        "read_date": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$"), required=False),
    },
    strict=False,
)


def load_plate_manifest(dst_dir: str | Path, *, samples: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read ``<dst_dir>/plates.csv``; with ``samples``, every plate's sample must be in samples.csv.

    Parameters
    ----------
    dst_dir
        The cohort's ``dst/`` folder.
    samples
        samples.csv table; None skips the check of the sample ids.

    Returns
    -------
    pandas.DataFrame
        One row per plate (``plate_id, sample_id, reader_file, map_file``, optional ``plate_replicate`` and
        ``read_date``), validated.

    Raises
    ------
    DataContractError
        ``plates.csv`` is missing or unreadable, breaks its schema (duplicate or malformed ``plate_id``, a
        ``read_date`` not ``YYYY-MM-DD``), or names a sample that is not in ``samples``.
    """
    path = Path(dst_dir) / "plates.csv"
    df = validate_frame(read_csv_checked(path, dtype=str), MANIFEST_SCHEMA, path)
    if samples is not None:
        unknown = ~df["sample_id"].isin(samples["sample_id"])
        if unknown.any():
            i = int(np.flatnonzero(unknown)[0])
            raise DataContractError(path, f"sample {df['sample_id'].iat[i]!r} is not in samples.csv", row=i + 2,
                                    column="sample_id")
    return df


def load_plates(dst_dir: str | Path, *, samples: pd.DataFrame | None = None) -> pd.DataFrame:
    """Load every plate of the manifest into one long table of wells.

    Parameters
    ----------
    dst_dir
        The cohort's ``dst/`` folder (``plates.csv``, reader exports, plate maps).
    samples
        Optional samples table to check plate-to-sample links against.

    Returns
    -------
    pandas.DataFrame
        One row per mapped well: ``plate_id, sample_id, well, row, col, role, drug, conc_uM, drug2, conc2_uM,
        replicate, signal`` (raw reader signal, e.g. RLU; ``inf`` = saturated read); ``row`` and ``col`` 0-based.

    Raises
    ------
    DataContractError
        The manifest lists no plates or breaks its contract (:func:`load_plate_manifest`), a file it names lies
        outside ``dst_dir`` or breaks its own contract (:func:`read_plate_map`, the reader export), or a mapped well
        was not read.
    """
    dst_dir = Path(dst_dir)
    manifest = load_plate_manifest(dst_dir, samples=samples)
    frames = []
    maps: dict[bytes, pd.DataFrame] = {}
    for rec in manifest.itertuples(index=False):
        line = len(frames) + 2
        grid = read_reader_export(confined_path(dst_dir, rec.reader_file, sheet=dst_dir / "plates.csv", row=line,
                                                column="reader_file"))
        n_wells = grid.size
        map_path = confined_path(dst_dir, rec.map_file, sheet=dst_dir / "plates.csv", row=line, column="map_file")
        # Plates usually share a layout: a map whose bytes were already validated is not parsed again.
        key = (hashlib.sha256(map_path.read_bytes()).digest() if map_path.is_file() else b"", n_wells)
        if key not in maps:
            maps[key] = read_plate_map(map_path, wells=n_wells)
        pmap = maps[key].copy()
        unread = np.isnan(grid[pmap["row"].to_numpy(), pmap["col"].to_numpy()])
        if unread.any():  # a long export that does not list a mapped well
            raise DataContractError(dst_dir / rec.reader_file, f"well {pmap['well'].iat[int(np.flatnonzero(unread)[0])]}"
                                    f" is in the plate map {rec.map_file} but was not read")
        pmap.insert(0, "sample_id", rec.sample_id)
        pmap.insert(0, "plate_id", rec.plate_id)
        pmap["signal"] = grid[pmap["row"].to_numpy(), pmap["col"].to_numpy()]
        frames.append(pmap)
    if not frames:
        raise DataContractError(dst_dir / "plates.csv", "no plates listed")
    return pd.concat(frames, ignore_index=True)


def read_long_table(path: str | Path) -> pd.DataFrame:
    """Read an already-normalised long-format table (public cohorts, or the CLI's ``--input``).

    Accepted columns: ``sample`` (or ``sample_id``), ``drug``, ``conc_uM`` (or ``conc`` + ``conc_unit``),
    ``viability_pct``; optional ``replicate``. Concentrations must be positive and finite, viabilities finite.

    Parameters
    ----------
    path
        The CSV file.

    Returns
    -------
    pandas.DataFrame
        ``sample, drug, conc_uM, viability_pct`` (µM and % of control; plus any other columns, untouched).

    Raises
    ------
    DataContractError
        A required column is missing or empty, a concentration unit is unknown, a value is not a number, a
        concentration is not positive and finite or implausible for its drug, or the viabilities look like
        fractions rather than %; the message names the row and column.
    """
    path = Path(path)
    df = read_csv_checked(path, dtype={"sample": str, "sample_id": str, "drug": str, "conc_unit": str})
    if "sample" not in df and "sample_id" in df:
        df = df.rename(columns={"sample_id": "sample"})
    if "conc_uM" not in df and {"conc", "conc_unit"} <= set(df.columns):
        bad = np.flatnonzero(~df["conc_unit"].isin(list(CONC_UNITS)))
        if len(bad):
            raise DataContractError(path, f"unknown concentration unit {df['conc_unit'].iat[bad[0]]!r} (allowed: "
                                    f"{', '.join(CONC_UNITS)})", row=int(bad[0]) + 2, column="conc_unit")
        df["conc_uM"] = pd.to_numeric(df["conc"], errors="coerce") * df["conc_unit"].map(CONC_UNITS)
    schema = pa.DataFrameSchema(
        {
            "sample": pa.Column(str, pa.Check.str_length(min_value=1)),
            "drug": pa.Column(str, pa.Check.str_length(min_value=1)),
            "conc_uM": pa.Column(float, [pa.Check.gt(0), pa.Check(np.isfinite, name="finite")], coerce=True),
            "viability_pct": pa.Column(float, pa.Check(np.isfinite, name="finite"), coerce=True),
        },
        strict=False,
    )
    for col in ("conc_uM", "viability_pct"):  # a non-number gets a precise message before pandera's coercion
        if col in df and not pd.api.types.is_numeric_dtype(df[col]):
            num = pd.to_numeric(df[col], errors="coerce")
            bad = np.flatnonzero(num.isna())
            if len(bad):
                raise DataContractError(path, f"not a number: {df[col].iat[bad[0]]!r}", row=int(bad[0]) + 2,
                                        column=col)
    df = validate_frame(df, schema, path)
    raise_first(concentration_problems(df, path, drug="drug", conc="conc_uM"))
    raise_first(viability_fraction_problems(df, path))
    return df
