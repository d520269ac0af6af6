"""Count tables as input: wide and long tables, separators, designs with arms and a shared baseline, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import helpers.barcodes as bc
from helpers.errors import DataContractError

WIDE = [("BC_1", 10, 0, 5), ("BC_2", 0, 7, 1), ("BC_3", 3, 3, 3)]
SAMPLES = ["T0-1", "S1-1", "S2-1"]


def _write_wide(path, sep, *, header_first=""):
    lines = [sep.join([header_first, *SAMPLES])] + [sep.join([b, *map(str, v)]) for b, *v in WIDE]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(("name", "sep", "first"), [("c.csv", ",", "barcode"), ("c.tsv", "\t", ""),
                                                    ("c.txt", "\t", "barcode"), ("c.tsv", ",", "")])  # fmt: skip
def test_wide_table_separator_from_content(tmp_path, name, sep, first):
    m = bc.read_count_table(_write_wide(tmp_path / name, sep, header_first=first))
    assert list(m.columns) == SAMPLES and list(m.index) == ["BC_1", "BC_2", "BC_3"]
    assert m.dtypes.unique().tolist() == [np.dtype("int64")]
    assert m.loc["BC_1", "S2-1"] == 5 and m.to_numpy().sum() == 32


def test_long_table_equals_wide(tmp_path):
    rows = [(b, s, c) for b, *v in WIDE for s, c in zip(SAMPLES, v, strict=True) if c > 0]
    p = tmp_path / "long.txt"
    p.write_text("barcode\tsample\tcount\n" + "".join(f"{b}\t{s}\t{c}\n" for b, s, c in rows))
    wide = bc.read_count_table(_write_wide(tmp_path / "w.csv", ","))
    long = bc.read_count_table(p)
    pd.testing.assert_frame_equal(long.loc[wide.index, wide.columns], wide, check_names=False)


def test_bartools_float_counts_read_as_integers(tmp_path):
    p = tmp_path / "counts.tsv"
    p.write_text("\tA\tB\nBC_1\t175.0\t0.0\nBC_2\t3.0\t12.0\n")
    m = bc.read_count_table(p)
    assert m.loc["BC_1", "A"] == 175 and m.dtypes.iloc[0] == np.int64


@pytest.mark.parametrize(("text", "match", "row", "col"), [
    ("barcode,A,B\nBC_1,1,2\nBC_1,3,4\n", "duplicated barcode row 'BC_1'", 3, "barcode"),
    ("barcode,A,B\nBC_1,1,2.5\n", "not an integer count", 2, "B"),
    ("barcode,A,B\nBC_1,1,x\n", "not a number", 2, "B"),
    ("barcode,A,B\nBC_1,-1,2\n", "negative", 2, "A"),
    ("barcode,A,B\n", "empty count table", None, None),
    ("", "empty count table", None, None),
    ("barcode,sample,count\nBC_1,A,2\nBC_1,A,3\n", "duplicated (barcode, sample) pair", 3, "barcode"),
])  # fmt: skip
def test_count_table_errors_name_line_and_column(tmp_path, text, match, row, col):
    p = tmp_path / "counts.csv"
    p.write_text(text)
    with pytest.raises(DataContractError, match=match.replace("(", r"\(").replace(")", r"\)")) as e:
        bc.read_count_table(p)
    assert e.value.row == row and e.value.column == col and e.value.path == p


def _design(tmp_path, rows, header="sample,mouse,arm,tissue,timepoint,pcr_replicate,baseline"):
    p = tmp_path / "sample_sheet.csv"
    p.write_text(header + "\n" + "\n".join(rows) + "\n")
    return p


THREE_ARMS = [
    "T0-1,T0,baseline,pool,baseline,1,", "T0-2,T0,baseline,pool,baseline,2,",
    *[f"S{m}-{r},{m},{arm},bone_marrow,endpoint,{r},T0" for m, arm in
      [(1, "vehicle"), (2, "vehicle"), (3, "low_dose"), (4, "low_dose"), (5, "high_dose"), (6, "high_dose")]
      for r in (1, 2)],
]  # fmt: skip


def test_three_arms_and_shared_baseline(tmp_path):
    d = bc.load_design(_design(tmp_path, THREE_ARMS))
    assert set(d["arm"]) == {"baseline", "vehicle", "low_dose", "high_dose"}
    assert (d.loc[d["arm"] != "baseline", "baseline"] == "T0").all()
    assert bc.control_arm(d) == "vehicle" and bc.control_arm(d, "low_dose") == "low_dose"
    counts = pd.DataFrame(np.arange(3 * len(d)).reshape(3, -1), index=["a", "b", "c"], columns=d["sample"])
    c, units = bc.collapse_replicates(counts, d)
    assert len(units) == 7 and c.shape == (3, 7)
    assert c["T0|pool|baseline"].tolist() == (counts["T0-1"] + counts["T0-2"]).tolist()
    post, base, tp = bc.comparison_units(units, treated="high_dose", control="vehicle")
    assert tp == "endpoint" and sorted(post["mouse"]) == ["1", "2", "5", "6"] and base["mouse"].tolist() == ["T0"]


def test_truncated_mean_collapse_resists_a_jackpot_replicate():
    d = pd.DataFrame({"sample": ["a", "b", "c"], "mouse": "m", "arm": "vehicle", "tissue": "bm", "timepoint": "end",
                      "pcr_replicate": [1, 2, 3], "pdx_id": "P", "patient_id": "P", "sample_id": "P",
                      "baseline": "", "control": True, "burden_pct": np.nan})  # fmt: skip
    counts = pd.DataFrame({"a": [100, 100], "b": [100, 100], "c": [100, 10000]}, index=["x", "y"])
    s, _ = bc.collapse_replicates(counts, d, method="sum")
    t, _ = bc.collapse_replicates(counts, d, method="truncated_mean", trim=0.34)
    assert s.loc["y"].iloc[0] == 10200
    # trimmed mean of CPM: the jackpot replicate is dropped, x and y come out equal
    assert t.loc["x"].iloc[0] == t.loc["y"].iloc[0]


def test_control_flag_and_burden(tmp_path):
    rows = ["A,m1,aza,bm,end,1,false,40", "B,m2,aza,bm,end,1,false,55", "C,m3,sham,bm,end,1,true,80"]
    d = bc.load_design(_design(tmp_path, rows, "sample,mouse,arm,tissue,timepoint,pcr_replicate,control,burden_pct"))
    assert bc.control_arm(d) == "sham"
    counts = pd.DataFrame({"A": [1, 3], "B": [2, 2], "C": [5, 5]}, index=["x", "y"])
    c, units = bc.collapse_replicates(counts, d)
    ab = bc.absolute_clone_sizes(c, units)
    assert ab.loc["y", "m1|bm|end"] == pytest.approx(30.0) and ab.loc["x", "m3|bm|end"] == pytest.approx(40.0)


@pytest.mark.parametrize(("rows", "match", "row", "col"), [
    (["A,m1,vehicle,bm,end,1,T0", "B,T0,baseline,pool,baseline,1,", "C,m2,vehicle,bm,end,1,"],
     "mouse 'm2' has no baseline", 4, "baseline"),
    (["A,m1,vehicle,bm,end,1,T9", "B,T0,baseline,pool,baseline,1,"], "baseline 'T9' of mouse 'm1' is not defined", 2,
     "baseline"),
    (["A,m1,vehicle,bm,end,1,", "B,m1,aza,bm,end,2,"], "mouse 'm1' has more than one arm", 2, "arm"),
    (["A,m1,vehicle,bm,end,0,"], "PCR replicate must be a positive integer", 2, "pcr_replicate"),
    (["A,m1,vehicle,bm,end,1,", "A,m2,vehicle,bm,end,1,"], "duplicated sample 'A'", 3, "sample"),
    (["A,m1,vehicle,,end,1,"], "empty value", 2, "tissue"),
])  # fmt: skip
def test_design_errors(tmp_path, rows, match, row, col):
    with pytest.raises(DataContractError, match=match) as e:
        bc.load_design(_design(tmp_path, rows))
    assert e.value.row == row and e.value.column == col


def test_design_and_table_must_match(tmp_path):
    p = _design(tmp_path, ["A,m1,vehicle,bm,end,1,", "B,m2,aza,bm,end,1,"])
    with pytest.raises(DataContractError, match="sample 'B' is not a column of the count table") as e:
        bc.load_design(p, samples=["A"])
    assert e.value.row == 3
    with pytest.raises(DataContractError, match="column 'C' has no row in the sample sheet"):
        bc.load_design(p, samples=["A", "B", "C"])


def test_unknown_arm_is_a_clear_error(tmp_path):
    d = bc.load_design(_design(tmp_path, THREE_ARMS))
    counts = pd.DataFrame(1, index=["a", "b", "c"], columns=d["sample"])
    c, units = bc.collapse_replicates(counts, d)
    with pytest.raises(DataContractError, match="unknown arm 'aza_ven'; arms: high_dose, low_dose, vehicle"):
        bc.differential_abundance(c, units, treated="aza_ven", control="vehicle")
    with pytest.raises(DataContractError, match="unknown control arm 'sham'"):
        bc.control_arm(d, "sham")


def test_load_count_dataset_folder(tmp_path):
    root = tmp_path / "barcodes"
    root.mkdir()
    _write_wide(root / "counts.txt", "\t")
    _design(root, ["T0-1,T0,baseline,pool,baseline,1,", "S1-1,1,vehicle,bm,end,1,T0", "S2-1,2,aza,bm,end,1,T0"])
    ds = bc.load_count_dataset(tmp_path)
    assert ds.counts.shape == (3, 3) and list(ds.design["sample"]) == SAMPLES
    (root / "counts.csv").write_text("x")
    with pytest.raises(DataContractError, match="expected exactly one of"):
        bc.load_count_dataset(tmp_path)
