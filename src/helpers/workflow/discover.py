"""Discovery: the notebooks of the DAG (header metadata, parameter defaults) and the cohorts they run on."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

from ..paths import repo_root
from ..safepaths import NAME_PATTERN, check_name

__all__ = ["NOTEBOOK_PATTERN", "NotebookSpec", "CohortConfig", "discover_notebooks", "toposort", "load_cohort"]

NOTEBOOK_PATTERN = re.compile(r"^\d{2}_[A-Za-z0-9_]+\.py$")


@dataclasses.dataclass(frozen=True)
class NotebookSpec:
    """One notebook of the DAG."""

    name: str  # stem, e.g. "01_dst"
    path: Path
    inputs: tuple[str, ...]
    upstream: tuple[str, ...]
    defaults: dict[str, Any]
    # Public datasets (registry names) it reads instead of a data folder: it runs only for cohorts that declare them.
    datasets: tuple[str, ...] = ()


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
def _parameters_defaults(nb: Any) -> dict[str, Any]:
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
    """Read the ``dream`` metadata and the parameters cell of a percent-format notebook as text; None if unsure.

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
    """Find ``NN_name.py`` notebooks and read their DAG metadata and parameter defaults.

    Parameters
    ----------
    notebook_dir
        Folder of the notebooks (default: the repository's ``notebooks/``).

    Returns
    -------
    dict of str to NotebookSpec
        The notebooks by name (file stem), sorted.

    Raises
    ------
    ValueError
        A notebook names an unknown upstream notebook, or the upstream lists form a cycle.
    """
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
        upstream = list(meta.get("upstream", []))
        if meta.get("upstream_axes"):  # every axis notebook of the registry (the integration), in registry order
            from ..axes import axes

            upstream += [a.notebook for a in axes() if a.notebook not in upstream]
        specs[path.stem] = NotebookSpec(
            name=path.stem,
            path=path,
            inputs=tuple(meta.get("inputs", [])),
            upstream=tuple(upstream),
            defaults=defaults,
            datasets=tuple(meta.get("datasets", [])),
        )
    for spec in specs.values():
        unknown = [u for u in spec.upstream if u not in specs]
        if unknown:
            raise ValueError(f"{spec.path}: unknown upstream notebook(s) {unknown}")
    toposort(specs, list(specs))  # raises on cycles
    return specs


def toposort(specs: dict[str, NotebookSpec], names: list[str]) -> list[str]:
    """Order ``names`` so that every notebook follows its upstream ones (ties by name).

    Parameters
    ----------
    specs
        Every notebook of the DAG, by name.
    names
        The notebooks to order; upstream notebooks outside ``names`` are ignored.

    Returns
    -------
    list of str
        ``names`` in run order.

    Raises
    ------
    ValueError
        The notebooks' ``upstream`` lists form a cycle (named in the message).
    """
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
    """Load a named cohort from ``config/cohorts/<name>.yaml``, or a data folder that follows the data contract.

    Parameters
    ----------
    cohort
        A cohort name or the path of a data folder (its results go to ``<folder name>-<digest of its real path>``).
    config_dir
        Folder of the cohort files (default: ``config/cohorts/``).

    Returns
    -------
    CohortConfig
        The cohort.
    """
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
