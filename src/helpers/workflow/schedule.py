"""Scheduling: one run of the DAG for a cohort, under its lock, through staging folders swapped in on success."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..io import write_text
from ..safepaths import check_name
from .discover import CohortConfig, discover_notebooks
from .execute import SCHEDULER_ENV, RunExecutor, RunTask, execute_notebook, open_executor, started_marker
from .fingerprint import ChecksumCache, CodeCache, digest_obj
from .layout import OutputLayout, anchors, final_dirs, portable, redact
from .plan import PlanItem, plan_runs, still_up_to_date, upstream_digests
from .provenance import build_manifest, write_manifest, write_state
from .report import log_plan, log_summary, write_index

__all__ = ["RunOptions", "run_pipeline"]

Log = Callable[[str], object]


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """What to run and where: the options of ``run_all.py``."""

    only: list[str] | None = None
    jobs: int = 1
    force: bool = False
    dry_run: bool = False
    overrides: dict[str, Any] | None = None
    scheduler: str | None = None
    local_cluster: int | None = None


_LAYOUT_KEYS = ("results_root", "figures_root", "private_root", "notebook_dir")


def run_pipeline(
    cohort: CohortConfig, options: RunOptions | None = None, *, log: Log = print, **kwargs: Any
) -> int:
    """Plan and run the DAG for ``cohort``; return the exit status (0 when every planned notebook succeeded).

    Exit status 2 when the cohort's outputs are locked by another run; an ``OSError`` writing the outputs (disk
    full, read-only folder) propagates for the command line to report in one line
    (:func:`~helpers.workflow.report.describe_os_error`).

    Parameters
    ----------
    cohort
        The cohort (:func:`~helpers.workflow.discover.load_cohort`).
    options
        The run's options; or give them as keywords (``jobs=2``, ``only=[...]``, ...).
    log
        Where the progress lines go.
    **kwargs
        Fields of :class:`RunOptions`, and ``results_root``, ``figures_root``, ``private_root``, ``notebook_dir``
        to replace the repository's folders.

    Returns
    -------
    int
        Exit status: 0 (all ran or up to date), 1 (a notebook failed) or 2 (locked, or no data folder).
    """
    layout = OutputLayout.default(**{k: kwargs.pop(k) for k in _LAYOUT_KEYS if k in kwargs})
    options = dataclasses.replace(options or RunOptions(), **kwargs)  # TypeError on an unknown option
    check_name(cohort.name, what="cohort name")
    if options.dry_run:
        return _run_locked(cohort, options, layout, log)
    from filelock import FileLock, Timeout

    run_dir = layout.run_dir(cohort.name)
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(run_dir / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log(f"[run_all] error: another run of cohort {cohort.name} is in progress (lock "
            f"{portable(run_dir / '.lock', layout.root)}); wait for it to finish, then run again")
        return 2
    try:
        return _run_locked(cohort, options, layout, log)
    finally:
        lock.release()


def _where(cohort: CohortConfig, layout: OutputLayout) -> dict[str, Any]:
    return {"root": layout.root, "results": layout.results_root, "figures": layout.figures_root,
            "anchors": anchors(cohort.data_dir, layout.results_root, layout.figures_root)}  # fmt: skip


def _ensure_data(
    cohort: CohortConfig, options: RunOptions, layout: OutputLayout, where: dict[str, Any], log: Log
) -> bool:
    """Generate a simulated cohort when needed (cached by seed and simulator code); False if the data are missing."""
    if cohort.simulate and not options.dry_run:
        sim = cohort.simulate
        log(f"[run_all] simulated cohort {cohort.name}: scale {sim.get('scale', 'ci')}, seed {sim.get('seed')}")
        _ensure_simulated(cohort, layout)
    elif cohort.data_dir is not None and not cohort.data_dir.is_dir() and not cohort.simulate:
        log(f"[run_all] error: data folder {portable(cohort.data_dir, where['root'], where['anchors'])} does not exist")
        return False
    return True


def _ensure_simulated(cohort: CohortConfig, layout: OutputLayout) -> None:
    """``ensure_cohort``, skipped when neither the simulator's code nor the cohort's stamps changed since last time.

    Importing the simulator loads pandas and pandera, which would be most of a no-change rerun; the quick check
    reads the cohort's stamps and the simulator's source (the modules ``helpers.simulate`` reaches) instead.
    """
    sim = cohort.simulate
    private = layout.private_root / cohort.name
    marker = private / "simulated.json"
    code_cache = CodeCache(private / "code.json")

    def key() -> str:
        stamps = cohort.data_dir / ".stamps"
        seen = {}
        if stamps.is_dir():
            for f in sorted(stamps.iterdir()):
                out = cohort.data_dir / ("clinical.csv" if f.name == "patients" else f.name)
                seen[f.name] = [f.read_text().strip(), out.exists()]
        code, _ = code_cache.modules({"helpers.simulate"})
        return digest_obj({"scale": sim.get("scale", "ci"), "seed": int(sim["seed"]), "stamps": seen, "code": code})

    try:
        if json.loads(marker.read_text()).get("key") == key():
            return
    except (FileNotFoundError, json.JSONDecodeError):
        pass
    from ..simulate import ensure_cohort

    ensure_cohort(cohort.data_dir, scale=sim.get("scale", "ci"), seed=int(sim["seed"]), progress=True)
    write_text(json.dumps({"key": key()}), marker)
    code_cache.save()


def _run_locked(cohort: CohortConfig, options: RunOptions, layout: OutputLayout, log: Log) -> int:
    """Run the body of :func:`run_pipeline`, with the cohort's lock held (or a dry run)."""
    t_start = time.perf_counter()
    where = _where(cohort, layout)
    if not _ensure_data(cohort, options, layout, where, log):
        return 2
    specs = discover_notebooks(layout.notebook_dir)
    plan = plan_runs(cohort, specs, only=options.only, force=options.force, overrides=options.overrides,
                     results_root=layout.results_root, figures_root=layout.figures_root,
                     private_root=layout.private_root)  # fmt: skip
    log_plan(plan, log)
    if options.dry_run:
        return 0
    missing = _missing_extra(options) if any(p.status == "run" for p in plan) else []
    if missing:
        log(f"[run_all] error: running notebooks needs {', '.join(missing)}, the package's workflow extra: "
            "pip install '.[workflow]' (the lock installs it)")
        return 2
    dag = _DagRun(cohort, plan, options, layout, where, log)
    dag.run()
    run_dir = layout.run_dir(cohort.name)
    manifest = build_manifest(cohort, plan, dag.results, where, seconds=time.perf_counter() - t_start)
    write_manifest(manifest, run_dir)
    write_index(run_dir, layout.fig_dir(cohort.name), manifest)
    log_summary(cohort.name, plan, dag.results, dag.failed, seconds=time.perf_counter() - t_start,
                index=portable(run_dir / "index.html", layout.root, where["anchors"]), log=log)  # fmt: skip
    return 1 if dag.failed else 0


def _missing_extra(options: RunOptions) -> list[str]:
    """Modules of the ``workflow`` extra this run needs and cannot import (checked without importing them)."""
    import importlib.util

    need = ["papermill", "nbconvert"] + (["distributed"] if options.scheduler or options.local_cluster else [])
    return [m for m in need if importlib.util.find_spec(m) is None]


def _group_readable_dir(path: Path) -> Path:
    """``tempfile.mkdtemp`` makes 0700 folders; results are for the group, so apply the user's umask instead."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o777 & ~umask)
    return path


def swap_in(staging: Path, final: Path) -> None:
    """Replace ``final`` by ``staging`` (two renames on one file system; the old copy is removed afterwards).

    Parameters
    ----------
    staging
        The folder a notebook wrote into.
    final
        Its place in ``results/`` or ``figures/``; parents are created.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    trash = None
    if final.exists():
        trash = final.with_name(f".{final.name}.old-{os.getpid()}-{time.time_ns()}")
        final.rename(trash)
    staging.rename(final)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)


class _DagRun:
    """The notebooks to run, submitted as soon as their upstream ones are done; results collected as they finish."""

    def __init__(self, cohort: CohortConfig, plan: list[PlanItem], options: RunOptions, layout: OutputLayout,
                 where: dict[str, Any], log: Log) -> None:  # fmt: skip
        self.cohort, self.plan, self.options, self.layout, self.where, self.log = cohort, plan, options, layout, where, log
        self.run_dir, self.fig_dir = layout.run_dir(cohort.name), layout.fig_dir(cohort.name)
        self.private = layout.private_root / cohort.name
        self.to_run = [p for p in plan if p.status == "run"]
        self.pending = {p.spec.name: p for p in self.to_run}
        self.running: dict[cf.Future, tuple[PlanItem, RunTask]] = {}
        self.failed: set[str] = set()
        self.started: set[str] = set()
        self.results: dict[str, dict] = {}
        self.env = {k: str(v) for k, v in where["anchors"].items()}
        self.env["DREAM_PRIVATE_DIR"] = str(self.private)
        # Staging folders of this run only: another run's (or a crashed run's) are never touched.
        run_id = f"run-{os.getpid()}-{time.time_ns()}"
        self.stage_res, self.stage_fig = self.run_dir / ".staging" / run_id, self.fig_dir / ".staging" / run_id
        self.executor: RunExecutor | None = None

    def run(self) -> None:
        """Run every planned notebook (DAG order, in parallel where the executor allows); clean the staging up."""
        self.stage_res.mkdir(parents=True, exist_ok=True)
        self.stage_fig.mkdir(parents=True, exist_ok=True)
        o = self.options
        try:
            with open_executor(jobs=o.jobs, scheduler=o.scheduler, local_cluster=o.local_cluster) as ex:
                self.executor = ex
                if ex.distributed:
                    self.env[SCHEDULER_ENV] = ex.address  # notebooks fan work out to the same cluster (map_tasks)
                    self.log(f"[run_all] submitting to dask.distributed scheduler {ex.address}")
                while self.pending or self.running:
                    self._submit_ready()
                    if self.running:
                        self._collect()
        finally:
            for d in (self.stage_res, self.stage_fig):
                shutil.rmtree(d, ignore_errors=True)
            for d in (self.run_dir / ".staging", self.fig_dir / ".staging"):
                with contextlib.suppress(OSError):
                    d.rmdir()  # only when no other staging folder is left in it

    def _task(self, item: PlanItem) -> RunTask:
        root, anchor_dirs = self.where["root"], self.where["anchors"]
        stage_r = _group_readable_dir(Path(tempfile.mkdtemp(prefix=f"{item.spec.name}-", dir=self.stage_res)))
        stage_f = _group_readable_dir(Path(tempfile.mkdtemp(prefix=f"{item.spec.name}-", dir=self.stage_fig)))
        params = dict(item.parameters, output_dir=portable(stage_r, root, anchor_dirs),
                      figures_dir=portable(stage_f, root, anchor_dirs))  # fmt: skip
        solo = len(self.to_run) == 1 and self.options.jobs == 1 and not self.executor.distributed
        return RunTask(name=item.spec.name, source=str(item.spec.path), parameters=params,
                       staging_results=str(stage_r), staging_figures=str(stage_f), root=str(root),
                       progress_bar=solo and sys.stderr.isatty(), env=dict(self.env))  # fmt: skip

    def _submit_ready(self) -> None:
        """Queue each pending notebook whose upstream notebooks are done; drop those whose upstream failed."""
        running_names = {r[0].spec.name for r in self.running.values()}
        for name in list(self.pending):
            item = self.pending[name]
            bad = [u for u in item.spec.upstream if u in self.failed]
            waiting = [u for u in item.spec.upstream if u in self.pending or u in running_names]
            if bad:
                self.results[name] = {"status": "skipped", "error": f"upstream failed: {', '.join(bad)}"}
                self.failed.add(name)
                del self.pending[name]
                self.log(f"[run_all] {name}: not run, upstream failed ({', '.join(bad)})")
            elif not waiting and still_up_to_date(item, self.run_dir, self._final(name)):
                # Early cut-off: the upstream notebooks reran and their outputs came out byte-identical.
                del self.pending[name]
                item.reason = "up to date (upstream outputs unchanged)"
                item.status = "skip"
                self.log(f"[run_all] {name}: up to date, upstream outputs unchanged")
            elif not waiting:
                task = self._task(item)
                self.log(f"[run_all] {name}: queued")
                self.running[self.executor.submit(execute_notebook, task)] = (item, task)
                running_names.add(name)
                del self.pending[name]

    def _final(self, name: str) -> Path:
        return final_dirs(self.cohort.name, name, self.layout.results_root, self.layout.figures_root)[0]

    def _log_started(self, item: PlanItem, task: RunTask) -> None:
        # "started" is logged when a worker has created the task's marker, not when it was handed to the pool.
        if item.spec.name not in self.started and started_marker(task).exists():
            self.started.add(item.spec.name)
            self.log(f"[run_all] {item.spec.name}: started")

    def _collect(self) -> None:
        finished, _ = cf.wait(list(self.running), timeout=1.0, return_when=cf.FIRST_COMPLETED)
        for fut in finished:
            item, task = self.running.pop(fut)
            self._log_started(item, task)
            started_marker(task).unlink(missing_ok=True)
            try:
                res = fut.result()
            except Exception as exc:  # the worker itself died
                res = {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "cell": None}
            if res["status"] == "ok":
                self._succeeded(item, task, res)
            else:
                self._failed(item, task, res)
            res["parameters"] = item.parameters
            res["inputs"] = item.inputs
            self.results[item.spec.name] = res
        for item, task in self.running.values():  # after the finished ones, so each "ok" follows its "started"
            self._log_started(item, task)

    def _succeeded(self, item: PlanItem, task: RunTask, res: dict) -> None:
        name = item.spec.name
        final_r, final_f = final_dirs(self.cohort.name, name, self.layout.results_root, self.layout.figures_root)
        hasher = ChecksumCache()
        outputs = hasher.tree(Path(task.staging_results))
        outputs.update({f"figures/{k}": v for k, v in hasher.tree(Path(task.staging_figures)).items()})
        swap_in(Path(task.staging_results), final_r)
        swap_in(Path(task.staging_figures), final_f)
        if item.spec.upstream:  # upstream outputs may have changed during this run
            item.parts["upstream"] = upstream_digests(item.spec, {u: (True,) for u in item.parts["upstream"]},
                                                      self.run_dir)  # fmt: skip
            item.fingerprint = digest_obj(item.parts)
        write_state(self.run_dir, item, outputs)
        res["outputs"] = outputs
        self.log(f"[run_all] {name}: ok in {res['seconds']:.1f} s")

    def _failed(self, item: PlanItem, task: RunTask, res: dict) -> None:
        name = item.spec.name
        root, anchor_dirs = self.where["root"], self.where["anchors"]
        executed = Path(task.staging_results) / f"{name}.ipynb"
        if executed.is_file():  # kept for debugging in the private folder: tracebacks hold data values
            (self.private / "failed").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(executed, self.private / "failed" / f"{name}.ipynb")
            res["failed_notebook"] = portable(self.private / "failed" / f"{name}.ipynb", root, anchor_dirs)
        shutil.rmtree(task.staging_results, ignore_errors=True)
        shutil.rmtree(task.staging_figures, ignore_errors=True)
        self.failed.add(name)
        res["error"] = redact(res.get("error"), root, anchor_dirs)
        res.pop("trace", None)
        where = f"cell {res.get('cell')}" if res.get("cell") is not None else "before any cell"
        self.log(f"[run_all] {name}: FAILED at {where}: {res.get('error')}")
