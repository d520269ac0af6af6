"""Drug sensitivity scores (Yadav et al. 2014 Sci Rep) and selective scores against a reference cohort, vectorised.

For the logistic f(x) = d + (a - d) / (1 + 10^(b (c - x))) in % inhibition (x = log10 conc, c = log10 IC50, d = 0,
a = top) and an activity threshold t (10 %), with x2 = log10 max conc and xmin = log10 min conc:

- x1 = c - log10((a - t) / (t - d)) / b, the concentration where the curve crosses t, clamped to [xmin, x2];
- int = area of f - t between x1 and x2 (closed form);
- DSS1 = 100 int / ((x2 - xmin)(100 - t)); DSS2 = DSS1 / log10(a); DSS3 = DSS1 log10(100) / log10(a) (x2 - x1) /
  (x2 - xmin);
- 0 when IC50 >= max conc, slope 0 or a <= t; a is capped at 100. As in Breeze, a DSS2 above 50 (only reachable with
  degenerate fits) is set to 0, and negative scores to 0.

Selective scores against a reference set (e.g. healthy bone marrows): sDSS = DSS - mean(ref), zDSS = (DSS - mean) /
(SD + 1), rDSS = (DSS - median) / (MAD + 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["dss_scores", "selective_dss"]


def dss_scores(top: ArrayLike, slope: ArrayLike, log_ic50: ArrayLike, log_min_conc: ArrayLike,
               log_max_conc: ArrayLike, *, threshold: float = 10.0) -> pd.DataFrame:  # fmt: skip
    """Compute DSS1, DSS2 and DSS3 of many fitted curves (all arguments broadcast; concentrations in any one unit).

    Parameters
    ----------
    top
        Plateau of the 4PL fit (% inhibition; capped at 100).
    slope
        Hill slope (its absolute value is used).
    log_ic50
        log10 IC50 of the fit.
    log_min_conc, log_max_conc
        log10 of the lowest and highest tested concentration, in the unit of ``log_ic50``.
    threshold
        Minimal activity (% inhibition) counted, 10 % in Yadav et al. 2014.

    Returns
    -------
    pandas.DataFrame
        Columns ``dss1, dss2, dss3`` (0-100; 0 for an inactive curve, NaN where the fit is missing), one row per
        broadcast curve in input order (a fresh ``RangeIndex``).
    """
    a = np.minimum(np.asarray(top, float), 100.0)
    b = np.abs(np.asarray(slope, float))
    c = np.asarray(log_ic50, float)
    xmin, x2 = np.asarray(log_min_conc, float), np.asarray(log_max_conc, float)
    t, d = threshold, 0.0
    a, b, c, xmin, x2 = (np.atleast_1d(v) for v in np.broadcast_arrays(a, b, c, xmin, x2))
    missing = ~(np.isfinite(a) & np.isfinite(b) & np.isfinite(c))
    zero = missing | (c >= x2) | (b == 0) | (a <= t)
    a_ = np.where(zero, 100.0, a)
    b_ = np.where(zero, 1.0, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        x1 = c - (np.log(a_ - t) - np.log(t - d)) / (b_ * np.log(10))
    x1 = np.clip(x1, xmin, x2)

    def prim(x):  # antiderivative of a / (1 + 10^(b (c - x))) (d = 0)
        return (a_ - d) * np.log1p(10.0 ** (b_ * (c - x))) / (b_ * np.log(10)) + a_ * x

    with np.errstate(over="ignore", invalid="ignore"):
        int_y = prim(x2) - prim(x1) - t * (x2 - x1)
    total = (x2 - xmin) * (100 - t)
    dss1 = 100 * int_y / total
    dss2 = dss1 / np.log10(a_)
    dss3 = dss1 * (np.log10(100) / np.log10(a_)) * (x2 - x1) / (x2 - xmin)
    dss2 = np.where(dss2 > 50, 0.0, dss2)
    out = {}
    for name, v in (("dss1", dss1), ("dss2", dss2), ("dss3", dss3)):
        v = np.where((v < 0) | (v > 100) | ~np.isfinite(v), 0.0, v)
        out[name] = np.where(missing, np.nan, np.where(zero, 0.0, v))
    return pd.DataFrame(out)


def selective_dss(dss: pd.DataFrame, reference: pd.DataFrame, *, value: str = "dss2", drug: str = "drug") -> pd.DataFrame:
    """Score each curve against a reference set of the same drug (selective sDSS, zDSS, rDSS).

    Parameters
    ----------
    dss
        One row per curve with columns ``drug`` and ``value``.
    reference
        Reference scores (e.g. healthy bone marrows): columns ``drug`` and ``value``, several rows per drug.
    value
        The score column compared (``dss1``, ``dss2``, ``dss3``).
    drug
        The column naming the drug, in both tables.

    Returns
    -------
    pandas.DataFrame
        ``dss`` with ``s<value>`` (difference to the reference mean), ``z<value>`` ((x - mean)/(SD + 1)) and
        ``r<value>`` ((x - median)/(MAD + 1)); NaN for drugs missing from the reference.
    """
    g = reference.groupby(drug)[value]
    med = g.median()
    mad = reference.assign(_dev=(reference[value] - reference[drug].map(med)).abs()).groupby(drug)["_dev"].median()
    stats = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "median": med, "mad": mad})
    s = stats.reindex(dss[drug].to_numpy())
    x = dss[value].to_numpy(float)
    out = dss.copy()
    out[f"s{value}"] = x - s["mean"].to_numpy()
    out[f"z{value}"] = (x - s["mean"].to_numpy()) / (s["sd"].to_numpy() + 1)
    out[f"r{value}"] = (x - s["median"].to_numpy()) / (s["mad"].to_numpy() + 1)
    return out
