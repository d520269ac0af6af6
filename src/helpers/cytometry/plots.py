"""Figures of the cytometry axis: gates on biaxial plots, the gating hierarchy, read-outs by response group, UMAP.

Each function draws one panel: it takes ``ax=None`` (keyword) and returns the Axes (scanpy's pattern).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Polygon, Rectangle

from ..plotting import OKABE_ITO, RESPONSE_COLORS, axes_or_new, compact_ticks
from .gating import GatingOutcome, Strategy, is_linear_dimension

__all__ = ["axis_label", "plot_gate", "plot_hierarchy", "plot_by_group", "plot_embedding"]


def axis_label(dim: str, cofactor: float = 150) -> str:
    """Write a channel's axis label with its scale and unit.

    Parameters
    ----------
    dim
        Channel or marker name.
    cofactor
        Arcsinh cofactor of the fluorescence scale.

    Returns
    -------
    str
        ``"<dim> (a.u., linear)"`` for scatter channels, ``"Time (s)"``, or ``"<dim> (arcsinh(x/<cofactor>))"``.
    """
    if is_linear_dimension(dim):
        return f"{dim} (a.u., linear)" if not dim.upper().startswith("TIME") else "Time (s)"
    return f"{dim} (arcsinh(x/{cofactor:g}))"


def plot_gate(outcome: GatingOutcome, scaled: dict[str, np.ndarray], strategy: Strategy, gate_id: str, *,
              max_points: int = 20000,
              ax: plt.Axes | None = None) -> plt.Axes:  # fmt: skip
    """Draw the parent's events of ``gate_id`` as a density scatter with the gate outline and its % of parent.

    Boolean gates are not drawn (they have no geometry); one-dimensional rectangles are drawn against SSC-A.

    Parameters
    ----------
    outcome
        The gating result of one file (event membership per gate).
    scaled
        ``{channel: values}`` of the events on the gating scales.
    strategy
        The gating strategy holding ``gate_id``.
    gate_id
        The gate to draw.
    max_points
        Events drawn at most (a fixed stride, so the figure is deterministic).
    ax
        Axes to draw into (default: a new 3 x 3 inch one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel (empty when the y channel is not in ``scaled``).
    """
    ax = axes_or_new(ax, figsize=(3.0, 3.0))
    g = strategy.gate(gate_id)
    parent = np.ones(outcome.n_events, bool) if g.parent is None else outcome.membership[g.parent]
    dims = list(g.dims)
    if len(dims) == 1:
        dims = [dims[0], "SSC-A"]
    x, y = scaled[dims[0]][parent], scaled[dims[1]][parent] if dims[1] in scaled else None
    if y is None:
        return ax
    if x.size > max_points:  # a fixed stride keeps the plot deterministic
        step = int(np.ceil(x.size / max_points))
        x, y = x[::step], y[::step]
    inside = outcome.membership[gate_id][parent]
    inside = inside[:: int(np.ceil(inside.size / max_points))] if inside.size > max_points else inside
    ax.scatter(x[~inside], y[~inside], s=2, c="#999999", alpha=0.5, linewidths=0, rasterized=True)
    ax.scatter(x[inside], y[inside], s=2, c=OKABE_ITO[4], alpha=0.7, linewidths=0, rasterized=True)
    if g.kind == "polygon":
        ax.add_patch(Polygon(g.vertices, closed=True, fill=False, ec=OKABE_ITO[5], lw=1.2))
    elif g.kind == "rect":
        lims = []
        for d in dims:
            if d in g.dims:
                lo, hi = g.ranges[g.dims.index(d)]
            else:
                lo, hi = None, None
            v = scaled[d][parent]
            lo = np.nanmin(v) if lo is None else lo
            hi = np.nanmax(v) if hi is None else hi
            lims.append((lo, hi))
        (x0, x1), (y0, y1) = lims
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec=OKABE_ITO[5], lw=1.2))
    pct = 100 * outcome.membership[gate_id].sum() / max(parent.sum(), 1)
    ax.set_title(f"{gate_id} ({pct:.1f} % of {g.parent or 'all'})", fontsize=8)
    compact_ticks(ax)  # raw scatter scales run to 262,144: full tick labels overlap
    ax.set_xlabel(axis_label(dims[0], strategy.cofactor))
    ax.set_ylabel(axis_label(dims[1], strategy.cofactor))
    return ax


def plot_hierarchy(strategy: Strategy, counts: dict[str, int] | None = None, *, ax: plt.Axes | None = None) -> plt.Axes:
    """Draw the gating tree as an indented diagram (with event counts when given).

    Parameters
    ----------
    strategy
        The gating strategy.
    counts
        Events per gate, shown as ``n=`` (events).
    ax
        Axes to draw into (default: a new one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    depth = {g.id: len(strategy.path(g.id)) - 1 for g in strategy.gates}
    order: list[str] = []

    def visit(parent: str | None) -> None:
        for g in strategy.gates:
            if g.parent == parent:
                order.append(g.id)
                visit(g.id)

    visit(None)
    ax = axes_or_new(ax, figsize=(4.5, 0.28 * len(order) + 0.6))
    for i, gid in enumerate(order):
        g = strategy.gate(gid)
        desc = ", ".join(g.dims) if g.dims else f"{g.op.upper()} {', '.join(g.of)}"
        label = f"{gid}  [{desc}]" + (f"  n={counts[gid]}" if counts and gid in counts else "")
        ax.text(0.04 * depth[gid], -i, label, fontsize=7, va="center", family="monospace")
        if g.parent is not None:
            j = order.index(g.parent)
            xp = 0.04 * depth[g.parent] + 0.01
            ax.plot([xp, xp, 0.04 * depth[gid] - 0.005], [-j - 0.3, -i, -i], color="#999999", lw=0.6)
    ax.set_xlim(-0.02, 1)
    ax.set_ylim(-len(order), 1)
    ax.axis("off")
    ax.set_title(f"Gating hierarchy: {strategy.name}", fontsize=9)
    return ax


def plot_by_group(df: pd.DataFrame, columns: list[str], group: str, *, ylabel: str, labels: list[str] | None = None,
                  xlabel: str = "", seed: int = 0, ax: plt.Axes | None = None) -> plt.Axes:  # fmt: skip
    """Draw box plots with jittered points of several read-outs, side by side per group (e.g. response).

    Parameters
    ----------
    df
        One row per sample.
    columns
        Read-out columns, one box group each.
    group
        Column of the groups (response groups in ``RESPONSE_COLORS`` order and colours, else sorted).
    ylabel
        Label of the read-outs, with their unit.
    labels
        Tick labels of ``columns`` (default: the column names).
    xlabel
        Label of the x axis.
    seed
        Seed of the jitter.
    ax
        Axes to draw into (default: a new one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    groups = [g for g in RESPONSE_COLORS if g in set(df[group])] or sorted(df[group].dropna().unique())
    ax = axes_or_new(ax, figsize=(1.3 * len(columns) + 1.5, 3))
    rng = np.random.default_rng(seed)
    width = 0.8 / len(groups)
    for j, g in enumerate(groups):
        color = RESPONSE_COLORS.get(g, OKABE_ITO[j % len(OKABE_ITO)])
        data = [df.loc[df[group] == g, c].dropna().to_numpy() for c in columns]
        pos = np.arange(len(columns)) + (j - (len(groups) - 1) / 2) * width
        ax.boxplot(data, positions=pos, widths=width * 0.9, showfliers=False, patch_artist=True,
                   boxprops={"facecolor": "none", "edgecolor": color}, medianprops={"color": color},
                   whiskerprops={"color": color}, capprops={"color": color})  # fmt: skip
        for p, d in zip(pos, data, strict=True):
            ax.scatter(p + rng.uniform(-width / 4, width / 4, d.size), d, s=6, color=color, alpha=0.7, linewidths=0)
        ax.scatter([], [], color=color, label=f"{g.replace('_', ' ')} (n={int((df[group] == g).sum())})")
    ax.set_xticks(np.arange(len(columns)), labels or columns, rotation=20, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    ax.legend(frameon=False, fontsize=7)
    return ax


def plot_embedding(emb: np.ndarray, labels: np.ndarray, *, title: str = "", ax: plt.Axes | None = None) -> plt.Axes:
    """Plot a 2-D embedding coloured by (meta)cluster, with the colour-blind-safe palette.

    Parameters
    ----------
    emb
        Coordinates, shape (events, 2).
    labels
        Integer (meta)cluster per event.
    title
        Panel title.
    ax
        Axes to draw into (default: a new one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    ax = axes_or_new(ax, figsize=(4, 3.6))
    for k in np.unique(labels):
        m = labels == k
        ax.scatter(emb[m, 0], emb[m, 1], s=1.5, color=OKABE_ITO[int(k) % len(OKABE_ITO)], linewidths=0,
                   label=str(k), rasterized=True)  # fmt: skip
    ax.set_xlabel("UMAP 1 (a.u.)")
    ax.set_ylabel("UMAP 2 (a.u.)")
    ax.set_title(title, fontsize=9)
    ax.legend(title="metacluster", markerscale=5, frameon=False, fontsize=6, loc="center left", bbox_to_anchor=(1, 0.5))
    return ax
