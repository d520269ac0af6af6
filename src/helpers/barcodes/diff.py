"""Differential clone abundance between arms, the mouse as the unit: a negative-binomial GLM with quasi-likelihood.

Why edgeR's quasi-likelihood GLM, through edgepython
----------------------------------------------------
Clone counts of one barcode across mice vary far more than Poisson (engraftment bottleneck, drift, burden), so the
model must estimate a between-mouse dispersion and borrow strength across barcodes (few mice). edgeR's
``glmQLFit``/``glmQLFTest`` does both and, unlike the likelihood-ratio or Wald tests of edgeR's ``glmLRT`` and DESeq2,
accounts for the uncertainty of the dispersion with a quasi-likelihood F-test (Lund et al. 2012), the variant
recommended for small replicate numbers. edgepython is a maintained, function-by-function port of edgeR 5 (checked
against edgeR to ~1e-8 by its own test suite), so the compendium uses edgeR's method without R. pydeseq2 (also in the
environment) offers the DESeq2 Wald test only; its median-of-ratios size factors assume that most features do not
change, which fails when a drug reshapes the clone composition (library sizes are used here). The exact test of
edgeR (``exactTest``) is run as a check (:func:`exact_test`).

Design
------
PCR replicates are summed per mouse (:func:`helpers.barcodes.collapse_replicates`), so a mouse is one column and
the dispersion is between mice; offsets are log library sizes (``normalization="TMM"`` for edgeR's TMM instead).
Without per-mouse baselines (a shared pre-transplant pool), the model is ``~ arm`` at the endpoint: both arms start
from the same pool, so a clone's starting abundance and intrinsic fitness are in its control-arm abundance. With a
pre-treatment sample of every mouse, the model is paired, ``~ mouse + post + post:treated``, and the tested coefficient
is the difference between arms of each clone's expansion in its own mouse.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataContractError
from ..stats import bh_fdr
from .tables import BASELINE_ARM

__all__ = ["DiffResult", "comparison_units", "differential_abundance", "exact_test", "exact_agreement",
           "exact_agreement_table"]


@dataclass
class DiffResult:
    """Per-barcode results (``table``), the units compared (``units``) and their counts (``counts``)."""

    table: pd.DataFrame
    units: pd.DataFrame
    counts: pd.DataFrame
    paired: bool


def comparison_units(units: pd.DataFrame, *, treated: str, control: str, tissue: str | None = None,
                     timepoint: str | None = None, pdx: str | None = None,
                     baseline_timepoint: str = "pre_treatment") -> tuple[pd.DataFrame, pd.DataFrame, str]:  # fmt: skip
    """Select the endpoint units of two arms and their baseline units.

    Parameters
    ----------
    units
        Units of collapsed counts (:func:`helpers.barcodes.collapse_replicates`).
    treated, control
        The two arms.
    tissue, timepoint
        Endpoint tissue and timepoint (needed when there are several).
    pdx
        Restrict to one PDX.
    baseline_timepoint
        Timepoint of each mouse's own baseline sample.

    Returns
    -------
    endpoint, baseline, timepoint
        Endpoint units of the treated and control mice (one per mouse), the baseline units (shared pool rows or each
        mouse's own ``baseline_timepoint`` unit; empty when there is none) and the endpoint timepoint used.

    Raises
    ------
    DataContractError
        Unknown arm, tissue or timepoint, an ambiguous tissue or timepoint, a mouse with two units at the endpoint.
    """
    arms = sorted(set(units["arm"]) - {BASELINE_ARM})
    for a in (treated, control):
        if a not in arms:
            raise DataContractError(None, f"unknown arm {a!r}; arms: {', '.join(arms)}", column="arm")
    if treated == control:
        raise DataContractError(None, f"treated and control arm are both {treated!r}", column="arm")
    u = units[units["arm"].isin([treated, control])]
    if pdx is not None:
        u = u[u["pdx_id"] == pdx]
    if tissue:
        if tissue not in set(u["tissue"]):
            raise DataContractError(None, f"unknown tissue {tissue!r}; tissues: {', '.join(sorted(set(u['tissue'])))}",
                                    column="tissue")  # fmt: skip
        u = u[u["tissue"] == tissue]
    elif u["tissue"].nunique() > 1:
        raise DataContractError(None, f"several tissues ({', '.join(sorted(set(u['tissue'])))}): choose one",
                                column="tissue")  # fmt: skip
    own = u["baseline"] == u["mouse"]
    post = u[~(own & (u["timepoint"] == baseline_timepoint))]
    if timepoint:
        if timepoint not in set(post["timepoint"]):
            raise DataContractError(None, f"unknown timepoint {timepoint!r}; timepoints: "
                                    f"{', '.join(sorted(set(post['timepoint'])))}", column="timepoint")  # fmt: skip
        post = post[post["timepoint"] == timepoint]
    else:
        tps = sorted(set(post["timepoint"]))
        if len(tps) != 1:
            pref = [t for t in ("post_treatment", "endpoint") if t in tps]
            if not pref:
                raise DataContractError(None, f"several timepoints ({', '.join(tps)}): choose one", column="timepoint")
            tps = pref
        timepoint = tps[0]
        post = post[post["timepoint"] == timepoint]
    dup = post["mouse"].duplicated()
    if dup.any():
        raise DataContractError(None, f"mouse {post['mouse'][dup].iloc[0]!r} has two units at {timepoint}", column="mouse")
    refs = set(post["baseline"]) - {""}
    tissue_used = post["tissue"].iloc[0] if len(post) else tissue
    base = units[(units["arm"] == BASELINE_ARM) & units["mouse"].isin(refs)]
    own_base = units[units["mouse"].isin(post["mouse"]) & (units["baseline"] == units["mouse"])
                     & (units["timepoint"] == baseline_timepoint) & (units["tissue"] == tissue_used)]  # fmt: skip
    base = pd.concat([base, own_base])
    post = post.sort_values(["arm", "mouse"], key=lambda s: s.map({treated: 0, control: 1}) if s.name == "arm" else s)
    return post.reset_index(drop=True), base.reset_index(drop=True), timepoint


def _dgelist(x: np.ndarray, normalization: str):
    import edgepython as ep

    y = ep.make_dgelist(x)
    if normalization == "TMM":
        y = ep.calc_norm_factors(y, method="TMM")
    elif normalization != "none":
        raise ValueError(f"normalization must be 'none' or 'TMM', got {normalization!r}")
    return y


def _ql_test(x: np.ndarray, design: np.ndarray, normalization: str) -> pd.DataFrame:
    import edgepython as ep

    y = _dgelist(x, normalization)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ep.glm_ql_fit(y, design=design, robust=True)
        res = ep.glm_ql_ftest(fit, coef=design.shape[1] - 1)
    return res["table"]


def _keep(x: np.ndarray, group: np.ndarray, *, min_count: float, min_total: float) -> np.ndarray:
    """Apply edgeR's filterByExpr: enough reads in at least as many mice as the smaller arm (label-free in size)."""
    import edgepython as ep

    return np.asarray(ep.filter_by_expr(x, group=group, min_count=min_count, min_total_count=min_total), dtype=bool)


def differential_abundance(counts: pd.DataFrame, units: pd.DataFrame, *, treated: str, control: str,
                           tissue: str | None = None, timepoint: str | None = None, pdx: str | None = None,
                           baseline_timepoint: str = "pre_treatment", pre_existing: bool = True,
                           normalization: str = "none", min_count: float = 10, min_total: float = 15,
                           labels: np.ndarray | None = None) -> DiffResult:  # fmt: skip
    """Test per-barcode differential abundance of ``treated`` vs ``control`` mice (quasi-likelihood NB GLM).

    Parameters
    ----------
    counts, units
        Collapsed counts and units (:func:`helpers.barcodes.collapse_replicates`).
    treated, control
        Arms compared.
    tissue, timepoint
        Endpoint tissue and timepoint (needed only when there are several).
    pdx
        Restrict to one PDX.
    baseline_timepoint
        Timepoint of a mouse's own baseline sample (the paired design).
    pre_existing
        Keep only barcodes seen in a baseline unit (pre-existing clones) when there is one.
    normalization
        ``"none"`` (library sizes) or ``"TMM"``.
    min_count, min_total
        edgeR ``filterByExpr`` thresholds.
    labels
        Internal: arm labels (True = treated) replacing the units' arms (permutation and split nulls).

    Returns
    -------
    DiffResult
        ``table``: ``barcode, log_fc`` (log2, treated / control), ``log_cpm`` (edgeR's average log2 CPM), ``f``,
        ``p_value``, ``q_value`` (BH), ``baseline_cpm`` (NaN without baseline), ``n_treated, n_control``.

    Raises
    ------
    DataContractError
        An unknown arm, tissue or timepoint (:func:`comparison_units`), fewer than one mouse per arm or three in
        all, or fewer than 2 barcodes passing the abundance filter.
    """
    post, base, _ = comparison_units(units, treated=treated, control=control, tissue=tissue, timepoint=timepoint,
                                     pdx=pdx, baseline_timepoint=baseline_timepoint)  # fmt: skip
    is_t = (post["arm"] == treated).to_numpy() if labels is None else np.asarray(labels, dtype=bool)
    n_t, n_c = int(is_t.sum()), int((~is_t).sum())
    if n_t < 1 or n_c < 1 or n_t + n_c < 3:
        raise DataContractError(None, f"need mice in both arms and at least 3 in all ({n_t} {treated}, {n_c} {control})",
                                column="arm")  # fmt: skip
    paired = len(post) > 0 and bool((post["baseline"] == post["mouse"]).all()) and set(post["mouse"]) <= set(
        base["mouse"])  # fmt: skip
    xb = counts[base["unit"]].to_numpy(float) if len(base) else np.zeros((len(counts), 0))
    x_post = counts[post["unit"]].to_numpy(float)
    bcs = counts.index.to_numpy()
    keep = x_post.sum(axis=1) > 0
    if pre_existing and xb.shape[1]:
        keep &= xb.sum(axis=1) > 0
    if paired:
        b = base.set_index("mouse").loc[post["mouse"], "unit"]
        x_pre = counts[b].to_numpy(float)
        x = np.hstack([x_pre, x_post])
        n = len(post)
        design = np.zeros((2 * n, n + 2))
        design[np.arange(n), np.arange(n)] = 1
        design[n + np.arange(n), np.arange(n)] = 1
        design[n:, n] = 1
        design[n:, n + 1] = is_t
        group = np.concatenate([np.zeros(n), 1 + is_t])
    else:
        x = x_post
        design = np.column_stack([np.ones(len(post)), is_t.astype(float)])
        group = is_t.astype(int)
    keep &= _keep(x, group, min_count=min_count, min_total=min_total)
    if keep.sum() < 2:
        raise DataContractError(None, "fewer than 2 barcodes pass the abundance filter", column="count")
    tab = _ql_test(x[keep], design, normalization)
    lib_b = xb.sum(axis=0)
    base_cpm = (xb[keep] / np.where(lib_b > 0, lib_b, 1) * 1e6).mean(axis=1) if xb.shape[1] else np.nan
    out = pd.DataFrame({
        "barcode": bcs[keep], "log_fc": tab["logFC"].to_numpy(), "log_cpm": tab["logCPM"].to_numpy(),
        "f": tab["F"].to_numpy(), "p_value": tab["PValue"].to_numpy(), "baseline_cpm": base_cpm,
        "n_treated": n_t, "n_control": n_c,
    })  # fmt: skip
    out.insert(5, "q_value", bh_fdr(out["p_value"]))
    return DiffResult(out, post.assign(treated=is_t), counts.loc[keep, list(post["unit"]) + list(base["unit"])],
                      paired)  # fmt: skip


def exact_test(counts: pd.DataFrame, units: pd.DataFrame, *, treated: str, control: str, tissue: str | None = None,
               timepoint: str | None = None, barcodes: Iterable[str] | None = None,
               normalization: str = "none") -> pd.DataFrame:  # fmt: skip
    """Run edgeR's classic exact test (``estimateDisp`` then ``exactTest``, via edgepython) at the endpoint.

    Parameters
    ----------
    counts, units
        Collapsed counts and units.
    treated, control
        The two arms.
    tissue, timepoint
        Endpoint tissue and timepoint when there are several.
    barcodes
        Barcodes to test (default every barcode with reads).
    normalization
        ``"none"`` (library sizes) or ``"TMM"``.

    Returns
    -------
    DataFrame
        ``barcode, log_fc`` (log2, treated / control), ``log_cpm``, ``p_value``, ``q_value`` (BH) for ``barcodes``
        (default: every barcode with reads).

    Raises
    ------
    DataContractError
        An unknown arm, tissue or timepoint (:func:`comparison_units`).
    """
    import edgepython as ep

    post, _, _ = comparison_units(units, treated=treated, control=control, tissue=tissue, timepoint=timepoint)
    x = counts[post["unit"]]
    if barcodes is not None:
        x = x.loc[list(barcodes)]
    x = x[x.sum(axis=1) > 0]
    y = _dgelist(x.to_numpy(float), normalization)
    group = np.where(post["arm"] == treated, "treated", "control")
    y["samples"]["group"] = pd.Categorical(group, categories=["control", "treated"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = ep.estimate_disp(y, group=group)
        tab = ep.exact_test(y, pair=["control", "treated"])["table"]
    out = pd.DataFrame({"barcode": x.index.to_numpy(), "log_fc": tab["logFC"].to_numpy(),
                        "log_cpm": tab["logCPM"].to_numpy(), "p_value": tab["PValue"].to_numpy()})  # fmt: skip
    out["q_value"] = bh_fdr(out["p_value"])
    return out


def exact_agreement(glm: pd.DataFrame, exact: pd.DataFrame, *, top: int = 50) -> dict[str, float]:
    """Measure the agreement of two per-barcode tables on their common barcodes.

    Spearman correlations of log fold changes and of p-values, and the overlap of the ``top`` smallest p-values
    (share of ``top``).

    Parameters
    ----------
    glm, exact
        Per-barcode tables with ``barcode, log_fc, p_value``.
    top
        Number of smallest p-values compared.

    Returns
    -------
    dict
        ``n_barcodes``, ``spearman_log_fc``, ``spearman_p_value`` and ``top<top>_overlap``.
    """
    from scipy.stats import spearmanr

    m = glm.merge(exact, on="barcode", suffixes=("_glm", "_exact"))
    t1 = set(m.nsmallest(top, "p_value_glm", keep="first")["barcode"])
    t2 = set(m.nsmallest(top, "p_value_exact", keep="first")["barcode"])
    return {"n_barcodes": len(m), "spearman_log_fc": float(spearmanr(m["log_fc_glm"], m["log_fc_exact"])[0]),
            "spearman_p_value": float(spearmanr(m["p_value_glm"], m["p_value_exact"])[0]),
            f"top{top}_overlap": len(t1 & t2) / top}  # fmt: skip


def exact_agreement_table(counts: pd.DataFrame, units: pd.DataFrame, barcodes: dict[str, pd.DataFrame], *,
                          control: str, tissue: str | None = None, top: int = 50) -> pd.DataFrame:  # fmt: skip
    """Compare the GLM results of every treated arm and PDX with edgeR's exact test (:func:`exact_agreement`).

    Parameters
    ----------
    counts, units
        Collapsed counts and units.
    barcodes
        ``treated arm -> per-barcode GLM table`` with ``pdx_id, barcode, log_fc, p_value`` (the ``barcodes`` table of
        :func:`helpers.barcodes.resistance_calls`).
    control
        The control arm.
    tissue
        Endpoint tissue when there are several.
    top
        Overlap of the ``top`` smallest p-values (of all barcodes when a PDX has fewer).

    Returns
    -------
    DataFrame
        One row per arm and PDX: ``treated_arm, pdx_id``, the Spearman correlations and ``top_overlap``.
    """
    rows = []
    for arm, table in barcodes.items():
        for pdx, b in table.groupby("pdx_id"):
            ex = exact_test(counts, units[units["pdx_id"] == pdx], treated=arm, control=control, tissue=tissue,
                            barcodes=b["barcode"])  # fmt: skip
            rows.append({"treated_arm": arm, "pdx_id": pdx, **exact_agreement(b, ex, top=min(top, len(b)))})
    return pd.DataFrame(rows).rename(columns=lambda c: "top_overlap" if c.startswith("top") else c)
