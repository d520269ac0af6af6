"""Intensity standardisation across batches (days, instruments) from a reference sample run in every batch.

The idea of CytoNorm (Van Gassen et al. 2020, Cytometry A 97:268): an aliquot of one control sample is stained and
acquired with every batch; the batch effect of a channel is whatever maps that control's intensity distribution in
the batch onto its distribution averaged over batches (the "goal"). The map is a monotone spline through matching
quantiles, on the transformed (arcsinh) scale, and is then applied to every sample of the batch. Here the map is per
channel over all cells of the control (CytoNorm's variant without FlowSOM clusters, enough when a batch shifts and
stretches a channel as a whole); scipy's PCHIP interpolant keeps it monotone, and beyond the outermost quantiles it
continues with the slope of the last segment. Where a channel has a gap between a negative and a positive population,
the quantiles that fall into the gap are unstable from batch to batch, and so is the map there: read MFIs on gated
populations (as the cohort does), or normalise per cluster as CytoNorm does. No maintained Python package implements CytoNorm (the reference is an
R package), hence this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.interpolate import PchipInterpolator

from ..errors import DataContractError

__all__ = ["QuantileNormaliser", "batch_mfi"]

_QUANTILES = np.linspace(0.001, 0.999, 101)


@dataclass
class QuantileNormaliser:
    """Per-batch, per-channel quantile maps fitted on a reference sample acquired in every batch.

    Parameters
    ----------
    cofactor
        arcsinh cofactor of the scale the maps work on (150 for fluorescence flow cytometry).
    quantiles
        Quantile levels matched between a batch's control and the goal distribution.

    Examples
    --------
    >>> norm = QuantileNormaliser().fit({"day1": control_day1, "day2": control_day2})  # doctest: +SKIP
    >>> fixed = norm.transform("day2", sample_day2)  # doctest: +SKIP
    """

    cofactor: float = 150.0
    quantiles: np.ndarray = field(default_factory=lambda: _QUANTILES.copy())
    maps_: dict = field(default_factory=dict, repr=False)
    goal_: dict = field(default_factory=dict, repr=False)

    def fit(self, controls: dict[str, pd.DataFrame], *, channels: list[str] | None = None) -> QuantileNormaliser:
        """Fit the maps.

        Parameters
        ----------
        controls
            Batch -> the reference sample's events in that batch (cells x channels, linear compensated intensities).
        channels
            Channels to normalise (default: the columns shared by all controls).

        Returns
        -------
        QuantileNormaliser
            ``self``, with ``goal_`` (the mean of the batches' arcsinh quantiles per channel) and ``maps_`` (batch ->
            channel -> monotone map onto the goal).

        Raises
        ------
        DataContractError
            Fewer than two batches, a control with under 100 events, or a channel missing from a control.
        """
        if len(controls) < 2:
            raise DataContractError(None, "intensity standardisation needs the reference sample in at least 2 batches")
        cols = channels or sorted(set.intersection(*(set(c.columns) for c in controls.values())))
        qs = {}
        for b, df in sorted(controls.items()):
            if len(df) < 100:
                raise DataContractError(None, f"batch '{b}': the reference sample has {len(df)} events (at least 100)")
            missing = [c for c in cols if c not in df.columns]
            if missing:
                raise DataContractError(None, f"batch '{b}': the reference sample lacks channel '{missing[0]}'",
                                        channel=missing[0])  # fmt: skip
            qs[b] = {c: np.quantile(np.arcsinh(df[c].to_numpy(np.float64) / self.cofactor), self.quantiles) for c in cols}
        self.goal_ = {c: np.mean([qs[b][c] for b in qs], axis=0) for c in cols}
        self.maps_ = {b: {c: _monotone_map(qs[b][c], self.goal_[c]) for c in cols} for b in qs}
        return self

    def transform(self, batch: str, events: pd.DataFrame) -> pd.DataFrame:
        """Normalise one sample of ``batch`` (linear intensities in, linear intensities out; other columns kept).

        Parameters
        ----------
        batch
            The batch the sample was acquired in (a key of the controls given to :meth:`fit`).
        events
            The sample's events (cells x channels, linear compensated intensities).

        Returns
        -------
        pandas.DataFrame
            A copy of ``events`` with every fitted channel mapped onto the goal distribution (same dtypes).

        Raises
        ------
        DataContractError
            A batch without a reference sample in the fit.
        """
        if batch not in self.maps_:
            raise DataContractError(None, f"batch '{batch}' has no reference sample (batches: {', '.join(self.maps_)})")
        out = events.copy()
        for c, fn in self.maps_[batch].items():
            if c in out.columns:
                y = fn(np.arcsinh(out[c].to_numpy(np.float64) / self.cofactor))
                out[c] = (np.sinh(y) * self.cofactor).astype(events[c].dtype, copy=False)
        return out


def _monotone_map(src: np.ndarray, dst: np.ndarray):
    """Build a monotone map with src quantiles -> dst quantiles, linear beyond the ends."""
    # Ties (a channel piled at zero) make the knots non-increasing: keep the first of equal source values.
    keep = np.concatenate([[True], np.diff(src) > 1e-9])
    x, y = src[keep], np.maximum.accumulate(dst[keep])
    if x.size < 2:
        shift = float(dst.mean() - src.mean())
        return lambda v: v + shift
    inner = PchipInterpolator(x, y, extrapolate=False)
    lo_slope = (y[1] - y[0]) / (x[1] - x[0])
    hi_slope = (y[-1] - y[-2]) / (x[-1] - x[-2])

    def fn(v: np.ndarray) -> np.ndarray:
        r = inner(v)
        r = np.where(v < x[0], y[0] + lo_slope * (v - x[0]), r)
        return np.where(v > x[-1], y[-1] + hi_slope * (v - x[-1]), r)

    return fn


def batch_mfi(events: pd.DataFrame, channels: list[str]) -> pd.Series:
    """Median intensity (MFI) of each channel.

    Parameters
    ----------
    events
        Cells x channels.
    channels
        Channels to summarise.

    Returns
    -------
    pandas.Series
        The median of each channel.
    """
    return events[channels].median()
