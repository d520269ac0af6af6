"""Figures of the clinical analyses.

Cumulative incidence with a competing event, stacked multi-state occupation probabilities, decision curves. Each
draws one panel, takes ``ax=None`` and returns the Axes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..plotting import OKABE_ITO, axes_or_new
from .competing import MULTISTATE_STATES, cif_curve

__all__ = ["cif_plot", "occupation_plot", "decision_curve_plot"]


def cif_plot(df: pd.DataFrame, time: str, cause: str, group: str, *, order: list[str], xlabel: str, ylabel: str,
             annotation: str = "", title: str = "", ax: plt.Axes | None = None) -> plt.Axes:  # fmt: skip
    """Aalen-Johansen cumulative incidence of cause 1 per group (solid) and of the competing cause 2 (dotted).

    Parameters
    ----------
    df
        One row per patient.
    time, cause
        Follow-up time and cause (0 censored, 1 event, 2 competing) columns.
    group
        Grouping column.
    order
        Groups in legend order.
    xlabel, ylabel
        Axis labels.
    annotation
        Text drawn in the panel (e.g. a test's p-value).
    title
        Axes title.
    ax
        Axes to draw into (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The drawn Axes.
    """
    ax = axes_or_new(ax, figsize=(4.8, 3.6))
    for k, g in enumerate(order):
        sub = df[df[group] == g].dropna(subset=[time, cause])
        if sub.empty:
            continue
        col = OKABE_ITO[[4, 0, 5, 2, 6][k % 5]]
        for ev, ls in ((1, "-"), (2, ":")):
            c = cif_curve(sub[time], sub[cause], event=ev)
            ax.step(c["time"], c["cif"], where="post", color=col, ls=ls,
                    label=f"{g} (n={len(sub)})" if ev == 1 else None)  # fmt: skip
    ax.plot([], [], color="0.4", ls=":", label="death in remission (competing)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    if annotation:
        ax.text(0.98, 0.03, annotation, transform=ax.transAxes, ha="right", va="bottom", fontsize=7)
    if title:
        ax.set_title(title)
    return ax


def occupation_plot(occupation: pd.DataFrame, *, max_month: float | None = None, title: str = "",
                    ax: plt.Axes | None = None) -> plt.Axes:
    """Stacked state-occupation probabilities (:func:`helpers.integration.multistate_occupation`) over months.

    Parameters
    ----------
    occupation
        :func:`helpers.integration.multistate_occupation` output.
    max_month
        Last month shown (default: every row).
    title
        Axes title.
    ax
        Axes to draw into (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The drawn Axes.
    """
    ax = axes_or_new(ax, figsize=(5.0, 3.4))
    cur = occupation[~occupation["reported"]]
    if max_month is not None:
        cur = cur[cur["month"] <= max_month]
    x = np.repeat(cur["month"].to_numpy(), 2)[1:]
    ys = [np.repeat(cur[s].to_numpy(), 2)[:-1] for s in MULTISTATE_STATES]
    cols = [OKABE_ITO[1], OKABE_ITO[2], OKABE_ITO[6], "0.45"]
    ax.stackplot(x, ys, labels=list(MULTISTATE_STATES), colors=cols, alpha=0.9)
    ax.set_xlabel("months from diagnosis")
    ax.set_ylabel("probability of being in state")
    ax.set_ylim(0, 1)
    ax.set_xlim(0, x.max() if len(x) else 1)
    ax.legend(fontsize=7, frameon=False, loc="upper right")
    if title:
        ax.set_title(title)
    return ax


def decision_curve_plot(curves: dict[str, pd.DataFrame], *, title: str = "", ax: plt.Axes | None = None) -> plt.Axes:
    """Net benefit against threshold probability per model, with treat-all and treat-none references.

    Parameters
    ----------
    curves
        Model -> :func:`helpers.integration.decision_curve` output.
    title
        Axes title.
    ax
        Axes to draw into (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The drawn Axes.
    """
    ax = axes_or_new(ax, figsize=(4.8, 3.6))
    first = next(iter(curves.values()))
    ax.plot(first["threshold"], first["treat_all"], color="0.5", lw=0.9, label="treat all as high risk")
    ax.axhline(0, color="0.2", lw=0.8, label="treat none")
    for k, (name, dc) in enumerate(curves.items()):
        ax.plot(dc["threshold"], dc["net_benefit"], color=OKABE_ITO[[4, 5, 2, 0][k % 4]], lw=1.4, label=name)
    top = max(float(first["treat_all"].max()), max(float(d["net_benefit"].max()) for d in curves.values()))
    ax.set_ylim(-0.05, top + 0.05)
    ax.set_xlabel("threshold probability of primary resistance")
    ax.set_ylabel("net benefit (true positives per patient)")
    ax.legend(fontsize=7, frameon=False)
    if title:
        ax.set_title(title)
    return ax
