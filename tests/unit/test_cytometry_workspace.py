"""FlowJo workspaces end to end with the project's gate names: the strategy written as a .wsp, read back through the
command line (``gate --gates session.wsp``, ``readouts --gating session.wsp``), counts checked against the project's
own gating engine.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_cytometry_workspace_public_data.py``.
"""

from __future__ import annotations

import pytest

from helpers.cytometry.contract import load_cytometry
from helpers.cytometry.workspace import export_workspace
from helpers.errors import DataContractError


def test_export_workspace_refuses_files_of_the_same_name(ci_cyto, tmp_path):
    inputs = load_cytometry(ci_cyto / "cytometry")
    same = inputs.sheet[(inputs.sheet["panel"] == "PHENO")]["path"].iloc[:2].tolist()
    with pytest.raises(DataContractError, match="unique"):
        export_workspace("aml_functional", inputs.panels["PHENO"], same, tmp_path / "x.wsp")
