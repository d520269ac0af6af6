"""DST figures: plate heatmaps, dose-response curves, waterfalls, ROC curves, group comparisons, synergy landscapes.

Functions that draw one panel take ``ax=None`` (keyword) and return the Axes (``ax.figure`` is what
:func:`helpers.plotting.save_figure` saves); the plate heatmaps draw several panels and return the Figure (into given
``axes=`` / ``fig=``). Labelled axes with units and the colour-blind-safe palettes of :mod:`helpers.plotting`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..plotting import OKABE_ITO, RESPONSE_COLORS, axes_or_new
from .fit import ll4_inhibition
from .response import roc_curve

__all__ = ["plot_plate_grid", "plot_plate_heatmaps", "plot_curves", "plot_waterfall", "plot_roc", "plot_groups", "plot_synergy_landscape"]

ROWS = "ABCDEFGHIJKLMNOP"


def plot_plate_heatmaps(wells: pd.DataFrame, qc: pd.DataFrame, plate_ids: list[str], *,
                        axes: Sequence[plt.Axes] | np.ndarray | None = None) -> plt.Figure:  # fmt: skip
    """Draw the raw luminescence of a few plates as 16 x 24 heatmaps (log scale), titled with Z' and the QC verdict.

    Parameters
    ----------
    wells
        One row per well: ``plate_id``, ``row`` and ``col`` (0-based), ``signal`` (RLU) and ``well_flag`` (``""``
        for a good well; flagged wells are crossed).
    qc
        One row per plate: ``plate_id``, ``sample_id``, ``z_prime`` and ``qc_pass``.
    plate_ids
        The plates to draw, one panel each.
    axes
        One Axes per plate to draw into (default: a new figure, one row).

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the panels.
    """
    n = len(plate_ids)
    if axes is None:
        fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.2), squeeze=False)
    axes = np.asarray(axes, dtype=object).ravel()
    fig = axes[0].figure
    q = qc.set_index("plate_id")
    for ax, pid in zip(axes, plate_ids, strict=True):
        w = wells[wells["plate_id"] == pid]
        grid = np.full((16, 24), np.nan)
        grid[w["row"].to_numpy(), w["col"].to_numpy()] = np.log10(np.clip(w["signal"].to_numpy(), 1, 1e7))
        im = ax.imshow(grid, cmap="cividis", aspect="auto")
        bad = w[w["well_flag"] != ""]
        ax.scatter(bad["col"], bad["row"], marker="x", color="#D55E00", s=18, label="flagged well")
        ax.set_xticks(range(0, 24, 4), [str(c + 1) for c in range(0, 24, 4)])
        ax.set_yticks(range(0, 16, 3), [ROWS[r] for r in range(0, 16, 3)])
        ax.set_xlabel("plate column")
        ax.set_ylabel("plate row")
        verdict = "pass" if q.loc[pid, "qc_pass"] else "FAIL"
        ax.set_title(f"{pid} ({q.loc[pid, 'sample_id']}): Z' {q.loc[pid, 'z_prime']:.2f}, {verdict}")
        fig.colorbar(im, ax=ax, label="log10 luminescence (RLU)")
    return fig


def plot_plate_grid(wells: pd.DataFrame, qc: pd.DataFrame, *, ncols: int = 12,
                    fig: plt.Figure | None = None) -> plt.Figure:  # fmt: skip
    """Draw a heatmap per plate (small multiples): raw signal relative to the plate's DMSO median, failed plates framed.

    One panel per plate, all on one colour scale (signal / median DMSO, 0-1.3), so that edge, row and column effects
    and dispensing failures stand out across the cohort.

    Parameters
    ----------
    wells
        One row per well: ``plate_id``, ``row`` and ``col`` (0-based) and ``signal`` (RLU).
    qc
        One row per plate, in panel order: ``plate_id``, ``neg_median`` (DMSO median, RLU) and ``qc_pass``.
    ncols
        Panels per row.
    fig
        An empty Figure (or SubFigure) to draw the grid in (default: a new one).

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the grid.
    """
    plates = qc["plate_id"].tolist()
    nrows = int(np.ceil(len(plates) / ncols))
    if fig is None:
        fig = plt.figure(figsize=(ncols * 0.9, nrows * 0.75 + 0.6))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    q = qc.set_index("plate_id")
    grids = {}
    for pid, w in wells.groupby("plate_id", sort=False):
        grid = np.full((16, 24), np.nan)
        grid[w["row"].to_numpy(), w["col"].to_numpy()] = w["signal"].to_numpy() / q.loc[pid, "neg_median"]
        grids[pid] = grid
    im = None
    for ax, pid in zip(axes.ravel(), plates + [None] * (axes.size - len(plates)), strict=True):
        ax.set_xticks([])
        ax.set_yticks([])
        if pid is None:
            ax.axis("off")
            continue
        im = ax.imshow(np.clip(grids[pid], 0, 1.3), cmap="cividis", vmin=0, vmax=1.3, aspect="auto")
        ax.set_title(pid[-4:], fontsize=5, pad=1)
        if not q.loc[pid, "qc_pass"]:
            for side in ax.spines.values():
                side.set(color="#D55E00", linewidth=2, visible=True)
    fig.colorbar(im, ax=axes, fraction=0.02, pad=0.01, label="signal / DMSO median")
    fig.supxlabel("plate column (1-24), each panel one plate; failed plates framed", fontsize=7)
    fig.supylabel("plate row (A-P)", fontsize=7)
    return fig


def plot_curves(points: pd.DataFrame, fits: pd.DataFrame, *, drug: str, groups: pd.Series | None = None,
                max_curves: int = 40, ax: plt.Axes | None = None) -> plt.Axes:
    """Plot measured viability and fitted 4PL curves of one drug for several samples, coloured by group.

    Parameters
    ----------
    points
        Measured points: ``sample_id``, ``drug``, ``conc_uM`` (µM) and ``viability_pct`` (% of DMSO).
    fits
        One row per fitted curve: ``sample_id``, ``drug``, ``min_conc_uM``, ``max_conc_uM``, ``top``, ``slope`` and
        ``log10_ic50_uM``.
    drug
        The drug to draw.
    groups
        ``sample_id`` -> group (a key of ``RESPONSE_COLORS``; others are grey); ``None``: one colour, no legend.
    max_curves
        Draw at most this many curves (the first ones of ``fits``).
    ax
        Axes to draw into (default: a new one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    ax = axes_or_new(ax, figsize=(4.5, 3.4))
    f = fits[fits["drug"] == drug].head(max_curves)
    palette = dict(RESPONSE_COLORS)
    for rec in f.itertuples(index=False):
        grp = groups.get(rec.sample_id, "unknown") if groups is not None else "all"
        col = palette.get(grp, "#999999")
        pts = points[(points["sample_id"] == rec.sample_id) & (points["drug"] == drug)]
        ax.scatter(pts["conc_uM"], pts["viability_pct"], s=6, color=col, alpha=0.5)
        x = np.linspace(np.log10(rec.min_conc_uM), np.log10(rec.max_conc_uM), 100)
        ax.plot(10**x, 100 - ll4_inhibition(x, rec.top, rec.slope, rec.log10_ic50_uM), color=col, lw=0.8, alpha=0.8)
    if groups is not None:
        for g, c in palette.items():
            ax.plot([], [], color=c, label=g.replace("_", " "))
        ax.legend(frameon=False, fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel(f"{drug} concentration (µM)")
    ax.set_ylabel("viability (% of DMSO)")
    ax.set_ylim(-10, 130)
    return ax


def plot_waterfall(values: pd.Series, groups: pd.Series, *, ylabel: str, cutoff: float | None = None,
                   ax: plt.Axes | None = None) -> plt.Axes:
    """Plot samples sorted by a sensitivity value, bars coloured by clinical group, with an optional cut-off line.

    Parameters
    ----------
    values
        The value per sample (index: sample); missing values are dropped.
    groups
        Sample -> group (a key of ``RESPONSE_COLORS``; others are grey).
    ylabel
        Label of the value, with its unit.
    cutoff
        Draw a dashed line at this value.
    ax
        Axes to draw into (default: a new one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    v = values.dropna().sort_values(ascending=False)
    ax = axes_or_new(ax, figsize=(6, 3))
    cols = [RESPONSE_COLORS.get(groups.get(i, ""), "#999999") for i in v.index]
    ax.bar(np.arange(len(v)), v.to_numpy(), color=cols, width=0.9)
    if cutoff is not None:
        ax.axhline(cutoff, color="#000000", lw=0.8, ls="--", label=f"cut-off {cutoff:.3g}")
    for g, c in RESPONSE_COLORS.items():
        ax.bar([np.nan], [np.nan], color=c, label=g.replace("_", " "))
    ax.legend(frameon=False, fontsize=7, ncol=2)
    ax.set_xlabel("samples, ranked")
    ax.set_ylabel(ylabel)
    return ax


def plot_roc(curves: dict[str, tuple[np.ndarray, np.ndarray]], aucs: dict[str, dict], *,
             ax: plt.Axes | None = None) -> plt.Axes:
    """Plot ROC curves of several scores for the same label, with AUC and bootstrap interval in the legend.

    Parameters
    ----------
    curves
        ``{name: (score, label)}``: the score per patient and the 0/1 outcome.
    aucs
        ``{name: {"auc", "ci_low", "ci_high"}}`` for the legend.
    ax
        Axes to draw into (default: a new one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    ax = axes_or_new(ax, figsize=(3.6, 3.4))
    for (name, (score, label)), col in zip(curves.items(), OKABE_ITO, strict=False):
        r = roc_curve(score, label)
        a = aucs[name]
        ax.step(r["fpr"], r["tpr"], where="post", color=col,
                label=f"{name}: {a['auc']:.2f} ({a['ci_low']:.2f}-{a['ci_high']:.2f})")
    ax.plot([0, 1], [0, 1], color="#999999", lw=0.6, ls=":")
    ax.set_xlabel("1 - specificity (false positive rate)")
    ax.set_ylabel("sensitivity (true positive rate)")
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    return ax


def plot_groups(df: pd.DataFrame, *, value: str, group: str, order: list[str], ylabel: str,
                ax: plt.Axes | None = None) -> plt.Axes:
    """Draw box plots with jittered points of ``value`` by ``group``.

    Parameters
    ----------
    df
        The table.
    value
        Column to plot (missing values dropped).
    group
        Column of the groups.
    order
        Groups to show, in order.
    ylabel
        Label of the value, with its unit.
    ax
        Axes to draw into (default: a new one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    ax = axes_or_new(ax, figsize=(0.9 * len(order) + 1.2, 3.2))
    data = [df.loc[df[group] == g, value].dropna().to_numpy() for g in order]
    ax.boxplot(data, showfliers=False, widths=0.5)
    rng = np.random.default_rng(0)
    for i, (d, col) in enumerate(zip(data, OKABE_ITO, strict=False)):
        ax.scatter(i + 1 + rng.uniform(-0.15, 0.15, len(d)), d, s=6, color=col, alpha=0.6)
    ax.set_xticks(range(1, len(order) + 1), [f"{g}\n(n={len(d)})" for g, d in zip(order, data, strict=True)])
    ax.set_xlabel(group.replace("_", " "))
    ax.set_ylabel(ylabel)
    return ax


def plot_synergy_landscape(cells: pd.DataFrame, block_id: str, *, score: str = "zip", block: str = "sample_id",
                           conc_row: str = "conc_uM", conc_col: str = "conc2_uM", row_drug: str = "Azacitidine",
                           col_drug: str = "Venetoclax", ax: plt.Axes | None = None) -> plt.Axes:
    """Draw the synergy landscape of one dose matrix: the score per cell as a diverging heatmap (positive = synergy).

    Parameters
    ----------
    cells
        One row per cell of the dose matrices.
    block_id
        The matrix to draw (a value of ``block``).
    score
        Column of the synergy score (% inhibition above the reference model).
    block
        Column identifying a matrix.
    conc_row, conc_col
        Columns of the row and column drugs' concentrations (µM).
    row_drug, col_drug
        Drug names for the axis labels.
    ax
        Axes to draw into (default: a new one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    c = cells[cells[block] == block_id]
    mat = c.pivot(index=conc_row, columns=conc_col, values=score)
    lim = max(10.0, float(np.nanmax(np.abs(mat.to_numpy()))))
    ax = axes_or_new(ax, figsize=(4.2, 3.4))
    im = ax.imshow(mat.to_numpy(), cmap="PuOr_r", vmin=-lim, vmax=lim, origin="lower", aspect="auto")
    ax.set_xticks(range(mat.shape[1]), [f"{v:.2g}" for v in mat.columns], rotation=45)
    ax.set_yticks(range(mat.shape[0]), [f"{v:.2g}" for v in mat.index])
    ax.set_xlabel(f"{col_drug} (µM)")
    ax.set_ylabel(f"{row_drug} (µM)")
    ax.set_title(f"{block_id}: {score.upper()} synergy")
    ax.figure.colorbar(im, ax=ax, label=f"{score.upper()} score (% inhibition)")
    return ax
