"""Plate QC and normalisation of DST plates (one long table of wells from :func:`helpers.dst.contract.load_plates`).

Per well, ``well_flag``:
- ``saturated``: the reader reported an overflow (``inf``);
- ``no_signal``: below half the median of the plate's positive (killing) controls, i.e. below the luminescence of
  dead cells: no cells or no reagent were dispensed.
Flagged wells are excluded from the control statistics and from curve fits.

Per plate (control statistics on unflagged wells):
- ``z_prime`` = 1 - 3 (SD_neg + SD_pos) / |mean_neg - mean_pos| (Zhang et al. 1999);
- ``ssmd`` = (mean_neg - mean_pos) / sqrt(SD_neg^2 + SD_pos^2) (Zhang 2007);
- ``neg_cv`` / ``pos_cv`` (%), ``edge_ratio`` = median of DMSO wells on the outer ring / median of interior DMSO wells,
  ``row_effect`` / ``col_effect`` = largest |row (column) median of DMSO wells / plate DMSO median - 1|.
- ``qc_pass`` is 1 when Z' >= 0.3, SSMD >= 3, DMSO CV <= 20 % and 0.8 <= edge_ratio <= 1.2 (primary AML cells are
  noisier than cell lines, so Z' 0.3 rather than 0.5 is the usual acceptance limit); ``qc_reason`` lists the failures.
  ``qc_warning`` notes milder edge (ratio outside 0.9-1.1) or row/column (> 10 %) effects.

Normalisation: viability % = 100 (signal - median_pos) / (reference_neg - median_pos), the reference being the median
of interior DMSO wells (outer-ring wells lose signal to evaporation; all DMSO wells when fewer than 8 are interior);
inhibition % = 100 - viability.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["QC_THRESHOLDS", "flag_wells", "plate_qc", "normalise_plates"]

QC_THRESHOLDS = {"z_prime_min": 0.3, "ssmd_min": 3.0, "neg_cv_max": 20.0, "edge_ratio_range": (0.8, 1.2),
                 "edge_warn_range": (0.9, 1.1), "row_col_warn": 0.10, "no_signal_fraction_of_pos": 0.5}


def flag_wells(wells: pd.DataFrame) -> pd.DataFrame:
    """Add ``well_flag`` (``""``, ``saturated`` or ``no_signal``) to a long table of wells (vectorised per plate).

    Parameters
    ----------
    wells
        Long table of wells (:func:`helpers.dst.contract.load_plates`): ``plate_id, role, signal``.

    Returns
    -------
    pandas.DataFrame
        A copy with ``well_flag``: ``saturated`` for a non-finite read, ``no_signal`` below a fraction of the dead-cell
        level, ``""`` otherwise.
    """
    w = wells.copy()
    pos = w["role"] == "pos_control"
    fin = np.isfinite(w["signal"])
    pos_med = w["signal"].where(pos & fin).groupby(w["plate_id"]).transform("median")
    neg_med = w["signal"].where((w["role"] == "neg_control") & fin).groupby(w["plate_id"]).transform("median")
    # Dead cells still give the positive controls' luminescence; far below it nothing was dispensed. When the killing
    # control itself failed (a failed plate), 10 % of DMSO stands in for the dead-cell level.
    dead = np.minimum(pos_med, 0.1 * neg_med)
    flag = np.where(~fin, "saturated",
                    np.where(w["signal"] < QC_THRESHOLDS["no_signal_fraction_of_pos"] * dead, "no_signal", ""))
    w["well_flag"] = flag
    return w


def _ratio_effect(df: pd.DataFrame, by: str) -> pd.Series:
    med = df.groupby("plate_id")["signal"].transform("median")
    rel = df.assign(rel=df["signal"] / med).groupby(["plate_id", by])["rel"].median()
    return (rel - 1).abs().groupby(level=0).max()


def plate_qc(wells: pd.DataFrame) -> pd.DataFrame:
    """Per-plate QC metrics and pass/fail flags (see the module docstring for definitions and thresholds).

    Parameters
    ----------
    wells
        Long table of wells with ``well_flag`` (from :func:`flag_wells`).

    Returns
    -------
    pandas.DataFrame
        One row per plate: ``plate_id, sample_id, n_neg, n_pos, neg_median, pos_median, neg_cv, pos_cv, z_prime, ssmd,
        edge_ratio, row_effect, col_effect, neg_reference, n_flagged_wells, qc_pass, qc_reason, qc_warning``.
    """
    ok = wells["well_flag"] == ""
    ctl = wells[ok & wells["role"].isin(["neg_control", "pos_control"])]
    g = ctl.groupby(["plate_id", "role"])["signal"]
    st = g.agg(["count", "mean", "std", "median"]).unstack("role")
    neg = wells[ok & (wells["role"] == "neg_control")].copy()
    neg["edge"] = neg["row"].isin([0, 15]) | neg["col"].isin([0, 23])
    edge_med = neg[neg["edge"]].groupby("plate_id")["signal"].median()
    inner_med = neg[~neg["edge"]].groupby("plate_id")["signal"].median()
    mn, mp = st[("mean", "neg_control")], st[("mean", "pos_control")]
    sn, sp = st[("std", "neg_control")], st[("std", "pos_control")]
    out = pd.DataFrame(
        {
            "n_neg": st[("count", "neg_control")].astype(int),
            "n_pos": st[("count", "pos_control")].astype(int),
            "neg_median": st[("median", "neg_control")],
            "pos_median": st[("median", "pos_control")],
            "neg_cv": 100 * sn / mn,
            "pos_cv": 100 * sp / mp,
            "z_prime": 1 - 3 * (sn + sp) / (mn - mp).abs(),
            "ssmd": (mn - mp) / np.sqrt(sn**2 + sp**2),
            "edge_ratio": edge_med / inner_med,
            "row_effect": _ratio_effect(neg, "row"),
            "col_effect": _ratio_effect(neg, "col"),
        }
    )
    out.index.name = "plate_id"
    # Reference for normalisation: interior DMSO (the sample wells are interior; outer-ring DMSO loses signal to
    # evaporation), all DMSO when fewer than 8 interior wells exist.
    n_inner = neg[~neg["edge"]].groupby("plate_id")["signal"].size().reindex(out.index).fillna(0)
    out["neg_reference"] = inner_med.reindex(out.index).where(n_inner >= 8, out["neg_median"])
    out["n_flagged_wells"] = (~ok).groupby(wells["plate_id"]).sum().reindex(out.index).astype(int)
    t = QC_THRESHOLDS
    checks = {
        f"z_prime<{t['z_prime_min']}": ~(out["z_prime"] >= t["z_prime_min"]),
        f"ssmd<{t['ssmd_min']:g}": ~(out["ssmd"] >= t["ssmd_min"]),
        f"neg_cv>{t['neg_cv_max']:g}%": ~(out["neg_cv"] <= t["neg_cv_max"]),
        "edge_ratio": ~out["edge_ratio"].between(*t["edge_ratio_range"]),
    }
    reason = pd.Series("", index=out.index)
    for name, bad in checks.items():
        reason = reason.where(~bad, reason + np.where(reason == "", "", ";") + name)
    out["qc_pass"] = (reason == "").astype(int)
    out["qc_reason"] = reason
    warn = pd.Series("", index=out.index)
    wchecks = {"edge_effect": ~out["edge_ratio"].between(*t["edge_warn_range"]),
               "row_effect": out["row_effect"] > t["row_col_warn"], "col_effect": out["col_effect"] > t["row_col_warn"]}
    for name, bad in wchecks.items():
        warn = warn.where(~bad, warn + np.where(warn == "", "", ";") + name)
    out["qc_warning"] = warn
    samples = wells.drop_duplicates("plate_id").set_index("plate_id")["sample_id"]
    out.insert(0, "sample_id", samples.reindex(out.index))
    return out.reset_index()


def normalise_plates(wells: pd.DataFrame, qc: pd.DataFrame) -> pd.DataFrame:
    """Add ``viability_pct`` and ``inhibition_pct`` (against the plate's control medians) and ``plate_qc_pass``.

    Flagged wells keep NaN responses so that no fit uses them.

    Parameters
    ----------
    wells
        Flagged wells (:func:`flag_wells`).
    qc
        Plate QC (:func:`plate_qc`): ``neg_reference``, ``pos_median``, ``qc_pass`` per ``plate_id``.

    Returns
    -------
    pandas.DataFrame
        A copy of ``wells`` with ``viability_pct`` = 100 (signal - positive) / (negative - positive),
        ``inhibition_pct`` = 100 - viability and ``plate_qc_pass`` (0/1).
    """
    q = qc.set_index("plate_id")
    neg = wells["plate_id"].map(q["neg_reference"])
    pos = wells["plate_id"].map(q["pos_median"])
    via = 100 * (wells["signal"] - pos) / (neg - pos)
    out = wells.copy()
    out["viability_pct"] = via.where(wells["well_flag"] == "")
    out["inhibition_pct"] = 100 - out["viability_pct"]
    out["plate_qc_pass"] = wells["plate_id"].map(q["qc_pass"]).astype(int)
    return out
