"""Command-line conventions: console scripts, --version everywhere, '-' is stdout, truthful run_all logging."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers.check import dream_check
from helpers.cli import open_output, version_string
from helpers.io import write_table
from helpers.paths import repo_root

ROOT = repo_root()
BIN = Path(sys.executable).parent
VERSION = version_string().split()[1]


@pytest.mark.parametrize("script", ["dream-run", "dream-dst", "dream-cytometry", "dream-scrna", "dream-barcodes",
                                    "dream-check"])  # fmt: skip
def test_console_scripts_answer_version_and_help(script):
    v = subprocess.run([str(BIN / script), "--version"], cwd=ROOT, capture_output=True, text=True)
    assert v.returncode == 0 and v.stdout.strip() == f"{script} {VERSION}"
    h = subprocess.run([str(BIN / script), "--help"], cwd=ROOT, capture_output=True, text=True)
    assert h.returncode == 0 and h.stdout.startswith("usage:"), h.stderr[-2000:]


@pytest.mark.parametrize("module", ["helpers.dst", "helpers.cytometry", "helpers.scrna", "helpers.barcodes",
                                    "helpers.simulate", "helpers.registry"])  # fmt: skip
def test_python_m_entry_points_have_version(module):
    v = subprocess.run([sys.executable, "-m", module, "--version"], cwd=ROOT, capture_output=True, text=True)
    assert v.returncode == 0 and v.stdout.strip().endswith(VERSION), v.stderr[-2000:]


def test_run_all_version():
    v = subprocess.run([sys.executable, "run_all.py", "--version"], cwd=ROOT, capture_output=True, text=True)
    assert v.returncode == 0 and v.stdout.strip() == f"run_all.py {VERSION}"


def test_dash_is_stdout(capsys, tmp_path):
    df = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.25]})
    assert write_table(df, "-") == Path("-")
    assert capsys.readouterr().out == "a,b\n1,0.5\n2,1.25\n"
    assert not Path("-").exists()
    with open_output("-") as fh:
        fh.write("x\n")
    assert capsys.readouterr().out == "x\n"
    with open_output(tmp_path / "sub" / "t.txt") as fh:
        fh.write("y\n")
    assert (tmp_path / "sub" / "t.txt").read_text() == "y\n"


def test_dst_fit_writes_its_table_to_stdout(tmp_path):
    pts = pd.DataFrame({"sample": "S1", "drug": "Venetoclax", "conc_uM": [0.01, 0.1, 1, 10] * 2,
                        "viability_pct": [98, 90, 40, 8, 101, 88, 45, 10]})  # fmt: skip
    pts.to_csv(tmp_path / "pts.csv", index=False)
    out = subprocess.run([str(BIN / "dream-dst"), "fit", "--input", str(tmp_path / "pts.csv"), "--model", "probit",
                          "--output", "-"], cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("sample,drug,auc,ic50_uM") and len(out.stdout.splitlines()) == 2
    assert not (tmp_path / "-").exists()


def test_dream_check_reports_each_axis(ci_cohort, capsys, tmp_path):
    assert dream_check([str(ci_cohort)]) == 0
    out = capsys.readouterr().out
    for axis in ("clinical", "dst", "cytometry", "scrna", "barcodes"):
        assert f"{axis}: ok" in out
    broken = tmp_path / "cohort"
    broken.mkdir()
    (broken / "clinical.csv").write_text((ci_cohort / "clinical.csv").read_text().replace("\n", "\nbroken\n", 1))
    (broken / "samples.csv").write_text((ci_cohort / "samples.csv").read_text())
    assert dream_check([str(broken)]) == 2
    assert "clinical: error:" in capsys.readouterr().out


NOTEBOOK = """# ---
# jupyter:
#   dream:
#     inputs: []
#     upstream: []
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
cohort = "ci"
data_dir = "data/simulated/ci"
output_dir = "results/ci/{name}"
figures_dir = "figures/ci/{name}"
seed = 1

# %%
print("{name}")
"""


@pytest.mark.slow
def test_run_all_logs_queued_then_started_then_done(ci_cohort, tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    for name in ("10_first", "11_second"):
        (nbs / f"{name}.py").write_text(NOTEBOOK.format(name=name))
    out = subprocess.run([sys.executable, "run_all.py", "--cohort", "ci", "--jobs", "1", "--force",
                          "--notebooks-dir", str(nbs), "--results-root", str(tmp_path / "r"),
                          "--figures-root", str(tmp_path / "f")], cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("[run_all] 1")]
    for name in ("10_first", "11_second"):
        events = [ln.split(": ", 1)[1].split()[0] for ln in lines if ln.startswith(f"[run_all] {name}:")]
        assert events == ["queued", "started", "ok"], lines
    # With one worker, the second notebook cannot have started before the first finished.
    order = [ln.split(": ", 1) for ln in lines if ": " in ln]
    assert order.index(["[run_all] 11_second", "started"]) > next(
        i for i, (n, e) in enumerate(order) if n == "[run_all] 10_first" and e.startswith("ok"))
