"""Where a run writes, and how its folders are named in shareable outputs (never by an absolute path)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from ..paths import repo_root

__all__ = ["OutputLayout", "default_private_root", "portable", "anchors", "redact", "final_dirs"]


def default_private_root() -> Path:
    """Locate the private folder: ``data/private`` of the repository (git-ignored) for tracebacks and path caches.

    Under ``$DREAM_OUTPUT_ROOT`` when that is set (tests).

    Returns
    -------
    pathlib.Path
        The private folder; one sub-folder per cohort.
    """
    from ..paths import OUTPUT_ROOT_ENV

    scratch = os.environ.get(OUTPUT_ROOT_ENV)
    return Path(scratch).expanduser().resolve() / "private" if scratch else repo_root() / "data" / "private"


@dataclasses.dataclass(frozen=True)
class OutputLayout:
    """The folders of a run: repository root, shareable results and figures, the private folder, the notebooks."""

    root: Path
    results_root: Path
    figures_root: Path
    private_root: Path
    notebook_dir: Path | None = None

    @classmethod
    def default(
        cls,
        *,
        results_root: Path | None = None,
        figures_root: Path | None = None,
        private_root: Path | None = None,
        notebook_dir: Path | None = None,
    ) -> OutputLayout:
        """Build the layout of the repository's ``results/``, ``figures/`` and private folder, each replaceable.

        Parameters
        ----------
        results_root, figures_root, private_root, notebook_dir
            Folders to use instead of the repository's defaults.

        Returns
        -------
        OutputLayout
            The layout.
        """
        root = repo_root()
        return cls(
            root=root,
            results_root=Path(results_root or root / "results"),
            figures_root=Path(figures_root or root / "figures"),
            private_root=Path(private_root or default_private_root()),
            notebook_dir=notebook_dir,
        )

    def run_dir(self, cohort: str) -> Path:
        """Return ``results/<cohort>/``: the cohort's outputs, its lock, manifest, index and state files.

        Parameters
        ----------
        cohort
            The cohort's name.

        Returns
        -------
        pathlib.Path
            The folder (not created).
        """
        return self.results_root / cohort

    def fig_dir(self, cohort: str) -> Path:
        """Return ``figures/<cohort>/``.

        Parameters
        ----------
        cohort
            The cohort's name.

        Returns
        -------
        pathlib.Path
            The folder (not created).
        """
        return self.figures_root / cohort


def final_dirs(cohort: str, name: str, results_root: Path, figures_root: Path) -> tuple[Path, Path]:
    """Return the result and figure folders of notebook ``name`` of ``cohort``.

    Parameters
    ----------
    cohort
        The cohort's name.
    name
        The notebook's stem (``01_dst``).
    results_root, figures_root
        The run's ``results/`` and ``figures/`` folders.

    Returns
    -------
    tuple of pathlib.Path
        ``results_root/cohort/name`` and ``figures_root/cohort/name``.
    """
    return results_root / cohort / name, figures_root / cohort / name


def portable(p: Path, root: Path, anchor_dirs: dict[str, Path] | None = None) -> str:
    """Name ``p`` relative to the repository, else as ``$VAR/...`` of an anchor folder, for shareable outputs.

    Parameters
    ----------
    p
        The path.
    root
        The repository root.
    anchor_dirs
        ``{environment variable: folder}`` (see :func:`anchors`).

    Returns
    -------
    str
        The relative or ``$VAR`` form; the absolute path only when ``p`` is under neither.
    """
    p = Path(p).resolve()
    try:
        return p.relative_to(root.resolve()).as_posix()
    except ValueError:
        pass
    for var, base in (anchor_dirs or {}).items():
        if base is not None and p.is_relative_to(Path(base).resolve()):
            rel = p.relative_to(Path(base).resolve()).as_posix()
            return f"${var}" if rel == "." else f"${var}/{rel}"
    return str(p)


def anchors(data_dir: Path | None, results_root: Path, figures_root: Path) -> dict[str, Path]:
    """Name the folders that parameters refer to through environment variables (set in the workers).

    Parameters
    ----------
    data_dir
        The cohort's data folder (``None``: none).
    results_root, figures_root
        The run's ``results/`` and ``figures/`` folders.

    Returns
    -------
    dict of str to pathlib.Path
        ``DREAM_RESULTS_ROOT``, ``DREAM_FIGURES_ROOT`` and (with ``data_dir``) ``DREAM_DATA_DIR``, resolved.
    """
    out = {"DREAM_RESULTS_ROOT": Path(results_root).resolve(), "DREAM_FIGURES_ROOT": Path(figures_root).resolve()}
    if data_dir is not None:
        out["DREAM_DATA_DIR"] = Path(data_dir).resolve()
    return out


def redact(text: Any, root: Path, anchor_dirs: dict[str, Path]) -> Any:
    """Replace the absolute folders of the run in an error message by their portable names.

    Parameters
    ----------
    text
        The message; anything but a string is returned unchanged.
    root
        The repository root (removed with its trailing separator).
    anchor_dirs
        ``{environment variable: folder}``, replaced longest first by ``$VAR``.

    Returns
    -------
    object
        The redacted message, or ``text`` when it is not a string.
    """
    if not isinstance(text, str):
        return text
    for var, base in sorted(anchor_dirs.items(), key=lambda kv: -len(str(kv[1]))):
        text = text.replace(str(base), f"${var}")
    return text.replace(str(root.resolve()) + os.sep, "")
