"""Executing a notebook in a test: timeouts sized for a loaded 2-core machine, no output silently lost.

nbclient waits only 4 s by default for a cell's outputs after the kernel reports the cell done, then drops what has
not arrived: on a loaded machine a printed line goes missing and a test that looks for it fails by chance. Here the
wait is long and a timeout raises instead of dropping output; the kernel start and each cell get generous limits.
A print can also reach the notebook as several stream outputs (the kernel flushes on a timer, mid-line on a busy
machine): each cell's streams are merged into one per name, as nbval does before it compares.
Tests assert on the files a notebook writes first, and on its saved outputs only for what no file records.
"""

from __future__ import annotations

from pathlib import Path

START_TIMEOUT = 600  # s: a kernel start on a machine whose cores are busy
CELL_TIMEOUT = 3600  # s: one cell
IOPUB_TIMEOUT = 300  # s: outputs still in flight once a cell is done


def execute_py_notebook(source: str | Path, workdir: str | Path, *, parameters: dict, cwd: str | Path):
    """Convert a Jupytext notebook, execute it with papermill and return the executed notebook (nbformat node)."""
    import jupytext
    import nbformat
    import papermill as pm

    workdir = Path(workdir)
    nbformat.write(jupytext.read(source), workdir / "in.ipynb")
    pm.execute_notebook(str(workdir / "in.ipynb"), str(workdir / "done.ipynb"), cwd=str(cwd), progress_bar=False,
                        kernel_name="python3", parameters=parameters, start_timeout=START_TIMEOUT,
                        execution_timeout=CELL_TIMEOUT, iopub_timeout=IOPUB_TIMEOUT,
                        raise_on_iopub_timeout=True, coalesce_streams=True)  # fmt: skip
    return nbformat.read(workdir / "done.ipynb", as_version=4)
