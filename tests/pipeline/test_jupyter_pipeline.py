"""The compendium as used in Jupyter: opening is not editing, figures show inline, headless stays headless.

This file holds the tests that execute notebooks (the pipeline tier); the unit tests are in
``tests/unit/test_jupyter.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from test_jupyter import FIGURE_CELL  # shared with the unit part

from helpers.paths import repo_root

ROOT = repo_root()


def _run_cells(cells: list[str], tmp_path: Path, *, agg: bool) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    env_backup = os.environ.get("MPLBACKEND")
    try:
        if agg:  # as run_all.py executes notebooks
            os.environ["MPLBACKEND"] = "Agg"
        else:
            os.environ.pop("MPLBACKEND", None)
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        if env_backup is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = env_backup
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("agg", [True, False], ids=["papermill-Agg", "inline"])
def test_saved_figure_is_shown_once_in_the_notebook(tmp_path, agg):
    nb = _run_cells([FIGURE_CELL], tmp_path, agg=agg)
    outputs = nb.cells[0].outputs
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.data]
    assert len(images) == 1, outputs  # shown under Agg, and not a second time by the inline backend
    assert images[0].data["image/png"]  # base64 PNG
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "['panel.pdf', 'panel.png'] []" in text  # saved, then closed
    assert (tmp_path / "panel.pdf").is_file() and (tmp_path / "panel.png").is_file()


@pytest.mark.slow
def test_executed_notebook_and_html_carry_the_figures(ci_cohort, tmp_path):
    """run_all.py (headless, MPLBACKEND=Agg) records every saved figure in the executed .ipynb and its HTML."""
    cmd = [sys.executable, str(ROOT / "run_all.py"), "--cohort", "ci", "--only", "00_cohort", "--force",
           "--results-root", str(tmp_path / "results"), "--figures-root", str(tmp_path / "figures")]  # fmt: skip
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    executed = nbformat.read(tmp_path / "results" / "ci" / "00_cohort" / "00_cohort.ipynb", as_version=4)
    n_png = sum("image/png" in o.get("data", {}) for c in executed.cells for o in c.get("outputs", []))
    n_saved = len(list((tmp_path / "figures" / "ci" / "00_cohort").glob("*.png")))
    assert n_saved >= 1 and n_png == n_saved
    html = (tmp_path / "results" / "ci" / "00_cohort" / "00_cohort.html").read_text()
    assert len(re.findall(r"<img [^>]*src=\"data:image/png;base64,", html)) == n_saved
