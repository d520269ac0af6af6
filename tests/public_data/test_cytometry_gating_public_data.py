"""Gating: the Gating-ML 2.0 compliance suite, YAML strategies and their Gating-ML compilation, the command line.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_cytometry_gating.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.cytometry import compensate, gate_file, gate_workspace, read_fcs
from helpers.cytometry.__main__ import main as cli
from helpers.errors import DataContractError
from helpers.registry import dataset_path

# The README of the suite: Results_ParQuadRect.txt is the truth of gate ParRectangle1.
TRUTH_ALIAS = {"ParQuadRect": "ParRectangle1"}


@pytest.mark.slow
def test_gatingml2_compliance_all_51_gates(public_data):
    root = dataset_path("gatingml2_compliance")
    truth = {p.stem.removeprefix("Results_"): np.loadtxt(p, dtype=int).astype(bool) for p in (root / "truth").glob("*.txt")}
    assert len(truth) == 51
    found: dict[str, np.ndarray] = {}
    for xml in sorted((root / "gml").glob("gml_*.xml")):
        if xml.name in ("gml_all_gates.xml", "gml_range_gate_attr_testing.xml"):
            continue  # the first repeats the others; the second is a schema-attribute test, not a gate definition
        outcome = gate_file(root / "data1.fcs", xml)
        for gate, mask in outcome.membership.items():
            found.setdefault(gate, mask)
    mismatched = [name for name, t in truth.items() if not np.array_equal(found.get(TRUTH_ALIAS.get(name, name)), t)]
    assert mismatched == []
    counts = {k: int(found[k].sum()) for k in ("Rectangle1", "Polygon1", "Ellipse1", "And1", "Not1", "ScaleRange4")}
    assert counts == {"Rectangle1": 252, "Polygon1": 1582, "Ellipse1": 203, "And1": 561, "Not1": 13164,
                      "ScaleRange4": 2509}  # fmt: skip


def test_cli_gate_writes_one_row_per_file_and_gate(public_data, tmp_path):
    root = dataset_path("gatingml2_compliance")
    out = tmp_path / "stats.csv"
    assert cli(["gate", "--fcs", str(root / "data1.fcs"), "--gates", str(root / "gml" / "gml_rect1_gate.xml"),
                "--out", str(out)]) == 0  # fmt: skip
    df = pd.read_csv(out)
    assert list(df.columns) == ["file", "gate", "count", "percent_parent"]
    row = df.set_index("gate").loc["Rectangle1"]
    assert row["file"] == "data1.fcs" and row["count"] == 252
    assert row["percent_parent"] == pytest.approx(100 * 252 / 13367, rel=1e-6)
    assert cli(["gate", "--fcs", str(tmp_path / "nope.fcs"), "--gates", "aml_functional", "--out", str(out)]) == 2


def test_flowjo_workspace_ellipse_gate(public_data):
    rep = gate_workspace(dataset_path("compensation", "single_ellipse_51_events.wsp"),
                         dataset_path("compensation", "data_set_simple_line_100.fcs"))  # fmt: skip
    assert rep["count"].tolist() == [51]


def test_mass_cytometry_through_the_same_pipeline(public_data, tmp_path):
    """CyTOF files (no spillover) with cofactor 5: healthy marrow has the CD14+ monocytes the AML sample lacks."""
    yaml_text = """
name: cytof_demo
cofactor: 5
compensation: none
gates:
  - {id: cd45pos, parent: null, rect: {CD45_Y89: [3.0, null]}}
  - {id: cd14pos, parent: cd45pos, rect: {CD14_Gd160: [1.5, null]}}
  - {id: cd33pos, parent: cd45pos, rect: {CD33_Gd158: [2.5, null]}}
"""
    strat_file = tmp_path / "cytof.yaml"
    strat_file.write_text(yaml_text)
    files = [dataset_path("aml_cytof", n) for n in ("parbiu_dx_basal.fcs", "bm5721_healthy_basal.fcs")]
    stats = pd.read_csv(tmp_path / "s.csv") if cli(["gate", "--fcs", *map(str, files), "--gates", str(strat_file),
                                                    "--out", str(tmp_path / "s.csv")]) == 0 else None  # fmt: skip
    pct = stats.pivot(index="file", columns="gate", values="percent_parent")
    assert pct.loc["bm5721_healthy_basal.fcs", "cd14pos"] > pct.loc["parbiu_dx_basal.fcs", "cd14pos"] + 20
    assert pct.loc["bm5721_healthy_basal.fcs", "cd33pos"] > pct.loc["parbiu_dx_basal.fcs", "cd33pos"]
    # The same numbers as arcsinh(x / 5) by hand.
    d = read_fcs(files[1])
    v45 = np.arcsinh(d.events[:, d.column("CD45_Y89")] / 5)
    v14 = np.arcsinh(d.events[:, d.column("CD14_Gd160")] / 5)
    assert stats.set_index(["file", "gate"]).loc[("bm5721_healthy_basal.fcs", "cd14pos"), "count"] == int(
        ((v45 >= 3) & (v14 >= 1.5)).sum()
    )


def test_invalid_gatingml_is_a_contract_error(public_data, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<notgating/>")
    with pytest.raises(DataContractError, match=r"bad\.xml.*not a valid Gating-ML"):
        gate_file(dataset_path("gatingml2_compliance", "data1.fcs"), bad)


def test_cli_gate_with_a_given_spillover_matrix(public_data, tmp_path):
    fcs = dataset_path("compensation", "test_comp_example.fcs")
    matrix = dataset_path("compensation", "comp_complete_example.csv")
    strat = tmp_path / "cd33.yaml"
    strat.write_text("name: cd33\ncofactor: 150\ncompensation: FCS\n"
                     "gates:\n  - {id: cd33pos, parent: null, rect: {CD33: [3.0, null]}}\n")  # fmt: skip
    out = tmp_path / "s.csv"
    assert cli(["gate", "--fcs", str(fcs), "--gates", str(strat), "--spillover", str(matrix), "--out", str(out)]) == 0
    got = pd.read_csv(out).set_index("gate").loc["cd33pos", "count"]
    spill = pd.read_csv(matrix)
    spill.index = spill.columns
    d = compensate(read_fcs(fcs, dtype=np.float64), spill)
    expected = int((np.arcsinh(d.events[:, d.column("CD33")] / 150) >= 3.0).sum())
    raw = read_fcs(fcs, dtype=np.float64)
    uncompensated = int((np.arcsinh(raw.events[:, raw.column("CD33")] / 150) >= 3.0).sum())
    assert got == expected and expected != uncompensated
