"""The cohort's dye-dilution, MRD and batch-control tubes: recovery of the simulator's planted truth, negative
controls, the reference-control contract, FlowJo workspaces through ``readouts``, flow MRD into the integration.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_cytometry_tubes.py``.
"""

from __future__ import annotations

import pandas as pd

from helpers.cytometry import read_fcs, write_fcs
from helpers.cytometry.__main__ import main as cli
from helpers.registry import dataset_path


def _wsp_folder(tmp_path, count: str = "51"):
    d = tmp_path / "cytometry"
    (d / "fcs").mkdir(parents=True)
    # The file's stains are named after its detectors (channel_A, channel_B): stained here as two panel markers, so
    # that the panel contract can be enforced; the workspace gates on the detectors ($PnN), which stay as they are.
    data = read_fcs(dataset_path("compensation", "data_set_simple_line_100.fcs"))
    data.markers = ["CD45", "CD34"]
    write_fcs(data, d / "fcs" / "data_set_simple_line_100.fcs")
    text = dataset_path("compensation", "single_ellipse_51_events.wsp").read_text()
    wsp = d / "session.wsp"
    wsp.write_text(text.replace('count="51"', f'count="{count}"'))
    pd.DataFrame({"file": ["fcs/data_set_simple_line_100.fcs"], "sample_id": ["S1"], "panel": ["PHENO"],
                  "condition": ["untreated"], "ven_um": [0.0], "aza_um": [0.0]}).to_csv(d / "sample_sheet.csv", index=False)
    pd.DataFrame({"panel": ["PHENO", "PHENO"], "marker": ["CD45", "CD34"],
                  "channel": ["channel_A", "channel_B"]}).to_csv(d / "panels.csv", index=False)  # fmt: skip
    return d, wsp


def test_readouts_with_a_flowjo_workspace(public_data, tmp_path, capsys):
    d, wsp = _wsp_folder(tmp_path)
    out = tmp_path / "out"
    assert cli(["readouts", "--sheet", str(d / "sample_sheet.csv"), "--gating", str(wsp), "--out", str(out)]) == 0
    stats = pd.read_csv(out / "population_stats.csv")
    assert stats["gate"].tolist() == ["ellipse1"] and stats["count"].tolist() == [51]  # FlowJo's stored count
    assert stats["tube_id"].iloc[0] == "S1_PHENO_untreated" and "file" not in stats
    assert not (out / "features.csv").exists()  # the workspace's gates are not the project's: no silent NaN features
    assert "lacks gate(s) cd45pos, blasts" in capsys.readouterr().out
    assert (out / "qc.csv").is_file()


def test_readouts_workspace_count_disagreeing_with_flowjo_is_an_error(public_data, tmp_path, capsys):
    d, wsp = _wsp_folder(tmp_path, count="50")
    assert cli(["readouts", "--sheet", str(d / "sample_sheet.csv"), "--gating", str(wsp),
                "--out", str(tmp_path / "out")]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "session.wsp" in err and "ellipse1" in err and "FlowJo stored 50" in err
