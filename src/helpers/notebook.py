"""One set-up for every notebook: output folders, plotting style, warnings policy, figure saving and display.

Every analysis notebook starts with::

    nb = notebook_setup("02_cytometry", output_dir=output_dir, figures_dir=figures_dir)
    ...
    nb.save(fig, "umap_metaclusters", section="FlowSOM", caption="UMAP of the leukemic cells by metacluster")
    ...
    nb.write_figure_index()  # figure_index.csv: figure -> notebook section -> caption

so that a reader finds any figure's origin in one hop and every notebook saves figures the same way (PDF + PNG
with reproducible bytes, shown inline when a kernel runs it, closed afterwards).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .paths import output_folders

if TYPE_CHECKING:  # pandas is imported when a table is made, not when a notebook imports this module
    import pandas as pd

__all__ = ["LIBRARY_NOTICES", "Notebook", "notebook_setup"]

# Deprecation and future-change notices of libraries are not results, and which of them appear depends on the
# installed versions and on the order of imports: shown, they would make the compared notebook output depend on the
# machine. Every other warning is shown (once per place) so that a notebook never hides a numeric problem.
LIBRARY_NOTICES: tuple[type[Warning], ...] = (FutureWarning, DeprecationWarning, PendingDeprecationWarning)

_DISPLAY_DEFAULTS: dict[str, Any] = {
    "display.width": 140,
    "display.max_columns": 30,
    "display.max_colwidth": 60,
    "display.precision": 3,
}

FIGURE_INDEX_COLUMNS = ("figure", "files", "notebook", "section", "caption")


@dataclasses.dataclass
class Notebook:
    """What a notebook writes to: its results folder, its figures folder and the index of its figures.

    Attributes
    ----------
    name
        Notebook name (file stem, e.g. ``02_cytometry``), recorded in the figure index.
    out
        Results folder (tables).
    figs
        Figures folder (PDF + PNG).
    figures
        One entry per saved figure: ``figure, files, notebook, section, caption``.
    """

    name: str
    out: Path
    figs: Path
    figures: list[dict[str, str]] = dataclasses.field(default_factory=list)

    def save(self, fig: Any, name: str, *, section: str = "", caption: str = "") -> None:
        """Save ``fig`` as ``<figs>/<name>.pdf`` and ``.png``, show it inline (inside a kernel), close it, index it.

        Parameters
        ----------
        fig
            A matplotlib Figure, or the Axes a one-panel plot function returns.
        name
            File stem of the figure, without folder or suffix.
        section
            The notebook section (markdown heading) that draws it.
        caption
            One sentence saying what the figure shows.

        Notes
        -----
        Returns nothing on purpose: a cell ending with ``nb.save(...)`` shows no file paths (machine paths) in the
        executed notebook; the files are listed in :meth:`figure_index`.

        Raises
        ------
        ValueError
            ``name`` is empty or has a folder in it.
        """
        import matplotlib.pyplot as plt

        from .plotting import figure_of, save_figure

        if not name or Path(name).name != name:
            raise ValueError(f"figure name must be a plain file stem, got {name!r}")
        figure = figure_of(fig)
        paths = save_figure(figure, self.figs / name)
        plt.close(figure)
        self.figures = [e for e in self.figures if e["figure"] != name]  # a re-run cell replaces its entry
        self.figures.append({"figure": name, "files": ";".join(p.name for p in paths), "notebook": self.name,
                             "section": section, "caption": caption})  # fmt: skip

    def figure_index(self) -> pd.DataFrame:
        """Tabulate the figures saved so far, in the order they were made.

        Returns
        -------
        pandas.DataFrame
            Columns ``figure, files, notebook, section, caption``.
        """
        import pandas as pd

        return pd.DataFrame(self.figures, columns=list(FIGURE_INDEX_COLUMNS))

    def write_figure_index(self, filename: str = "figure_index.csv") -> Path:
        """Write :meth:`figure_index` to the results folder (atomically).

        Parameters
        ----------
        filename
            File name inside :attr:`out`.

        Returns
        -------
        pathlib.Path
            The written file.
        """
        from .io import write_table

        return write_table(self.figure_index(), self.out / filename)


def notebook_setup(
    name: str,
    *,
    output_dir: str | Path,
    figures_dir: str | Path,
    display: Mapping[str, Any] | None = None,
    expected_warnings: Iterable[tuple[type[Warning], str]] = (),
) -> Notebook:
    """Prepare a notebook run: create its folders, set the plotting style, the warnings policy and pandas display.

    Parameters
    ----------
    name
        Notebook name (file stem).
    output_dir, figures_dir
        Results and figures folders, relative to the repository root or absolute (the ``parameters`` cell's values).
    display
        pandas display options that differ from the defaults (e.g. ``{"display.precision": 1}``).
    expected_warnings
        ``(category, message regex)`` pairs of warnings this notebook knows to be harmless (e.g. numpy's
        ``"Mean of empty slice"`` on a feature measured in no sample), hidden by message, never by category alone.

    Returns
    -------
    Notebook
        The notebook's folders (created) and an empty figure index.

    Raises
    ------
    ValueError
        An entry of ``expected_warnings`` has an empty message pattern (it would hide a whole category).
    """
    import pandas as pd

    from .plotting import set_style

    out, figs = output_folders(output_dir, figures_dir)
    warnings.resetwarnings()
    warnings.simplefilter("default")
    for category in LIBRARY_NOTICES:
        warnings.simplefilter("ignore", category=category)
    for category, message in expected_warnings:
        if not message:
            raise ValueError(f"expected warning of {category.__name__} needs a message pattern, not the whole category")
        warnings.filterwarnings("ignore", message=message, category=category)
    set_style()
    for key, value in {**_DISPLAY_DEFAULTS, **(display or {})}.items():
        pd.set_option(key, value)
    return Notebook(name=name, out=out, figs=figs)
