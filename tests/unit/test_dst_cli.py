"""Command line: python -m helpers.dst fit | qc | synergy.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_dst_cli_public_data.py``.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr

from helpers.dst.__main__ import main
from helpers.simulate import DEFAULT_SEED, simulate_patients
from helpers.simulate.dst import simulate_dst

CONC = np.array([0.0137, 0.0412, 0.123, 0.37, 1.11, 3.33, 10.0])


@pytest.fixture
def points(tmp_path):
    rows = []
    for s, a in (("P1", 0.5), ("P2", -0.5)):
        for d, b in (("VEN", -0.6), ("AZA", -0.2)):
            for c in CONC:
                rows.append((s, d, c, 100 * ndtr(a + b * np.log10(c))))
    p = tmp_path / "points.csv"
    pd.DataFrame(rows, columns=["sample", "drug", "conc_uM", "viability_pct"]).to_csv(p, index=False)
    return p


@pytest.mark.parametrize("model", ["probit", "ll4"])
def test_fit(points, tmp_path, model):
    out = tmp_path / "fits.csv"
    assert main(["fit", "--input", str(points), "--model", model, "--output", str(out)]) == 0
    f = pd.read_csv(out)
    assert list(f.columns[:4]) == ["sample", "drug", "auc", "ic50_uM"] and len(f) == 4
    if model == "ll4":
        assert {"dss1", "dss2", "dss3"} <= set(f.columns)
    else:
        p1 = f[(f["sample"] == "P1") & (f["drug"] == "VEN")].iloc[0]
        assert p1["intercept"] == pytest.approx(0.5, abs=1e-4) and p1["beta"] == pytest.approx(-0.6, abs=1e-4)
    assert (f.loc[f["sample"] == "P2", "auc"].to_numpy() < f.loc[f["sample"] == "P1", "auc"].to_numpy()).all()


def test_fit_bad_input_exits_2(tmp_path, capsys):
    p = tmp_path / "bad.csv"
    pd.DataFrame({"sample": ["a"], "drug": ["x"], "conc_uM": [-1.0], "viability_pct": [50]}).to_csv(p, index=False)
    assert main(["fit", "--input", str(p), "--model", "probit", "--output", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "conc_uM" in err and "row 2" in err


def test_qc_and_synergy(tmp_path):
    tables = simulate_patients(12, seed=DEFAULT_SEED)
    tables.write(tmp_path)
    simulate_dst(tables, tmp_path, scale="ci", seed=DEFAULT_SEED)
    out, wells = tmp_path / "qc.csv", tmp_path / "wells.csv"
    assert main(["qc", "--dst-dir", str(tmp_path / "dst"), "--samples", str(tmp_path / "samples.csv"),
                 "--output", str(out), "--wells-output", str(wells)]) == 0
    qc = pd.read_csv(out)
    assert len(qc) == len(pd.read_csv(tmp_path / "dst/plates.csv")) and {"z_prime", "ssmd", "qc_pass"} <= set(qc)
    w = pd.read_csv(wells, keep_default_na=False, na_values=[""])
    combo = w[(w["drug"] == "Azacitidine") & (w["drug2"] == "Venetoclax")]
    cells = pd.DataFrame({"block": combo["sample_id"], "conc_row": combo["conc_uM"], "conc_col": combo["conc2_uM"],
                          "viability_pct": combo["viability_pct"]})
    cells.to_csv(tmp_path / "matrix.csv", index=False)
    assert main(["synergy", "--input", str(tmp_path / "matrix.csv"), "--output", str(tmp_path / "cells.csv"),
                 "--blocks-output", str(tmp_path / "blocks.csv")]) == 0
    blocks = pd.read_csv(tmp_path / "blocks.csv")
    assert len(blocks) == cells["block"].nunique() and blocks["zip_mean"].notna().all()
    bad = cells.drop(columns=["viability_pct"])
    bad.to_csv(tmp_path / "bad.csv", index=False)
    assert main(["synergy", "--input", str(tmp_path / "bad.csv"), "--output", str(tmp_path / "x.csv")]) == 2


@pytest.mark.parametrize("cmd", ["fit", "qc", "synergy"])
def test_help_documents_every_option(cmd):
    r = subprocess.run([sys.executable, "-m", "helpers.dst", cmd, "--help"], capture_output=True, text=True, check=True)
    for opt in {"fit": ["--input", "--model", "--output", "--threshold"], "qc": ["--dst-dir", "--samples", "--output",
                "--wells-output"], "synergy": ["--input", "--output", "--blocks-output", "--monotherapy-fit", "--fit-engine"]}[cmd]:
        assert opt in r.stdout
