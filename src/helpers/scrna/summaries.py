"""What an atlas shows at a glance: QC losses by reason, red-cell contamination, calls and cell-type composition."""

from __future__ import annotations

import anndata as ad
import pandas as pd

from .malignant import MALIGNANT_CALLS

__all__ = ["call_counts", "cell_type_counts", "hb_contamination", "qc_totals"]


def qc_totals(qc_summary: pd.DataFrame) -> pd.Series:
    """Cells before and after QC and removed per reason, summed over samples.

    Parameters
    ----------
    qc_summary
        Per-sample QC table (:func:`~helpers.scrna.qc.run_qc`).

    Returns
    -------
    Series
        ``cells_before``, ``removed_<reason>`` for every reason, ``cells_after``.
    """
    reasons = [c for c in qc_summary.columns if c.startswith("removed_")]
    return qc_summary[["cells_before", *reasons, "cells_after"]].sum()


def qc_outcome(qc_summary: pd.DataFrame) -> pd.DataFrame:
    """Count what QC did to the cells of a run: how many it kept and how many each reason removed, with input shares.

    Parameters
    ----------
    qc_summary
        Per-sample QC table (:func:`~helpers.scrna.qc.run_qc`).

    Returns
    -------
    DataFrame
        Index ``kept`` then one row per removal reason (the ``removed_`` prefix dropped); columns ``cells`` and
        ``percent_of_input`` (of ``cells_before`` summed over samples).
    """
    tot = qc_totals(qc_summary)
    removed = tot.filter(like="removed_").rename(lambda c: c.removeprefix("removed_"))
    cells = pd.concat([pd.Series({"kept": tot["cells_after"]}), removed]).astype("int64")
    before = float(tot["cells_before"])
    share = 100 * cells / before if before else cells * float("nan")
    return pd.DataFrame({"cells": cells, "percent_of_input": share.round(2)}).rename_axis("cells_of_the_run")


def hb_contamination(qc_cells: pd.DataFrame, kept_obs: pd.DataFrame, qc_summary: pd.DataFrame, *,
                     hb_max: float) -> pd.Series:  # fmt: skip
    """Haemoglobin in the run before and after QC: red-cell barcodes removed and the ambient Hb soup.

    Parameters
    ----------
    qc_cells
        Per-cell QC table of every input cell (``pct_hb``, ``total_counts``, ``qc_status``).
    kept_obs
        ``obs`` of the cells QC kept (``pct_hb``, ``total_counts``).
    qc_summary
        Per-sample QC table (``ambient_hb_pct``).
    hb_max
        The haemoglobin limit QC used (%).

    Returns
    -------
    Series
        Hb share of all UMIs before and after QC (%), barcodes removed as over ``hb_max`` % Hb, and the median over
        samples of the ambient Hb (median Hb % of the kept cells under 5 % Hb), as display strings.
    """

    def share(cells: pd.DataFrame) -> float:  # haemoglobin UMIs as % of all UMIs of a set of cells
        return float((cells["pct_hb"] * cells["total_counts"]).sum() / cells["total_counts"].sum())

    return pd.Series({
        "Hb share of all UMIs before QC (%)": f"{share(qc_cells):.2f}",
        "Hb share of all UMIs after QC (%)": f"{share(kept_obs):.2f}",
        f"barcodes over {hb_max:g} % Hb removed": f"{int((qc_cells['qc_status'] == 'hb_dominated').sum())}",
        "median ambient Hb in cells under 5 % Hb (%)": f"{qc_summary['ambient_hb_pct'].median():.2f}",
    })  # fmt: skip


def call_counts(adata: ad.AnnData) -> pd.Series:
    """Cells called malignant, normal and uncertain (in that order, zeros included).

    Parameters
    ----------
    adata
        Annotated cells (``obs['malignant_call']``).

    Returns
    -------
    Series
        Number of cells per call.
    """
    return adata.obs["malignant_call"].value_counts().reindex(list(MALIGNANT_CALLS), fill_value=0)


def cell_type_counts(adata: ad.AnnData) -> pd.DataFrame:
    """Cells of every annotated type, in the order of the type categories, with their share.

    Parameters
    ----------
    adata
        Annotated cells (categorical ``obs['cell_type']``).

    Returns
    -------
    DataFrame
        Indexed by cell type: ``cells`` and ``share (%)`` (one decimal).
    """
    composition = (adata.obs["cell_type"].value_counts().reindex(adata.obs["cell_type"].cat.categories, fill_value=0)
                   .to_frame("cells"))  # fmt: skip
    composition["share (%)"] = (100 * composition["cells"] / composition["cells"].sum()).round(1)
    return composition
