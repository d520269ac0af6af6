"""Statistics every layer shares: multiple-testing control.

One Benjamini-Hochberg for the whole compendium, so that every axis treats a missing p-value the same way (it stays
missing and is not counted as a test) and q-values of different tables are comparable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["bh_fdr"]


def bh_fdr(p: ArrayLike) -> np.ndarray:
    """Compute Benjamini-Hochberg q-values (statsmodels' ``fdr_bh``: monotone, capped at 1).

    Parameters
    ----------
    p
        P-values (array-like); NaN or infinite entries are not tests.

    Returns
    -------
    numpy.ndarray
        Float q-values in the order of ``p``; NaN where ``p`` is not finite.

    Examples
    --------
    >>> bh_fdr([0.01, 0.04, float("nan"), 0.03])
    array([0.03, 0.04,  nan, 0.04])
    """
    from statsmodels.stats.multitest import multipletests  # lazy: statsmodels costs half a second to import

    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return q
