"""Where a run writes, and how its folders are named in shareable outputs (never by an absolute path)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from ..paths import repo_root

__all__ = ["OutputLayout", "default_private_root", "portable", "anchors", "redact", "final_dirs"]


def default_private_root() -> Path:
    """``data/private`` of the repository (git-ignored): tracebacks, path caches; under ``$DREAM_OUTPUT_ROOT`` if set.

    Returns
    -------
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
        """The repository's ``results/``, ``figures/`` and private folder, each replaceable.

        Parameters
        ----------
        results_root, figures_root, private_root, notebook_dir
            Folders to use instead of the repository's defaults.

        Returns
        -------
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
        """``results/<cohort>/``: the cohort's outputs, its lock, manifest, index and state files."""
        return self.results_root / cohort

    def fig_dir(self, cohort: str) -> Path:
        """``figures/<cohort>/``."""
        return self.figures_root / cohort


def final_dirs(cohort: str, name: str, results_root: Path, figures_root: Path) -> tuple[Path, Path]:
    """The result and figure folders of notebook ``name`` of ``cohort``."""
    return results_root / cohort / name, figures_root / cohort / name


def portable(p: Path, root: Path, anchor_dirs: dict[str, Path] | None = None) -> str:
    """``p`` relative to the repository, else as ``$VAR/...`` of an anchor folder: never an absolute path."""
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
    """Folders outside the repository that parameters name through environment variables (set in the workers)."""
    out = {"DREAM_RESULTS_ROOT": Path(results_root).resolve(), "DREAM_FIGURES_ROOT": Path(figures_root).resolve()}
    if data_dir is not None:
        out["DREAM_DATA_DIR"] = Path(data_dir).resolve()
    return out


def redact(text: Any, root: Path, anchor_dirs: dict[str, Path]) -> Any:
    """An error message with the absolute folders of the run replaced by their portable names."""
    if not isinstance(text, str):
        return text
    for var, base in sorted(anchor_dirs.items(), key=lambda kv: -len(str(kv[1]))):
        text = text.replace(str(base), f"${var}")
    return text.replace(str(root.resolve()) + os.sep, "")
