"""Quality control of one acquisition: event counts, margin events, doublets, flow-rate and signal stability over time.

The time checks follow the idea of flowAI / flowClean (Monaco et al. 2016; Fletez-Brant et al. 2016): a clog or a
bubble shows as a gap in the time channel (the flow stops) and often as a shift of the fluorescence after it.
"""

from __future__ import annotations

import numpy as np

from .fcs import FCSData
from .transforms import fluorescence_columns

__all__ = ["qc_file", "QC_THRESHOLDS"]

QC_THRESHOLDS = {
    "min_events": 100,
    "max_margin_fraction": 0.05,
    "max_doublet_fraction": 0.15,
    "gap_factor": 200.0,  # a pause longer than 200 median inter-event intervals is a flow interruption
    "max_shift_asinh": 0.25,  # median fluorescence shift (arcsinh units) across the largest pause
    "singlet_ratio": 0.65,  # FSC-H / FSC-A below this is a doublet
}


def qc_file(data: FCSData, *, cofactor: float = 150.0, thresholds: dict | None = None) -> dict:
    """QC metrics and flags of one file.

    Parameters
    ----------
    data
        Events (compensated or not: the shift test compares the same channels before and after a pause).
    cofactor
        arcsinh cofactor for the signal-shift test.
    thresholds
        Overrides of :data:`QC_THRESHOLDS`.

    Returns
    -------
    dict
        ``n_events``, ``margin_fraction`` (scatter events at or beyond the channel range, or at zero),
        ``doublet_fraction`` (FSC-H/FSC-A below the singlet ratio), ``max_gap_ratio`` (longest pause over the median
        interval), ``signal_shift`` (largest |median arcsinh difference| of a fluorescence channel across that pause),
        ``events_per_s``, and the flags ``qc_low_events``, ``qc_margin``, ``qc_doublets``, ``qc_flow_anomaly``;
        ``qc_not_checked`` (the checks that could not run, ``;``-separated: ``margin`` without scatter channels,
        ``doublets`` without FSC-A and FSC-H, ``flow`` without a time channel or with too few events), ``qc_status``
        (``fail`` when a check that ran failed, else ``not checked`` when a check could not run, else ``pass``) and
        ``qc_pass`` (``qc_status == "pass"``: a file whose checks could not run is not reported as passing).
    """
    th = {**QC_THRESHOLDS, **(thresholds or {})}
    ev = data.events
    n = data.n_events
    out: dict = {"n_events": n}
    scatter = [i for i, c in enumerate(data.channels) if c.upper().startswith(("FSC", "SSC"))]
    not_checked = []
    if scatter and n:
        ranges = np.array([float(data.metadata.get(f"$P{i + 1}R", 262144)) for i in scatter])
        sc = ev[:, scatter]
        margin = ((sc >= ranges - 1) | (sc <= 0)).any(axis=1)
        out["margin_fraction"] = float(margin.mean())
    else:
        out["margin_fraction"] = np.nan
        not_checked.append("margin")
    up = [c.upper() for c in data.channels]
    if "FSC-A" in up and "FSC-H" in up and n:
        a, h = ev[:, up.index("FSC-A")], ev[:, up.index("FSC-H")]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(a > 0, h / a, 1.0)
        out["doublet_fraction"] = float((ratio < th["singlet_ratio"]).mean())
    else:
        out["doublet_fraction"] = np.nan
        not_checked.append("doublets")
    tcol = next((i for i, c in enumerate(up) if c == "TIME"), None)
    out["max_gap_ratio"], out["signal_shift"], out["events_per_s"] = np.nan, np.nan, np.nan
    if tcol is not None and n > 20:
        t = ev[:, tcol].astype(np.float64)
        dt = np.diff(t)
        med = float(np.median(dt[dt > 0])) if (dt > 0).any() else 0.0
        k = int(np.argmax(dt))
        out["max_gap_ratio"] = float(dt[k] / med) if med > 0 else np.nan
        span = float(t[-1] - t[0])
        out["events_per_s"] = n / span if span > 0 else np.nan
        fl = fluorescence_columns(data)
        lo, hi = ev[: k + 1, fl], ev[k + 1 :, fl]
        if fl and min(len(lo), len(hi)) >= 10:
            shift = np.abs(np.median(np.arcsinh(hi / cofactor), axis=0) - np.median(np.arcsinh(lo / cofactor), axis=0))
            out["signal_shift"] = float(shift.max())
    gap = out["max_gap_ratio"]
    if not np.isfinite(gap) or (gap > th["gap_factor"] and not np.isfinite(out["signal_shift"])):
        not_checked.append("flow")  # no time channel, too few events, or a pause with too few events on one side
    out["qc_low_events"] = bool(n < th["min_events"])
    out["qc_margin"] = bool(out["margin_fraction"] > th["max_margin_fraction"])
    out["qc_doublets"] = bool(out["doublet_fraction"] > th["max_doublet_fraction"])
    out["qc_flow_anomaly"] = bool(
        np.isfinite(gap) and gap > th["gap_factor"] and np.nan_to_num(out["signal_shift"]) > th["max_shift_asinh"]
    )
    failed = out["qc_low_events"] or out["qc_margin"] or out["qc_doublets"] or out["qc_flow_anomaly"]
    out["qc_not_checked"] = ";".join(not_checked)
    out["qc_status"] = "fail" if failed else ("not checked" if not_checked else "pass")
    out["qc_pass"] = out["qc_status"] == "pass"
    return out
