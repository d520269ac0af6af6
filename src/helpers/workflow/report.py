"""Reports: the plan and summary lines of a run, ``results/<cohort>/index.html``, one-line output errors."""

from __future__ import annotations

import errno
import html
import os
from collections.abc import Callable
from pathlib import Path

from ..io import write_text
from .layout import portable
from .plan import PlanItem

__all__ = ["log_plan", "log_summary", "write_index", "describe_os_error"]


def log_plan(plan: list[PlanItem], log: Callable[[str], object]) -> None:
    """Log one line per notebook: name, status (run / skip / n/a) and why.

    Parameters
    ----------
    plan
        The planned notebooks, in run order.
    log
        Called with each line.
    """
    width = max(len(p.spec.name) for p in plan)
    for item in plan:
        log(f"[run_all] {item.spec.name:<{width}}  {item.status:<4}  {item.reason}")


def log_summary(
    cohort: str, plan: list[PlanItem], results: dict[str, dict], failed: set[str], *, seconds: float, index: str,
    log: Callable[[str], object],
) -> None:  # fmt: skip
    """Log the closing lines: counts, then each failure with its cell, error and whether the last good outputs remain.

    Parameters
    ----------
    cohort
        The cohort's name.
    plan
        The planned notebooks.
    results
        ``{notebook: result}`` of the notebooks that ran (``status``, and on failure ``cell``, ``error``,
        ``last_good``, ``failed_notebook``).
    failed
        Names of the notebooks that failed (or were not run because an upstream one failed).
    seconds
        Wall time of the run, in seconds.
    index
        The run's ``index.html``, as shown to the user.
    log
        Called with each line.
    """
    n_ok = sum(1 for r in results.values() if r["status"] == "ok")
    n_skip = sum(1 for p in plan if p.status == "skip")
    log(f"[run_all] cohort {cohort}: {n_ok} ran, {n_skip} up to date, {len(failed)} failed in {seconds:.1f} s; "
        f"index: {index}")  # fmt: skip
    if not failed:
        return
    log("[run_all] failures:")
    for name in sorted(failed):
        r = results[name]
        cell = f"cell {r['cell']}" if r.get("cell") is not None else "-"
        kept = "last good outputs kept" if r.get("last_good") else "no earlier outputs"
        extra = f"; executed copy: {r['failed_notebook']}" if r.get("failed_notebook") else ""
        log(f"  {name}: {cell}: {r.get('error')} ({kept}{extra})")


def write_index(run_dir: Path, figures_dir: Path, manifest: dict) -> None:
    """Write ``index.html``: every notebook of the manifest with its status, time, executed HTML and figures.

    Parameters
    ----------
    run_dir
        The cohort's results folder (the index goes there; links are relative to it).
    figures_dir
        The cohort's figures folder.
    manifest
        The run's manifest (its ``notebooks`` entries).
    """
    rows = []
    for name, nb in manifest["notebooks"].items():
        link = f"{name}/{name}.html"
        figs = sorted((figures_dir / name).glob("*.png")) if (figures_dir / name).is_dir() else []
        fig_links = " ".join(
            f'<a href="{html.escape(os.path.relpath(f, run_dir))}">{html.escape(f.stem)}</a>'
            f' (<a href="{html.escape(os.path.relpath(f.with_suffix(".pdf"), run_dir))}">pdf</a>)'
            for f in figs
        )
        nb_link = f'<a href="{html.escape(link)}">{html.escape(name)}</a>' if (run_dir / link).is_file() else name
        rows.append(
            f"<tr><td>{nb_link}</td><td>{html.escape(nb['status'])}</td><td>{nb.get('seconds', '')}</td>"
            f"<td>{fig_links}</td></tr>"
        )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>DREAM compendium: "
        f"{html.escape(manifest['cohort'])}</title><style>body{{font-family:sans-serif}}td,th{{padding:4px 10px;"
        "border-bottom:1px solid #ddd;text-align:left}}</style></head><body>"
        f"<h1>DREAM compendium, cohort {html.escape(manifest['cohort'])}</h1>"
        f"<p>commit {html.escape(str(manifest['git']['commit']))}{' (dirty)' if manifest['git']['dirty'] else ''}"
        f", finished {html.escape(manifest['finished'])}; <a href='manifest.json'>manifest</a></p>"
        "<table><tr><th>notebook</th><th>status</th><th>seconds</th><th>figures</th></tr>"
        + "".join(rows)
        + "</table></body></html>\n"
    )
    write_text(page, run_dir / "index.html")


def describe_os_error(exc: OSError, *, root: Path | None = None) -> str:
    """Describe in one line a failure to write outputs: disk full, read-only or not permitted, or another OS error.

    Parameters
    ----------
    exc
        The error.
    root
        Repository root: the file named by the error is shown relative to it.

    Returns
    -------
    str
        The line (without a traceback).
    """
    where = exc.filename
    if where is not None and root is not None:
        where = portable(Path(where), root)
    what = {
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EROFS: "the output folder is on a read-only file system",
        errno.EACCES: "no permission to write the outputs",
        errno.EPERM: "no permission to write the outputs",
    }.get(exc.errno, exc.strerror or str(exc))
    return f"cannot write outputs: {what}" + (f" ({where})" if where else "")
