"""Plate-reader exports in each vendor's layout read to the same plate; dispenser picklists become plate maps."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.dst.contract import load_plates, read_plate_map, read_reader_export
from helpers.dst.plate_formats import format_well, parse_well, plate_map_from_picklist, read_plate, row_labels
from helpers.errors import DataContractError
from helpers.io import write_table

FIX = Path(__file__).parents[1] / "fixtures" / "plate_formats"  # tests/fixtures, shared by the tiers


def _expected(n_rows: int, n_cols: int, *, saturated: bool) -> np.ndarray:
    """The plate every fixture of that size was written from: 1000 + 100 row + 7 column (B03 saturated on 96)."""
    g = (1000 + 100 * np.arange(n_rows)[:, None] + 7 * np.arange(n_cols)[None, :]).astype(float)
    if saturated:
        g[1, 2] = np.inf
    return g


@pytest.mark.parametrize(
    "name",
    ["tecan_infinite_96.txt", "tecan_spark_96.xlsx", "envision_96_list.csv", "bmg_microplate_96.csv",
     "bmg_table_96.csv", "generic_long_96.csv", "semicolon_decimal_comma_96.csv"],
)  # fmt: skip
def test_every_96_well_layout_reads_to_the_same_plate(name):
    g = read_plate(FIX / name)
    np.testing.assert_array_equal(g, _expected(8, 12, saturated=True))
    assert read_reader_export(FIX / name, wells=96).shape == (8, 12)


@pytest.mark.parametrize("name", ["tecan_spark_384.xlsx", "envision_384_grid.csv"])
def test_384_well_layouts(name):
    np.testing.assert_array_equal(read_plate(FIX / name, wells=384), _expected(16, 24, saturated=False))


def test_1536_well_grid_with_two_letter_rows():
    g = read_plate(FIX / "generic_1536.csv")
    np.testing.assert_array_equal(g, _expected(32, 48, saturated=False))
    assert row_labels(32)[-6:] == ["AA", "AB", "AC", "AD", "AE", "AF"]
    assert parse_well("AF48") == (31, 47) and format_well(31, 47) == "AF48" and parse_well("AG01") is None


def test_wrong_plate_size_and_broken_files_are_named(tmp_path):
    with pytest.raises(DataContractError, match="96-well plate, expected 384"):
        read_plate(FIX / "tecan_infinite_96.txt", wells=384)
    bad = tmp_path / "bad.txt"
    lines = (FIX / "tecan_infinite_96.txt").read_text().splitlines()
    lines[22] = lines[22].replace("1214", "12x4")  # row C, column 3 (line 23 of the file)
    bad.write_text("\n".join(lines))
    with pytest.raises(DataContractError, match=r"well C03: not a number: '12x4'") as exc:
        read_plate(bad)
    assert exc.value.row == 23 and exc.value.column == "3"
    dup = tmp_path / "dup.csv"
    dup.write_text("well,value\nA1,5\nA01,6\n")
    with pytest.raises(DataContractError, match="A01 is listed twice") as exc:
        read_plate(dup)
    assert exc.value.row == 3
    notxlsx = tmp_path / "x.xlsx"
    notxlsx.write_text("not a workbook")
    with pytest.raises(DataContractError, match="cannot be read as an .xlsx"):
        read_plate(notxlsx)


def test_long_export_with_unlisted_wells_reads_nan_and_load_plates_refuses_mapped_ones(tmp_path):
    dst = tmp_path / "dst"
    (dst / "reader").mkdir(parents=True)
    (dst / "maps").mkdir()
    shutil.copy(FIX / "generic_long_96.csv", dst / "reader" / "p1.csv")
    pmap = plate_map_from_picklist(FIX / "d300_dispense.csv")
    write_table(pmap, dst / "maps" / "p1_map.csv")
    pd.DataFrame({"plate_id": ["P1"], "sample_id": ["S1"], "reader_file": ["reader/p1.csv"],
                  "map_file": ["maps/p1_map.csv"]}).to_csv(dst / "plates.csv", index=False)  # fmt: skip
    wells = load_plates(dst)
    assert len(wells) == len(pmap) and wells.loc[wells["well"] == "A02", "signal"].item() == 1007
    # The same plate exported with one mapped well missing.
    lines = [ln for ln in (FIX / "generic_long_96.csv").read_text().splitlines() if not ln.startswith("A2,")]
    (dst / "reader" / "p1.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataContractError, match="well A02 is in the plate map"):
        load_plates(dst)


def test_echo_and_d300_picklists_give_the_same_plate_map(tmp_path):
    echo = plate_map_from_picklist(FIX / "echo_picklist.csv", well_volume_uL=25)
    d300 = plate_map_from_picklist(FIX / "d300_dispense.csv")
    pd.testing.assert_frame_equal(echo, d300)
    m = echo.set_index("well")
    # 10 mM stock x 2.5 nL / 25 uL = 1 uM; 10 mM x 25 nL / 25 uL = 10 uM.
    assert m.loc["A01", ["role", "drug", "conc", "conc_unit"]].tolist() == ["sample", "Venetoclax", 1.0, "µM"]
    assert m.loc["A03", "role"] == "sample" and m.loc["A03", "conc"] == pytest.approx(0.01)  # DMSO back-fill ignored
    assert m.loc["C01", ["drug", "drug2"]].tolist() == ["Venetoclax", "Azacitidine"]
    assert m.loc["C01", "conc2"] == pytest.approx(10.0)
    assert m.loc["H12", "role"] == "neg_control" and m.loc["H12", "drug"] == "DMSO"
    # The result is a valid plate map of the contract.
    write_table(echo, tmp_path / "map.csv")
    read = read_plate_map(tmp_path / "map.csv", wells=96)
    assert read.set_index("well").loc["A01", "conc_uM"] == pytest.approx(1.0)


def test_picklist_errors_name_file_row_and_column(tmp_path):
    with pytest.raises(DataContractError, match="give well_volume_uL"):
        plate_map_from_picklist(FIX / "echo_picklist.csv")
    bad = tmp_path / "bad.csv"
    text = (FIX / "d300_dispense.csv").read_text().replace("Assay1,B2,Azacitidine,1000,nM", "Assay1,B2,Azacitidine,1000,ng")
    bad.write_text(text)
    with pytest.raises(DataContractError, match="unknown or missing concentration unit 'ng'") as exc:
        plate_map_from_picklist(bad)
    assert exc.value.row == 6
    bad.write_text(text.replace("Assay1,B2,Azacitidine,1000,ng", "Assay1,Z99,Azacitidine,1000,nM"))
    with pytest.raises(DataContractError, match="not a well id: 'Z99'") as exc:
        plate_map_from_picklist(bad)
    assert exc.value.column == "Dispensed Well"
