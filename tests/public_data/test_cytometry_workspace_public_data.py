"""FlowJo workspaces end to end with the project's gate names: the strategy written as a .wsp, read back through the
command line (``gate --gates session.wsp``, ``readouts --gating session.wsp``), counts checked against the project's
own gating engine.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_cytometry_workspace.py``.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from helpers.cytometry.__main__ import main as cli
from helpers.cytometry.contract import load_cytometry
from helpers.cytometry.gating import gate_file, load_strategy
from helpers.cytometry.workspace import export_workspace


@pytest.fixture(scope="module")
def pheno_workspace(ci_cyto, tmp_path_factory):
    inputs = load_cytometry(ci_cyto / "cytometry")
    row = inputs.sheet[(inputs.sheet["panel"] == "PHENO") & (inputs.sheet["condition"] == "untreated")].iloc[0]
    d = tmp_path_factory.mktemp("wsp") / "cytometry"
    (d / "fcs").mkdir(parents=True)
    fcs = d / "fcs" / "PHENO_untreated.fcs"
    shutil.copyfile(row["path"], fcs)
    shutil.copyfile(ci_cyto / "cytometry" / "panels.csv", d / "panels.csv")
    pd.DataFrame({"file": ["fcs/PHENO_untreated.fcs"], "sample_id": [row["sample_id"]], "panel": ["PHENO"],
                  "condition": ["untreated"], "ven_um": [0.0], "aza_um": [0.0]}).to_csv(d / "sample_sheet.csv",
                                                                                          index=False)  # fmt: skip
    strategy = load_strategy(ci_cyto / "cytometry" / "gating.yaml")
    wsp = export_workspace(strategy, inputs.panels["PHENO"], [fcs], d / "session.wsp")
    return d, fcs, wsp, strategy


def test_gate_cli_on_a_workspace_with_the_projects_gate_names(public_data, pheno_workspace, tmp_path):
    d, fcs, wsp, strategy = pheno_workspace
    out = tmp_path / "wsp.csv"
    assert cli(["gate", "--fcs", str(fcs), "--gates", str(wsp), "--panels", str(d / "panels.csv"), "--panel", "PHENO",
                "--out", str(out)]) == 0  # fmt: skip
    got = pd.read_csv(out).set_index("gate")["count"]
    assert {"cd45pos", "blasts", "cd34pos", "lsc", "monocytic", "lymphocytes", "t_cells"} <= set(got.index)
    # FlowKit on the workspace agrees with the project's engine on the same gates within a few events per gate (the
    # workspace round trip stores FlowJo's own logicle and compensation; events on a boundary can move).
    for strat in (strategy.with_logicle(), strategy):
        own = gate_file(fcs, strat)
        for g, n in got.items():
            ref = int(own.membership[g].sum())
            assert abs(n - ref) <= max(3, 0.03 * ref), (g, n, ref)
    assert got["blasts"] > 100 and got["lsc"] > 5


def test_readouts_cli_on_a_workspace_with_the_projects_gate_names(public_data, pheno_workspace, tmp_path, capsys):
    d, fcs, wsp, _ = pheno_workspace
    out = tmp_path / "out"
    assert cli(["readouts", "--sheet", str(d / "sample_sheet.csv"), "--gating", str(wsp), "--out", str(out)]) == 0
    stats = pd.read_csv(out / "population_stats.csv").set_index("gate")
    gate_out = tmp_path / "g.csv"
    assert cli(["gate", "--fcs", str(fcs), "--gates", str(wsp), "--out", str(gate_out)]) == 0
    assert stats["count"].to_dict() == pd.read_csv(gate_out).set_index("gate")["count"].to_dict()
    mfi = pd.read_csv(out / "mfi.csv")
    assert {"lsc", "blasts"} <= set(mfi["gate"]) and mfi["median"].notna().any()
    # A PHENO-only workspace has no viability gates: no features.csv rather than NaN features.
    assert not (out / "features.csv").exists()
    assert "lacks gate(s) viable, apoptotic" in capsys.readouterr().out
