"""Command line: python -m helpers.dst fit | qc | synergy.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_dst_cli.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.dst.__main__ import main
from helpers.registry import dataset_path


def test_synergy_with_synergyfinder2_monotherapies(public_data, tmp_path):
    """The command line reproduces SynergyFinder 2's published Loewe block means (0.557, -0.716, 8.942)."""
    d = pd.read_csv(dataset_path("synergyfinder2_results", "result_Loewe_2021-01-07_LL4.csv"))
    d.rename(columns={"PairIndex": "block", "Conc1": "conc_row", "Conc2": "conc_col",
                      "Relative_inhibition": "inhibition_pct"}).to_csv(tmp_path / "pairs.csv", index=False)
    means = {}
    for fit in ("synergyfinder3", "synergyfinder2"):
        assert main(["synergy", "--input", str(tmp_path / "pairs.csv"), "--output", str(tmp_path / "cells.csv"),
                     "--blocks-output", str(tmp_path / f"{fit}.csv"), "--monotherapy-fit", fit,
                     "--fit-engine", "drc"]) == 0
        means[fit] = pd.read_csv(tmp_path / f"{fit}.csv")["loewe_mean"].to_numpy()
    assert means["synergyfinder2"] == pytest.approx([0.557, -0.716, 8.942], abs=0.005)
    assert not np.allclose(means["synergyfinder3"], means["synergyfinder2"], atol=0.1)
