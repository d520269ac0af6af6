"""Publication figure conventions: colour-blind-safe palettes and saving as vector PDF plus PNG.

A figure saved with :func:`save_figure` inside a Jupyter kernel is also shown in the notebook (as a PNG display),
so that the executed ``.ipynb``/HTML record and an interactive JupyterLab session carry every figure the notebook
writes, whatever the matplotlib backend; in a plain Python process (scripts, ``python -m``) nothing is displayed.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import matplotlib.pyplot as plt

from .io import atomic_path

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.legend import Legend
    from matplotlib.text import Text

__all__ = [
    "OKABE_ITO",
    "RESPONSE_COLORS",
    "ARM_COLORS",
    "TIMEPOINT_COLORS",
    "save_figure",
    "set_style",
    "show_figure",
    "in_notebook",
    "label_points",
    "legend_from_colors",
    "readable_term",
    "compact_ticks",
    "micro",
    "axes_or_new",
    "figure_of",
    "readable_names",
    "MULTI_PANEL",
]

# Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]
RESPONSE_COLORS = {"responder": "#0072B2", "primary_resistant": "#D55E00", "relapse": "#CC79A7"}
ARM_COLORS = {"vehicle": "#999999", "aza_ven": "#D55E00"}
TIMEPOINT_COLORS = {"diagnosis": "#0072B2", "remission": "#009E73", "relapse": "#D55E00"}
# Iterations of adjustText in label_points: enough for the few dozen labels of a volcano plot (it stops earlier once no
# label overlaps), a count rather than its default 1 s of wall time so that figures do not depend on machine speed.
ADJUST_TEXT_ITERATIONS = 500


def set_style() -> None:
    """Matplotlib defaults for print: embedded TrueType fonts, readable sizes, no top/right spines."""
    plt.rcParams.update(
        {
            "pdf.fonttype": 42,
            "ps.fonttype": 42,
            "svg.hashsalt": "dream",
            "font.size": 9,
            "axes.titlesize": 10,
            "axes.labelsize": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "figure.dpi": 100,
            "savefig.dpi": 300,
            "savefig.bbox": "tight",
            "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
        }
    )


def in_notebook() -> bool:
    """Tell whether the code runs inside a Jupyter kernel (JupyterLab, papermill, nbval).

    Returns
    -------
    bool
        True in a kernel; False in a plain Python process or an IPython shell.
    """
    # Only look when IPython is already loaded: a script never pays for importing it.
    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def show_figure(fig: plt.Figure, *, dpi: int = 100, close: bool = True) -> bool:
    """Show ``fig`` in the running notebook as a PNG display; do nothing outside a Jupyter kernel.

    The PNG is rendered here rather than left to the backend: notebooks run headless under ``MPLBACKEND=Agg``
    (papermill), where matplotlib shows nothing, and the inline backend would show the figure a second time at the
    end of the cell unless it is closed, so by default the figure is closed (its object stays usable).

    Parameters
    ----------
    fig
        The figure to show.
    dpi
        Resolution of the displayed PNG (the saved PNG keeps ``savefig.dpi``).
    close
        Close the figure in pyplot after showing it.

    Returns
    -------
    bool
        Whether the figure was displayed.
    """
    if not in_notebook():
        return False
    from IPython.display import Image, display

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    display(Image(data=buf.getvalue(), format="png"))
    if close:
        plt.close(fig)
    return True


def figure_of(fig_or_ax: plt.Figure | plt.Axes) -> plt.Figure:
    """Return the Figure of an Axes (what single-panel plot functions return), or the Figure itself.

    Parameters
    ----------
    fig_or_ax
        A Figure or an Axes.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    from matplotlib.axes import Axes

    return fig_or_ax.figure if isinstance(fig_or_ax, Axes) else fig_or_ax


def axes_or_new(ax: plt.Axes | None, *, figsize: tuple[float, float]) -> plt.Axes:
    """Return ``ax`` when given, else the Axes of a new Figure of ``figsize``: scanpy's ``ax=None`` pattern.

    Parameters
    ----------
    ax
        The Axes to draw into, or ``None``.
    figsize
        Width and height of a new figure, in inches.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax`` or the new Axes.
    """
    if ax is not None:
        return ax
    return plt.subplots(figsize=figsize)[1]


def save_figure(
    fig: plt.Figure, path_stem: str | Path, *, formats: tuple[str, ...] = ("pdf", "png"), show: bool | None = None
) -> list[Path]:
    """Save ``fig`` as ``<path_stem>.pdf`` and ``.png`` atomically, with fixed metadata so bytes are reproducible.

    Parameters
    ----------
    fig
        The figure (an Axes stands for its figure).
    path_stem
        Target path without suffix.
    formats
        File formats to write.
    show
        Also show the figure in the notebook (:func:`show_figure`, which closes it). ``None`` (default) shows it when
        running inside a Jupyter kernel; outside one nothing is displayed and the figure stays open.

    Returns
    -------
    list of pathlib.Path
        The written paths, one per format.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(2, 2))
    >>> _ = ax.plot([0.01, 0.1, 1], [95, 60, 10])
    >>> _ = ax.set(xscale="log", xlabel=micro("Venetoclax (uM)"), ylabel="Viability (%)")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     [p.name for p in save_figure(fig, Path(tmp) / "ven_curve", show=False)]
    ['ven_curve.pdf', 'ven_curve.png']
    >>> plt.close(fig)
    """
    fig = figure_of(fig)
    stem = Path(path_stem)
    out = []
    for fmt in formats:
        target = stem.with_suffix(f".{fmt}")
        meta = {"CreationDate": None} if fmt == "pdf" else {}
        if fmt == "png":
            meta = {"Software": None}
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=fmt, metadata=meta)
        out.append(target)
    if show is None or show:
        show_figure(fig)
    return out


def micro(text: str) -> str:
    """Write micro units with the micro sign: ``uM`` -> ``µM``, ``uL`` -> ``µL``, ``um`` -> ``µm``, ``ug`` -> ``µg``.

    Parameters
    ----------
    text
        A label; only a ``u`` standing alone before M, L, l, m, g or s is replaced.

    Returns
    -------
    str
        The label with ``µ``.

    Examples
    --------
    >>> micro("Venetoclax (uM)")
    'Venetoclax (µM)'
    >>> micro("ugly units")
    'ugly units'
    """
    return re.sub(r"(?<![A-Za-z])u(M|L|l|m|g|s)(?![A-Za-z])", r"µ\1", text)


def label_points(
    ax: plt.Axes,
    x: Sequence[float],
    y: Sequence[float],
    labels: Sequence[str],
    *,
    fontsize: float = 6,
    arrows: bool = True,
) -> list[Text]:
    """Label points without overlapping labels (adjustText moves them apart, with a thin line to each point).

    Parameters
    ----------
    ax
        Axes holding the points.
    x, y, labels
        Point coordinates (data units) and their labels.
    fontsize
        Label size in points.
    arrows
        Draw a line from each moved label to its point.

    Returns
    -------
    list of matplotlib.text.Text
        The text artists.
    """
    from adjustText import adjust_text

    texts = [ax.text(xi, yi, str(lab), fontsize=fontsize) for xi, yi, lab in zip(x, y, labels, strict=True)]
    if texts:
        kw = {"arrowprops": {"arrowstyle": "-", "color": "#555555", "lw": 0.4}} if arrows else {}
        # an iteration count, not adjustText's default 1 s of wall time (see ADJUST_TEXT_ITERATIONS)
        adjust_text(texts, ax=ax, iter_lim=ADJUST_TEXT_ITERATIONS, **kw)
    return texts


def legend_from_colors(ax: plt.Axes, colors: Mapping[str, str], *, title: str | None = None, **kwargs: Any
                       ) -> Legend:  # fmt: skip
    """Draw a legend of ``{label: colour}`` lines, for plots coloured by a group the artists are not labelled with.

    Parameters
    ----------
    ax
        The Axes.
    colors
        Label -> colour, in legend order.
    title
        Legend title.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.legend` (default ``frameon=False``, ``fontsize=7``).

    Returns
    -------
    matplotlib.legend.Legend
        The legend.
    """
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, lw=1.5, label=lab) for lab, c in colors.items()]
    kwargs.setdefault("frameon", False)
    kwargs.setdefault("fontsize", 7)
    return ax.legend(handles=handles, title=title, **kwargs)


def compact_ticks(ax: plt.Axes, *, axis: str = "both", nbins: int = 4) -> plt.Axes:
    """Set at most ``nbins`` ticks, thousands written ``100k``: no overlapping labels on raw cytometer scales.

    Raw scales run to 262,144; values below 1,000 (transformed scales such as logicle in 0-1) keep their plain labels.

    Parameters
    ----------
    ax
        The Axes.
    axis
        ``"x"``, ``"y"`` or ``"both"``.
    nbins
        Most ticks per axis.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    def fmt(v: float, _pos: int | None) -> str:
        if abs(v) >= 1e6:
            return f"{v / 1e6:g}M"
        return f"{v / 1e3:g}k" if abs(v) >= 1e3 else f"{v:g}"

    axes = [ax.xaxis, ax.yaxis] if axis == "both" else [ax.xaxis if axis == "x" else ax.yaxis]
    for a in axes:
        a.set_major_locator(MaxNLocator(nbins=nbins))
        a.set_major_formatter(FuncFormatter(fmt))
    return ax


_TERM = re.compile(r"^(?:C\()?(?P<name>[A-Za-z0-9_.]+)\)?(?:\[(?:T\.)?(?P<level>[^\]]+)\])?\s*(?:\((?P<scale>[^)]*)\))?$")


def readable_term(term: str, names: Mapping[str, str] | None = None) -> str:
    """Write a model term as a reader's label, with the readable name from a data dictionary.

    ``eln2024[intermediate] (intermediate vs favorable)`` -> ``ELN 2024 risk: intermediate vs favorable``;
    ``ven_auc (per SD)`` -> ``venetoclax AUC (per SD)``; ``C(x)[T.b]`` (patsy) -> ``<x's name>: b``. Terms not in
    ``names`` keep their own name with underscores as spaces.

    Parameters
    ----------
    term
        The model's term name, optionally followed by its scale in parentheses.
    names
        ``{column: readable name}``, e.g. from a feature dictionary's ``feature`` and ``label`` columns.

    Returns
    -------
    str
        The label.

    Examples
    --------
    >>> readable_term("eln2024[intermediate] (intermediate vs favorable)", readable_names(["eln2024"]))
    'ELN 2024 risk: intermediate vs favorable'
    >>> readable_term("ven_auc (per SD)", {"ven_auc": "venetoclax AUC"})
    'venetoclax AUC (per SD)'
    >>> readable_term("C(arm)[T.aza_ven]")
    'arm: aza_ven'
    """
    m = _TERM.match(term.strip())
    if not m:
        return term
    name = (names or {}).get(m["name"]) or m["name"].replace("_", " ")
    level, scale = m["level"], m["scale"]
    if level is not None:
        return f"{name}: {scale if scale and scale.startswith(level) else level}"
    return f"{name} ({scale})" if scale else name


# Functions that draw several panels: they return the Figure and draw into given ``axes=`` (or ``fig=``) instead of
# taking ``ax=`` (tests/unit/test_conventions.py checks every other public plot function for ``ax``).
MULTI_PANEL = (
    "helpers.cohort_summary.plot_cohort_overview",
    "helpers.dst.plots.plot_plate_heatmaps",
    "helpers.dst.plots.plot_plate_grid",
    "helpers.barcodes.plots.plot_resistance_calls",
    "helpers.cytometry.figures.plot_example_gates",
    "helpers.scrna.plots.plot_qc",
    "helpers.scrna.plots.plot_umaps",
    "helpers.scrna.plots.plot_paired_change",
    "helpers.integration.figures.paired_plot",
)

# Words of the compendium's column names as a reader writes them (drugs, assays, genes, units).
_WORDS = {
    "ven": "venetoclax", "aza": "azacitidine", "azaven": "AZA+VEN", "auc": "AUC", "ic50": "IC50", "dss": "DSS",
    "sdss": "sDSS", "zdss": "zDSS", "zip": "ZIP", "bliss": "Bliss", "hsa": "HSA", "loewe": "Loewe", "lsc": "LSC",
    "lsc17": "LSC17", "bcl2": "BCL2", "mcl1": "MCL1", "mrd": "MRD", "mfi": "MFI", "bm": "bone-marrow",
    "eln2024": "ELN 2024 risk", "eln2017": "ELN 2017 risk", "frac": "fraction", "spec": "specific",
    "prolif": "proliferation", "scenith": "SCENITH", "scrna": "scRNA", "dst": "DST", "pdx": "PDX", "qc": "QC",
    "dx": "diagnosis", "flt3": "FLT3", "itd": "ITD", "ki67": "Ki-67", "hla": "HLA", "dr": "DR", "nk": "NK",
    "oxphos": "OXPHOS", "cpm": "CPM", "log10": "log10", "log2": "log2", "n": "n", "um": "µM",
    "linclass7": "LinClass-7", "lspc": "LSPC", "gmp": "GMP", "cdc": "cDC", "mac": "MAC",
}  # fmt: skip
_UNIT_TOKENS = {"pct": "%", "um": "µM"}
_DRUG_TOKENS = {"ven", "aza", "azaven"}


def _name_from_column(column: str) -> str:
    tokens = [t for t in str(column).split("_") if t]
    unit = _UNIT_TOKENS.get(tokens[-1]) if len(tokens) > 1 else None
    if unit:
        tokens = tokens[:-1]
    if tokens and tokens[0] == "pct" and len(tokens) > 1:  # pct_cd34 -> CD34 (%)
        tokens, unit = tokens[1:], "%"
    if tokens and tokens[0] == "frac" and len(tokens) > 1:  # frac_lspc_cycle -> LSPC cycle fraction
        tokens = [*tokens[1:], "frac"]
    words = []
    for t in tokens:
        low = t.lower()
        if low in _WORDS:
            words.append(_WORDS[low])
        elif re.fullmatch(r"(?:dss|zdss|sdss)\d", low):
            words.append(_WORDS[low[:-1]] + low[-1])
        elif re.fullmatch(r"[a-z]+\d+[a-z]?", low) and len(low) <= 6:  # gene and marker symbols: npm1, cd34, tp53
            words.append(low.upper())
        else:
            words.append(t)
    if len(tokens) > 1 and tokens[-1].lower() in _DRUG_TOKENS and tokens[0].lower() not in _DRUG_TOKENS:
        words = [" ".join(words[:-1]) + ",", words[-1]]  # spec_apoptosis_ven -> specific apoptosis, venetoclax
    name = " ".join(words)
    return f"{name} ({unit})" if unit else name


def readable_names(dictionary: pd.DataFrame | Iterable[str], *, max_length: int = 36) -> dict[str, str]:
    """Map columns to readable names from a data dictionary (``name`` and ``label`` or ``definition`` columns).

    The name is the dictionary's ``label`` when it has one; else its definition when that is short (the part before
    any parenthesis, colon or semicolon, at most ``max_length`` characters: ``Age at diagnosis``); else the column
    name written out (``ven_auc`` -> ``venetoclax AUC``, ``eln2024`` -> ``ELN 2024 risk``, ``pct_cd34`` ->
    ``CD34 (%)``). Use it with :func:`readable_term` for model terms and figure labels.

    Parameters
    ----------
    dictionary
        A table with a ``name`` column (a feature dictionary, ``features_dictionary.csv``), or a list of column names.
    max_length
        Longest definition used as a name.

    Returns
    -------
    dict of str to str
        ``{column: readable name}``, one per dictionary row.

    Examples
    --------
    >>> readable_names(["ven_auc", "pct_cd34", "eln2024"])
    {'ven_auc': 'venetoclax AUC', 'pct_cd34': 'CD34 (%)', 'eln2024': 'ELN 2024 risk'}
    """
    import pandas as pd

    if not isinstance(dictionary, pd.DataFrame):
        dictionary = pd.DataFrame({"name": list(dictionary)})
    out = {}
    for _, r in dictionary.drop_duplicates("name").iterrows():
        label = r.get("label")
        if isinstance(label, str) and label.strip():
            out[r["name"]] = label.strip()
            continue
        head = _definition_head(r.get("definition"))
        short = 0 < len(head) <= max_length and not re.search(r"[=/_]", head)
        out[r["name"]] = head if short else _name_from_column(r["name"])
    return out


def _definition_head(definition: object) -> str:
    """Cut a definition to its naming part: before a colon or semicolon, or a parenthesis that ends the phrase.

    ``Venetoclax DSS2 (Yadav 2014); higher = ...`` gives ``Venetoclax DSS2``; '' when a parenthesis sits
    mid-sentence (``DSS2 as (x - m)/...``) or ``definition`` is not a string.
    """
    if not isinstance(definition, str):
        return ""
    m = re.search(r"\s\(|[:;]", definition)
    if m is None:
        return definition.strip()
    if m.group().strip() == "(":
        close = definition.find(")", m.end())
        rest = definition[close + 1:].lstrip() if close >= 0 else "x"
        if rest and rest[0] not in ";,.:":
            return ""
    return definition[: m.start()].strip()
