"""Numeric regression checks of the reference tables (helpers.regression)."""

import pandas as pd
import pytest

from helpers.regression import compare_table_dirs, compare_tables, copy_reference_tables, reference_table_files


def _write(path, df):
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return path


@pytest.fixture
def table():
    return pd.DataFrame({"marker": ["CD34", "CD117", "CD33"], "median": [4.22, 3.5, 0.2], "n": [10, 12, 9]})


def test_last_bit_noise_passes_and_a_moved_value_names_table_column_and_row(tmp_path, table):
    ref = _write(tmp_path / "ref" / "profile.csv", table)
    noisy = table.assign(median=table["median"] * (1 + 1e-12))
    assert compare_tables(ref, _write(tmp_path / "a" / "profile.csv", noisy)) == []
    moved = table.copy()
    moved.loc[1, "median"] = 3.77
    diffs = compare_tables(ref, _write(tmp_path / "b" / "profile.csv", moved))
    assert len(diffs) == 1
    d = diffs[0]
    assert (d.table, d.column, d.reference, d.actual) == ("profile.csv", "median", 3.5, 3.77)
    assert d.row == "3 (marker='CD117')"  # line 3 of the file (header = 1)
    assert "column 'median'" in str(d)


def test_tolerance_is_relative_plus_absolute(tmp_path, table):
    ref = _write(tmp_path / "ref" / "t.csv", table)
    # One unit in the sixth significant digit (how helpers.io writes floats) is within the default tolerance.
    near = table.assign(median=[4.22001, 3.50001, 0.200001])
    far = table.assign(median=table["median"] * (1 + 5e-5))
    assert compare_tables(ref, _write(tmp_path / "n" / "t.csv", near)) == []
    assert len(compare_tables(ref, _write(tmp_path / "f" / "t.csv", far))) == 3
    assert compare_tables(ref, _write(tmp_path / "f2" / "t.csv", far), rtol=1e-4) == []


def test_structure_changes_and_missing_tables_are_reported(tmp_path, table):
    ref_dir, new_dir = tmp_path / "ref", tmp_path / "new"
    _write(ref_dir / "t.csv", table)
    _write(ref_dir / "gone.csv", table)
    _write(new_dir / "t.csv", table.drop(columns="n").assign(extra=1).iloc[:2])
    diffs = {(d.table, d.column, d.actual) for d in compare_table_dirs(ref_dir, new_dir)}
    assert ("t.csv", "n", "column missing") in diffs
    assert ("t.csv", "extra", "column added") in diffs
    assert ("t.csv", "-", "2 rows") in diffs
    assert ("gone.csv", "-", "table not written") in diffs
    with pytest.raises(FileNotFoundError):
        compare_table_dirs(tmp_path / "empty", new_dir)


def test_nan_matches_only_nan_and_text_compares_exactly(tmp_path):
    ref = _write(tmp_path / "r" / "t.csv", pd.DataFrame({"q": ["<0.001", "0.02"], "v": [float("nan"), 1.0]}))
    same = _write(tmp_path / "s" / "t.csv", pd.DataFrame({"q": ["<0.001", "0.02"], "v": [float("nan"), 1.0]}))
    other = _write(tmp_path / "o" / "t.csv", pd.DataFrame({"q": ["0.001", "0.02"], "v": [0.0, 1.0]}))
    assert compare_tables(ref, same) == []
    assert {d.column for d in compare_tables(ref, other)} == {"q", "v"}


def test_only_small_tables_become_references(tmp_path, table):
    out = tmp_path / "out"
    _write(out / "small.csv", table)
    _write(out / "big.csv", pd.DataFrame({"x": range(50_000)}))
    (out / "notes.txt").write_text("not a table")
    assert [p.name for p in reference_table_files(out)] == ["small.csv"]
    target = tmp_path / "refs"
    _write(target / "stale.csv", table)
    assert copy_reference_tables(out, target) == ["small.csv"]
    assert sorted(p.name for p in target.iterdir()) == ["small.csv"]
