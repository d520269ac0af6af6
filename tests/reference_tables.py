"""The tables of the re-executed reference notebooks, compared by value with the committed reference tables.

Not part of ``pytest tests`` (the name does not start with ``test_``): ``make test`` passes this file to the nbval run,
after the notebooks, which write their tables under ``$DREAM_OUTPUT_ROOT/results/<cohort>/<notebook>/``
(tools/check_references.py). Tolerance: ``helpers.regression.RTOL`` / ``ATOL``. A difference is reported as table,
column and row.
"""

import os
from pathlib import Path

import pytest

from helpers.paths import repo_root
from helpers.regression import ATOL, RTOL, compare_table_dirs

TABLES = repo_root() / "notebooks" / "reference" / "tables"
CASES = sorted((c.name, nb.name) for c in TABLES.iterdir() if c.is_dir() for nb in c.iterdir() if nb.is_dir())


def test_reference_tables_exist():
    assert ("ci", "01_dst") in CASES, f"no committed reference tables under {TABLES}: run tools/refresh_references.py"


@pytest.mark.parametrize(("cohort", "notebook"), CASES)
def test_reference_tables(cohort, notebook):
    root = os.environ.get("DREAM_OUTPUT_ROOT")
    assert root, "DREAM_OUTPUT_ROOT must name the folder the reference notebooks were just executed into"
    out = Path(root) / "results" / cohort / notebook
    ref_nb = repo_root() / "notebooks" / "reference" / ("" if cohort == "ci" else cohort) / f"{notebook}.ipynb"
    if not ref_nb.is_file():
        pytest.fail(f"reference tables for {cohort}/{notebook} but no reference notebook {ref_nb.name}")
    assert out.is_dir(), f"{cohort}/{notebook} wrote no outputs under {root} (was its reference notebook executed?)"
    diffs = compare_table_dirs(TABLES / cohort / notebook, out, rtol=RTOL, atol=ATOL)
    assert not diffs, f"{len(diffs)} values moved beyond rtol={RTOL}, atol={ATOL}:\n" + "\n".join(map(str, diffs[:40]))
