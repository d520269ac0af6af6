"""Figures of the barcoding axis (matplotlib; colour-blind-safe palettes of :mod:`helpers.plotting`).

Each function draws one panel: it takes ``ax=None`` (keyword) and returns the Axes (scanpy's pattern).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..plotting import ARM_COLORS, OKABE_ITO, axes_or_new, legend_from_colors

if TYPE_CHECKING:
    from .resistance import ResistanceResult

__all__ = ["plot_read_fates", "plot_rarefaction", "plot_clone_bars", "plot_resistance", "plot_pvalue_qq", "plot_volcano",
           "plot_ma", "plot_resistance_calls", "plot_clone_shares"]

_FATE_COLORS = {"matched": "#009E73", "rejected_low_quality": "#E69F00", "rejected_no_pattern": "#999999",
                "rejected_n_in_barcode": "#CC79A7", "rejected_too_short": "#56B4E9",
                "rejected_barcode_length": "#0072B2"}  # fmt: skip


def plot_read_fates(qc: pd.DataFrame, *, label: str = "library_id", ax: plt.Axes | None = None) -> plt.Axes:
    """Draw stacked bars of the share of reads matched or rejected (by reason) per library.

    Parameters
    ----------
    qc
        One row per library: ``reads`` and read counts ``matched`` and ``rejected_<reason>`` (those present).
    label
        Column naming each bar (shown up to 60 libraries).
    ax
        Axes to draw into (default: a new one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    cols = [c for c in _FATE_COLORS if c in qc]
    frac = qc[cols].div(qc["reads"], axis=0) * 100
    ax = axes_or_new(ax, figsize=(max(4, 0.12 * len(qc) + 2), 3))
    bottom = np.zeros(len(qc))
    for c in cols:
        ax.bar(np.arange(len(qc)), frac[c], bottom=bottom, color=_FATE_COLORS[c], width=0.9,
               label=c.replace("rejected_", "rejected: ").replace("_", " "))  # fmt: skip
        bottom += frac[c].to_numpy()
    ax.set_xlabel(f"library ({len(qc)})")
    ax.set_ylabel("reads (%)")
    if label in qc and len(qc) <= 60:  # each bar named while the names stay legible
        ax.set_xticks(np.arange(len(qc)), qc[label].astype(str), rotation=90, fontsize=5)
    else:
        ax.set_xticks([])
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7, frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left")
    ax.set_title("Fate of reads per library")
    return ax


def plot_rarefaction(curves: dict[str, tuple[np.ndarray, np.ndarray]], *, colors: dict[str, str] | None = None,
                     ax: plt.Axes | None = None) -> plt.Axes:
    """Draw rarefaction curves: expected distinct barcodes against subsampled reads, one line per sample.

    Parameters
    ----------
    curves
        ``{sample: (reads subsampled, distinct barcodes expected)}``.
    colors
        Colour per sample (default: the Okabe-Ito cycle); colours of ``ARM_COLORS`` get an arm legend.
    ax
        Axes to draw into (default: a new one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    ax = axes_or_new(ax, figsize=(4.2, 3))
    for k, (name, (x, y)) in enumerate(curves.items()):
        ax.plot(x, y, lw=1, color=(colors or {}).get(name, OKABE_ITO[k % len(OKABE_ITO)]), alpha=0.8)
    ax.set_xlabel("reads subsampled")
    ax.set_ylabel("distinct barcodes expected")
    ax.set_title("Saturation (rarefaction)")
    arms = {arm: c for arm, c in ARM_COLORS.items() if c in set((colors or {}).values())}
    if arms:  # lines coloured by treatment arm: say which colour is which
        legend_from_colors(ax, {arm.replace("_", "+") if arm == "aza_ven" else arm: c for arm, c in arms.items()},
                           title="arm")
    return ax


def plot_clone_bars(freq: pd.DataFrame, resistant: set[str], *, arms: dict[str, str], top: int = 25,
                    title: str = "", ax: plt.Axes | None = None) -> plt.Axes:  # fmt: skip
    """Stack clone frequencies per mouse before and after treatment; called resistant clones in vermillion shades.

    Parameters
    ----------
    freq
        Frequencies (fractions), barcode x (mouse_id, timepoint) (see :func:`helpers.barcodes.frequency_table`).
    resistant
        Barcodes called resistant.
    arms
        ``{mouse_id: arm}``; columns are ordered by arm and tick labels coloured by it.
    top
        Clones drawn (largest maximum frequency first); the rest is one light bar.
    title
        Panel title (default: says how many clones).
    ax
        Axes to draw into (default: a new one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    cols = sorted(freq.columns, key=lambda c: (arms.get(c[0], ""), c[0], c[1] != "pre_treatment"))
    top_bc = list(freq.max(axis=1).sort_values(ascending=False).index[:top])
    ax = axes_or_new(ax, figsize=(0.5 * len(cols) + 2.5, 3.4))
    bottom = np.zeros(len(cols))
    grey = ["#BBBBBB", "#DDDDDD"]
    res_cols = ["#D55E00", "#E69F00", "#CC79A7"]
    for k, bc in enumerate(top_bc):
        v = freq.loc[bc, cols].to_numpy() * 100
        color = res_cols[k % 3] if bc in resistant else grey[k % 2]
        ax.bar(np.arange(len(cols)), v, bottom=bottom, color=color, width=0.8, edgecolor="white", linewidth=0.3)
        bottom += v
    ax.bar(np.arange(len(cols)), 100 - bottom, bottom=bottom, color="#F4F4F4", width=0.8)
    ax.set_xticks(np.arange(len(cols)))
    ax.set_xticklabels([f"{c[0].split('-')[-1]} {'pre' if c[1] == 'pre_treatment' else 'post'}" for c in cols],
                       rotation=90, fontsize=7)  # fmt: skip
    for t, c in zip(ax.get_xticklabels(), cols, strict=True):
        t.set_color(ARM_COLORS.get(arms.get(c[0], ""), "black"))
    ax.set_ylabel("clone frequency (%)")
    ax.set_xlabel("mouse and time (grey labels: vehicle; vermillion: AZA/VEN)")
    ax.set_ylim(0, 100)
    ax.set_title(title or f"Top {top} clones; coloured: called resistant")
    return ax


def plot_resistance(barcodes: pd.DataFrame, *, truth: set[str] | None = None, ax: plt.Axes | None = None) -> plt.Axes:
    """Plot the per-barcode statistic against -log10 p; called barcodes filled, planted ones (if given) circled.

    Parameters
    ----------
    barcodes
        One row per barcode: ``barcode``, ``statistic``, ``p_value`` and ``resistant`` (bool).
    truth
        Planted resistant barcodes (simulated data), circled.
    ax
        Axes to draw into (default: a new one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    ax = axes_or_new(ax, figsize=(4.2, 3.2))
    y = -np.log10(barcodes["p_value"].to_numpy())
    x = barcodes["statistic"].to_numpy()
    called = barcodes["resistant"].to_numpy()
    ax.scatter(x[~called], y[~called], s=8, color="#999999", label="not called", lw=0)
    ax.scatter(x[called], y[called], s=14, color="#D55E00", label="called resistant", lw=0)
    if truth is not None:
        t = barcodes["barcode"].isin(truth).to_numpy()
        ax.scatter(x[t], y[t], s=40, facecolors="none", edgecolors="#0072B2", lw=0.8, label="planted resistant")
    ax.set_xlabel("statistic S (treated consensus z - vehicle z)")
    ax.set_ylabel("-log10 p (stratified resampling)")
    ax.legend(fontsize=7, frameon=False)
    ax.set_title("Heritable resistance per barcode")
    return ax


def plot_pvalue_qq(pvalues: dict[str, np.ndarray], *, ax: plt.Axes | None = None) -> plt.Axes:
    """Draw a QQ plot of p-values against the uniform distribution (calibrated under the null: on the diagonal).

    Parameters
    ----------
    pvalues
        ``{test name: p-values}``, one series of points each.
    ax
        Axes to draw into (default: a new one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    ax = axes_or_new(ax, figsize=(3.6, 3.2))
    top = 0
    for k, (name, p) in enumerate(pvalues.items()):
        p = np.sort(np.asarray(p, dtype=float))
        e = (np.arange(1, p.size + 1) - 0.5) / p.size
        ax.plot(-np.log10(e), -np.log10(p), ".", ms=3, color=OKABE_ITO[(k * 4 + 5) % 8], label=name)
        top = max(top, -np.log10(e).max(), -np.log10(p).max())
    ax.plot([0, top], [0, top], color="black", lw=0.8, ls="--")
    ax.set_xlabel("expected -log10 p (uniform)")
    ax.set_ylabel("observed -log10 p")
    ax.legend(fontsize=7, frameon=False)
    ax.set_title("No resistant clone planted")
    return ax


def _calls(table: pd.DataFrame, called: Iterable[str] | None) -> np.ndarray:
    if called is None:
        return np.zeros(len(table), dtype=bool)
    return table["barcode"].isin(set(called)).to_numpy()


def plot_volcano(table: pd.DataFrame, *, called: Iterable[str] | None = None, ax: plt.Axes | None = None,
                 title: str = "") -> plt.Axes:  # fmt: skip
    """Draw a volcano plot of a differential-abundance table: log2 fold change against -log10 p.

    Parameters
    ----------
    table
        One row per barcode: ``barcode``, ``log_fc`` (log2, treated / control) and ``p_value``.
    called
        Barcodes called resistant, in vermillion.
    ax
        Axes to draw into (default: a new one).
    title
        Panel title.

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    ax = axes_or_new(ax, figsize=(4.2, 3.2))
    c = _calls(table, called)
    x, y = table["log_fc"].to_numpy(), -np.log10(table["p_value"].to_numpy())
    ax.scatter(x[~c], y[~c], s=7, color="#999999", lw=0, label="not called")
    ax.scatter(x[c], y[c], s=14, color="#D55E00", lw=0, label="called resistant")
    ax.axvline(0, color="black", lw=0.5)
    ax.set_xlabel("log2 fold change, treated / control (clone share)")
    ax.set_ylabel("-log10 p (QL F-test)")
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(title or "Differential clone abundance")
    return ax


def plot_ma(table: pd.DataFrame, *, called: Iterable[str] | None = None, ax: plt.Axes | None = None,
            title: str = "") -> plt.Axes:  # fmt: skip
    """Draw an MA plot: average log2 counts per million against log2 fold change.

    Parameters
    ----------
    table
        One row per barcode: ``barcode``, ``log_cpm`` and ``log_fc`` (log2).
    called
        Barcodes called resistant, in vermillion.
    ax
        Axes to draw into (default: a new one).
    title
        Panel title.

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    ax = axes_or_new(ax, figsize=(4.2, 3.2))
    c = _calls(table, called)
    x, y = table["log_cpm"].to_numpy(), table["log_fc"].to_numpy()
    ax.scatter(x[~c], y[~c], s=7, color="#999999", lw=0, label="not called")
    ax.scatter(x[c], y[c], s=14, color="#D55E00", lw=0, label="called resistant")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlabel("average abundance (log2 counts per million)")
    ax.set_ylabel("log2 fold change, treated / control")
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(title or "MA plot")
    return ax


def plot_clone_shares(counts: pd.DataFrame, units: pd.DataFrame, pdx_id: str, resistant: set[str], *,
                      arms: dict[str, str], top: int = 25, title: str = "",
                      ax: plt.Axes | None = None) -> plt.Axes:  # fmt: skip
    """Stacked read shares of the top clones of one PDX per mouse (count-table input); resistant clones in vermillion.

    Parameters
    ----------
    counts, units
        Collapsed counts (barcodes x units) and units (``unit, pdx_id, arm, mouse``).
    pdx_id
        The PDX shown.
    resistant
        Barcodes called resistant.
    arms
        ``mouse -> arm`` (for the tick labels).
    top
        Clones shown, by their largest share in any mouse.
    title
        Axes title.
    ax
        Axes to draw on (default: a new figure sized to the mice).

    Returns
    -------
    Axes
        The plot.
    """
    freq = counts[units.loc[units["pdx_id"] == pdx_id, "unit"]]
    freq = freq / freq.sum(axis=0)
    order = units.set_index("unit").loc[freq.columns].sort_values(["arm", "mouse"]).index
    ax = axes_or_new(ax, figsize=(0.3 * len(order) + 2.5, 3.4))
    top_bc = freq.max(axis=1).sort_values(ascending=False).index[:top]
    bottom = np.zeros(len(order))
    for k, b in enumerate(top_bc):
        v = freq.loc[b, order].to_numpy() * 100
        ax.bar(np.arange(len(order)), v, bottom=bottom, width=0.8, edgecolor="white", linewidth=0.3,
               color=OKABE_ITO[5] if b in resistant else ["#BBBBBB", "#DDDDDD"][k % 2])  # fmt: skip
        bottom += v
    ax.set_xticks(np.arange(len(order)))
    ax.set_xticklabels([f"{u.split('|')[0]} ({arms[u.split('|')[0]]})" for u in order], rotation=90, fontsize=6)
    ax.set_ylabel("clone share of reads (%)")
    ax.set_xlabel("mouse (arm)")
    ax.set_title(title or f"Top {top} clones; vermillion: called resistant")
    return ax


def plot_resistance_calls(calls: Mapping[str, ResistanceResult], *, control: str,
                          axes: Sequence[plt.Axes] | np.ndarray | None = None) -> plt.Figure:  # fmt: skip
    """Draw the volcano and the MA plot of every treated arm against the control arm, one row per arm.

    Parameters
    ----------
    calls
        ``arm -> ResistanceResult`` (:func:`helpers.barcodes.resistance_by_arm`); the called resistant clones of each
        arm are highlighted.
    control
        Name of the control arm, for the panel titles.
    axes
        Two Axes per arm (volcano, MA), row by row, to draw into (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the panels.
    """
    if not calls:
        raise ValueError("plot_resistance_calls: no treated arm to draw")
    if axes is None:
        axes = plt.subplots(len(calls), 2, figsize=(8.4, 3.2 * len(calls)), squeeze=False)[1]
    axes = np.asarray(axes, dtype=object).ravel()
    if axes.size != 2 * len(calls):
        raise ValueError(f"plot_resistance_calls: {axes.size} Axes given, 2 per arm needed ({2 * len(calls)})")
    for i, (arm, res) in enumerate(calls.items()):
        b = res.barcodes
        called = b.loc[b["resistant"], "barcode"]
        plot_volcano(b, called=called, ax=axes[2 * i], title=f"{arm} vs {control}")
        plot_ma(b, called=called, ax=axes[2 * i + 1], title=f"{arm} vs {control}")
    fig = axes[0].figure
    fig.tight_layout()
    return fig
