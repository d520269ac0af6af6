"""Is resistance pre-existing and heritable? Clone calls and a PDX-level test built on the negative-binomial GLM.

A clone is called resistant when
1. it expands under treatment beyond the control arm: its one-sided p-value is the larger of the edgeR
   quasi-likelihood GLM's (:func:`helpers.barcodes.differential_abundance`) and an exact permutation p-value over the
   assignments of arm labels to mice (its Welch-type t of per-mouse log2 CPM, or paired log2 expansion, with a SAM
   fudge), and its Benjamini-Hochberg q is at most ``fdr``. Both arms start from the same barcoded pool, so the
   control arm carries the clone's starting abundance and its intrinsic, treatment-independent fitness (a clone that
   dominates vehicle mice too is not called); with per-mouse baselines each clone's expansion is compared in its own
   mouse. The permutation bound is needed because real clones engraft in some mice and not in others, which no count
   model with a dispersion shared across clones describes: on real vehicle pseudo-arms the GLM alone calls clones
   (docs/barcodes.md); the permutation p is exact whenever mice are exchangeable between arms;
2. and reproducibly so: in at least ``min_mice`` treated mice (default all but one, and at least 2) the clone's own
   value exceeds its largest value in any control mouse, so that one jackpot mouse cannot make a call on its own.

The PDX-level question (does this leukemia carry a pre-existing resistant subpopulation?) is a permutation test whose
null is the control arm: the statistic, the largest t among reproducible expanding clones, is ranked among all arm
assignments (or ``max_perm`` seeded ones). The smallest attainable p-value is 1 / (number of assignments): 3 vs 3
mice give 1/20, so no PDX-level p below 0.05 is possible with six mice; 6 vs 6 give 1/924. ``p_simes`` (Simes'
combination of the GLM's one-sided p-values) is reported beside it as the model-based answer.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from math import comb
from typing import Any

import numpy as np
import pandas as pd

from ..stats import bh_fdr
from .diff import DiffResult, comparison_units, differential_abundance
from .resistance import ResistanceResult

__all__ = ["resistance_calls", "resistance_by_arm", "resistance_tables", "resistance_call_summary",
           "split_calibration", "control_split_calibration", "calibration_summary"]


def _one_sided(tab: pd.DataFrame) -> np.ndarray:
    p = tab["p_value"].to_numpy()
    return np.where(tab["log_fc"].to_numpy() > 0, p / 2, 1 - p / 2)


def _mouse_values(res: DiffResult, prior: float = 0.5) -> np.ndarray:
    """Compute barcode x mouse log2 CPM at the endpoint, or (paired design) log2 expansion over the own baseline."""
    post = res.units
    x = res.counts[post["unit"]].to_numpy(float)
    v = np.log2((x + prior) / x.sum(axis=0) * 1e6)
    if res.paired:
        own = [u for u in res.counts.columns if u not in set(post["unit"])]
        bmap = {m: u for u in own for m in post["mouse"] if u.split("|")[0] == m}
        xb = np.column_stack([res.counts[bmap[m]].to_numpy(float) for m in post["mouse"]])
        v = v - np.log2((xb + prior) / xb.sum(axis=0) * 1e6)
    return v


def _label_matrix(n: int, k: int, observed: np.ndarray, max_perm: int, seed: int) -> np.ndarray:
    """List arm assignments (rows, True = treated) with ``k`` treated among ``n`` mice, the observed one first.

    Every assignment when there are at most ``max_perm``, else the observed plus a seeded random sample.
    """
    if comb(n, k) <= max_perm:
        rows = []
        for idx in itertools.combinations(range(n), k):
            lab = np.zeros(n, dtype=bool)
            lab[list(idx)] = True
            rows.append(lab)
        labs = np.array(rows)
        first = np.flatnonzero((labs == observed).all(axis=1))[0]
        return np.vstack([labs[first], np.delete(labs, first, axis=0)])
    rng = np.random.default_rng([seed, n, k])
    labs = np.zeros((max_perm, n), dtype=bool)
    labs[0] = observed
    for r in range(1, max_perm):
        labs[r, rng.choice(n, k, replace=False)] = True
    return labs


def _need(n_t: int, min_mice: int | None) -> int:
    return min_mice if min_mice is not None else (n_t if n_t <= 2 else n_t - 1)


def _perm_stats(v: np.ndarray, labs: np.ndarray, need: int, *, chunk: int = 256):
    """Compute per assignment every barcode's Welch-type t, its reproducibility flag and the PDX statistic.

    The t of the mouse values has the SAM fudge ``s0`` in the denominator; the PDX statistic is the largest t among
    reproducible expanding barcodes (0 if none).
    """
    n_bc = v.shape[0]
    t_all = np.empty((labs.shape[0], n_bc))
    rep_all = np.empty((labs.shape[0], n_bc), dtype=bool)

    def welch(lab):
        a, b = v[:, lab], v[:, ~lab]
        va = a.var(axis=1, ddof=1) if a.shape[1] > 1 else np.zeros(n_bc)
        vb = b.var(axis=1, ddof=1) if b.shape[1] > 1 else np.zeros(n_bc)
        return a.mean(axis=1) - b.mean(axis=1), np.sqrt(va / a.shape[1] + vb / b.shape[1])

    d0, se0 = welch(labs[0])
    s0 = float(np.median(se0)) if np.median(se0) > 0 else 1.0
    for lo in range(0, labs.shape[0], chunk):
        for r in range(lo, min(lo + chunk, labs.shape[0])):
            d, se = welch(labs[r])
            t_all[r] = d / (se + s0)
            mx_c = v[:, ~labs[r]].max(axis=1, keepdims=True)
            rep_all[r] = (v[:, labs[r]] > mx_c).sum(axis=1) >= need
    elig = rep_all & (t_all > 0)
    pdx_stat = np.where(elig, t_all, 0.0).max(axis=1)
    return t_all, rep_all, pdx_stat


def _analyse(counts, units, kw, *, fdr, min_mice, max_perm, seed, labels=None):
    """One comparison: GLM, per-barcode permutation bound, reproducibility, calls and the PDX-level permutation p."""
    res = differential_abundance(counts, units, labels=labels, **kw)
    tab = res.table
    p_glm = _one_sided(tab)
    v = _mouse_values(res)
    obs = res.units["treated"].to_numpy()
    n, k = obs.size, int(obs.sum())
    need = _need(k, min_mice)
    labs = _label_matrix(n, k, obs, max_perm, seed)
    t_all, rep_all, pdx_stat = _perm_stats(v, labs, need)
    # the permutation p of each barcode: exact when mice are exchangeable between arms (the null), whatever the
    # distribution of its counts (clones engraft in some mice and not in others: no count model holds for that)
    p_perm = (t_all >= t_all[0] - 1e-12).mean(axis=0)
    p = np.maximum(p_glm, p_perm)
    q = bh_fdr(p)
    rep = rep_all[0]
    n_up = (v[:, obs] > v[:, ~obs].max(axis=1, keepdims=True)).sum(axis=1)
    called = (q <= fdr) & (tab["log_fc"].to_numpy() > 0) & rep
    q_glm = bh_fdr(p_glm)
    called_glm = (q_glm <= fdr) & (tab["log_fc"].to_numpy() > 0) & rep
    p_pdx = float((pdx_stat >= pdx_stat[0] - 1e-12).mean())
    return dict(res=res, p_glm=p_glm, q_glm=q_glm, p_perm=p_perm, p=p, q=q, n_up=n_up, rep=rep, called=called,
                called_glm=called_glm, stat=float(pdx_stat[0]), p_pdx=p_pdx, n_assign=labs.shape[0], n=n, k=k)


def _simes(p: np.ndarray) -> float:
    if p.size == 0:
        return np.nan
    s = np.sort(p)
    return float(min(1.0, (s * s.size / np.arange(1, s.size + 1)).min()))


def resistance_calls(counts: pd.DataFrame, units: pd.DataFrame, *, treated: str, control: str,
                     tissue: str | None = None, timepoint: str | None = None, fdr: float = 0.05,
                     min_mice: int | None = None, max_perm: int = 5000, seed: int = 0,
                     **kwargs: Any) -> ResistanceResult:  # fmt: skip
    """Call pre-existing resistant clones per PDX and test each PDX against its control arm (module docstring).

    Parameters
    ----------
    counts, units
        Collapsed counts and units (:func:`helpers.barcodes.collapse_replicates`).
    treated, control
        Arms compared.
    tissue, timepoint
        Endpoint tissue and timepoint when there are several.
    fdr
        Benjamini-Hochberg level of the clone calls.
    min_mice
        Treated mice in which a clone must exceed every control mouse (default all but one, at least 2).
    max_perm
        Largest number of arm assignments (all of them when there are fewer, else a seeded sample).
    seed
        Seed of the sampled assignments.
    **kwargs
        Passed to :func:`helpers.barcodes.differential_abundance` (normalization, filters).

    Returns
    -------
    ResistanceResult
        ``barcodes``: ``pdx_id, barcode, log_fc, log_cpm, p_value, q_value`` (two-sided GLM), ``p_glm_expansion``
        (one-sided GLM), ``p_permutation``, ``p_expansion`` (the larger of the two), ``q_expansion`` (BH),
        ``n_mice_up, reproducible, resistant, baseline_cpm, n_treated, n_vehicle``. ``pdx``: ``pdx_id, treated_arm,
        control_arm, n_barcodes, n_treated, n_vehicle, n_resistant, n_resistant_glm_only, statistic, p_value``
        (permutation), ``n_assignments, min_attainable_p, p_simes`` (Simes over the one-sided GLM p).

    Raises
    ------
    DataContractError
        An unknown arm, tissue or timepoint, too few mice in a PDX's arms, or fewer than 2 barcodes passing the
        abundance filter (:func:`helpers.barcodes.differential_abundance`).
    """
    bc_rows, pdx_rows = [], []
    for pdx in sorted(set(units.loc[units["arm"].isin([treated, control]), "pdx_id"])):
        kw = dict(treated=treated, control=control, tissue=tissue, timepoint=timepoint, pdx=pdx, **kwargs)
        a = _analyse(counts, units, kw, fdr=fdr, min_mice=min_mice, max_perm=max_perm, seed=seed)
        tab = a["res"].table
        bc_rows.append(pd.DataFrame({
            "pdx_id": pdx, "barcode": tab["barcode"], "log_fc": tab["log_fc"], "log_cpm": tab["log_cpm"],
            "p_value": tab["p_value"], "q_value": tab["q_value"], "p_glm_expansion": a["p_glm"],
            "p_permutation": a["p_perm"], "p_expansion": a["p"], "q_expansion": a["q"], "n_mice_up": a["n_up"],
            "reproducible": a["rep"], "resistant": a["called"], "baseline_cpm": tab["baseline_cpm"],
            "n_treated": a["k"], "n_vehicle": a["n"] - a["k"],
        }))  # fmt: skip
        pdx_rows.append({"pdx_id": pdx, "treated_arm": treated, "control_arm": control, "n_barcodes": len(tab),
                         "n_treated": a["k"], "n_vehicle": a["n"] - a["k"], "n_resistant": int(a["called"].sum()),
                         "n_resistant_glm_only": int(a["called_glm"].sum()), "statistic": a["stat"],
                         "p_value": a["p_pdx"], "n_assignments": a["n_assign"],
                         "min_attainable_p": 1 / a["n_assign"], "p_simes": _simes(a["p_glm"])})  # fmt: skip
    bcs = pd.concat(bc_rows, ignore_index=True) if bc_rows else pd.DataFrame()
    if len(bcs):
        bcs = bcs.sort_values(["pdx_id", "p_expansion", "p_glm_expansion", "barcode"], ignore_index=True)
    return ResistanceResult(bcs, pd.DataFrame(pdx_rows))


def split_calibration(counts: pd.DataFrame, units: pd.DataFrame, *, arm: str,
                      sizes: Iterable[tuple[int, int]] = ((3, 3), (2, 4), (4, 2)),
                      tissue: str | None = None, timepoint: str | None = None, pdx: str | None = None,
                      fdr: float = 0.05, min_mice: int | None = None, max_perm: int = 5000,
                      **kwargs: Any) -> pd.DataFrame:  # fmt: skip
    """Split the mice of one arm into pseudo-arms in every possible way and run the resistance test on each split.

    The pseudo-arms differ by nothing but chance, so every clone call is false and a calibrated test calls clones in
    at most ``fdr`` of the splits. The PDX-level p of a split is its exact permutation p among all splits of the
    same sizes (the same null as :func:`resistance_calls`).

    Parameters
    ----------
    counts, units
        Collapsed counts and units.
    arm
        The arm whose mice are split (the control arm).
    sizes
        ``(pseudo-treated, pseudo-control)`` mice of each split type; sizes the arm cannot fill are skipped.
    tissue, timepoint
        Endpoint tissue and timepoint when there are several.
    pdx
        Restrict to one PDX.
    fdr, min_mice, max_perm
        As in :func:`resistance_calls`.
    **kwargs
        Passed to :func:`helpers.barcodes.differential_abundance`.

    Returns
    -------
    DataFrame
        One row per split: ``split_type`` ("3 vs 3"), ``treated_mice``, ``control_mice``, ``n_barcodes``,
        ``n_called``, ``n_called_glm_only``, ``min_q``, ``min_q_glm_only``, ``statistic``, ``pdx_p_value``
        (permutation), ``p_simes``; mice joined by ``;``.
    """
    sub = units[units["arm"] == arm]
    if pdx is not None:
        sub = sub[sub["pdx_id"] == pdx]
    ref = units[~units.index.isin(sub.index)]
    rows = []
    for n_t, n_c in sizes:
        all_mice = sorted(set(sub["mouse"]))
        first = sub.assign(arm=np.where(sub["mouse"] == all_mice[0], "pseudo_control", "pseudo_treated"))
        post, _, _ = comparison_units(pd.concat([ref, first]), treated="pseudo_treated", control="pseudo_control",
                                      tissue=tissue, timepoint=timepoint)  # fmt: skip
        mice = sorted(post["mouse"])
        if len(mice) != n_t + n_c:
            continue
        kw = dict(treated="pseudo_treated", control="pseudo_control", tissue=tissue, timepoint=timepoint, **kwargs)
        for idx in itertools.combinations(range(len(mice)), n_t):
            tm = [mice[i] for i in idx]
            lab = sub.assign(arm=np.where(sub["mouse"].isin(tm), "pseudo_treated", "pseudo_control"))
            a = _analyse(counts, pd.concat([ref, lab]), kw, fdr=fdr, min_mice=min_mice, max_perm=max_perm, seed=0)
            rows.append({"split_type": f"{n_t} vs {n_c}", "treated_mice": ";".join(tm),
                         "control_mice": ";".join(m for m in mice if m not in tm), "n_barcodes": len(a["p"]),
                         "n_called": int(a["called"].sum()), "n_called_glm_only": int(a["called_glm"].sum()),
                         "min_q": float(a["q"].min()), "min_q_glm_only": float(a["q_glm"].min()),
                         "statistic": a["stat"], "pdx_p_value": a["p_pdx"], "p_simes": _simes(a["p_glm"])})  # fmt: skip
    cols = ["split_type", "treated_mice", "control_mice", "n_barcodes", "n_called", "n_called_glm_only", "min_q",
            "min_q_glm_only", "statistic", "pdx_p_value", "p_simes"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def calibration_summary(splits: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Summarise the calibration splits per split type: false clone calls and PDX-level p-values below ``alpha``.

    Splits, splits with any clone call and their share, calls in all, the same for the GLM alone (without the
    permutation bound), PDX-level permutation p and Simes p below ``alpha``, the smallest attainable PDX-level p.

    Parameters
    ----------
    splits
        Output of :func:`split_calibration` (or :func:`control_split_calibration`).
    alpha
        Level of the PDX-level p-values.

    Returns
    -------
    DataFrame
        One row per split type: ``split_type, splits, share_with_calls, splits_with_calls, clone_calls,
        splits_with_calls_glm_only, clone_calls_glm_only, pdx_p_below_alpha, simes_p_below_alpha,
        min_attainable_pdx_p``.
    """
    g = splits.groupby("split_type", sort=False)
    out = pd.DataFrame({
        "splits": g.size(),
        "splits_with_calls": g["n_called"].apply(lambda s: int((s > 0).sum())),
        "clone_calls": g["n_called"].sum(),
        "splits_with_calls_glm_only": g["n_called_glm_only"].apply(lambda s: int((s > 0).sum())),
        "clone_calls_glm_only": g["n_called_glm_only"].sum(),
        "pdx_p_below_alpha": g["pdx_p_value"].apply(lambda s: int((s < alpha).sum())),
        "simes_p_below_alpha": g["p_simes"].apply(lambda s: int((s < alpha).sum())),
        "min_attainable_pdx_p": g.size().rdiv(1.0),
    })  # fmt: skip
    out.insert(2, "share_with_calls", out["splits_with_calls"] / out["splits"])
    return out.reset_index()


def resistance_by_arm(counts: pd.DataFrame, units: pd.DataFrame, *, arms: Iterable[str], control: str,
                      **kwargs: Any) -> dict[str, ResistanceResult]:  # fmt: skip
    """Call resistant clones (:func:`resistance_calls`) of every treated arm against the control arm.

    Parameters
    ----------
    counts, units
        Collapsed counts and units (:func:`helpers.barcodes.collapse_replicates`).
    arms
        Treated arms, in the order wanted.
    control
        The control arm.
    **kwargs
        Options of :func:`resistance_calls` (``tissue``, ``fdr``, ``max_perm``, ``seed``, ...).

    Returns
    -------
    dict
        ``arm -> ResistanceResult``.
    """
    return {arm: resistance_calls(counts, units, treated=arm, control=control, **kwargs) for arm in arms}


def control_split_calibration(counts: pd.DataFrame, units: pd.DataFrame, *, arm: str, min_mice: int = 4,
                              **kwargs: Any) -> pd.DataFrame | None:  # fmt: skip
    """Run the split calibration (:func:`split_calibration`) on the control mice of every PDX that has enough.

    A PDX with ``n`` control mice is split ``n // 2`` vs the rest, 2 vs ``n - 2`` and ``n - 2`` vs 2 (each split
    size once, both sides at least 2 mice).

    Parameters
    ----------
    counts, units
        Collapsed counts and units.
    arm
        The control arm.
    min_mice
        PDX with fewer control mice are not split.
    **kwargs
        Options of :func:`split_calibration` (``tissue``, ``fdr``, ...).

    Returns
    -------
    DataFrame or None
        The splits of every PDX with its ``pdx_id``; ``None`` when no PDX has ``min_mice`` control mice.
    """
    per_pdx = units[units["arm"] == arm].groupby("pdx_id")["mouse"].nunique()
    rows = []
    for pdx, n in per_pdx.items():
        if n < min_mice:
            continue
        sizes = list(dict.fromkeys((k, n - k) for k in (n // 2, 2, n - 2) if k >= 2 and n - k >= 2))
        split = split_calibration(counts, units[units["pdx_id"].isin([pdx])], arm=arm, sizes=sizes, **kwargs)
        rows.append(split.assign(pdx_id=pdx))
    return pd.concat(rows, ignore_index=True) if rows else None


def resistance_tables(calls: dict[str, ResistanceResult]) -> dict[str, pd.DataFrame]:
    """Lay out the tables of :func:`resistance_by_arm` as the files the barcoding notebook writes.

    Parameters
    ----------
    calls
        ``arm -> ResistanceResult`` (:func:`resistance_by_arm`).

    Returns
    -------
    dict
        File name -> table: ``resistance_barcodes_<arm>.csv`` (one row per barcode of that arm's comparison) for every
        arm, then ``resistance_pdx.csv`` (one row per PDX and treated arm, the arms stacked in ``calls``' order).
    """
    tables = {f"resistance_barcodes_{arm}.csv": res.barcodes for arm, res in calls.items()}
    pdx = [res.pdx for res in calls.values()]
    tables["resistance_pdx.csv"] = pd.concat(pdx, ignore_index=True) if pdx else pd.DataFrame()
    return tables


_SUMMARY_COLUMNS = ["arm", "call", "pdx_id", "barcode", "baseline_cpm", "log_fc", "log_cpm", "q_value", "q_expansion",
                    "p_permutation", "n_mice_up"]  # fmt: skip


def resistance_call_summary(calls: dict[str, ResistanceResult], *, fdr: float, top: int = 10) -> pd.DataFrame:
    """List the clones behind each arm's call, as a reader checks them: the resistant ones, else the GLM's candidates.

    Parameters
    ----------
    calls
        ``arm -> ResistanceResult`` (:func:`resistance_by_arm`).
    fdr
        The FDR level of the calls; a candidate has GLM q <= ``fdr``, a positive log2 fold change and reproduces
        across mice, without being called.
    top
        Rows per arm at most (in the order of the barcode table: strongest evidence first).

    Returns
    -------
    pandas.DataFrame
        ``arm, call, pdx_id, barcode, baseline_cpm, log_fc, log_cpm, q_value, q_expansion, p_permutation, n_mice_up``;
        ``call`` is ``resistant`` (called clones), ``GLM candidate`` (the arm called none) or ``none`` (one row of an
        arm with neither, the other columns empty).
    """
    rows = []
    for arm, res in calls.items():
        b = res.barcodes
        called = b[b["resistant"]]
        if len(called):
            rows.append(called.head(top).assign(arm=arm, call="resistant"))
            continue
        cand = b[(b["q_value"] <= fdr) & (b["log_fc"] > 0) & b["reproducible"]]
        rows.append(cand.head(top).assign(arm=arm, call="GLM candidate") if len(cand)
                    else pd.DataFrame({"arm": [arm], "call": ["none"]}))  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=_SUMMARY_COLUMNS)
    out = pd.concat(rows, ignore_index=True)
    return out.reindex(columns=_SUMMARY_COLUMNS)
