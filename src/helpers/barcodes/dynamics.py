"""Clonal dynamics: frequencies before and after treatment, fold changes, dominant and shared clones."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["frequency_table", "fold_changes", "dominant_clones", "shared_clones", "DOMINANT_THRESHOLD"]

DOMINANT_THRESHOLD = 0.02  # a clone over 2 % of a sample is dominant


def frequency_table(samples: pd.DataFrame, pdx_id: str) -> pd.DataFrame:
    """Barcode x (mouse_id, timepoint) frequencies of one PDX (detected barcodes; 0 where absent).

    Parameters
    ----------
    samples
        Long per-sample counts (:func:`helpers.barcodes.sample_counts`).
    pdx_id
        The PDX.

    Returns
    -------
    DataFrame
        Barcodes (largest summed frequency first) x (mouse_id, timepoint).
    """
    sub = samples[(samples["pdx_id"] == pdx_id) & samples["detected"]]
    m = sub.pivot_table(index="barcode", columns=["mouse_id", "timepoint"], values="frequency", aggfunc="sum",
                        fill_value=0.0)  # fmt: skip
    return m.loc[m.sum(axis=1).sort_index().sort_values(ascending=False, kind="stable").index]


def fold_changes(samples: pd.DataFrame, *, pre: str = "pre_treatment", post: str = "post_treatment",
                 pseudo_reads: float = 0.5) -> pd.DataFrame:  # fmt: skip
    """Per PDX, mouse and barcode: frequency before and after, and log2 fold change with a pseudocount.

    The pseudocount is ``pseudo_reads`` reads of the sample, so that a clone absent after treatment gets a finite fold
    change that still reflects its depth (a clone lost from 1 % is more informative than one lost from 0.01 %).

    Parameters
    ----------
    samples
        Long per-sample counts.
    pre, post
        The timepoints compared.
    pseudo_reads
        Reads added to every barcode of a sample.

    Returns
    -------
    DataFrame
        ``pdx_id, mouse_id, arm, barcode, count_pre, count_post, freq_pre, freq_post, log2_fc``.
    """
    det = samples[samples["detected"]]
    tot = det.groupby("sample_key")["count"].sum()
    rows = []
    for (pdx, mouse, arm), sub in det.groupby(["pdx_id", "mouse_id", "arm"], sort=True):
        tps = set(sub["timepoint"])
        if pre not in tps or post not in tps:
            continue
        w = sub.pivot_table(index="barcode", columns="timepoint", values="count", aggfunc="sum", fill_value=0)
        n_pre, n_post = tot[f"{mouse}|{pre}"], tot[f"{mouse}|{post}"]
        f_pre = (w[pre] + pseudo_reads) / (n_pre + pseudo_reads)
        f_post = (w[post] + pseudo_reads) / (n_post + pseudo_reads)
        rows.append(pd.DataFrame({"pdx_id": pdx, "mouse_id": mouse, "arm": arm, "barcode": w.index,
                                  "count_pre": w[pre].to_numpy(), "count_post": w[post].to_numpy(),
                                  "freq_pre": (w[pre] / n_pre).to_numpy(), "freq_post": (w[post] / n_post).to_numpy(),
                                  "log2_fc": np.log2(f_post / f_pre).to_numpy()}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def dominant_clones(samples: pd.DataFrame, *, threshold: float = DOMINANT_THRESHOLD) -> pd.DataFrame:
    """Per sample (mouse x timepoint): number of dominant clones (frequency > threshold) and their summed share.

    Parameters
    ----------
    samples
        Long per-sample counts.
    threshold
        Frequency above which a detected clone is dominant.

    Returns
    -------
    DataFrame
        ``pdx_id, mouse_id, arm, timepoint, n_dominant, dominant_share, n_detected``.
    """
    s = samples.assign(dominant=samples["detected"] & (samples["frequency"] > threshold))
    s["dom_freq"] = np.where(s["dominant"], s["frequency"], 0.0)
    return s.groupby(["pdx_id", "mouse_id", "arm", "timepoint"], as_index=False).agg(
        n_dominant=("dominant", "sum"), dominant_share=("dom_freq", "sum"), n_detected=("detected", "sum")
    )


def shared_clones(samples: pd.DataFrame, pdx_id: str, *, timepoint: str = "post_treatment",
                  threshold: float = DOMINANT_THRESHOLD) -> pd.DataFrame:  # fmt: skip
    """Mouse x mouse number of dominant clones (over ``threshold``) shared at ``timepoint`` (diagonal: own count).

    Parameters
    ----------
    samples
        Long per-sample counts.
    pdx_id
        The PDX.
    timepoint
        The timepoint compared.
    threshold
        Frequency above which a clone is dominant.

    Returns
    -------
    DataFrame
        Mice x mice.
    """
    sub = samples[(samples["pdx_id"] == pdx_id) & (samples["timepoint"] == timepoint) & samples["detected"]
                  & (samples["frequency"] > threshold)]  # fmt: skip
    inc = pd.crosstab(sub["barcode"], sub["mouse_id"]).clip(upper=1)
    mice = sorted(samples.loc[(samples["pdx_id"] == pdx_id) & (samples["timepoint"] == timepoint), "mouse_id"].unique())
    inc = inc.reindex(columns=mice, fill_value=0)
    return inc.T @ inc
