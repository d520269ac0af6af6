"""Command-line conventions: console scripts, --version everywhere, '-' is stdout, truthful run_all logging.

This file holds the tests that execute notebooks (the pipeline tier); the unit tests are in
``tests/unit/test_conventions.py``.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers.paths import repo_root

ROOT = repo_root()


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
