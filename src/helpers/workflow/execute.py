"""Execution: one notebook run in a worker (papermill), and the executors the runs are submitted to.

papermill, nbconvert and dask.distributed are imported here only, inside the functions that need them (the optional
``workflow`` extra of the package): ``import helpers`` and the analysis modules work without them.

Work other than whole notebooks (e.g. one task per input file) goes to the same kind of executor through
:func:`open_executor` (what ``run_all.py`` uses) or, from inside a notebook that ``run_all.py`` runs,
:func:`map_tasks`, which reaches the run's dask cluster (``$DREAM_DASK_SCHEDULER``) when there is one.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import dataclasses
import os
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ..io import write_text
from .layout import portable

__all__ = [
    "RunTask",
    "execute_notebook",
    "encrypted_kernel_manager",
    "open_executor",
    "map_tasks",
    "SCHEDULER_ENV",
    "JOBS_ENV",
]

SCHEDULER_ENV = "DREAM_DASK_SCHEDULER"  # set in the workers' environment when the run is on a dask cluster
JOBS_ENV = "DREAM_JOBS"  # process-pool size for map_tasks outside a dask run


@dataclasses.dataclass
class RunTask:
    """Everything one notebook run needs; picklable, so that it can go to another process or a dask worker."""

    name: str
    source: str  # notebook path
    parameters: dict[str, Any]
    staging_results: str
    staging_figures: str
    root: str
    progress_bar: bool = False
    kernel_name: str = "python3"
    env: dict[str, str] = dataclasses.field(default_factory=dict)  # anchor folders named by the parameters


def encrypted_kernel_manager() -> type:
    """Kernel manager class that provisions CurveZMQ keys when the kernel supports them.

    Kernels talk to papermill over local TCP; ipykernel >= 7.3 warns on every start when that traffic is not encrypted
    (and jupyter_client leaves encryption disabled by default), so turning it on both secures the channel and keeps the
    run logs free of one warning per notebook.

    Returns
    -------
    type
        A subclass of jupyter_client's ``AsyncKernelManager``.
    """
    from jupyter_client.manager import AsyncKernelManager

    class EncryptedKernelManager(AsyncKernelManager):
        transport_encryption = "auto"

    return EncryptedKernelManager


def started_marker(task: RunTask) -> Path:
    """Name the file a worker creates when it begins ``task`` (beside its staging folder, never among its outputs).

    Parameters
    ----------
    task
        The run.

    Returns
    -------
    pathlib.Path
        The staging results folder with the suffix ``.started``.
    """
    return Path(task.staging_results).with_suffix(".started")


KERNEL_START_TIMEOUT = 600  # seconds


def execute_notebook(task: RunTask) -> dict[str, Any]:
    """Execute one notebook with papermill into its staging folders; runs in a worker process.

    Parameters
    ----------
    task
        The run.

    Returns
    -------
    dict
        ``status`` ("ok" / "failed"), ``seconds`` and, on failure, the failing cell and error.
    """
    import jupytext
    import nbformat
    import papermill as pm

    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.update(task.env)  # the kernel inherits them: parameters say $DREAM_DATA_DIR, not the lab's path
    t0 = time.perf_counter()
    res_dir = Path(task.staging_results)
    res_dir.mkdir(parents=True, exist_ok=True)
    started_marker(task).touch()  # tells the scheduler loop that a worker has really begun this notebook
    Path(task.staging_figures).mkdir(parents=True, exist_ok=True)
    src_ipynb = res_dir / f".{task.name}.source.ipynb"
    out_ipynb = res_dir / f"{task.name}.ipynb"
    nb = jupytext.read(task.source)
    nb.metadata.setdefault("kernelspec", {"name": task.kernel_name, "display_name": "Python 3", "language": "python"})
    nbformat.write(nb, src_ipynb)
    result: dict[str, Any] = {"name": task.name, "status": "ok"}
    try:
        pm.execute_notebook(
            str(src_ipynb),
            str(out_ipynb),
            parameters=task.parameters,
            cwd=task.root,
            kernel_name=task.kernel_name,
            progress_bar=task.progress_bar,
            log_output=False,
            report_mode=False,
            kernel_manager_class=encrypted_kernel_manager(),
            # nbclient drops outputs still in flight 4 s after a cell ends; on a loaded machine wait, or fail loudly.
            iopub_timeout=300,
            raise_on_iopub_timeout=True,
            # One print can arrive as several stream outputs when the kernel flushes mid-line on a busy machine: each
            # cell keeps one stdout and one stderr output, so the saved notebook reads the same on every machine.
            coalesce_streams=True,
            # A kernel on a loaded machine (or a busy cluster node) can take minutes to start; papermill's 60 s
            # default failed a whole demo run at load 30.
            start_timeout=KERNEL_START_TIMEOUT,
        )
    except pm.PapermillExecutionError as exc:
        result.update(
            status="failed",
            cell=exc.exec_count,
            cell_index=exc.cell_index,
            error=f"{exc.ename}: {exc.evalue}",
        )
    except Exception as exc:  # kernel died, missing kernel, ...
        result.update(status="failed", cell=None, error=f"{type(exc).__name__}: {exc}", trace=traceback.format_exc())
    finally:
        src_ipynb.unlink(missing_ok=True)
    _portable_papermill_metadata(out_ipynb, task)
    if result["status"] == "ok":
        try:
            from nbconvert import HTMLExporter

            body, _ = HTMLExporter().from_filename(str(out_ipynb))
            write_text(body, res_dir / f"{task.name}.html")
        except Exception as exc:  # the HTML is a convenience; the run itself succeeded
            result["html_error"] = str(exc)
    result["seconds"] = round(time.perf_counter() - t0, 2)
    return result


def _portable_papermill_metadata(path: Path, task: RunTask) -> None:
    """Papermill records the absolute input and output paths of a run: keep them relative (shareable notebook)."""
    import nbformat

    if not path.is_file():
        return
    nb = nbformat.read(path, as_version=4)
    meta = nb.metadata.get("papermill")
    if not meta:
        return
    src = Path(task.source)
    meta["input_path"] = portable(src, Path(task.root)) if src.is_relative_to(Path(task.root)) else src.name
    meta["output_path"] = path.name
    with open(path, "w", encoding="utf-8") as fh:
        nbformat.write(nb, fh)


def die_with_parent(parent_pid: int) -> None:
    """Pool-worker initializer: the worker is killed when the run that started it dies, even by SIGKILL.

    A killed ``run_all.py`` cannot clean up, so the kernel asks for it (Linux ``PR_SET_PDEATHSIG``); the notebook's
    kernel in turn exits when its parent worker is gone (ipykernel's parent poller watches ``JPY_PARENT_PID``).

    Parameters
    ----------
    parent_pid
        Process id of the run (checked after the request, in case the parent died before it took effect).
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG = 1, SIGKILL = 9
    except (OSError, AttributeError):  # not Linux: the executor's own shutdown is all there is
        return
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)


@dataclasses.dataclass
class RunExecutor:
    """A ``concurrent.futures`` executor and where it runs.

    ``executor.submit(fn, *args)`` returns a ``concurrent.futures.Future``; ``address`` is the dask scheduler's
    (None for the local process pool), ``distributed`` says whether the work leaves this machine's process tree.
    """

    executor: cf.Executor
    address: str | None = None

    @property
    def distributed(self) -> bool:
        """True on a dask cluster."""
        return self.address is not None

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> cf.Future:
        """Submit ``fn(*args, **kwargs)``; see :meth:`concurrent.futures.Executor.submit`.

        Parameters
        ----------
        fn
            The callable (picklable for a process pool or a dask cluster).
        *args, **kwargs
            Its arguments.

        Returns
        -------
        concurrent.futures.Future
            The pending result.
        """
        return self.executor.submit(fn, *args, **kwargs)


@contextlib.contextmanager
def open_executor(
    *, jobs: int = 1, scheduler: str | None = None, local_cluster: int | None = None
) -> Iterator[RunExecutor]:
    """Open the executor ``run_all.py`` submits notebooks to: a process pool, or a dask.distributed cluster.

    Pool workers die with the process that opened the pool (``PR_SET_PDEATHSIG``); a dask cluster needs a file
    system shared with its workers. Closed (pool shut down, client and local cluster closed) on exit.

    Parameters
    ----------
    jobs
        Worker processes of the local pool.
    scheduler
        Address of a running dask.distributed scheduler (e.g. a dask-jobqueue ``SLURMCluster``'s).
    local_cluster
        Start a dask ``LocalCluster`` with this many single-threaded worker processes instead.

    Yields
    ------
    RunExecutor
        The executor.
    """
    if scheduler or local_cluster:
        import dask
        from dask.distributed import Client, LocalCluster

        cluster = None
        if scheduler:
            client = Client(scheduler)
        else:
            # dask's nannies give their workers MALLOC_TRIM_THRESHOLD_=65536, which switches off glibc's dynamic mmap
            # threshold: every large numpy temporary becomes a fresh mmap with its page faults (one FCS file took 1.4x
            # as long as in a plain process). Our tasks hold one file or notebook at a time, so memory that glibc
            # keeps for reuse stays bounded by the largest task; a variable set in the environment still wins.
            with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                cluster = LocalCluster(
                    n_workers=local_cluster, threads_per_worker=1, processes=True, dashboard_address=None
                )
            client = Client(cluster)
        try:
            yield RunExecutor(client.get_executor(pure=False), address=client.scheduler.address)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return
    pool = cf.ProcessPoolExecutor(max_workers=max(1, jobs), initializer=die_with_parent, initargs=(os.getpid(),))
    try:
        yield RunExecutor(pool)
    finally:
        pool.shutdown(wait=True)


def map_tasks(fn: Callable[[Any], Any], items: Iterable[Any], *, jobs: int | None = None) -> list[Any]:
    """``[fn(x) for x in items]`` on the executor of the current run; results in the order of ``items``.

    Inside a notebook run by ``run_all.py --scheduler/--local-cluster`` the tasks go to that dask cluster
    (``$DREAM_DASK_SCHEDULER``); otherwise to a local process pool of ``jobs`` workers (default ``$DREAM_JOBS``,
    else 1, which runs in this process without a pool). ``fn`` and the items must be picklable (a module-level
    function), and a task must not depend on which worker runs it, so results are the same either way.

    Parameters
    ----------
    fn
        Function of one item.
    items
        The items.
    jobs
        Local worker processes when there is no dask cluster.

    Returns
    -------
    list
        The results.
    """
    items = list(items)
    address = os.environ.get(SCHEDULER_ENV)
    n = jobs if jobs is not None else int(os.environ.get(JOBS_ENV, "1") or 1)
    if not address and n <= 1:
        return [fn(x) for x in items]
    with open_executor(jobs=n, scheduler=address or None) as ex:
        futures = [ex.submit(fn, x) for x in items]
        return [f.result() for f in futures]
