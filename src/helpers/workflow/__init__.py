"""Run the compendium's notebooks as a DAG: incremental, atomic, with provenance (the logic behind ``run_all.py``).

- :mod:`~helpers.workflow.discover`: notebooks ``notebooks/NN_name.py`` (Jupytext percent format) and their header
  metadata ``dream: {inputs: [...], upstream: [...]}`` (which data sub-folders they read, which notebooks' outputs
  they need); cohorts (``config/cohorts/<name>.yaml`` or a lab data folder, whose results are keyed by its name and a
  digest of its real path).
- :mod:`~helpers.workflow.plan`: parameters (the notebook's defaults < ``parameters.all`` then
  ``parameters.<notebook>`` of the cohort < command-line overrides) and which notebooks are up to date.
- :mod:`~helpers.workflow.fingerprint`: a notebook is skipped when the fingerprint of everything it depends on (its
  source, the helper modules it imports, its parameters, its input data, its upstream outputs, the lock file) equals
  the one of its last successful run; input checksums are cached by (size, mtime) in the private folder.
- :mod:`~helpers.workflow.execute`: one notebook run through papermill in a worker; the executors (a process pool
  whose workers die with the run, or a dask.distributed cluster, which needs a file system shared with the workers).
- :mod:`~helpers.workflow.schedule`: one run under the cohort's lock; staging folders that replace
  ``results/<cohort>/<notebook>/`` and ``figures/<cohort>/<notebook>/`` only when the notebook succeeds.
- :mod:`~helpers.workflow.provenance` and :mod:`~helpers.workflow.report`: ``manifest.json`` (re-read and merged
  under the lock), ``index.html``, the summary lines; no absolute path in any shareable output (parameters name
  ``$DREAM_DATA_DIR`` etc., set in the workers' environment), tracebacks and path caches in ``data/private/<cohort>/``.

papermill, nbconvert, dask and jupyterlab are the optional ``workflow`` extra of the package
(``pip install .[workflow]``), imported only when a notebook is executed or a dask cluster is used.
"""

from .discover import CohortConfig, NotebookSpec, discover_notebooks, load_cohort
from .execute import RunTask, encrypted_kernel_manager, execute_notebook, map_tasks, open_executor
from .fingerprint import ChecksumCache, code_digest, module_closure, notebook_modules
from .layout import OutputLayout, default_private_root
from .plan import PlanItem, plan_runs
from .report import describe_os_error
from .schedule import RunOptions, run_pipeline

__all__ = [
    "NotebookSpec",
    "CohortConfig",
    "discover_notebooks",
    "load_cohort",
    "plan_runs",
    "PlanItem",
    "run_pipeline",
    "RunOptions",
    "OutputLayout",
    "default_private_root",
    "execute_notebook",
    "RunTask",
    "encrypted_kernel_manager",
    "open_executor",
    "map_tasks",
    "describe_os_error",
    "ChecksumCache",
    "code_digest",
    "module_closure",
    "notebook_modules",
]
