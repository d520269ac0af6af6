"""Cohort overview: what a data folder holds, checked against the data contract."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd

from .assays import parse_assays
from .axes import assay_tokens
from .plotting import RESPONSE_COLORS, TIMEPOINT_COLORS

__all__ = ["response_by_risk", "assay_availability", "plot_cohort_overview"]

ASSAY_ORDER = list(assay_tokens())


def response_by_risk(clinical: pd.DataFrame) -> pd.DataFrame:
    """Tabulate patients, CR/CRi rate and relapse among responders per ELN 2024 class (with the overall row).

    Parameters
    ----------
    clinical
        Patients with ``eln2024`` and the endpoints of :func:`helpers.clinical.clinical_endpoints`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``eln2024`` plus ``all``: ``patients``, ``pct_of_cohort``, ``cr_cri_pct``,
        ``relapse_pct_of_responders`` (%) and ``deaths``.
    """
    def summarise(g: pd.DataFrame) -> pd.Series:
        resp = g["responder"] == 1
        return pd.Series(
            {
                "patients": len(g),
                "pct_of_cohort": 100 * len(g) / len(clinical),
                "cr_cri_pct": 100 * resp.mean(),
                "relapse_pct_of_responders": 100 * g.loc[resp, "relapse"].mean() if resp.any() else float("nan"),
                "deaths": int((g["os_event"] == 1).sum()),
            }
        )

    rows = {k: summarise(g) for k, g in clinical.groupby("eln2024", observed=True)}
    rows["all"] = summarise(clinical)
    out = pd.DataFrame(rows).T
    out["patients"] = out["patients"].astype(int)
    out["deaths"] = out["deaths"].astype(int)
    out.index.name = "eln2024"
    return out


def assay_availability(samples: pd.DataFrame) -> pd.DataFrame:
    """Count samples per timepoint with each assay.

    Parameters
    ----------
    samples
        The sample table (``timepoint``, ``assays``).

    Returns
    -------
    pandas.DataFrame
        One row per timepoint present (diagnosis, remission, relapse): ``samples`` and one count column per assay
        token of the axis registry.
    """
    long = samples.assign(assay=samples["assays"].map(lambda v: sorted(parse_assays(v)))).explode("assay")
    long = long[long["assay"].isin(ASSAY_ORDER)]
    tab = pd.crosstab(long["timepoint"], long["assay"]).reindex(columns=ASSAY_ORDER, fill_value=0)
    tab = tab.reindex([t for t in ["diagnosis", "remission", "relapse"] if t in tab.index])
    tab.insert(0, "samples", samples["timepoint"].value_counts().reindex(tab.index).astype(int))
    return tab


def plot_cohort_overview(clinical: pd.DataFrame, samples: pd.DataFrame, *, axes: Sequence[plt.Axes] | None = None
                         ) -> plt.Figure:  # fmt: skip
    """Draw two panels: response group by ELN 2024 class, and assays per timepoint.

    Parameters
    ----------
    clinical
        Patients with ``eln2024`` and ``response_group``.
    samples
        The sample table.
    axes
        Two Axes to draw into (default: a new 7.2 x 2.8 inch figure).

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the panels.
    """
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(7.2, 2.8), constrained_layout=True)
    axes = list(axes)
    fig = axes[0].figure
    tab = pd.crosstab(clinical["eln2024"], clinical["response_group"]).reindex(
        columns=["responder_ongoing", "responder_relapsed", "primary_resistant"], fill_value=0
    )
    colors = [RESPONSE_COLORS["responder"], RESPONSE_COLORS["relapse"], RESPONSE_COLORS["primary_resistant"]]
    tab.plot.bar(stacked=True, ax=axes[0], color=colors, width=0.7, rot=0)
    axes[0].set(xlabel="ELN 2024 risk (less-intensive therapy)", ylabel="Patients (n)")
    axes[0].legend(["CR/CRi, no relapse", "CR/CRi, relapsed", "primary resistant"], frameon=False, fontsize=7)
    av = assay_availability(samples).drop(columns="samples")
    av.T.plot.bar(ax=axes[1], color=[TIMEPOINT_COLORS[t] for t in av.index], width=0.75, rot=0)
    axes[1].set(xlabel="Assay", ylabel="Samples (n)")
    axes[1].legend(title="Timepoint", frameon=False, fontsize=7, title_fontsize=7)
    return fig
