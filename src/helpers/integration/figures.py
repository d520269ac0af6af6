"""Publication figures of the integration.

Forest plot, ROC curves, calibration, Kaplan-Meier with numbers at risk, and the biomarker heatmap (the figure index
of a notebook is :class:`helpers.notebook.Notebook`).

All figures use the colour-blind-safe palettes of :mod:`helpers.plotting` and carry axis labels with units; saving
goes through :func:`helpers.plotting.save_figure` (PDF + PNG, reproducible bytes). One-panel functions take
``ax=None`` (keyword) and return the Axes (scanpy's pattern); :func:`paired_plot` draws one panel per feature and
returns the Figure (into given ``axes=``). Model terms and feature names are shown with the data dictionary's
readable names (``names=``, from :func:`helpers.plotting.readable_names`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from matplotlib.ticker import FuncFormatter
from sklearn.metrics import roc_curve

from ..plotting import OKABE_ITO, axes_or_new, micro, readable_term

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "forest_plot", "roc_plot", "calibration_plot", "km_plot", "biomarker_heatmap", "group_boxplot", "paired_plot",
    "readable_terms",
]


def forest_plot(table: pd.DataFrame, *, label: str, estimate: str, low: str, high: str, xlabel: str,
                p: str | None = "p", title: str = "", groups: str | None = None, names: dict[str, str] | None = None,
                ax: plt.Axes | None = None) -> plt.Axes:  # fmt: skip
    """Draw a forest plot of ratios (odds or hazard) on a log axis, one row per line of ``table`` (top to bottom).

    Parameters
    ----------
    table
        One row per effect; rows with a missing estimate are skipped.
    label, estimate, low, high
        Columns of the row label, the ratio and its confidence limits.
    xlabel
        Axis label, e.g. ``"odds ratio (95 % CI), log scale"``.
    p
        Column of p-values printed at the right (None to omit).
    title
        Panel title (empty: none).
    groups
        Optional column whose values colour the points (e.g. the model or the source axis).
    names
        ``{column: readable name}`` (:func:`helpers.plotting.readable_names` of the data dictionary): row labels that
        are model terms (``eln2024[adverse] (adverse vs favorable)``, ``ven_auc (per SD)``) are shown with them
        (:func:`helpers.plotting.readable_term`). None keeps the labels as they are.
    ax
        Axes to draw into (default: a new figure sized to the number of rows).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    t = table.dropna(subset=[estimate, low, high]).reset_index(drop=True)
    ax = axes_or_new(ax, figsize=(6.2, 0.32 * max(len(t), 3) + 1.0))
    y = np.arange(len(t))[::-1]
    cats = list(dict.fromkeys(t[groups])) if groups else [None]
    colours = {c: OKABE_ITO[(i + 4) % len(OKABE_ITO)] for i, c in enumerate(cats)}
    for yi, r in zip(y, t.itertuples(index=False), strict=False):
        c = colours[getattr(r, groups)] if groups else OKABE_ITO[4]
        ax.plot([getattr(r, low), getattr(r, high)], [yi, yi], color=c, lw=1.4)
        ax.plot(getattr(r, estimate), yi, "s", color=c, ms=5)
    ax.axvline(1.0, color="0.4", lw=0.8, ls="--")
    ax.set_xscale("log")
    # Plain ratio labels (0.5, 1, 2...) read better than powers of ten.
    lo_v, hi_v = float(t[low].min()) if len(t) else 0.5, float(t[high].max()) if len(t) else 2.0
    ticks = [v for v in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if lo_v / 1.5 <= v <= hi_v * 1.5]
    ax.set_xticks(ticks or [1])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.set_yticks(y)
    ax.set_yticklabels([readable_term(v, names) if names is not None else v for v in t[label].astype(str)])
    ax.set_xlabel(xlabel)
    ax.set_ylim(-0.8, len(t) - 0.2)
    if p and p in t:
        for yi, pv in zip(y, t[p], strict=False):
            txt = "" if not np.isfinite(pv) else ("p<0.001" if pv < 0.001 else f"p={pv:.3f}")
            ax.annotate(txt, (1.01, yi), xycoords=("axes fraction", "data"), va="center", fontsize=7)
    if groups:
        for cat, col in colours.items():
            ax.plot([], [], "s", color=col, label=str(cat))
        ax.legend(frameon=False, fontsize=7, loc="lower right")
    if title:
        ax.set_title(title)
    return ax


def readable_terms(table: pd.DataFrame, names: dict[str, str], *, term: str = "term", scale: str | None = "scale",
                   column: str = "label") -> pd.DataFrame:
    """Copy of a model table with a first column ``label``: each term's readable name (for display beside ``term``).

    ``eln2024[intermediate]`` with scale ``intermediate vs favorable`` -> ``ELN 2024 risk: intermediate vs
    favorable``; ``ven_auc`` per SD -> ``venetoclax AUC (per SD)`` (:func:`helpers.plotting.readable_term`).

    Parameters
    ----------
    table
        A model table (one row per term).
    names
        Column -> readable name (:func:`helpers.plotting.readable_names`).
    term, scale
        Its term and scale columns (``scale`` None: no scale shown).
    column
        Name of the added column.

    Returns
    -------
    pandas.DataFrame
        The copy, ``column`` first.
    """
    scales = table[scale].fillna("").astype(str) if scale and scale in table else pd.Series("", index=table.index)
    raw = [f"{t} ({s})" if s else str(t) for t, s in zip(table[term].astype(str), scales, strict=True)]
    out = table.copy()
    out.insert(0, column, [readable_term(r, names) for r in raw])
    return out


def roc_plot(curves: dict[str, tuple[np.ndarray, np.ndarray, str]], *, title: str = "",
             ax: plt.Axes | None = None) -> plt.Axes:
    """ROC curves, one per model: label -> (outcome, score, legend text such as the AUC with its CI).

    Parameters
    ----------
    curves
        Model label -> (0/1 outcomes, scores, legend text).
    title
        Axes title.
    ax
        Axes to draw into (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The drawn Axes.
    """
    ax = axes_or_new(ax, figsize=(4.2, 4.0))
    for i, (name, (y, s, legend)) in enumerate(curves.items()):
        fpr, tpr, _ = roc_curve(np.asarray(y, int), np.asarray(s, float))
        ax.plot(fpr, tpr, color=OKABE_ITO[(i + 4) % len(OKABE_ITO)], lw=1.6, label=f"{name}: {legend}")
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("1 - specificity (false-positive rate)")
    ax.set_ylabel("sensitivity (true-positive rate)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_aspect("equal")
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    if title:
        ax.set_title(title)
    return ax


def calibration_plot(bins: pd.DataFrame, summary: dict, *, title: str = "", ax: plt.Axes | None = None) -> plt.Axes:
    """Observed versus predicted risk by bin with Wilson intervals; the diagonal is perfect calibration.

    Parameters
    ----------
    bins
        :func:`helpers.integration.calibration` bins.
    summary
        Its summary (slope, intercept, Brier score; optimism-corrected values when present).
    title
        Axes title.
    ax
        Axes to draw into (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The drawn Axes.
    """
    ax = axes_or_new(ax, figsize=(4.0, 4.0))
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.8, ls=":")
    ax.errorbar(bins["mean_predicted"], bins["observed"],
                yerr=[bins["observed"] - bins["ci_low"], bins["ci_high"] - bins["observed"]],
                fmt="o", color=OKABE_ITO[4], capsize=3)  # fmt: skip
    ax.set_xlabel("predicted probability of primary resistance")
    ax.set_ylabel("observed proportion primary resistant")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    text = (f"slope {summary['calibration_slope']:.2f}\nintercept {summary['calibration_intercept']:.2f}\n"
            f"Brier {summary['brier']:.3f}")  # fmt: skip
    if "corrected_slope" in summary:  # bootstrap optimism-corrected values of the apparent fit
        text += (f"\noptimism-corrected slope {summary['corrected_slope']:.2f}"
                 f"\noptimism-corrected intercept {summary['corrected_intercept']:.2f}")  # fmt: skip
    ax.text(0.03, 0.97, text, transform=ax.transAxes, va="top", fontsize=7)
    if title:
        ax.set_title(title)
    return ax


def km_plot(df: pd.DataFrame, time: str, event: str, group: str, *, xlabel: str, ylabel: str, title: str = "",
            order: list[str] | None = None, colors: dict[str, str] | None = None, ticks: float = 6.0,
            annotation: str = "", ax: plt.Axes | None = None) -> plt.Axes:  # fmt: skip
    """Draw Kaplan-Meier curves per group with censoring marks, 95 % bands and a numbers-at-risk table underneath.

    Parameters
    ----------
    df
        One row per patient; rows with a missing time, event or group are dropped.
    time
        Column of the follow-up time (months, as the tick spacing ``ticks``).
    event
        Column of the event indicator (1 event, 0 censored).
    group
        Column whose values define the curves (compared as text).
    xlabel, ylabel
        Axis labels, e.g. ``"months from diagnosis"`` and ``"relapse-free survival"``.
    title
        Panel title (empty: none).
    order
        Groups in legend and at-risk-table order (default: sorted); groups without patients are left out.
    colors
        ``{group: colour}``; groups not listed take the Okabe-Ito palette in order.
    ticks
        Spacing of the time ticks (months) at which the numbers at risk are counted.
    annotation
        Text written in the plot (e.g. the log-rank p-value).
    ax
        Axes to draw into; the numbers at risk are written below it (about 0.3 of its height per group row), so
        leave room under it. Default: a new figure laid out with that room.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    d = df[[time, event, group]].dropna()
    levels = order or sorted(d[group].astype(str).unique())
    levels = [g for g in levels if (d[group].astype(str) == g).any()]
    tmax = float(d[time].max()) if len(d) else 1.0
    xt = np.arange(0, tmax + ticks, ticks)
    if ax is None:
        fig = plt.figure(figsize=(5.6, 3.6 + 0.18 * len(levels)))
        ax = fig.add_axes((0.14, 0.12 + 0.06 * len(levels), 0.82, 0.8 - 0.06 * len(levels)))
    risk = []
    for i, g in enumerate(levels):
        sub = d[d[group].astype(str) == g]
        col = (colors or {}).get(g, OKABE_ITO[(i + 4) % len(OKABE_ITO)])
        km = KaplanMeierFitter().fit(sub[time], sub[event], label=f"{g} (n={len(sub)})")
        km.plot_survival_function(ax=ax, ci_show=True, show_censors=True, color=col, lw=1.5,
                                  censor_styles={"ms": 4, "marker": "|"}, ci_alpha=0.12)  # fmt: skip
        risk.append((g, col, [int((sub[time] >= t).sum()) for t in xt]))
    ax.set_xlim(0, xt[-1])
    ax.set_ylim(0, 1.02)
    ax.set_xticks(xt)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize=7, loc="lower left")
    if annotation:
        ax.text(0.98, 0.97, annotation, transform=ax.transAxes, ha="right", va="top", fontsize=7)
    if title:
        ax.set_title(title)
    # Numbers at risk, aligned with the time ticks, one row per group.
    ax.text(-0.02, -0.2, "at risk", transform=ax.transAxes, ha="right", va="top", fontsize=7, fontweight="bold")
    for k, (g, col, counts) in enumerate(risk):
        yy = -0.2 - 0.075 * (k + 1)
        ax.text(-0.02, yy, g, transform=ax.transAxes, ha="right", va="top", fontsize=7, color=col)
        for t, c in zip(xt, counts, strict=False):
            ax.text(t, yy, str(c), transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=7)
    return ax


def biomarker_heatmap(table: pd.DataFrame, features: list[str], *, group: str, sources: dict[str, str],
                      group_order: list[str] | None = None, title: str = "", names: dict[str, str] | None = None,
                      ax: plt.Axes | None = None) -> plt.Axes:  # fmt: skip
    """Patients (columns, ordered by response group) x biomarkers (rows, grouped by source axis), z-scored.

    Missing measurements are drawn in grey, so that a missing assay is visible rather than imputed. Rows are labelled
    with the readable names in ``names`` (:func:`helpers.plotting.readable_names` of the data dictionary; other
    columns with underscores as spaces) and their source axis. Returns the Axes.

    Parameters
    ----------
    table
        Patient table.
    features
        Rows of the heatmap.
    group
        Column ordering the patients.
    sources
        Feature -> its axis.
    group_order
        Order of the groups (default: sorted).
    names
        Readable names of the features.
    title
        Axes title.
    ax
        Axes to draw into (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The drawn Axes.
    """
    order = group_order or sorted(table[group].dropna().unique())
    t = table[table[group].isin(order)].copy()
    t["_g"] = pd.Categorical(t[group], categories=order, ordered=True)
    t = t.sort_values(["_g", "patient_id"] if "patient_id" in t else ["_g"], kind="stable")
    feats = sorted(features, key=lambda f: (sources.get(f, "~"), features.index(f)))
    z = t[feats].astype(float)
    z = ((z - z.mean()) / z.std(ddof=0).replace(0, 1)).clip(-3, 3).T
    ax = axes_or_new(ax, figsize=(7.5, 0.22 * len(feats) + 1.6))
    cmap = plt.get_cmap("PuOr_r").with_extremes(bad="0.85")
    im = ax.imshow(np.ma.masked_invalid(z.to_numpy()), aspect="auto", cmap=cmap, vmin=-3, vmax=3,
                   interpolation="nearest")  # fmt: skip
    ax.set_yticks(range(len(feats)))
    ax.set_yticklabels([f"{readable_term(f, names)} [{sources.get(f, '?')}]" for f in feats], fontsize=7)
    ax.set_xticks([])
    counts = t["_g"].value_counts(sort=False)
    edges = np.cumsum(counts.to_numpy())
    start = 0
    for g, e in zip(counts.index, edges, strict=False):
        if e > start:
            ax.axvline(e - 0.5, color="k", lw=0.8)
            ax.text((start + e - 1) / 2, -0.7, f"{g} (n={e - start})", ha="center", va="bottom", fontsize=7)
        start = e
    ax.set_xlabel("patients, ordered by response group")
    cb = ax.figure.colorbar(im, ax=ax, fraction=0.03, pad=0.01)
    cb.set_label("z-score (clipped at ±3); grey = not measured")
    if title:
        ax.set_title(title, pad=14)
    return ax


def group_boxplot(table: pd.DataFrame, value: str, group: str, *, order: list[str], ylabel: str, xlabel: str,
                  title: str = "", seed: int = 0, ax: plt.Axes | None = None) -> plt.Axes:  # fmt: skip
    """Box plot with every patient drawn as a point (jittered with a fixed seed, so the figure is reproducible).

    Parameters
    ----------
    table
        One row per patient.
    value, group
        Plotted column and grouping column.
    order
        Groups, left to right.
    ylabel, xlabel
        Axis labels (with units).
    seed
        Seed of the jitter.
    title
        Axes title.
    ax
        Axes to draw into (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The drawn Axes.
    """
    rng = np.random.default_rng(seed)
    ax = axes_or_new(ax, figsize=(1.2 + 1.1 * len(order), 3.6))
    data = [table.loc[table[group] == g, value].dropna().to_numpy(float) for g in order]
    ax.boxplot(data, positions=range(len(order)), widths=0.55, showfliers=False,
               medianprops={"color": "k"}, boxprops={"color": "0.3"})  # fmt: skip
    for i, x in enumerate(data):
        ax.plot(i + rng.uniform(-0.18, 0.18, len(x)), x, "o", ms=2.5, alpha=0.6,
                color=OKABE_ITO[(i + 4) % len(OKABE_ITO)])  # fmt: skip
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels([f"{g}\n(n={len(x)})" for g, x in zip(order, data, strict=False)])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def paired_plot(samples: pd.DataFrame, features: list[str], *, units: dict[str, str], reference: str = "diagnosis",
                contrast: str = "relapse", title: str = "", names: dict[str, str] | None = None,
                axes: Sequence[plt.Axes] | np.ndarray | None = None) -> plt.Figure:  # fmt: skip
    """Draw one panel per feature: each patient's value at ``reference`` joined to its value at ``contrast``.

    ``names``: readable feature names for the axis labels (default: the column names); ``axes``: one Axes per
    feature to draw into (default: a new figure, one row). Returns the Figure.

    Parameters
    ----------
    samples
        The sample table (``patient_id``, ``timepoint`` and the features).
    features
        One panel each.
    units
        Feature -> unit, for the axis labels.
    reference, contrast
        The two timepoints joined.
    title
        Figure title.
    names
        Readable feature names.
    axes
        Axes to draw into.

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the panels.
    """
    n = max(len(features), 1)
    own = axes is None
    if own:
        axes = plt.subplots(1, n, figsize=(2.2 * n + 0.4, 3.2), squeeze=False)[1]
    axes = np.asarray(axes, dtype=object).ravel()
    fig = axes[0].figure
    for ax, f in zip(axes, features, strict=False):
        w = samples.pivot_table(index="patient_id", columns="timepoint", values=f, aggfunc="mean")
        w = w.dropna(subset=[c for c in (reference, contrast) if c in w])
        if reference in w and contrast in w:
            for a, b in zip(w[reference], w[contrast], strict=False):
                ax.plot([0, 1], [a, b], color=OKABE_ITO[5] if b > a else OKABE_ITO[4], lw=0.7, alpha=0.7)
        ax.set_xticks([0, 1])
        ax.set_xticklabels([reference, contrast])
        ax.set_xlim(-0.3, 1.3)
        unit = units.get(f)
        shown = readable_term(f, names) if names is not None else f
        ax.set_ylabel(f"{shown} ({micro(unit)})" if isinstance(unit, str) and unit else f"{shown} (score, unitless)")
        ax.set_title(f"n={len(w)} pairs", fontsize=8)
    if title:
        fig.suptitle(title)
    if own:
        fig.tight_layout()
    return fig
