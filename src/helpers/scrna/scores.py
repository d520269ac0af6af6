"""Programme scores and the per-sample feature table of the single-cell axis.

- LSC17 (Ng et al. 2016 Nature 540:433): sum over the 17 genes of the published weight x log2 expression. On single
  cells we use log2(1 + counts per 10,000); per sample, log2(1 + CPM) of the pseudobulk of its leukemic cells (the
  scale of the bulk score). Genes the assay did not measure are left out and reported.
- BCL2 family: log2(1 + CPM) of each gene in the leukemic pseudobulk and the BCL2 index
  log2 BCL2 - mean(log2 MCL1, log2 BCL2A1): venetoclax needs BCL2 and is bypassed by MCL1 / BCL2A1 (Pei et al. 2020
  Cancer Discov; Zhang et al. 2020 Nat Cancer).
- LinClass-7 (Zeng et al. 2022 Nat Med 28:1212): the lasso weights of seven LSC17 genes predicting the primitive
  versus mature axis (hierarchy PC2), applied to log1p CPM (natural log, as in the source notebook) of a bulk sample or
  of the leukemic pseudobulk of a sample; higher = more primitive.
- Hallmark OXPHOS and the monocytic (Zeng Mono-like) programme: mean z-score of the set per cell
  (:func:`helpers.scrna.annotate.score_gene_sets`), averaged over the sample's leukemic cells.
"""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .annotate import match_genes, score_gene_sets
from .genesets import (
    HIERARCHY_STATES,
    LSPC_STATES,
    MONOCYTIC_STATES,
    hierarchy_gene_sets,
    linclass7_weights,
    lsc17_weights,
    signatures,
)

__all__ = ["lsc17_score", "linclass7_score", "pseudobulk", "cell_programme_scores", "sample_features",
           "FEATURE_DICTIONARY"]

_BCL2_GENES = ["BCL2", "MCL1", "BCL2L1", "BCL2A1", "BAX", "BAK1", "BBC3", "PMAIP1"]


def lsc17_score(log2_expr: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """LSC17 score of each row of a log2 expression table (rows = cells or samples, columns = gene symbols).

    Parameters
    ----------
    log2_expr
        log2 expression (e.g. log2 CPM of pseudobulks); old and current symbols are matched.

    Returns
    -------
    (Series, list)
        The score of each row (sum of weight x log2 expression) and the LSC17 genes found.
    """
    w = lsc17_weights(current_symbols=True)
    found = match_genes(list(w), pd.Index(log2_expr.columns))
    inv = {}
    for g in w:
        m = match_genes([g], pd.Index(found))
        if m:
            inv[m[0]] = w[g]
    vec = np.array([inv[g] for g in found])
    return pd.Series(log2_expr[found].to_numpy() @ vec, index=log2_expr.index, name="lsc17"), found


def linclass7_score(log1p_cpm: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """LinClass-7 score of each row of a log1p CPM / TPM table (rows = samples, pseudobulks or cells).

    Any bulk or pseudobulk expression table works (columns = gene symbols; old and current symbols are matched).

    Parameters
    ----------
    log1p_cpm
        log1p CPM (or TPM), rows = samples, pseudobulks or cells.

    Returns
    -------
    (Series, list)
        The scores and the LinClass-7 genes found (of 7; missing genes contribute nothing and are reported).
    """
    w = linclass7_weights(current_symbols=True)
    cols = pd.Index(log1p_cpm.columns)
    found, vec = [], []
    for g, v in w.items():
        m = match_genes([g], cols)
        if m:
            found.append(m[0])
            vec.append(v)
    vals = log1p_cpm[found].to_numpy(dtype=float) @ np.asarray(vec) if found else np.full(len(log1p_cpm), np.nan)
    return pd.Series(vals, index=log1p_cpm.index, name="linclass7"), found


def pseudobulk(adata: ad.AnnData, groupby: str | list[str], *, layer: str = "counts",
               genes: list[str] | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """Sum raw counts per group (one sparse matrix product).

    Parameters
    ----------
    adata
        Cells with raw counts in ``layers[layer]`` (else ``X``).
    groupby
        ``obs`` column(s) defining the groups (several are joined with ``|``).
    layer
        Layer holding the raw counts.
    genes
        Genes to sum (default all).

    Returns
    -------
    (DataFrame, Series)
        Groups x genes counts and the number of cells per group.
    """
    keys = [groupby] if isinstance(groupby, str) else list(groupby)
    grp = adata.obs[keys].astype(str).agg("|".join, axis=1) if len(keys) > 1 else adata.obs[keys[0]].astype(str)
    codes, uniques = pd.factorize(grp, sort=True)
    ind = sp.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(len(uniques), len(codes)))
    x = adata.layers[layer] if layer in adata.layers else adata.X
    cols = adata.var_names
    if genes is not None:
        idx = adata.var_names.get_indexer(genes)
        x = x[:, idx]
        cols = pd.Index(genes)
    summed = ind @ x
    summed = summed.toarray() if sp.issparse(summed) else np.asarray(summed)
    counts = pd.DataFrame(summed, index=pd.Index(uniques, name="group"), columns=cols)
    return counts, pd.Series(np.bincount(codes, minlength=len(uniques)), index=counts.index, name="n_cells")


def cell_programme_scores(adata: ad.AnnData) -> pd.DataFrame:
    """Per-cell programme scores (in place in ``obs`` and returned): ``lsc17``, ``oxphos``, ``monocytic``, ``bcl2_index``.

    Parameters
    ----------
    adata
        Log-normalised ``X`` (natural log of 1 + counts per 10,000) and raw counts in ``layers['counts']``; the
        scores are added to ``obs``.

    Returns
    -------
    DataFrame
        The scores per cell, indexed like ``obs`` (``bcl2_index`` only when BCL2, MCL1 and BCL2A1 are measured).
    """
    sig = signatures()
    sets = {"oxphos": sig["OXPHOS"], "monocytic": hierarchy_gene_sets(top=100, include_normal=False)["Mono-like"]}
    s = score_gene_sets(adata, sets)
    needed = match_genes(list(lsc17_weights()) + ["BCL2", "MCL1", "BCL2A1"], adata.var_names)
    x = adata[:, needed].X
    x = x.toarray() if sp.issparse(x) else np.asarray(x)
    log2 = pd.DataFrame(x / np.log(2), index=adata.obs_names, columns=needed)  # ln(1+x) -> log2(1+x)
    s["lsc17"], _ = lsc17_score(log2)
    if {"BCL2", "MCL1", "BCL2A1"} <= set(needed):
        s["bcl2_index"] = log2["BCL2"] - log2[["MCL1", "BCL2A1"]].mean(axis=1)
    for c in s.columns:
        adata.obs[c] = s[c]
    return s


FEATURE_DICTIONARY = [
    ("n_cells_qc", "cells", "cells passing QC"),
    ("leukemic_frac", "fraction", "cells called malignant (copy number or expression, see malignant_evidence) among "
     "QC-passed cells"),
    *[(f"frac_{s.lower().replace('-', '_')}", "fraction", f"{s} cells among the sample's leukemic cells (Zeng 2022)")
      for s in HIERARCHY_STATES],
    ("monocytic_frac", "fraction", "ProMono-like + Mono-like cells among leukemic cells"),
    ("lspc_frac", "fraction", "LSPC-Quiescent + LSPC-Primed + LSPC-Cycle cells among leukemic cells"),
    ("lsc17_score", "weighted log2 CPM", "LSC17 (Ng 2016 weights) on the log2(1 + CPM) pseudobulk of leukemic cells"),
    ("lsc17_n_genes", "genes", "LSC17 genes measured by the assay (of 17) and used in lsc17_score"),
    ("bcl2_log2cpm", "log2(1 + CPM)", "BCL2 in the leukemic pseudobulk"),
    ("mcl1_log2cpm", "log2(1 + CPM)", "MCL1 in the leukemic pseudobulk"),
    ("bcl2l1_log2cpm", "log2(1 + CPM)", "BCL2L1 (BCL-xL) in the leukemic pseudobulk"),
    ("bcl2a1_log2cpm", "log2(1 + CPM)", "BCL2A1 in the leukemic pseudobulk"),
    ("bcl2_index", "log2 ratio", "log2 BCL2 - mean(log2 MCL1, log2 BCL2A1) in the leukemic pseudobulk"),
    ("oxphos_score", "mean z-score", "Hallmark OXPHOS gene-set score averaged over leukemic cells"),
    ("monocytic_score", "mean z-score", "Zeng Mono-like programme score averaged over leukemic cells"),
    ("uncertain_frac", "fraction", "cells neither malignant nor normal by the evidence available, among QC cells"),
    ("n_leukemic_cells", "cells", "cells called malignant"),
    ("cnv_detected", "0/1", "1 when the patient's leukemia carries a copy-number change detected by infercnvpy"),
    ("malignant_evidence", "text", "evidence of most of the sample's calls: cnv, cnv+expression or expression"),
    ("linclass7_score", "weighted log1p CPM", "LinClass-7 (Zeng 2022 weights) on the log1p CPM pseudobulk of "
     "leukemic cells"),
    ("linclass7_n_genes", "genes", "LinClass-7 genes measured by the assay (of 7) and used in linclass7_score"),
]


def sample_features(adata: ad.AnnData, *, min_leukemic_cells: int = 20, sample_key: str = "sample_id") -> pd.DataFrame:
    """One row per sample: composition of the leukemic hierarchy and programme scores of the leukemic cells.

    Needs ``obs`` columns ``cell_type``, ``compartment``, ``patient_id``, ``timepoint`` (annotation), the per-cell
    programme scores (:func:`cell_programme_scores`) and raw counts in ``layers['counts']``. Samples with fewer than
    ``min_leukemic_cells`` leukemic cells (e.g. in remission) get NaN for every leukemic feature: fractions and scores
    from a handful of cells would be noise. Columns are described by :data:`FEATURE_DICTIONARY`.
    """
    obs = adata.obs
    meta = obs.groupby(sample_key, observed=True)[["patient_id", "timepoint"]].first()
    meta["timepoint"] = meta["timepoint"].astype(str)
    out = meta.copy()
    out["n_cells_qc"] = obs.groupby(sample_key, observed=True).size()
    leuk = obs["compartment"] == "leukemic"
    out["leukemic_frac"] = leuk.groupby(obs[sample_key], observed=True).mean()
    ct = pd.crosstab(obs.loc[leuk, sample_key], obs.loc[leuk, "cell_type"]).reindex(index=out.index, fill_value=0)
    ct = ct.reindex(columns=list(HIERARCHY_STATES), fill_value=0)
    n_leuk = ct.sum(axis=1)
    frac = ct.div(n_leuk.replace(0, np.nan), axis=0)
    for s in HIERARCHY_STATES:
        out[f"frac_{s.lower().replace('-', '_')}"] = frac[s]
    out["monocytic_frac"] = frac[list(MONOCYTIC_STATES)].sum(axis=1, min_count=1)
    out["lspc_frac"] = frac[list(LSPC_STATES)].sum(axis=1, min_count=1)
    sub = adata[leuk.to_numpy()]
    genes = match_genes(list(lsc17_weights()) + _BCL2_GENES, adata.var_names)
    pb, _ = pseudobulk(sub, sample_key)
    lib = pb.sum(axis=1)
    log2cpm = np.log2(1 + pb[genes].div(lib, axis=0) * 1e6)
    out["lsc17_score"], found = lsc17_score(log2cpm)
    out["lsc17_n_genes"] = len(found)
    for g in ["BCL2", "MCL1", "BCL2L1", "BCL2A1"]:
        out[f"{g.lower()}_log2cpm"] = log2cpm[g] if g in log2cpm else np.nan
    out["bcl2_index"] = out["bcl2_log2cpm"] - out[["mcl1_log2cpm", "bcl2a1_log2cpm"]].mean(axis=1)
    means = sub.obs.groupby(sample_key, observed=True)[["oxphos", "monocytic"]].mean()
    out["oxphos_score"] = means["oxphos"]
    out["monocytic_score"] = means["monocytic"]
    cpm = pb.div(lib, axis=0) * 1e6
    l7_genes = match_genes(list(linclass7_weights()), adata.var_names)
    out["linclass7_score"], found7 = linclass7_score(np.log1p(cpm[l7_genes]))
    out["linclass7_n_genes"] = len(found7)
    comp = obs["compartment"].astype(str)
    out["uncertain_frac"] = (comp == "uncertain").groupby(obs[sample_key], observed=True).mean()
    out["n_leukemic_cells"] = n_leuk.reindex(out.index).fillna(0).astype(int)
    if "malignant_evidence" in obs:
        ev = obs.loc[leuk, "malignant_evidence"].astype(str).groupby(obs.loc[leuk, sample_key], observed=True)
        out["malignant_evidence"] = ev.agg(lambda e: e.value_counts().index[0]).reindex(out.index).fillna("")
        cnv_pat = obs.groupby(sample_key, observed=True)["cnv_score"].apply(lambda v: float(v.notna().any()))
        out["cnv_detected"] = cnv_pat.reindex(out.index).astype(int)
    else:
        out["malignant_evidence"] = "expression"
        out["cnv_detected"] = 0
    keep_cols = ("n_cells_qc", "leukemic_frac", "uncertain_frac", "n_leukemic_cells", "cnv_detected",
                 "malignant_evidence")
    leuk_cols = [c for c, _, _ in FEATURE_DICTIONARY if c not in keep_cols]
    out.loc[n_leuk.reindex(out.index).fillna(0) < min_leukemic_cells, leuk_cols] = np.nan
    out.index.name = "sample_id"
    return out.reset_index()[["sample_id", "patient_id", "timepoint", *[c for c, _, _ in FEATURE_DICTIONARY]]]
