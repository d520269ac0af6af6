"""Programme scores of the single-cell axis (the per-sample feature table is :mod:`helpers.scrna.features`).

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
    hierarchy_gene_sets,
    linclass7_weights,
    lsc17_weights,
    signatures,
)

__all__ = ["lsc17_score", "linclass7_score", "pseudobulk", "cell_programme_scores"]

BCL2_GENES = ["BCL2", "MCL1", "BCL2L1", "BCL2A1", "BAX", "BAK1", "BBC3", "PMAIP1"]


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
