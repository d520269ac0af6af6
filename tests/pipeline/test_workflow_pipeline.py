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


def test_a_print_split_by_a_flush_is_saved_as_one_output(tmp_path):
    """The executed notebook keeps one stdout output per cell, however the kernel's messages were cut."""
    import nbformat

    from helpers.workflow.execute import RunTask, execute_notebook

    source = tmp_path / "nb.py"
    source.write_text('# %% tags=["parameters"]\nx = 1\n\n# %%\nimport sys\n'
                      'print("first half,", end=""); sys.stdout.flush(); print(" second half")\n')  # fmt: skip
    task = RunTask(name="nb", source=str(source), parameters={}, staging_results=str(tmp_path / "res"),
                   staging_figures=str(tmp_path / "figs"), root=str(tmp_path))  # fmt: skip
    assert execute_notebook(task)["status"] == "ok"
    cell = [c for c in nbformat.read(tmp_path / "res" / "nb.ipynb", as_version=4).cells if c.cell_type == "code"][-1]
    assert [(o.output_type, o.get("text")) for o in cell.outputs] == [("stream", "first half, second half\n")]
