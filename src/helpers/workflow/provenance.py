"""Provenance: per-notebook state files and ``results/<cohort>/manifest.json`` (versions, git, checksums, timings)."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import platform
import subprocess
from pathlib import Path
from typing import Any

from ..io import write_text
from .discover import CohortConfig
from .fingerprint import digest_obj
from .layout import final_dirs, portable, redact
from .plan import PlanItem

__all__ = ["KEY_PACKAGES", "git_info", "versions", "write_state", "build_manifest", "write_manifest"]

KEY_PACKAGES = [
    "numpy", "pandas", "scipy", "scanpy", "anndata", "statsmodels", "scikit-learn", "lifelines", "pydeseq2",
    "flowkit", "flowio", "flowsom", "dnaio", "papermill", "jupytext", "nbval", "dask", "distributed", "matplotlib",
    "seaborn", "pandera", "harmonypy", "decoupler", "pynndescent", "umap-learn", "leidenalg",
]  # fmt: skip


def git_info(root: Path) -> dict[str, Any]:
    """Read the checkout's commit and whether tracked files differ from it.

    Parameters
    ----------
    root
        The repository root.

    Returns
    -------
    dict
        ``commit`` (hex, or None outside a git checkout) and ``dirty`` (bool).
    """

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False).stdout.strip()

    commit = git("rev-parse", "HEAD")
    return {"commit": commit or None, "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def versions() -> dict[str, str]:
    """Report Python's and the key packages' versions (those installed).

    Returns
    -------
    dict of str to str
        ``{"python": ..., package: version, ...}`` for the installed packages of ``KEY_PACKAGES``.
    """
    out = {"python": platform.python_version()}
    for p in KEY_PACKAGES:
        try:
            out[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def write_state(run_dir: Path, item: PlanItem, outputs: dict[str, str]) -> None:
    """Record a successful run: its fingerprint and the digest of its outputs (read by downstream fingerprints).

    Executed notebooks and their HTML are left out of the outputs digest: they hold timings.

    Parameters
    ----------
    run_dir
        The cohort's results folder; the state goes to ``.state/<notebook>.json``.
    item
        The planned run that succeeded.
    outputs
        ``{output file: sha256}`` of the run.
    """
    state = {
        "fingerprint": item.fingerprint,
        "parts": {k: digest_obj(v) for k, v in item.parts.items()},  # so that a later plan can say what changed
        "outputs_digest": digest_obj({k: v for k, v in outputs.items() if not k.endswith((".ipynb", ".html"))}),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    write_text(json.dumps(state, indent=1, sort_keys=True), run_dir / ".state" / f"{item.spec.name}.json")


def _entry(item: PlanItem, r: dict, previous: dict, final_res: Path) -> dict[str, Any]:
    entry = {
        "status": r["status"],
        "seconds": r.get("seconds"),
        "parameters": r.get("parameters"),
        "fingerprint": item.fingerprint,
        "helper_modules": item.parts.get("helper_modules"),
        "inputs_digest": digest_obj(r.get("inputs", {})),
        "n_inputs": len(r.get("inputs", {})),
    }
    if r["status"] == "ok":
        entry["outputs"] = r.get("outputs", {})
        return entry
    entry["error"] = r.get("error")
    entry["failed_cell"] = r.get("cell")
    entry["last_good"] = final_res.is_dir() and previous.get("outputs") is not None
    r["last_good"] = entry["last_good"]
    if entry["last_good"]:
        entry["outputs"] = previous["outputs"]
    return entry


def build_manifest(
    cohort: CohortConfig, plan: list[PlanItem], results: dict[str, dict], where: dict[str, Any], *, seconds: float
) -> dict[str, Any]:
    """Build the manifest: the previous one (re-read under the lock) with the entries of this run merged in.

    Entries of notebooks that did not run now are kept whatever ran in between.

    Parameters
    ----------
    cohort
        The cohort.
    plan
        The plan of this run.
    results
        Name -> result of each notebook that ran or was skipped for a failed upstream (updated with ``last_good``).
    where
        ``root``, ``results``, ``figures``, ``anchors`` (portable names of folders outside the repository).
    seconds
        Wall time of the run so far.

    Returns
    -------
    dict
        The manifest.
    """
    root, results_root, figures_root, anchor_dirs = where["root"], where["results"], where["figures"], where["anchors"]
    manifest_path = results_root / cohort.name / "manifest.json"
    try:
        previous = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    except json.JSONDecodeError:
        previous = {}
    nb_entries = dict(previous.get("notebooks", {}))
    for item in plan:
        name = item.spec.name
        if name in results:
            final_res = final_dirs(cohort.name, name, results_root, figures_root)[0]
            nb_entries[name] = _entry(item, results[name], nb_entries.get(name, {}), final_res)
        elif item.status == "skip":
            nb_entries.setdefault(name, {"status": "ok"})
            nb_entries[name]["skipped_last_run"] = True
    return {
        "cohort": cohort.name,
        "description": redact(cohort.description, root, anchor_dirs),
        "data_dir": portable(cohort.data_dir, root, anchor_dirs) if cohort.data_dir else None,
        "datasets": cohort.datasets,
        "git": git_info(root),
        "versions": versions(),
        "platform": platform.platform(),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 2),
        "notebooks": nb_entries,
    }


def write_manifest(manifest: dict[str, Any], run_dir: Path) -> Path:
    """Write ``manifest.json`` into ``run_dir`` (sorted keys, atomic).

    Parameters
    ----------
    manifest
        The run's provenance (JSON-serialisable; other values written with ``str``).
    run_dir
        The cohort's results folder.

    Returns
    -------
    pathlib.Path
        The manifest written.
    """
    path = run_dir / "manifest.json"
    write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n", path)
    return path
