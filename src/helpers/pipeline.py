"""Run the compendium's notebooks as a DAG with papermill: incremental, atomic, with provenance.

``run_all.py`` is the command line; this module holds the logic so that it can be tested.

- Notebooks are discovered in ``notebooks/NN_name.py`` (Jupytext percent format). Their header metadata
  ``dream: {inputs: [...], upstream: [...]}`` says which data sub-folders they read and which notebooks' outputs they
  need; the axis notebooks are independent, the integration runs after them.
- Parameters: the notebook's defaults < ``config/cohorts/<cohort>.yaml`` (``parameters.all`` then
  ``parameters.<notebook>``) < command-line overrides.
- Incremental: a notebook is skipped when the fingerprint of everything it depends on (its source, the helper
  package, its parameters, its input data and its upstream outputs) equals the one of its last successful run.
- Atomic: each run writes into staging folders that replace ``results/<cohort>/<notebook>/`` and
  ``figures/<cohort>/<notebook>/`` only when the notebook succeeds; a failure leaves the last good outputs intact.
- Safe on shared and real data: one lock per cohort output folder (a second run is refused with a clear message),
  staging folders per run, the manifest re-read and merged under the lock, workers that die with the run, result
  folders of a lab data folder keyed by its name and a digest of its real path, no absolute path in any shareable
  output (parameters name ``$DREAM_DATA_DIR`` etc., set in the workers' environment), tracebacks and path caches in
  a private folder (``data/private/<cohort>/``), outputs group-readable under the user's umask.
- Scale-out: runs are submitted to a ``concurrent.futures`` executor, a process pool by default or a
  dask.distributed cluster (``Client.get_executor()``), which needs a file system shared with the workers.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import dataclasses
import datetime as dt
import errno
import hashlib
import html
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import yaml

from .io import sha256_file, write_text
from .paths import repo_root
from .safepaths import NAME_PATTERN, check_name

__all__ = [
    "NotebookSpec",
    "CohortConfig",
    "discover_notebooks",
    "load_cohort",
    "plan_runs",
    "run_pipeline",
    "execute_notebook",
    "encrypted_kernel_manager",
    "describe_os_error",
]

NOTEBOOK_PATTERN = re.compile(r"^\d{2}_[A-Za-z0-9_]+\.py$")
KEY_PACKAGES = [
    "numpy", "pandas", "scipy", "scanpy", "anndata", "statsmodels", "scikit-learn", "lifelines", "pydeseq2",
    "flowkit", "flowio", "flowsom", "dnaio", "papermill", "jupytext", "nbval", "dask", "distributed", "matplotlib",
    "seaborn", "pandera", "harmonypy", "decoupler", "pynndescent", "umap-learn", "leidenalg",
]  # fmt: skip


@dataclasses.dataclass(frozen=True)
class NotebookSpec:
    """One notebook of the DAG."""

    name: str  # stem, e.g. "01_dst"
    path: Path
    inputs: tuple[str, ...]
    upstream: tuple[str, ...]
    defaults: dict[str, Any]


@dataclasses.dataclass
class CohortConfig:
    """A cohort: where its data are and how each notebook is parameterised for it."""

    name: str
    data_dir: Path | None
    description: str = ""
    simulate: dict | None = None
    notebooks: list[str] | None = None  # explicit list; None = every notebook whose inputs the data folder has
    datasets: list[str] = dataclasses.field(default_factory=list)  # public datasets (registry names) it reads
    parameters: dict[str, dict] = dataclasses.field(default_factory=dict)


# --------------------------------------------------------------------------------------------------------- discovery
def _parameters_defaults(nb) -> dict[str, Any]:
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            return _defaults_from_source(cell.source)
    raise ValueError("no cell tagged 'parameters'")


def _defaults_from_source(source: str) -> dict[str, Any]:
    ns: dict[str, Any] = {}
    exec(compile(source, "<parameters>", "exec"), {}, ns)  # noqa: S102 - our own notebooks' literals
    return {k: v for k, v in ns.items() if not k.startswith("_")}


_PARAMETERS_CELL = re.compile(r"^# %%.*\btags\s*=\s*\[[^\]]*[\"']parameters[\"']")


def _read_percent_header(path: Path):
    """The ``dream`` metadata and the parameters cell of a percent-format notebook, read as text; None if unsure.

    Planning runs on every call of run_all.py, and importing jupytext (nbformat, jsonschema) costs more than the
    whole no-change rerun otherwise does; the execution itself still goes through jupytext.
    """
    lines = path.read_text().splitlines()
    if not lines or lines[0].strip() != "# ---":
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "# ---")
    except StopIteration:
        return None
    header = yaml.safe_load("\n".join(ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in lines[1:end])) or {}
    start = next((i for i in range(end + 1, len(lines)) if _PARAMETERS_CELL.match(lines[i])), None)
    if start is None:
        return None
    stop = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("# %%")), len(lines))
    meta = (header.get("jupyter") or {}).get("dream", {}) or {}
    return meta, "\n".join(lines[start + 1 : stop])


def discover_notebooks(notebook_dir: Path | None = None) -> dict[str, NotebookSpec]:
    """Find ``NN_name.py`` notebooks and read their DAG metadata and parameter defaults."""
    notebook_dir = notebook_dir or repo_root() / "notebooks"
    specs = {}
    for path in sorted(notebook_dir.iterdir()):
        if not NOTEBOOK_PATTERN.match(path.name):
            continue
        try:
            quick = _read_percent_header(path) if path.suffix == ".py" else None
            if quick is not None:
                meta, source = quick
                defaults = _defaults_from_source(source)
            else:
                import jupytext

                nb = jupytext.read(path)
                meta = nb.metadata.get("dream", {})
                defaults = _parameters_defaults(nb)
        except Exception as exc:
            raise ValueError(f"{path}: cannot read its parameters cell: {exc}") from exc
        specs[path.stem] = NotebookSpec(
            name=path.stem,
            path=path,
            inputs=tuple(meta.get("inputs", [])),
            upstream=tuple(meta.get("upstream", [])),
            defaults=defaults,
        )
    for spec in specs.values():
        unknown = [u for u in spec.upstream if u not in specs]
        if unknown:
            raise ValueError(f"{spec.path}: unknown upstream notebook(s) {unknown}")
    _toposort(specs, list(specs))  # raises on cycles
    return specs


def _toposort(specs: dict[str, NotebookSpec], names: list[str]) -> list[str]:
    order, state = [], {}

    def visit(n: str, stack: tuple[str, ...]) -> None:
        if state.get(n) == "done":
            return
        if state.get(n) == "visiting":
            raise ValueError(f"dependency cycle: {' -> '.join((*stack, n))}")
        state[n] = "visiting"
        for u in specs[n].upstream:
            if u in names:
                visit(u, (*stack, n))
        state[n] = "done"
        order.append(n)

    for n in sorted(names):
        visit(n, ())
    return order


# ------------------------------------------------------------------------------------------------------------ cohorts
def load_cohort(cohort: str, *, config_dir: Path | None = None) -> CohortConfig:
    """A named cohort from ``config/cohorts/<name>.yaml``, or a data folder that follows the data contract."""
    root = repo_root()
    config_dir = config_dir or root / "config" / "cohorts"
    cfg_file = config_dir / f"{cohort}.yaml"
    if NAME_PATTERN.fullmatch(cohort) and cfg_file.is_file():
        cfg = yaml.safe_load(cfg_file.read_text()) or {}
        data_dir = cfg.get("data_dir")
        return CohortConfig(
            name=check_name(cfg.get("name", cohort), what="cohort name", path=cfg_file, column="name"),
            data_dir=None if data_dir is None else (root / data_dir if not Path(data_dir).is_absolute() else Path(data_dir)),
            description=cfg.get("description", ""),
            simulate=cfg.get("simulate"),
            notebooks=cfg.get("notebooks"),
            datasets=list(cfg.get("datasets", [])),
            parameters=cfg.get("parameters", {}) or {},
        )
    path = Path(cohort).expanduser()
    if path.is_dir():
        if not (path / "clinical.csv").is_file():
            raise FileNotFoundError(f"{path}: not a cohort folder (no clinical.csv); see data/README.md")
        real = path.resolve()
        # Two lab folders with the same base name must never share results: the key adds a digest of the real path.
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", real.name).lstrip(".-") or "cohort"
        name = f"{base}-{hashlib.sha256(str(real).encode()).hexdigest()[:8]}"
        return CohortConfig(name=name, data_dir=real, description=f"data folder {base} (key {name})")
    known = sorted(p.stem for p in config_dir.glob("*.yaml"))
    raise FileNotFoundError(f"unknown cohort {cohort!r}: neither a named cohort ({', '.join(known)}) nor a folder")


# -------------------------------------------------------------------------------------------------------- checksums
class ChecksumCache:
    """sha256 of files, cached by (size, mtime) so that a no-change run does not re-read gigabytes."""

    def __init__(self, path: Path | None = None):
        self.path = path  # None: hash without a persistent cache (fresh outputs)
        try:
            self.data = json.loads(path.read_text()) if path else {}
        except (FileNotFoundError, json.JSONDecodeError):
            self.data = {}
        self.dirty = False

    def sha(self, f: Path | str, st: os.stat_result | None = None) -> str:
        # Keyed by the absolute path as given (no resolve(): one syscall per path component, for thousands of files).
        key = os.path.abspath(f)
        st = st or os.stat(key)
        hit = self.data.get(key)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return hit[2]
        digest = sha256_file(Path(key))
        self.data[key] = [st.st_size, st.st_mtime_ns, digest]
        self.dirty = True
        return digest

    def tree(self, folder: Path, *, base: Path | None = None) -> dict[str, str]:
        base = base or folder
        if folder.is_file():
            return {folder.relative_to(base).as_posix(): self.sha(folder)}
        # os.scandir rather than Path.rglob: the no-change rerun stats every input file, and pathlib's per-path
        # objects cost more than the stat itself.
        out: dict[str, str] = {}
        prefix = folder.relative_to(base).as_posix()
        if any(part.startswith(".") for part in folder.relative_to(base).parts):
            return out
        stack = [(os.fspath(folder), "" if prefix == "." else prefix)]
        while stack:
            path, rel = stack.pop()
            with os.scandir(path) as it:
                for entry in it:
                    if entry.name.startswith("."):
                        continue
                    r = f"{rel}/{entry.name}" if rel else entry.name
                    if entry.is_dir():
                        stack.append((entry.path, r))
                    elif entry.is_file():
                        out[r] = self.sha(entry.path, entry.stat())
        return dict(sorted(out.items()))

    def save(self) -> None:
        if self.dirty and self.path is not None:
            write_text(json.dumps(self.data, sort_keys=True), self.path)
            self.dirty = False


def _digest_obj(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def helpers_digest() -> str:
    """Digest of the helper package's source (any change may change any notebook's results)."""
    pkg = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(pkg.rglob("*")):
        if f.is_file() and f.suffix in {".py", ".yaml", ".yml", ".json", ".xml"} and "__pycache__" not in f.parts:
            h.update(f.relative_to(pkg).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------------------- planning
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


@dataclasses.dataclass
class PlanItem:
    spec: NotebookSpec
    parameters: dict[str, Any]
    status: str  # "run", "skip" (up to date), "n/a" (cohort lacks inputs)
    reason: str
    fingerprint: str = ""
    inputs: dict[str, str] = dataclasses.field(default_factory=dict)
    parts: dict[str, Any] = dataclasses.field(default_factory=dict)


def _final_dirs(cohort: str, name: str, results_root: Path, figures_root: Path) -> tuple[Path, Path]:
    return results_root / cohort / name, figures_root / cohort / name


def _rel(p: Path, root: Path, anchors: dict[str, Path] | None = None) -> str:
    """``p`` relative to the repository, else as ``$VAR/...`` of an anchor folder: never an absolute path."""
    p = Path(p).resolve()
    try:
        return p.relative_to(root.resolve()).as_posix()
    except ValueError:
        pass
    for var, base in (anchors or {}).items():
        if base is not None and p.is_relative_to(Path(base).resolve()):
            rel = p.relative_to(Path(base).resolve()).as_posix()
            return f"${var}" if rel == "." else f"${var}/{rel}"
    return str(p)


def _anchors(cohort: CohortConfig, results_root: Path, figures_root: Path) -> dict[str, Path]:
    """Folders outside the repository that parameters name through environment variables (set in the workers)."""
    out = {"DREAM_RESULTS_ROOT": Path(results_root).resolve(), "DREAM_FIGURES_ROOT": Path(figures_root).resolve()}
    if cohort.data_dir is not None:
        out["DREAM_DATA_DIR"] = Path(cohort.data_dir).resolve()
    return out


def _redact(text: Any, root: Path, anchors: dict[str, Path]) -> Any:
    """An error message with the absolute folders of the run replaced by their portable names."""
    if not isinstance(text, str):
        return text
    for var, base in sorted(anchors.items(), key=lambda kv: -len(str(kv[1]))):
        text = text.replace(str(base), f"${var}")
    return text.replace(str(root.resolve()) + os.sep, "")


def default_private_root() -> Path:
    """``data/private`` of the repository (git-ignored): tracebacks, path caches; under ``$DREAM_OUTPUT_ROOT`` if set."""
    from .paths import OUTPUT_ROOT_ENV

    scratch = os.environ.get(OUTPUT_ROOT_ENV)
    return Path(scratch).expanduser().resolve() / "private" if scratch else repo_root() / "data" / "private"


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
    """Decide, in DAG order, which notebooks run, with which parameters, and which are up to date."""
    root = repo_root()
    results_root = results_root or root / "results"
    figures_root = figures_root or root / "figures"
    overrides = overrides or {}
    check_name(cohort.name, what="cohort name")
    anchors = _anchors(cohort, results_root, figures_root)
    # The cache is keyed by absolute paths: it lives in the private folder, never with the shareable results.
    cache = ChecksumCache(Path(private_root or default_private_root()) / cohort.name / "checksums.json")
    hdigest = helpers_digest()

    # Which notebooks apply to this cohort.
    applicable = {}
    for name, spec in specs.items():
        if cohort.notebooks is not None:
            ok = name in cohort.notebooks
            why = "listed by the cohort" if ok else "not listed by the cohort"
        else:
            missing = [
                i for i in ("clinical.csv", *spec.inputs) if cohort.data_dir is None or not (cohort.data_dir / i).exists()
            ]
            ok, why = (not missing), ("inputs present" if not missing else f"cohort has no {', '.join(missing)}")
        applicable[name] = (ok, why)
    if only:
        unknown = [o for o in only if o not in specs and not any(n.split("_", 1)[-1] == o for n in specs)]
        if unknown:
            raise ValueError(f"--only: unknown notebook(s) {unknown}; known: {', '.join(specs)}")
        only_set = {n for n in specs if n in only or n.split("_", 1)[-1] in only}
    else:
        only_set = set(specs)

    for key in overrides:
        target, _, k = key.rpartition(".")
        if target and target not in specs:
            raise ValueError(f"override {key!r}: unknown notebook {target!r}")
        if not target and not any(k in s.defaults for s in specs.values()):
            raise ValueError(f"override {key!r}: no notebook has a parameter {k!r}")
    order = _toposort(specs, list(specs))
    plan: list[PlanItem] = []
    for name in order:
        spec = specs[name]
        ok, why = applicable[name]
        final_res, final_fig = _final_dirs(cohort.name, name, results_root, figures_root)
        params = dict(spec.defaults)
        params.update(
            cohort=cohort.name,
            data_dir=_rel(cohort.data_dir, root, anchors) if cohort.data_dir is not None else "",
            output_dir=_rel(final_res, root, anchors),
            figures_dir=_rel(final_fig, root, anchors),
        )
        if "upstream_dirs" in spec.defaults or spec.upstream:
            params["upstream_dirs"] = {
                u: _rel(_final_dirs(cohort.name, u, results_root, figures_root)[0], root, anchors)
                for u in spec.upstream
                if applicable[u][0]
            }
        # Cohort-wide and unprefixed overrides apply where the notebook has the parameter; targeted ones must exist.
        params.update({k: v for k, v in (cohort.parameters.get("all", {}) or {}).items() if k in spec.defaults})
        params.update(cohort.parameters.get(name, {}) or {})
        for key, value in overrides.items():
            target, _, k = key.rpartition(".")
            if target == name or (target == "" and k in spec.defaults):
                params[k] = value
        unknown = [k for k in params if k not in spec.defaults and k not in ("upstream_dirs",)]
        if unknown:
            raise ValueError(f"{spec.path.name}: unknown parameter(s) {unknown}; its parameters: {list(spec.defaults)}")
        if not ok:
            plan.append(PlanItem(spec, params, "n/a", why))
            continue
        if name not in only_set:
            plan.append(PlanItem(spec, params, "n/a", "not selected by --only"))
            continue

        # Fingerprint of everything the run depends on.
        inputs: dict[str, str] = {}
        if cohort.data_dir is not None:
            for sub in ("clinical.csv", "samples.csv", *spec.inputs):
                p = cohort.data_dir / sub
                if p.exists():
                    for rel, digest in cache.tree(p, base=cohort.data_dir).items():
                        inputs[f"data/{rel}"] = digest
        if cohort.datasets:
            from .registry import load_registry

            reg = load_registry()
            for d in cohort.datasets:
                inputs[f"public/{d}"] = reg[d]["sha256"]
        parts = {
            "notebook": hashlib.sha256(spec.path.read_bytes()).hexdigest(),
            "helpers": hdigest,
            "parameters": params,
            "inputs": inputs,
            "upstream": _upstream_digests(spec, applicable, results_root / cohort.name),
        }
        fp = _digest_obj(parts)
        state_file = results_root / cohort.name / ".state" / f"{name}.json"
        last = json.loads(state_file.read_text()) if state_file.is_file() else {}
        upstream_reruns = [u for u in spec.upstream if any(p.spec.name == u and p.status == "run" for p in plan)]
        if force:
            status, reason = "run", "--force"
        elif upstream_reruns:
            status, reason = "run", f"upstream {', '.join(upstream_reruns)} will run"
        elif last.get("fingerprint") == fp and final_res.is_dir():
            status, reason = "skip", "up to date"
        elif not last:
            status, reason = "run", "never run"
        else:
            status, reason = "run", "inputs, code or parameters changed"
        plan.append(PlanItem(spec, params, status, reason, fp, inputs, parts))
    cache.save()
    return plan


def _upstream_digests(spec: NotebookSpec, applicable: dict, run_dir: Path) -> dict[str, str]:
    """Digests of the upstream notebooks' last good outputs (from their state files)."""
    out = {}
    for u in spec.upstream:
        if applicable.get(u, (False,))[0]:
            state = run_dir / ".state" / f"{u}.json"
            out[u] = json.loads(state.read_text()).get("outputs_digest", "") if state.is_file() else "missing"
    return out


# --------------------------------------------------------------------------------------------------------- execution
def encrypted_kernel_manager() -> type:
    """Kernel manager class that provisions CurveZMQ keys when the kernel supports them.

    Kernels talk to papermill over local TCP; ipykernel >= 7.3 warns on every start when that traffic is not encrypted
    (and jupyter_client leaves encryption disabled by default), so turning it on both secures the channel and keeps the
    run logs free of one warning per notebook.
    """
    from jupyter_client.manager import AsyncKernelManager

    class EncryptedKernelManager(AsyncKernelManager):
        transport_encryption = "auto"

    return EncryptedKernelManager


def _started_marker(task: RunTask) -> Path:
    """File a worker creates when it begins ``task`` (beside its staging folder, so never among its outputs)."""
    return Path(task.staging_results).with_suffix(".started")


def execute_notebook(task: RunTask) -> dict[str, Any]:
    """Execute one notebook with papermill into its staging folders; runs in a worker process.

    Returns a dict with ``status`` ("ok" / "failed"), ``seconds`` and, on failure, the failing cell and error.
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
    _started_marker(task).touch()  # tells the scheduler loop that a worker has really begun this notebook
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
    meta["input_path"] = _rel(src, Path(task.root)) if src.is_relative_to(Path(task.root)) else src.name
    meta["output_path"] = path.name
    with open(path, "w", encoding="utf-8") as fh:
        nbformat.write(nb, fh)


def _swap_in(staging: Path, final: Path) -> None:
    """Replace ``final`` by ``staging`` (two renames on one file system; the old copy is removed afterwards)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    trash = None
    if final.exists():
        trash = final.with_name(f".{final.name}.old-{os.getpid()}-{time.time_ns()}")
        final.rename(trash)
    staging.rename(final)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)


def _git_info(root: Path) -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False).stdout.strip()

    commit = git("rev-parse", "HEAD")
    return {"commit": commit or None, "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in KEY_PACKAGES:
        try:
            out[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def _write_index(run_dir: Path, figures_dir: Path, manifest: dict) -> None:
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


def _die_with_parent(parent_pid: int) -> None:
    """Pool-worker initializer: the worker is killed when the run that started it dies, even by SIGKILL.

    A killed ``run_all.py`` cannot clean up, so the kernel asks for it (Linux ``PR_SET_PDEATHSIG``); the notebook's
    kernel in turn exits when its parent worker is gone (ipykernel's parent poller watches ``JPY_PARENT_PID``).
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG = 1, SIGKILL = 9
    except (OSError, AttributeError):  # not Linux: the executor's own shutdown is all there is
        return
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)


def _group_readable_dir(path: Path) -> Path:
    """``tempfile.mkdtemp`` makes 0700 folders; results are for the group, so apply the user's umask instead."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o777 & ~umask)
    return path


def describe_os_error(exc: OSError, *, root: Path | None = None) -> str:
    """One line for a failure to write outputs: disk full, read-only or not permitted, or another OS error."""
    where = exc.filename
    if where is not None and root is not None:
        where = _rel(Path(where), root)
    what = {
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EROFS: "the output folder is on a read-only file system",
        errno.EACCES: "no permission to write the outputs",
        errno.EPERM: "no permission to write the outputs",
    }.get(exc.errno, exc.strerror or str(exc))
    return f"cannot write outputs: {what}" + (f" ({where})" if where else "")


def run_pipeline(
    cohort: CohortConfig,
    *,
    only: list[str] | None = None,
    jobs: int = 1,
    force: bool = False,
    dry_run: bool = False,
    overrides: dict[str, Any] | None = None,
    scheduler: str | None = None,
    local_cluster: int | None = None,
    results_root: Path | None = None,
    figures_root: Path | None = None,
    notebook_dir: Path | None = None,
    private_root: Path | None = None,
    log=print,
) -> int:
    """Plan and run the DAG for ``cohort``; return the exit status (0 when every planned notebook succeeded).

    Exit status 2 when the cohort's outputs are locked by another run; an ``OSError`` writing the outputs (disk
    full, read-only folder) propagates for the command line to report in one line (:func:`describe_os_error`).
    """
    from filelock import FileLock, Timeout

    root = repo_root()
    results_root = Path(results_root or root / "results")
    figures_root = Path(figures_root or root / "figures")
    private_root = Path(private_root or default_private_root())
    check_name(cohort.name, what="cohort name")
    run_dir = results_root / cohort.name
    fig_dir = figures_root / cohort.name
    ctx = dict(root=root, results_root=results_root, figures_root=figures_root, private_root=private_root, only=only,
               jobs=jobs, force=force, dry_run=dry_run, overrides=overrides, scheduler=scheduler,
               local_cluster=local_cluster, notebook_dir=notebook_dir, run_dir=run_dir, fig_dir=fig_dir)
    if dry_run:
        return _run_locked(cohort, ctx, log)
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(run_dir / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log(f"[run_all] error: another run of cohort {cohort.name} is in progress (lock "
            f"{_rel(run_dir / '.lock', root)}); wait for it to finish, then run again")
        return 2
    try:
        return _run_locked(cohort, ctx, log)
    finally:
        lock.release()


def _run_locked(cohort: CohortConfig, a: dict[str, Any], log) -> int:
    """The body of :func:`run_pipeline`, with the cohort's lock held (or a dry run)."""
    root, results_root, figures_root, private_root = a["root"], a["results_root"], a["figures_root"], a["private_root"]
    only, jobs, force, dry_run, overrides = a["only"], a["jobs"], a["force"], a["dry_run"], a["overrides"]
    scheduler, local_cluster, notebook_dir = a["scheduler"], a["local_cluster"], a["notebook_dir"]
    run_dir, fig_dir = a["run_dir"], a["fig_dir"]
    t_start = time.perf_counter()
    anchors = _anchors(cohort, results_root, figures_root)

    if cohort.simulate and not dry_run:
        from .simulate import ensure_cohort

        sim = cohort.simulate
        log(f"[run_all] simulated cohort {cohort.name}: scale {sim.get('scale', 'ci')}, seed {sim.get('seed')}")
        ensure_cohort(cohort.data_dir, scale=sim.get("scale", "ci"), seed=int(sim["seed"]), progress=True)
    elif cohort.data_dir is not None and not cohort.data_dir.is_dir() and not cohort.simulate:
        log(f"[run_all] error: data folder {_rel(cohort.data_dir, root, anchors)} does not exist")
        return 2

    specs = discover_notebooks(notebook_dir)
    plan = plan_runs(
        cohort, specs, only=only, force=force, overrides=overrides, results_root=results_root, figures_root=figures_root,
        private_root=private_root,
    )
    width = max(len(p.spec.name) for p in plan)
    for item in plan:
        log(f"[run_all] {item.spec.name:<{width}}  {item.status:<4}  {item.reason}")
    if dry_run:
        return 0
    to_run = [p for p in plan if p.status == "run"]
    # Staging folders of this run only: another run's (or a crashed run's) are never touched.
    run_id = f"run-{os.getpid()}-{time.time_ns()}"
    stage_res, stage_fig = run_dir / ".staging" / run_id, fig_dir / ".staging" / run_id
    stage_res.mkdir(parents=True, exist_ok=True)
    stage_fig.mkdir(parents=True, exist_ok=True)
    manifest_path = run_dir / "manifest.json"
    private = private_root / cohort.name
    results: dict[str, dict] = {}
    env = {k: str(v) for k, v in anchors.items()}
    env["DREAM_PRIVATE_DIR"] = str(private)

    executor: cf.Executor
    client = cluster = None
    if scheduler or local_cluster:
        from dask.distributed import Client, LocalCluster

        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(n_workers=local_cluster, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
        executor = client.get_executor(pure=False)
        log(f"[run_all] submitting to dask.distributed scheduler {client.scheduler.address}")
    else:
        executor = cf.ProcessPoolExecutor(max_workers=max(1, jobs), initializer=_die_with_parent,
                                          initargs=(os.getpid(),))

    def make_task(item: PlanItem) -> RunTask:
        stage_r = _group_readable_dir(Path(tempfile.mkdtemp(prefix=f"{item.spec.name}-", dir=stage_res)))
        stage_f = _group_readable_dir(Path(tempfile.mkdtemp(prefix=f"{item.spec.name}-", dir=stage_fig)))
        params = dict(item.parameters, output_dir=_rel(stage_r, root, anchors),
                      figures_dir=_rel(stage_f, root, anchors))  # fmt: skip
        return RunTask(
            name=item.spec.name,
            source=str(item.spec.path),
            parameters=params,
            staging_results=str(stage_r),
            staging_figures=str(stage_f),
            root=str(root),
            progress_bar=(len(to_run) == 1 and jobs == 1 and not client and sys.stderr.isatty()),
            env=env,
        )

    pending = {p.spec.name: p for p in to_run}
    running: dict[cf.Future, tuple[PlanItem, RunTask]] = {}
    done: set[str] = {p.spec.name for p in plan if p.status == "skip"}
    failed: set[str] = set()
    started: set[str] = set()
    try:
        while pending or running:
            for name in list(pending):
                item = pending[name]
                ups = [u for u in item.spec.upstream if u in pending or any(r[0].spec.name == u for r in running.values())]
                bad = [u for u in item.spec.upstream if u in failed]
                if bad:
                    results[name] = {"status": "skipped", "error": f"upstream failed: {', '.join(bad)}"}
                    failed.add(name)
                    del pending[name]
                    log(f"[run_all] {name}: not run, upstream failed ({', '.join(bad)})")
                elif not ups:
                    task = make_task(item)
                    log(f"[run_all] {name}: queued")
                    running[executor.submit(execute_notebook, task)] = (item, task)
                    del pending[name]
            if not running:
                continue
            # "started" is logged when a worker has created the task's marker, not when it was handed to the pool.
            finished, _ = cf.wait(list(running), timeout=1.0, return_when=cf.FIRST_COMPLETED)

            def log_started(item: PlanItem, task: RunTask) -> None:
                if item.spec.name not in started and _started_marker(task).exists():
                    started.add(item.spec.name)
                    log(f"[run_all] {item.spec.name}: started")

            for fut in finished:
                item, task = running.pop(fut)
                name = item.spec.name
                log_started(item, task)
                _started_marker(task).unlink(missing_ok=True)
                try:
                    res = fut.result()
                except Exception as exc:  # the worker itself died
                    res = {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "cell": None}
                final_r, final_f = _final_dirs(cohort.name, name, results_root, figures_root)
                if res["status"] == "ok":
                    hasher = ChecksumCache()
                    outputs = hasher.tree(Path(task.staging_results))
                    outputs.update({f"figures/{k}": v for k, v in hasher.tree(Path(task.staging_figures)).items()})
                    _swap_in(Path(task.staging_results), final_r)
                    _swap_in(Path(task.staging_figures), final_f)
                    if item.spec.upstream:  # upstream outputs may have changed during this run
                        item.parts["upstream"] = _upstream_digests(item.spec, {u: (True,) for u in item.parts["upstream"]}, run_dir)
                        item.fingerprint = _digest_obj(item.parts)
                    state = {
                        "fingerprint": item.fingerprint,
                        "outputs_digest": _digest_obj({k: v for k, v in outputs.items() if not k.endswith((".ipynb", ".html"))}),
                        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    }
                    write_text(json.dumps(state, indent=1, sort_keys=True), run_dir / ".state" / f"{name}.json")
                    res["outputs"] = outputs
                    done.add(name)
                    log(f"[run_all] {name}: ok in {res['seconds']:.1f} s")
                else:
                    executed = Path(task.staging_results) / f"{name}.ipynb"
                    if executed.is_file():  # kept for debugging in the private folder: tracebacks hold data values
                        (private / "failed").mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(executed, private / "failed" / f"{name}.ipynb")
                        res["failed_notebook"] = _rel(private / "failed" / f"{name}.ipynb", root, anchors)
                    shutil.rmtree(task.staging_results, ignore_errors=True)
                    shutil.rmtree(task.staging_figures, ignore_errors=True)
                    failed.add(name)
                    res["error"] = _redact(res.get("error"), root, anchors)
                    res.pop("trace", None)
                    where = f"cell {res.get('cell')}" if res.get("cell") is not None else "before any cell"
                    log(f"[run_all] {name}: FAILED at {where}: {res.get('error')}")
                res["parameters"] = item.parameters
                res["inputs"] = item.inputs
                results[name] = res
            for item, task in running.values():  # after the finished ones, so each "ok" follows its "started"
                log_started(item, task)
    finally:
        if not client:
            executor.shutdown(wait=True)
        if client:
            client.close()
        if cluster:
            cluster.close()
        for d in (stage_res, stage_fig):
            shutil.rmtree(d, ignore_errors=True)
        for d in (run_dir / ".staging", fig_dir / ".staging"):
            with contextlib.suppress(OSError):
                d.rmdir()  # only when no other staging folder is left in it

    # Manifest and index: re-read now (under the lock) and merged, so that entries of notebooks that did not run
    # now are kept whatever ran in between.
    try:
        previous = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    except json.JSONDecodeError:
        previous = {}
    nb_entries = dict(previous.get("notebooks", {}))
    for item in plan:
        name = item.spec.name
        if name in results:
            r = results[name]
            entry = {
                "status": r["status"],
                "seconds": r.get("seconds"),
                "parameters": r.get("parameters"),
                "fingerprint": item.fingerprint,
                "inputs_digest": _digest_obj(r.get("inputs", {})),
                "n_inputs": len(r.get("inputs", {})),
            }
            if r["status"] == "ok":
                entry["outputs"] = r.get("outputs", {})
            else:
                entry["error"] = r.get("error")
                entry["failed_cell"] = r.get("cell")
                final_r = _final_dirs(cohort.name, name, results_root, figures_root)[0]
                entry["last_good"] = final_r.is_dir() and nb_entries.get(name, {}).get("outputs") is not None
                r["last_good"] = entry["last_good"]
                if entry["last_good"]:
                    entry["outputs"] = nb_entries[name]["outputs"]
            nb_entries[name] = entry
        elif item.status == "skip":
            nb_entries.setdefault(name, {"status": "ok"})
            nb_entries[name]["skipped_last_run"] = True
    manifest = {
        "cohort": cohort.name,
        "description": _redact(cohort.description, root, anchors),
        "data_dir": _rel(cohort.data_dir, root, anchors) if cohort.data_dir else None,
        "datasets": cohort.datasets,
        "git": _git_info(root),
        "versions": _versions(),
        "platform": platform.platform(),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t_start, 2),
        "notebooks": nb_entries,
    }
    write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n", manifest_path)
    _write_index(run_dir, fig_dir, manifest)

    n_ok = sum(1 for r in results.values() if r["status"] == "ok")
    n_skip = sum(1 for p in plan if p.status == "skip")
    log(
        f"[run_all] cohort {cohort.name}: {n_ok} ran, {n_skip} up to date, {len(failed)} failed "
        f"in {time.perf_counter() - t_start:.1f} s; index: {_rel(run_dir / 'index.html', root, anchors)}"
    )
    if failed:
        log("[run_all] failures:")
        for name in sorted(failed):
            r = results[name]
            cell = f"cell {r['cell']}" if r.get("cell") is not None else "-"
            kept = "last good outputs kept" if r.get("last_good") else "no earlier outputs"
            extra = f"; executed copy: {r['failed_notebook']}" if r.get("failed_notebook") else ""
            log(f"  {name}: {cell}: {r.get('error')} ({kept}{extra})")
        return 1
    return 0
