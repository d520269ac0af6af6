"""Planning: which notebooks apply to a cohort, with which parameters, and which are up to date."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from ..paths import repo_root
from ..safepaths import check_name
from .discover import CohortConfig, NotebookSpec, toposort
from .fingerprint import ChecksumCache, CodeCache, digest_obj
from .layout import anchors, default_private_root, final_dirs, portable

__all__ = ["PlanItem", "plan_runs", "upstream_digests", "lock_digest", "still_up_to_date"]

LOCK_FILE = "requirements.lock"
UPSTREAM_REASON = "upstream"


@dataclasses.dataclass
class PlanItem:
    """One notebook of the plan: its parameters, whether it runs and why, and what its fingerprint covers."""

    spec: NotebookSpec
    parameters: dict[str, Any]
    status: str  # "run", "skip" (up to date), "n/a" (cohort lacks inputs)
    reason: str
    fingerprint: str = ""
    inputs: dict[str, str] = dataclasses.field(default_factory=dict)
    parts: dict[str, Any] = dataclasses.field(default_factory=dict)


def lock_digest(root: Path) -> str:
    """Digest the lock file (the exact package versions).

    Parameters
    ----------
    root
        The repository root.

    Returns
    -------
    str
        Hexadecimal sha256 of ``requirements.lock``, or ``""`` when the checkout has none.
    """
    f = root / LOCK_FILE
    return hashlib.sha256(f.read_bytes()).hexdigest() if f.is_file() else ""


def _applicable(cohort: CohortConfig, specs: dict[str, NotebookSpec]) -> dict[str, tuple[bool, str]]:
    """For each notebook: does it apply to the cohort (listed by it, or the data folder has its inputs), and why.

    A notebook that reads public datasets (``dream: datasets:``) instead of a data folder applies only to a cohort
    that declares all of them, never to a data folder (a simulated cohort, a lab's folder).
    """
    out = {}
    for name, spec in specs.items():
        lacking = [d for d in spec.datasets if d not in cohort.datasets]
        if lacking:
            out[name] = (False, f"reads public dataset(s) {', '.join(lacking)} that the cohort does not declare")
            continue
        if cohort.notebooks is not None:
            ok = name in cohort.notebooks
            out[name] = (ok, "listed by the cohort" if ok else "not listed by the cohort")
            continue
        if spec.datasets:
            out[name] = (True, "the cohort declares its public datasets")
            continue
        missing = [
            i for i in ("clinical.csv", *spec.inputs) if cohort.data_dir is None or not (cohort.data_dir / i).exists()
        ]
        out[name] = (not missing, "inputs present" if not missing else f"cohort has no {', '.join(missing)}")
    return out


def _selected(specs: dict[str, NotebookSpec], only: list[str] | None) -> set[str]:
    """Notebooks named by ``--only`` (full name or the part after ``NN_``)."""
    if not only:
        return set(specs)
    unknown = [o for o in only if o not in specs and not any(n.split("_", 1)[-1] == o for n in specs)]
    if unknown:
        raise ValueError(f"--only: unknown notebook(s) {unknown}; known: {', '.join(specs)}")
    return {n for n in specs if n in only or n.split("_", 1)[-1] in only}


def _check_overrides(specs: dict[str, NotebookSpec], overrides: dict[str, Any]) -> None:
    for key in overrides:
        target, _, k = key.rpartition(".")
        if target and target not in specs:
            raise ValueError(f"override {key!r}: unknown notebook {target!r}")
        if not target and not any(k in s.defaults for s in specs.values()):
            raise ValueError(f"override {key!r}: no notebook has a parameter {k!r}")


def _parameters(
    spec: NotebookSpec,
    cohort: CohortConfig,
    overrides: dict[str, Any],
    applicable: dict[str, tuple[bool, str]],
    where: dict[str, Any],
) -> dict[str, Any]:
    """Merge the notebook's defaults < the cohort's parameters < the command line; folders as portable names."""
    root, results_root, figures_root, anchor_dirs = where["root"], where["results"], where["figures"], where["anchors"]
    final_res, final_fig = final_dirs(cohort.name, spec.name, results_root, figures_root)
    params = dict(spec.defaults)
    params.update(
        cohort=cohort.name,
        data_dir=portable(cohort.data_dir, root, anchor_dirs) if cohort.data_dir is not None else "",
        output_dir=portable(final_res, root, anchor_dirs),
        figures_dir=portable(final_fig, root, anchor_dirs),
    )
    if "upstream_dirs" in spec.defaults or spec.upstream:
        params["upstream_dirs"] = {
            u: portable(final_dirs(cohort.name, u, results_root, figures_root)[0], root, anchor_dirs)
            for u in spec.upstream
            if applicable[u][0]
        }
    # Cohort-wide and unprefixed overrides apply where the notebook has the parameter; targeted ones must exist.
    params.update({k: v for k, v in (cohort.parameters.get("all", {}) or {}).items() if k in spec.defaults})
    params.update(cohort.parameters.get(spec.name, {}) or {})
    for key, value in overrides.items():
        target, _, k = key.rpartition(".")
        if target == spec.name or (target == "" and k in spec.defaults):
            params[k] = value
    unknown = [k for k in params if k not in spec.defaults and k not in ("upstream_dirs",)]
    if unknown:
        raise ValueError(f"{spec.path.name}: unknown parameter(s) {unknown}; its parameters: {list(spec.defaults)}")
    return params


def _input_digests(cohort: CohortConfig, spec: NotebookSpec, cache: ChecksumCache) -> dict[str, str]:
    """Checksums of the cohort files the notebook reads, and the registered digests of its public datasets."""
    inputs: dict[str, str] = {}
    if cohort.data_dir is not None:
        for sub in ("clinical.csv", "samples.csv", *spec.inputs):
            p = cohort.data_dir / sub
            if p.exists():
                for rel, digest in cache.tree(p, base=cohort.data_dir).items():
                    inputs[f"data/{rel}"] = digest
    if cohort.datasets:
        from ..registry import load_registry

        reg = load_registry()
        for d in cohort.datasets:
            inputs[f"public/{d}"] = reg[d]["sha256"]
    return inputs


def upstream_digests(spec: NotebookSpec, applicable: dict, run_dir: Path) -> dict[str, str]:
    """Digests of the upstream notebooks' last good outputs (from their state files).

    Parameters
    ----------
    spec
        The notebook.
    applicable
        Name -> tuple whose first item says whether that notebook applies to the cohort.
    run_dir
        ``results/<cohort>/``.

    Returns
    -------
    dict of str to str
        Upstream name -> outputs digest ("missing" before its first run).
    """
    out = {}
    for u in spec.upstream:
        if applicable.get(u, (False,))[0]:
            state = run_dir / ".state" / f"{u}.json"
            out[u] = json.loads(state.read_text()).get("outputs_digest", "") if state.is_file() else "missing"
    return out


PART_NAMES = {"notebook": "notebook source", "helpers": "helper code", "helper_modules": "helper code",
              "lock": "lock file", "parameters": "parameters", "inputs": "inputs", "upstream": "upstream outputs"}


def _changed(item: PlanItem, last: dict) -> str:
    """Which parts of the fingerprint differ from the last run's (when its state records them)."""
    old = last.get("parts")
    if not isinstance(old, dict):
        return "inputs, code or parameters changed"
    names = sorted({PART_NAMES.get(k, k) for k, v in item.parts.items() if old.get(k) != digest_obj(v)})
    return f"changed: {', '.join(names)}" if names else "inputs, code or parameters changed"


def _decide(item: PlanItem, plan: list[PlanItem], final_res: Path, state_file: Path, force: bool) -> tuple[str, str]:
    last = json.loads(state_file.read_text()) if state_file.is_file() else {}
    upstream_reruns = [u for u in item.spec.upstream if any(p.spec.name == u and p.status == "run" for p in plan)]
    if force:
        return "run", "--force"
    if upstream_reruns:
        return "run", f"{UPSTREAM_REASON} {', '.join(upstream_reruns)} will run"
    if last.get("fingerprint") == item.fingerprint and final_res.is_dir():
        return "skip", "up to date"
    if not last:
        return "run", "never run"
    return "run", _changed(item, last)


def still_up_to_date(item: PlanItem, run_dir: Path, final_res: Path) -> bool:
    """After its upstream notebooks reran: True when their outputs came out unchanged and nothing else changed.

    Then the notebook need not run (its fingerprint, recomputed with the new upstream outputs, equals its last one);
    a notebook planned to run for any other reason (``--force``, its own changes) always runs.

    Parameters
    ----------
    item
        A plan item whose status is "run" because an upstream notebook ran (updated in place when up to date).
    run_dir
        ``results/<cohort>/``.
    final_res
        The notebook's result folder.

    Returns
    -------
    bool
        Whether the notebook is up to date.
    """
    if item.status != "run" or not item.reason.startswith(UPSTREAM_REASON + " "):
        return False
    state_file = run_dir / ".state" / f"{item.spec.name}.json"
    last = json.loads(state_file.read_text()) if state_file.is_file() else {}
    parts = dict(item.parts, upstream=upstream_digests(item.spec, {u: (True,) for u in item.parts["upstream"]}, run_dir))
    fingerprint = digest_obj(parts)
    if last.get("fingerprint") != fingerprint or not final_res.is_dir():
        return False
    item.parts, item.fingerprint = parts, fingerprint
    return True


def plan_runs(
    cohort: CohortConfig,
    specs: dict[str, NotebookSpec],
    *,
    only: list[str] | None = None,
    force: bool = False,
    overrides: dict[str, Any] | None = None,
    results_root: Path | None = None,
    figures_root: Path | None = None,
    private_root: Path | None = None,
) -> list[PlanItem]:
    """Decide, in DAG order, which notebooks run, with which parameters, and which are up to date.

    Parameters
    ----------
    cohort
        The cohort.
    specs
        The notebooks (:func:`~helpers.workflow.discover.discover_notebooks`).
    only
        Run only these notebooks (the others are "n/a").
    force
        Run even when up to date.
    overrides
        ``{KEY: VALUE}`` for every notebook that has the parameter, ``{NOTEBOOK.KEY: VALUE}`` for one.
    results_root, figures_root, private_root
        Output folders (default: the repository's ``results/``, ``figures/``, ``data/private/``).

    Returns
    -------
    list of PlanItem
        One item per notebook, in DAG order.
    """
    root = repo_root()
    results_root = results_root or root / "results"
    figures_root = figures_root or root / "figures"
    overrides = overrides or {}
    check_name(cohort.name, what="cohort name")
    where = {"root": root, "results": results_root, "figures": figures_root,
             "anchors": anchors(cohort.data_dir, results_root, figures_root)}  # fmt: skip
    # The cache is keyed by absolute paths: it lives in the private folder, never with the shareable results.
    private = Path(private_root or default_private_root()) / cohort.name
    cache = ChecksumCache(private / "checksums.json")
    code_cache = CodeCache(private / "code.json")
    lock = lock_digest(root)
    applicable = _applicable(cohort, specs)
    only_set = _selected(specs, only)
    _check_overrides(specs, overrides)
    plan: list[PlanItem] = []
    for name in toposort(specs, list(specs)):
        spec = specs[name]
        ok, why = applicable[name]
        params = _parameters(spec, cohort, overrides, applicable, where)
        if not ok or name not in only_set:
            plan.append(PlanItem(spec, params, "n/a", why if not ok else "not selected by --only"))
            continue
        inputs = _input_digests(cohort, spec, cache)
        code, modules = code_cache.notebook(spec.path)
        parts = {
            "notebook": hashlib.sha256(spec.path.read_bytes()).hexdigest(),
            "helpers": code,
            "helper_modules": modules,
            "lock": lock,
            "parameters": params,
            "inputs": inputs,
            "upstream": upstream_digests(spec, applicable, results_root / cohort.name),
        }
        item = PlanItem(spec, params, "", "", digest_obj(parts), inputs, parts)
        final_res = final_dirs(cohort.name, name, results_root, figures_root)[0]
        state_file = results_root / cohort.name / ".state" / f"{name}.json"
        item.status, item.reason = _decide(item, plan, final_res, state_file, force)
        plan.append(item)
    cache.save()
    code_cache.save()
    return plan
