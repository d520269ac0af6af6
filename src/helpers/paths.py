"""Where things are: the repository root, cohorts, result and figure folders."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["repo_root", "resolve", "output_folders", "public_data_root"]


def repo_root(start: str | Path | None = None) -> Path:
    """Find the compendium's root: the first parent of ``start`` holding ``pyproject.toml`` and ``src/helpers``.

    Falls back to the folder this package is installed from (editable install), so notebooks work from any folder.

    Parameters
    ----------
    start
        Folder to search from (default: the current working directory).

    Returns
    -------
    pathlib.Path
        The repository root, resolved.

    Raises
    ------
    FileNotFoundError
        Neither ``start`` nor the installed package lies in a checkout.
    """
    here = Path(start or Path.cwd()).resolve()
    for cand in (here, *here.parents):
        if (cand / "pyproject.toml").is_file() and (cand / "src" / "helpers").is_dir():
            return cand
    pkg_root = Path(__file__).resolve().parents[2]
    if (pkg_root / "pyproject.toml").is_file():
        return pkg_root
    raise FileNotFoundError(f"cannot find the compendium root above {here}")


OUTPUT_ROOT_ENV = "DREAM_OUTPUT_ROOT"


def resolve(path: str | Path) -> Path:
    """Resolve a path given relative to the repository root (absolute paths pass through).

    Relative ``results/...`` and ``figures/...`` paths go under ``$DREAM_OUTPUT_ROOT`` when it is set: the test suite
    re-executes the reference notebooks there, so that running the tests never overwrites a cohort's results.
    Environment variables are expanded: ``run_all.py`` passes a data folder outside the repository as
    ``$DREAM_DATA_DIR``, so that no executed notebook records the lab's absolute path.

    Parameters
    ----------
    path
        A path relative to the repository root, absolute, or with ``$VARIABLES`` and ``~``.

    Returns
    -------
    pathlib.Path
        The absolute path (not required to exist).
    """
    p = Path(os.path.expandvars(str(path))).expanduser()
    if p.is_absolute():
        return p
    scratch = os.environ.get(OUTPUT_ROOT_ENV)
    if scratch and p.parts and p.parts[0] in ("results", "figures"):
        return Path(scratch).expanduser().resolve() / p
    return repo_root() / p


def output_folders(*folders: str | Path) -> tuple[Path, ...]:
    """Resolve folders given relative to the repository root (a notebook's results and figures) and create them.

    Parameters
    ----------
    *folders
        Folders, each as :func:`resolve` takes it.

    Returns
    -------
    tuple of pathlib.Path
        The created (or existing) folders, in the order given.
    """
    paths = tuple(resolve(f) for f in folders)
    for p in paths:
        p.mkdir(parents=True, exist_ok=True)
    return paths


def public_data_root() -> Path:
    """Locate the local mirror of public datasets.

    ``$DREAM_PUBLIC_DATA`` when set; else ``<repo>/../shared/data`` when the package runs from a checkout that has
    that folder beside it; else a user cache folder (``$XDG_CACHE_HOME/dream-compendium/public-data``, by default
    under ``~/.cache``), where ``python -m helpers.registry fetch`` downloads the datasets.

    Returns
    -------
    pathlib.Path
        The mirror folder, resolved (it may not exist yet).
    """
    env = os.environ.get("DREAM_PUBLIC_DATA")
    if env:
        return Path(env).expanduser().resolve()
    try:
        beside = (repo_root().parent / "shared" / "data").resolve()
    except FileNotFoundError:  # installed package, outside a checkout
        beside = None
    if beside is not None and beside.is_dir():
        return beside
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
    return (cache / "dream-compendium" / "public-data").resolve()
