"""Flow measurable residual disease (MRD) at remission, with the ELN limits.

The leukemia-associated immunophenotype (LAIP) of the diagnosis sample, and different-from-normal (DfN) analysis of
the remission sample.

ELN 2021 (Heuser et al., Blood 2021;138:2753, MFC-MRD recommendations table) recommends the integrated LAIP + DfN
strategy on the progenitor compartment (core markers CD34, CD117, CD45, CD33, CD13, CD56, CD7, HLA-DR), MRD as a
percentage of CD45+ leukocytes, negativity only when more than 500 000 CD45+ cells were acquired, a 0.1 % threshold,
and a qualified assay "based on the guidelines for rare events in MFC". Those rare-event guidelines set the limit of
detection (LOD) at a cluster of 20 events and the lower limit of quantification (LLOQ) at 50 events; both are options
here (:data:`ELN_LIMITS`).

- :func:`laip_profile`: markers on which the diagnosis blasts lie outside the normal progenitors' range (below the
  1st or above the 99th percentile of a normal reference), with the direction.
- :func:`laip_events`: remission events in the progenitor gate that are aberrant on every LAIP marker.
- :func:`dfn_events`: remission events in the progenitor gate farther from the normal progenitors than 99.9 % of
  the normal reference cells (robust Mahalanobis distance, scikit-learn's MinCovDet).
- :func:`mrd_call`: MRD % and its ELN category from the aberrant and CD45+ event counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["ELN_LIMITS", "laip_profile", "laip_events", "dfn_events", "mrd_call"]

ELN_LIMITS = {
    "lod_events": 20,  # limit of detection: an aberrant cluster of at least 20 events
    "lloq_events": 50,  # lower limit of quantification: at least 50 events
    "min_cd45_events": 500_000,  # fewer CD45+ events acquired: a negative result is not valid
    "threshold_pct": 0.1,  # MRD positive at or above 0.1 % of CD45+ cells
}


def laip_profile(diagnosis_blasts: pd.DataFrame, normal: pd.DataFrame, *, min_fraction: float = 0.5,
                 lo_q: float = 0.01, hi_q: float = 0.99) -> pd.DataFrame:  # fmt: skip
    """Find the LAIP: markers on which at least ``min_fraction`` of the diagnosis blasts fall outside the normal range.

    Parameters
    ----------
    diagnosis_blasts
        Diagnosis progenitor-gate events (cells x markers, transformed scale, e.g. arcsinh).
    normal
        The same gate in normal or regenerating marrow (same markers and scale).
    min_fraction
        Fraction of the blasts that must be aberrant on a marker for it to enter the LAIP.
    lo_q, hi_q
        Normal range: these quantiles of the normal reference.

    Returns
    -------
    pandas.DataFrame
        One row per LAIP marker: ``marker, direction`` ("over" / "under"), ``threshold``, ``fraction_aberrant``;
        empty when the blasts look normal on every marker (no LAIP: DfN only).
    """
    rows = []
    for m in diagnosis_blasts.columns:
        lo, hi = np.quantile(normal[m], [lo_q, hi_q])
        v = diagnosis_blasts[m].to_numpy()
        over, under = float((v > hi).mean()), float((v < lo).mean())
        if max(over, under) >= min_fraction:
            d, t, f = ("over", hi, over) if over >= under else ("under", lo, under)
            rows.append({"marker": m, "direction": d, "threshold": float(t), "fraction_aberrant": f})
    return pd.DataFrame(rows, columns=["marker", "direction", "threshold", "fraction_aberrant"])


def laip_events(events: pd.DataFrame, laip: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the events aberrant on every LAIP marker (all False when the LAIP is empty).

    Parameters
    ----------
    events
        Progenitor-gate events (cells x markers, the scale of the LAIP's thresholds).
    laip
        :func:`laip_profile` output (``marker, direction, threshold``).

    Returns
    -------
    numpy.ndarray
        One bool per event.
    """
    if laip.empty:
        return np.zeros(len(events), dtype=bool)
    m = np.ones(len(events), dtype=bool)
    for r in laip.itertuples(index=False):
        v = events[r.marker].to_numpy()
        m &= (v > r.threshold) if r.direction == "over" else (v < r.threshold)
    return m


def dfn_events(events: pd.DataFrame, normal: pd.DataFrame, *, quantile: float = 0.999, seed: int = 0) -> np.ndarray:
    """Mark the events different from normal (DfN) by their robust Mahalanobis distance to the normal reference.

    An event is different from normal when its distance exceeds the ``quantile`` of the reference's own distances.

    Parameters
    ----------
    events
        Events to classify (cells x markers; the reference's columns are used).
    normal
        Normal reference events (same markers and scale).
    quantile
        Share of the normal reference kept inside the boundary (0.999: about 0.1 % of normal cells are flagged).
    seed
        Seeds the minimum covariance determinant.

    Returns
    -------
    numpy.ndarray
        One bool per event.
    """
    from sklearn.covariance import MinCovDet

    cols = list(normal.columns)
    mcd = MinCovDet(random_state=seed).fit(normal[cols].to_numpy(np.float64))
    cut = np.quantile(mcd.mahalanobis(normal[cols].to_numpy(np.float64)), quantile)
    return mcd.mahalanobis(events[cols].to_numpy(np.float64)) > cut


def mrd_call(n_aberrant: int, n_cd45: int, *, limits: dict | None = None) -> dict:
    """MRD % of CD45+ cells and its ELN category.

    Parameters
    ----------
    n_aberrant
        Aberrant (LAIP or DfN) events counted.
    n_cd45
        CD45+ events acquired.
    limits
        Overrides of :data:`ELN_LIMITS`.

    Returns
    -------
    dict
        ``mrd_pct`` (100 x aberrant / CD45+; NaN when under the LOD, the value is not reported), ``mrd_events``,
        ``cd45_events``, ``mrd_status``: ``"positive"`` (>= LLOQ events and >= the threshold),
        ``"positive_below_threshold"`` (quantifiable but under 0.1 %), ``"detected_not_quantifiable"`` (LOD <= events
        < LLOQ), ``"negative"`` (under the LOD with enough CD45+ events), ``"not_evaluable"`` (under the LOD and
        fewer CD45+ events than ELN asks for a negative call); ``lod_pct`` (the LOD as a % of this sample's CD45+
        cells).
    """
    lim = {**ELN_LIMITS, **(limits or {})}
    n_aberrant, n_cd45 = int(n_aberrant), int(n_cd45)
    pct = 100.0 * n_aberrant / n_cd45 if n_cd45 > 0 else float("nan")
    if n_aberrant >= lim["lloq_events"]:
        status = "positive" if pct >= lim["threshold_pct"] else "positive_below_threshold"
    elif n_aberrant >= lim["lod_events"]:
        status = "detected_not_quantifiable"
    else:
        status = "negative" if n_cd45 >= lim["min_cd45_events"] else "not_evaluable"
    return {"mrd_pct": pct if n_aberrant >= lim["lod_events"] else float("nan"), "mrd_events": n_aberrant,
            "cd45_events": n_cd45, "mrd_status": status,
            "lod_pct": 100.0 * lim["lod_events"] / n_cd45 if n_cd45 > 0 else float("nan")}  # fmt: skip
