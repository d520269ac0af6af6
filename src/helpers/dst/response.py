"""Does ex vivo sensitivity predict the clinical response? ROC AUC with a bootstrap interval, a cut-off, PPV / NPV.

Scores are oriented so that a higher score predicts the positive class (e.g. primary resistance: a higher VEN AUC or
IC50 means a more resistant leukemia). The ROC AUC is the Mann-Whitney probability that a positive case scores above
a negative one (ties count one half); its interval is a stratified percentile bootstrap, all resamples computed at
once from ranks. The cut-off maximises Youden's J (sensitivity + specificity - 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.stats import rankdata

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["roc_auc", "roc_curve", "bootstrap_auc", "youden_cutoff", "diagnostic_table"]


def _clean(score, label):
    s, y = np.asarray(score, float), np.asarray(label, float)
    keep = np.isfinite(s) & np.isfinite(y)
    s, y = s[keep], y[keep].astype(int)
    if set(np.unique(y)) - {0, 1}:
        raise ValueError("labels must be 0/1")
    return s, y


def roc_auc(score: ArrayLike, label: ArrayLike) -> float:
    """Compute the ROC AUC (Mann-Whitney U / (n_pos n_neg)); NaN when a class is missing.

    Parameters
    ----------
    score
        Score per subject (higher = more likely positive); non-finite scores are left out with their label.
    label
        1 = positive (e.g. primary resistant), 0 = negative, aligned with ``score``.

    Returns
    -------
    float
        Probability that a random positive scores higher than a random negative (ties count half).

    Raises
    ------
    ValueError
        A finite label is not 0 or 1.
    """
    s, y = _clean(score, label)
    n1, n0 = int(y.sum()), int((1 - y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def roc_curve(score: ArrayLike, label: ArrayLike) -> pd.DataFrame:
    """Compute false and true positive rates at every threshold (score >= threshold called positive).

    Parameters
    ----------
    score
        Score per subject (higher = more likely positive); non-finite scores are left out with their label.
    label
        1 = positive (e.g. primary resistant), 0 = negative, aligned with ``score``.

    Returns
    -------
    pandas.DataFrame
        ``threshold, fpr, tpr``, from the threshold ``inf`` (nothing positive) down to the lowest score.

    Raises
    ------
    ValueError
        A finite label is not 0 or 1.
    """
    s, y = _clean(score, label)
    thr = np.concatenate([[np.inf], np.unique(s)[::-1]])
    pred = s[None, :] >= thr[:, None]
    tpr = (pred & (y == 1)).sum(1) / max(y.sum(), 1)
    fpr = (pred & (y == 0)).sum(1) / max((1 - y).sum(), 1)
    return pd.DataFrame({"threshold": thr, "fpr": fpr, "tpr": tpr})


def bootstrap_auc(score: ArrayLike, label: ArrayLike, *, n_boot: int = 2000, seed: int = 0,
                  level: float = 0.95) -> dict[str, float]:  # fmt: skip
    """Compute the ROC AUC with a stratified percentile bootstrap interval (cases and controls resampled separately).

    Parameters
    ----------
    score
        Score per subject (higher = more likely positive); non-finite scores are left out with their label.
    label
        1 = positive (e.g. primary resistant), 0 = negative, aligned with ``score``.
    n_boot
        Bootstrap resamples.
    seed
        Seed of the resampling.
    level
        Coverage of the percentile interval.

    Returns
    -------
    dict
        ``auc`` (:func:`roc_auc` of all subjects), ``ci_low, ci_high`` (quantiles ``(1 - level) / 2`` and
        ``(1 + level) / 2`` of the resampled AUCs), ``n_pos, n_neg`` (subjects with a finite score) and ``n_boot``.

    Raises
    ------
    ValueError
        A finite label is not 0 or 1.
    """
    s, y = _clean(score, label)
    pos, neg = s[y == 1], s[y == 0]
    rng = np.random.default_rng(seed)
    bp = pos[rng.integers(0, len(pos), (n_boot, len(pos)))]
    bn = neg[rng.integers(0, len(neg), (n_boot, len(neg)))]
    # U statistic per resample, from ranks within each combined resample (vectorised over resamples).
    comb = np.concatenate([bp, bn], axis=1)
    ranks = rankdata(comb, axis=1)
    u = ranks[:, : len(pos)].sum(1) - len(pos) * (len(pos) + 1) / 2
    aucs = u / (len(pos) * len(neg))
    a = (1 - level) / 2
    return {"auc": roc_auc(s, y), "ci_low": float(np.quantile(aucs, a)), "ci_high": float(np.quantile(aucs, 1 - a)),
            "n_pos": int(len(pos)), "n_neg": int(len(neg)), "n_boot": int(n_boot)}


def youden_cutoff(score: ArrayLike, label: ArrayLike) -> float:
    """Find the threshold maximising sensitivity + specificity - 1 (score >= threshold = positive); ties: the highest.

    Parameters
    ----------
    score
        Score per subject (higher = more likely positive); non-finite scores are left out with their label.
    label
        1 = positive (e.g. primary resistant), 0 = negative, aligned with ``score``.

    Returns
    -------
    float
        The threshold (one of the scores).

    Raises
    ------
    ValueError
        A finite label is not 0 or 1.
    """
    roc = roc_curve(score, label)
    j = roc["tpr"] - roc["fpr"]
    return float(roc["threshold"].iloc[int(np.argmax(j.to_numpy()))])


def diagnostic_table(score: ArrayLike, label: ArrayLike, cutoff: float) -> dict[str, float]:
    """Tabulate sensitivity, specificity, PPV, NPV and the 2 x 2 counts at ``cutoff`` (score >= cutoff = positive).

    Parameters
    ----------
    score
        Score per subject (higher = more likely positive); non-finite scores are left out with their label.
    label
        1 = positive (e.g. primary resistant), 0 = negative, aligned with ``score``.
    cutoff
        Scores at or above it are called positive.

    Returns
    -------
    dict
        ``cutoff, tp, fp, fn, tn, sensitivity, specificity, ppv, npv`` (NaN where a denominator is 0).

    Raises
    ------
    ValueError
        A finite label is not 0 or 1.
    """
    s, y = _clean(score, label)
    p = s >= cutoff
    tp, fp = int((p & (y == 1)).sum()), int((p & (y == 0)).sum())
    fn, tn = int((~p & (y == 1)).sum()), int((~p & (y == 0)).sum())

    def ratio(a, b):
        return a / b if b else float("nan")

    return {"cutoff": float(cutoff), "tp": tp, "fp": fp, "fn": fn, "tn": tn, "sensitivity": ratio(tp, tp + fn),
            "specificity": ratio(tn, tn + fp), "ppv": ratio(tp, tp + fp), "npv": ratio(tn, tn + fn)}
