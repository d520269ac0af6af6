"""DST loaders: broken inputs get an error naming the file, row/column and what is wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.dst.contract import load_plate_manifest, load_plates, read_long_table, read_plate_map, read_reader_export
from helpers.errors import DataContractError


def _export(path, grid=None, *, rows="ABCDEFGHIJKLMNOP", extra=None):
    grid = np.full((16, 24), 1000) if grid is None else grid
    lines = ["Plate reader export", "Plate ID,P1", "", "," + ",".join(str(c) for c in range(1, 25))]
    for r, letter in enumerate(rows):
        lines.append(letter + "," + ",".join(str(v) for v in grid[r]))
    if extra:
        lines = extra(lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def _map(path, **changes):
    wells = [f"{r}{c:02d}" for r in "ABCDEFGHIJKLMNOP" for c in range(1, 25)]
    df = pd.DataFrame({"well": wells, "role": "sample", "drug": "Venetoclax", "conc": 10.0, "conc_unit": "nM"})
    df.loc[df["well"].str.endswith("01"), ["role", "drug", "conc", "conc_unit"]] = ["neg_control", "DMSO", None, None]
    for col, (i, v) in changes.items():
        df.loc[i, col] = v
    df.to_csv(path, index=False)
    return path


def test_reader_export_roundtrip_and_overflow(tmp_path):
    grid = np.arange(384).reshape(16, 24) + 10
    grid = grid.astype(object)
    grid[3, 5] = "OVER"
    g = read_reader_export(_export(tmp_path / "r.csv", grid))
    assert g.shape == (16, 24) and g[0, 0] == 10 and g[15, 23] == 393 and np.isinf(g[3, 5])


@pytest.mark.parametrize(
    ("kind", "expect"),
    [
        ("truncated", "truncated: 15 of 16 rows"),
        ("letter", "expected row letter 'C'"),
        ("text", "well B07: not a number: 'abc'"),
        ("short", "row D has 23 values"),
        ("nogrid", "no plate grid found"),
    ],
)
def test_reader_export_errors(tmp_path, kind, expect):
    p = tmp_path / f"{kind}.csv"
    if kind == "truncated":
        _export(p, rows="ABCDEFGHIJKLMNO")
    elif kind == "letter":
        _export(p, rows="ABXDEFGHIJKLMNOP")
    elif kind == "text":
        g = np.full((16, 24), 5).astype(object)
        g[1, 6] = "abc"
        _export(p, g)
    elif kind == "short":
        _export(p, extra=lambda lines: lines[:7] + [lines[7].rsplit(",", 1)[0]] + lines[8:])
    else:
        p.write_text("Plate reader export\nno grid here\n")
    with pytest.raises(DataContractError, match=expect) as exc:
        read_reader_export(p)
    assert exc.value.path == p


def test_plate_map_converts_units(tmp_path):
    m = read_plate_map(_map(tmp_path / "m.csv", conc_unit=(5, "uM")))
    assert m.loc[m["well"] == "A02", "conc_uM"].item() == pytest.approx(0.01)
    assert m.loc[m["well"] == "A06", "conc_uM"].item() == pytest.approx(10.0)
    assert m.loc[m["well"] == "B01", "row"].item() == 1 and m.loc[m["well"] == "B01", "col"].item() == 0


@pytest.mark.parametrize(
    ("change", "column", "row", "text"),
    [
        ({"conc_unit": (4, "mg/ml")}, "conc_unit", 6, "mg/ml"),
        ({"well": (10, "A02")}, "well", 12, "duplicated"),
        ({"well": (10, "Q01")}, "well", 12, "Q01"),
        ({"role": (7, "blank")}, "role", 9, "blank"),
        ({"conc": (3, -5.0)}, "conc", 5, "-5"),
        ({"drug": (3, None)}, "drug", 5, "has no drug"),
    ],
)
def test_plate_map_errors(tmp_path, change, column, row, text):
    p = _map(tmp_path / "m.csv", **change)
    with pytest.raises(DataContractError, match=text) as exc:
        read_plate_map(p)
    assert exc.value.column == column and exc.value.row == row and exc.value.path == p


def test_plate_map_missing_column(tmp_path):
    p = tmp_path / "m.csv"
    pd.read_csv(_map(p)).drop(columns=["role"]).to_csv(p, index=False)
    with pytest.raises(DataContractError, match="missing required column") as exc:
        read_plate_map(p)
    assert exc.value.column == "role"


def test_manifest_and_plates(tmp_path):
    (tmp_path / "r").mkdir()
    _export(tmp_path / "r" / "P1.csv")
    _map(tmp_path / "m.csv")
    pd.DataFrame({"plate_id": ["P1"], "sample_id": ["S1"], "reader_file": ["r/P1.csv"], "map_file": ["m.csv"]}).to_csv(
        tmp_path / "plates.csv", index=False)
    wells = load_plates(tmp_path)
    assert len(wells) == 384 and (wells["signal"] == 1000).all() and (wells["sample_id"] == "S1").all()
    with pytest.raises(DataContractError, match="'S1' is not in samples.csv") as exc:
        load_plate_manifest(tmp_path, samples=pd.DataFrame({"sample_id": ["S2"]}))
    assert exc.value.row == 2 and exc.value.column == "sample_id"
    pd.DataFrame({"plate_id": ["P1", "P1"], "sample_id": ["S1", "S1"], "reader_file": ["r/P1.csv"] * 2,
                  "map_file": ["m.csv"] * 2}).to_csv(tmp_path / "plates.csv", index=False)
    with pytest.raises(DataContractError, match="duplicated") as exc:
        load_plates(tmp_path)
    assert exc.value.row == 3


def test_long_table(tmp_path):
    p = tmp_path / "long.csv"
    pd.DataFrame({"sample_id": ["a", "a"], "drug": ["VEN", "VEN"], "conc": [10, 100], "conc_unit": ["nM", "nM"],
                  "viability_pct": [90, 40]}).to_csv(p, index=False)
    df = read_long_table(p)
    assert list(df["conc_uM"]) == pytest.approx([0.01, 0.1]) and "sample" in df
    pd.DataFrame({"sample": ["a", "a"], "drug": ["VEN", "VEN"], "conc": [10, 100], "conc_unit": ["nM", "ng"],
                  "viability_pct": [90, 40]}).to_csv(p, index=False)
    with pytest.raises(DataContractError, match="unknown concentration unit 'ng'") as exc:
        read_long_table(p)
    assert exc.value.row == 3 and exc.value.column == "conc_unit"
    pd.DataFrame({"sample": ["a"], "drug": ["VEN"], "conc_uM": [0.0], "viability_pct": [90]}).to_csv(p, index=False)
    with pytest.raises(DataContractError, match="fails check") as exc:
        read_long_table(p)
    assert exc.value.column == "conc_uM" and exc.value.row == 2
    pd.DataFrame({"sample": ["a"], "drug": ["VEN"], "conc_uM": [1.0], "viability_pct": ["high"]}).to_csv(p, index=False)
    with pytest.raises(DataContractError, match="not a number: 'high'"):
        read_long_table(p)
    pd.DataFrame({"sample": ["a"], "conc_uM": [1.0], "viability_pct": [3]}).to_csv(p, index=False)
    with pytest.raises(DataContractError, match="missing required column") as exc:
        read_long_table(p)
    assert exc.value.column == "drug"
