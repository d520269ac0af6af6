"""helpers.workflow: the analysis modules need none of its optional extra, and fingerprints follow imports.

This file holds the tests that execute notebooks (the pipeline tier); the unit tests are in
``tests/unit/test_workflow.py``.
"""

from __future__ import annotations

import textwrap

from test_workflow import BLOCKER, _python  # shared with the unit part

from helpers.paths import repo_root

ROOT = repo_root()
EXTRA = ("papermill", "nbconvert", "jupyterlab", "dask", "distributed")


def test_planning_imports_neither_the_extra_nor_the_analysis_libraries(ci_cohort, tmp_path):
    code = BLOCKER.format(blocked=EXTRA) + textwrap.dedent(f"""
        import runpy
        sys.argv = ["run_all.py", "--cohort", "ci", "--list", "--results-root", {str(tmp_path / "r")!r}]
        try:
            runpy.run_path("run_all.py", run_name="__main__")
        except SystemExit as exc:
            assert exc.code == 0, exc.code
        heavy = ("numpy", "pandas", "scipy", "scanpy", "anndata", "jupytext", "nbformat", *BLOCKED)
        print("heavy:", sorted(m for m in heavy if m in sys.modules))
    """)
    out = _python(code, cwd=ROOT, env={"DREAM_OUTPUT_ROOT": str(tmp_path / "scratch")})
    assert out.returncode == 0, out.stderr[-3000:]
    assert "05_integration" in out.stdout  # the plan was printed
    assert "heavy: []" in out.stdout, out.stdout
