"""Is resistance to AZA/VEN pre-existing and heritable? A per-barcode test across independent replicate mice.

The question: do the same barcodes expand under AZA/VEN in independent mice more than their starting abundance and
the vehicle arm explain? If so, the resistant state was there before treatment and is passed on to daughter cells.

Method (stratified permutation of clone identities, the mouse as the unit)
-------------------------------------------------------------------------
1. For each mouse, every barcode detected before treatment in that PDX gets a log2 fold change (post / pre, a
   half-read pseudocount) and is standardised against barcodes of *similar starting abundance in the same mouse*
   (strata = quantiles of the pre-treatment count): ``z = (lfc - median) / (1.4826 MAD)``. This removes the
   mouse's global kill or growth and the fact that small clones have noisier fold changes.
2. Per barcode: ``S = consensus z over AZA/VEN mice - max(0, median z over vehicle mice)``, where the consensus is a low
   quantile (by default the minimum for up to four treated mice): the clone must expand in (nearly) every treated
   mouse, so a chance expansion in one mouse is not enough, and the probability that unrelated clones look alike in
   all treated mice falls geometrically with the number of mice. Subtracting the vehicle arm's expansion removes
   treatment-independent fitness that every mouse shows (a chance loss in vehicle mice is not counted as evidence).
3. Null: clone identities are independent between mice. Within each mouse, every barcode's z is redrawn from the z
   values of barcodes of the same stratum (keeping each mouse's distribution and each barcode's starting abundance,
   a stratified permutation / bootstrap), ``S`` is recomputed; the null values of all barcodes are pooled for a
   per-barcode p-value, Benjamini-Hochberg within PDX gives q-values. True resistant clones would inflate this null
   (they are part of every mouse's z distribution and would mask each other), so the null is refitted without the
   barcodes just called, up to ``max_iter`` times. When nothing is called the first null is final, which keeps the
   test calibrated under the global null (checked on simulations that plant no resistant clone).
   The PDX-level p-value uses the maximum of ``S`` over barcodes (family-wise), so it answers "any heritable
   resistance in this PDX?".

Assumptions: mice are independent replicates of the same barcoded pool; a clone's fate in one mouse does not depend on
its fate in another except through heritable properties; strata make fold changes exchangeable between barcodes of
similar starting abundance. With few mice the smallest attainable p-values are limited by the permutations.

For comparison, :func:`uniform_overlap_test` is the naive test: how many mice of an arm share a barcode among their
dominant clones, against a null where each mouse's dominant set is a uniform draw of barcodes. It ignores starting
abundance; dominant clones of the pool are shared by every mouse, treated or not, so it is anti-conservative.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..stats import bh_fdr
from .dynamics import DOMINANT_THRESHOLD

__all__ = ["ResistanceResult", "resistance_test", "uniform_overlap_test"]


@dataclass
class ResistanceResult:
    """Per-barcode evidence (``barcodes``) and per-PDX summary (``pdx``) of pre-existing heritable resistance."""

    barcodes: pd.DataFrame
    pdx: pd.DataFrame


def _statistic(zz: np.ndarray, *, n_treated: int, consensus: float) -> np.ndarray:
    """Consensus z over treated mice (first ``n_treated`` columns) minus the vehicle mice's expansion (the rest)."""
    s = np.quantile(zz[..., :n_treated], consensus, axis=-1, method="lower")
    if zz.shape[-1] == n_treated:
        return s
    # only expansion in vehicle mice explains expansion under treatment; a chance loss there is no evidence
    return s - np.maximum(np.median(zz[..., n_treated:], axis=-1), 0.0)


def _stratify(x: np.ndarray, n_strata: int) -> np.ndarray:
    """Stratum (0..n_strata-1) of each value by rank (ties by position, deterministic)."""
    ranks = np.argsort(np.argsort(x, kind="stable"), kind="stable")
    return (ranks * n_strata // max(x.size, 1)).astype(np.int64)


def _robust_z(lfc: np.ndarray, strata: np.ndarray, min_scale: float) -> np.ndarray:
    z = np.empty_like(lfc)
    for s in np.unique(strata):
        sel = strata == s
        med = np.median(lfc[sel])
        mad = 1.4826 * np.median(np.abs(lfc[sel] - med))
        z[sel] = (lfc[sel] - med) / max(mad, min_scale)
    return z


def resistance_test(
    samples: pd.DataFrame,
    *,
    pre: str = "pre_treatment",
    post: str = "post_treatment",
    treated_arm: str = "aza_ven",
    control_arm: str = "vehicle",
    n_perm: int = 1000,
    n_strata: int = 5,
    min_scale: float = 0.5,
    fdr: float = 0.05,
    consensus: float = 0.25,
    max_iter: int = 3,
    seed: int = 0,
) -> ResistanceResult:
    """Test every pre-existing barcode of every PDX for heritable expansion under treatment (see module docstring).

    Parameters
    ----------
    samples
        Output of :func:`helpers.barcodes.sample_counts` (detected barcodes per mouse and timepoint).
    pre, post
        Timepoints compared.
    treated_arm, control_arm
        Arms; without control mice the statistic is the treated median alone.
    n_perm
        Permutations of the null.
    n_strata
        Strata of starting abundance per mouse.
    min_scale
        Floor of the robust scale (log2 units), so that strata of identical fold changes do not give infinite z.
    fdr
        Benjamini-Hochberg level for calling a barcode resistant.
    consensus
        Quantile of the treated mice's z taken per barcode (lower interpolation): 0.25 is the minimum for up to 4
        treated mice, the second smallest for 5 to 8; it asks for expansion in (nearly) every treated mouse.
    max_iter
        Refits of the null without the barcodes already called.
    seed
        Seed of the resampling.

    Returns
    -------
    ResistanceResult
        ``barcodes``: pdx_id, barcode, n_treated, n_vehicle, pre_frequency, consensus_z_treated, median_z_vehicle,
        statistic, p_value, q_value, resistant. ``pdx``: pdx_id, n_barcodes, n_resistant, max_statistic, p_value.
    """
    det = samples[samples["detected"]]
    tot = det.groupby("sample_key")["count"].sum()
    rng = np.random.default_rng(seed)
    bc_rows, pdx_rows = [], []
    for pdx, sub in det.groupby("pdx_id", sort=True):
        mice = sub.groupby("mouse_id")["timepoint"].agg(set)
        mice = [m for m, tps in mice.items() if pre in tps and post in tps]
        arm = sub.drop_duplicates("mouse_id").set_index("mouse_id")["arm"]
        treated = [m for m in mice if arm[m] == treated_arm]
        vehicle = [m for m in mice if arm[m] == control_arm]
        barcodes = np.sort(sub.loc[sub["timepoint"] == pre, "barcode"].unique())
        if not treated or barcodes.size == 0:
            continue
        order = treated + vehicle
        cnt = sub.pivot_table(index="barcode", columns=["mouse_id", "timepoint"], values="count", aggfunc="sum",
                              fill_value=0).reindex(barcodes, fill_value=0)  # fmt: skip
        z = np.empty((barcodes.size, len(order)))
        strata = np.empty((barcodes.size, len(order)), dtype=np.int64)
        pre_freq = np.empty((barcodes.size, len(order)))
        for k, m in enumerate(order):
            c_pre = cnt.get((m, pre), pd.Series(0, index=barcodes)).to_numpy(float)
            c_post = cnt.get((m, post), pd.Series(0, index=barcodes)).to_numpy(float)
            n_pre, n_post = tot[f"{m}|{pre}"], tot[f"{m}|{post}"]
            lfc = np.log2((c_post + 0.5) / (n_post + 0.5)) - np.log2((c_pre + 0.5) / (n_pre + 0.5))
            strata[:, k] = _stratify(c_pre, n_strata)
            z[:, k] = _robust_z(lfc, strata[:, k], min_scale)
            pre_freq[:, k] = c_pre / n_pre
        nt = len(treated)

        stat = functools.partial(_statistic, n_treated=nt, consensus=consensus)
        observed = stat(z)
        consistent = np.zeros(barcodes.size, dtype=bool)
        p, null_stat = _null_pvalues(z, strata, observed, stat, n_perm, rng, candidates=consistent)
        q = bh_fdr(p)
        called = (q <= fdr) & (observed > 0)
        for _ in range(max_iter):  # refit the null without the barcodes it has just called
            if not called.any():
                break
            p, null_stat = _null_pvalues(z, strata, observed, stat, n_perm, rng, candidates=called | consistent)
            q = bh_fdr(p)
            new = (q <= fdr) & (observed > 0)
            if np.array_equal(new, called):
                break
            called = new
        max_null = null_stat.max(axis=1)
        p_pdx = (1 + (max_null >= observed.max()).sum()) / (1 + n_perm)
        bc_rows.append(pd.DataFrame({
            "pdx_id": pdx, "barcode": barcodes, "n_treated": nt, "n_vehicle": len(vehicle),
            "pre_frequency": pre_freq.mean(axis=1),
            "consensus_z_treated": np.quantile(z[:, :nt], consensus, axis=1, method="lower"),
            "median_z_vehicle": np.median(z[:, nt:], axis=1) if vehicle else np.nan,
            "statistic": observed, "p_value": p, "q_value": q, "resistant": called,
        }))  # fmt: skip
        pdx_rows.append({"pdx_id": pdx, "n_barcodes": barcodes.size, "n_treated": nt, "n_vehicle": len(vehicle),
                         "n_resistant": int(called.sum()), "max_statistic": float(observed.max()),
                         "p_value": float(p_pdx)})  # fmt: skip
    bcs = pd.concat(bc_rows, ignore_index=True) if bc_rows else pd.DataFrame()
    if len(bcs):
        bcs = bcs.sort_values(["pdx_id", "p_value", "statistic", "barcode"], ascending=[1, 1, 0, 1], ignore_index=True)
    return ResistanceResult(bcs, pd.DataFrame(pdx_rows))


def _null_pvalues(z, strata, observed, stat, n_perm, rng, *, candidates):
    """Per-barcode p-values from a stratified resampling null; also returns the null statistics (n_perm x barcodes).

    In every mouse, each barcode's null z is drawn from the z values of the barcodes of its starting-abundance stratum
    in that mouse, leaving out the ``candidates`` (barcodes already called), so that true resistant clones do not
    inflate the null of the others. Null statistics of all barcodes are pooled.
    """
    n_bc, n_mice = z.shape
    null = np.empty((n_perm, n_bc, n_mice))
    for k in range(n_mice):
        for s in np.unique(strata[:, k]):
            pos = np.flatnonzero(strata[:, k] == s)
            pool = z[pos[~candidates[pos]], k]
            if pool.size == 0:
                pool = z[pos, k]
            null[:, pos, k] = pool[rng.integers(0, pool.size, size=(n_perm, pos.size))]
    null_stat = stat(null)
    pooled = np.sort(null_stat.ravel())
    n_ge = pooled.size - np.searchsorted(pooled, observed, side="left")
    return (1 + n_ge) / (1 + pooled.size), null_stat


def _poisson_binomial_sf(k: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Compute P(K >= k) for K a sum of independent Bernoulli(probs)."""
    dist = np.array([1.0])
    for pr in probs:
        dist = np.convolve(dist, [1 - pr, pr])
    sf = np.concatenate([np.cumsum(dist[::-1])[::-1], [0.0]])
    return sf[np.clip(k, 0, sf.size - 1)]


def uniform_overlap_test(samples: pd.DataFrame, *, arm: str = "aza_ven", timepoint: str = "post_treatment",
                         threshold: float = DOMINANT_THRESHOLD, fdr: float = 0.05) -> pd.DataFrame:  # fmt: skip
    """Run the naive test: barcodes dominant in more mice of ``arm`` than uniform draws of barcodes would give.

    Each mouse's dominant set (frequency > ``threshold``) is taken as a uniform random subset of the PDX's detected
    barcodes; the number of mice sharing a barcode is then Poisson-binomial. Calls need at least 2 mice and BH q <= fdr.
    Kept to show why starting abundance must be part of the null (see the module docstring).

    Parameters
    ----------
    samples
        Long per-sample counts (:func:`helpers.barcodes.sample_counts`).
    arm, timepoint
        The mice and the timepoint tested.
    threshold
        Frequency above which a clone is dominant in a mouse.
    fdr
        Benjamini-Hochberg level of the calls.

    Returns
    -------
    DataFrame
        One row per detected barcode of each PDX: ``pdx_id, barcode, n_mice`` (mice of ``arm`` at ``timepoint``),
        ``n_dominant`` (mice where it is dominant), ``p_value`` (Poisson-binomial), ``q_value`` (BH), ``called``.
    """
    rows = []
    det = samples[samples["detected"]]
    for pdx, sub in det.groupby("pdx_id", sort=True):
        universe = sub["barcode"].unique()
        s = sub[(sub["arm"] == arm) & (sub["timepoint"] == timepoint)]
        mice = sorted(s["mouse_id"].unique())
        if not mice:
            continue
        dom = s[s["frequency"] > threshold]
        probs = np.array([(dom["mouse_id"] == m).sum() / universe.size for m in mice])
        k = dom.groupby("barcode")["mouse_id"].nunique().reindex(universe, fill_value=0)
        p = _poisson_binomial_sf(k.to_numpy(), probs)
        q = bh_fdr(p)
        rows.append(pd.DataFrame({"pdx_id": pdx, "barcode": k.index, "n_mice": len(mice), "n_dominant": k.to_numpy(),
                                  "p_value": p, "q_value": q, "called": (q <= fdr) & (k.to_numpy() >= 2)}))  # fmt: skip
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
