"""Intensity standardisation, paired differential cluster tests, flow MRD, FlowSOM defaults and seed stability, and
FlowJo workspaces on the command line.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_cytometry_methods.py``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.cytometry.__main__ import main as cli
from helpers.registry import dataset_path

# ----------------------------------------------------------------------------------------------------------------------
# FlowJo workspace through the command line


def test_wsp_through_the_gate_cli(public_data, tmp_path):
    out = tmp_path / "wsp.csv"
    fcs = dataset_path("compensation", "data_set_simple_line_100.fcs")
    assert cli(["gate", "--fcs", str(fcs), "--gates", str(dataset_path("compensation", "single_ellipse_51_events.wsp")),
                "--out", str(out)]) == 0  # fmt: skip
    res = pd.read_csv(out)
    assert res["gate"].tolist() == ["ellipse1"] and res["count"].tolist() == [51]  # FlowJo's stored count is 51
    assert res["percent_parent"].iloc[0] == pytest.approx(51.0)


def test_wsp_with_a_wrong_file_is_a_contract_error(public_data, tmp_path, capsys):
    other = dataset_path("gatingml2_compliance", "data1.fcs")
    wsp = dataset_path("compensation", "single_ellipse_51_events.wsp")
    assert cli(["gate", "--fcs", str(other), "--gates", str(wsp), "--out", str(tmp_path / "x.csv")]) == 2
    assert "single_ellipse_51_events.wsp" in capsys.readouterr().err
