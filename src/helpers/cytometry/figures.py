"""Cohort figures of the cytometry notebook: the gates of one example sample, a score's distribution by response.

Beside :mod:`helpers.cytometry.plots` (one-panel primitives): these figures combine them for the notebook, so that the
notebook calls one function per figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..plotting import RESPONSE_COLORS, axes_or_new
from .fcs import read_fcs
from .gating import Strategy, apply_strategy
from .plots import plot_gate
from .transforms import compensate

__all__ = ["EXAMPLE_GATES", "plot_example_gates", "plot_score_by_response"]

#: The tubes and gates of the example figure: one row per (panel, condition, gates).
EXAMPLE_GATES = (
    ("FUNC", "untreated", ("cells", "singlets", "blasts", "apoptotic")),
    ("PHENO", "untreated", ("blasts", "lsc", "monocytic", "t_cells")),
)


def plot_example_gates(sheet: pd.DataFrame, strategy: Strategy, sample_id: str, *,
                       tubes: Sequence[tuple[str, str, Sequence[str]]] = EXAMPLE_GATES,
                       fig: plt.Figure | None = None) -> plt.Figure:  # fmt: skip
    """Draw the gates of one sample's tubes, one row of biaxial plots per tube (compensated, arcsinh-scaled events).

    A boolean gate has no geometry: its first operand is drawn instead (the viable rectangle whose complement the
    apoptotic gate is).

    Parameters
    ----------
    sheet
        The sample sheet (``sample_id, panel, condition, path``).
    strategy
        The gating strategy.
    sample_id
        The sample shown.
    tubes
        ``(panel, condition, gates)`` per row; every row has the same number of gates.
    fig
        Figure to draw into (a new one of 13 x 3.1 inches per row when None).

    Returns
    -------
    matplotlib.figure.Figure
        The figure, titled with the sample and its tubes.

    Raises
    ------
    ValueError
        When the sample has no tube of one of the requested panel / condition pairs.
    """
    n_cols = len(tubes[0][2])
    fig = fig or plt.figure(figsize=(13, 3.1 * len(tubes)))
    axes = fig.subplots(len(tubes), n_cols, squeeze=False)
    for row, (panel, cond, gates) in enumerate(tubes):
        sel = (sheet["sample_id"] == sample_id) & (sheet["panel"] == panel) & (sheet["condition"] == cond)
        if not sel.any():
            raise ValueError(f"sample {sample_id!r} has no {panel} {cond} tube")
        outcome, scaled = apply_strategy(compensate(read_fcs(sheet.loc[sel, "path"].iloc[0]), inplace=True), strategy,
                                         compensated=True)  # fmt: skip
        for ax, gate in zip(axes[row], gates, strict=True):
            g = strategy.gate(gate)
            plot_gate(outcome, scaled, strategy, g.of[0] if g.kind == "boolean" else gate, ax=ax)
    names = ", ".join(f"{p} {c}" for p, c, _ in tubes)
    fig.suptitle(f"{sample_id}: {names} (rows, top to bottom)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_score_by_response(dx: pd.DataFrame, score: str, *, cutoff: float, xlabel: str, bins: int = 20,
                           ax: plt.Axes | None = None) -> plt.Axes:  # fmt: skip
    """Histograms of a score in responders and primary-resistant patients, with a cut-off.

    Parameters
    ----------
    dx
        Diagnosis samples with ``response`` (``responder`` / ``primary_resistant``) and ``score``.
    score
        The column shown.
    cutoff
        Drawn as a dashed line.
    xlabel
        Label of the score axis, with its unit.
    bins
        Number of bin edges over the score's range (shared by both groups).
    ax
        Axes to draw into (a new 4.2 x 3 inch figure when None).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn.
    """
    ax = axes_or_new(ax, figsize=(4.2, 3))
    edges = np.linspace(dx[score].min(), dx[score].max(), bins)
    for grp in ("responder", "primary_resistant"):
        v = dx.loc[dx["response"] == grp, score].dropna()
        ax.hist(v, bins=edges, alpha=0.6, color=RESPONSE_COLORS[grp], label=f"{grp.replace('_', ' ')} (n={len(v)})")
    ax.axvline(cutoff, color="black", ls="--", lw=1, label=f"cut-off {cutoff:.2f}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("patients (count)")
    ax.legend(frameon=False, fontsize=7)
    return ax
