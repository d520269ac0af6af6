"""Annotation of the AML hierarchy (Zeng 2022 states) and normal populations from gene-set scores.

Each cell gets one score per cell type: the mean, over the set's genes, of the gene's standardised log expression
(a z-score across all cells; computed on the sparse matrix without densifying it). Genes that belong to several of
the sets are dropped from all of them, so that adjacent hierarchy states (whose published lists overlap) are told
apart by the genes that distinguish them. Scores are then averaged with each cell's kNN neighbours (the hierarchy is
a continuum and single-cell counts are sparse: the neighbourhood denoises) and the cell takes the best-scoring type.
"""

from __future__ import annotations

from collections.abc import Mapping

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .genesets import CELL_TYPES, HIERARCHY_STATES, SYMBOL_ALIASES, hierarchy_gene_sets

__all__ = ["match_genes", "score_gene_sets", "annotate_cells", "evaluate_annotation"]

_REVERSE_ALIASES = {v: k for k, v in SYMBOL_ALIASES.items()}


def match_genes(genes: list[str], var_names: pd.Index) -> list[str]:
    """Find the genes of a list in ``var_names``, trying the old / current symbol when the given one is absent.

    Parameters
    ----------
    genes
        Gene symbols wanted.
    var_names
        The symbols measured.

    Returns
    -------
    list of str
        The measured symbols found, in the order of ``genes``, without duplicates.
    """
    present = set(var_names)
    out = []
    for g in genes:
        for cand in (g, SYMBOL_ALIASES.get(g), _REVERSE_ALIASES.get(g)):
            if cand is not None and cand in present:
                out.append(cand)
                break
    return list(dict.fromkeys(out))


def score_gene_sets(
    adata: ad.AnnData,
    gene_sets: Mapping[str, list[str]],
    *,
    min_genes: int = 3,
    sd_floor: float = 0.1,
) -> pd.DataFrame:
    """Mean z-score of each gene set per cell, on log-normalised ``X`` (vectorised, sparse-aware).

    Parameters
    ----------
    adata
        Log-normalised expression in ``X``.
    gene_sets
        ``{name: genes}``; genes absent from ``adata`` are ignored (old / new symbols are matched).
    min_genes
        Sets with fewer genes present give NaN.
    sd_floor
        Lower bound of a gene's standard deviation, so that a gene detected in a handful of cells cannot dominate.

    Returns
    -------
    DataFrame
        Cells x sets.
    """
    x = adata.X
    x = sp.csr_matrix(x) if not sp.issparse(x) else x.tocsr()
    n = x.shape[0]
    mu = np.asarray(x.mean(axis=0)).ravel()
    sq = np.asarray(x.multiply(x).mean(axis=0)).ravel()
    sd = np.maximum(np.sqrt(np.maximum(sq - mu**2, 0)), sd_floor)
    gidx = {g: i for i, g in enumerate(adata.var_names)}
    names, cols = [], []
    m = sp.lil_matrix((adata.n_vars, len(gene_sets)))
    for j, (name, genes) in enumerate(gene_sets.items()):
        found = match_genes(list(genes), adata.var_names)
        names.append(name)
        if len(found) >= min_genes:
            idx = [gidx[g] for g in found]
            m[idx, j] = 1.0 / len(idx)
            cols.append(j)
    m = sp.csr_matrix(m)
    w = m.multiply(1 / sd[:, None]).tocsr()  # genes x sets: weight / sd
    scores = np.asarray((x @ w).todense()) - mu @ w.toarray()  # sum_g w_g (x_g - mu_g) / sd_g
    out = pd.DataFrame(scores.reshape(n, len(gene_sets)), index=adata.obs_names, columns=names)
    empty = [names[j] for j in range(len(names)) if j not in cols]
    out[empty] = np.nan
    return out


def annotate_cells(
    adata: ad.AnnData,
    *,
    gene_sets: Mapping[str, list[str]] | None = None,
    smooth: bool = True,
    unique_genes: bool = True,
) -> pd.DataFrame:
    """Label every cell with a Zeng 2022 hierarchy state or a normal population (in place and returned).

    Parameters
    ----------
    adata
        Log-normalised ``X``; with ``smooth``, a kNN graph in ``obsp['connectivities']``.
    gene_sets
        ``{cell type: genes}`` (default: :func:`hierarchy_gene_sets` with the normal markers).
    smooth
        Average each cell's scores with its neighbours' (weights of the connectivity graph) before choosing.
    unique_genes
        Drop genes shared by several sets.

    Returns
    -------
    DataFrame
        Per cell: ``cell_type``, ``compartment`` (leukemic / normal), ``annotation_margin`` (best minus second score)
        and the score of each type (``score_<type>``). ``obs`` gets ``cell_type``, ``compartment`` and the margin.

    Raises
    ------
    ValueError
        ``smooth`` without a kNN graph in ``adata.obsp['connectivities']``.
    """
    sets = dict(gene_sets) if gene_sets is not None else hierarchy_gene_sets(top=100)
    if unique_genes:
        counts = pd.Series([g for genes in sets.values() for g in set(genes)]).value_counts()
        shared = set(counts.index[counts > 1])
        sets = {k: [g for g in v if g not in shared] for k, v in sets.items()}
    s = score_gene_sets(adata, sets)
    s = s.dropna(axis=1, how="all")
    raw = s.to_numpy()
    if smooth:
        if "connectivities" not in adata.obsp:
            raise ValueError("smooth=True needs a kNN graph: run cluster_and_umap (or sc.pp.neighbors) first")
        c = adata.obsp["connectivities"].tocsr()
        deg = np.asarray(c.sum(axis=1)).ravel()
        raw = 0.5 * raw + 0.5 * (c @ raw) / np.maximum(deg, 1e-12)[:, None]
    order = np.argsort(-raw, axis=1)
    best = np.asarray(s.columns)[order[:, 0]]
    margin = raw[np.arange(len(raw)), order[:, 0]] - raw[np.arange(len(raw)), order[:, 1]]
    types = [t for t in CELL_TYPES if t in s.columns] + [t for t in s.columns if t not in CELL_TYPES]
    out = pd.DataFrame(
        {
            "cell_type": pd.Categorical(best, categories=types),
            "compartment": pd.Categorical(np.where(np.isin(best, HIERARCHY_STATES), "leukemic", "normal"),
                                          categories=["leukemic", "normal"]),
            "annotation_margin": margin,
        },
        index=adata.obs_names,
    )
    for j, t in enumerate(s.columns):
        out[f"score_{t}"] = raw[:, j]
    for col in ["cell_type", "compartment", "annotation_margin"]:
        adata.obs[col] = out[col]
    return out


def evaluate_annotation(predicted: pd.Series, truth: pd.Series) -> tuple[float, pd.DataFrame]:
    """Agreement of predicted and true labels: adjusted Rand index and per-type precision, recall and F1.

    Only cells present in both series are compared (``truth`` may cover cells removed by QC).

    Parameters
    ----------
    predicted
        Annotated label per cell.
    truth
        Known label per cell.

    Returns
    -------
    (float, DataFrame)
        ARI and a table indexed by true type with ``n_true``, ``precision``, ``recall``, ``f1``.
    """
    from sklearn.metrics import adjusted_rand_score, precision_recall_fscore_support

    common = predicted.index.intersection(truth.index)
    p = predicted.loc[common].astype(str).to_numpy()
    t = truth.loc[common].astype(str).to_numpy()
    ari = float(adjusted_rand_score(t, p))
    labels = [x for x in CELL_TYPES if x in set(t)] + sorted(set(t) - set(CELL_TYPES))
    prec, rec, f1, sup = precision_recall_fscore_support(t, p, labels=labels, zero_division=0)
    table = pd.DataFrame({"n_true": sup, "precision": prec, "recall": rec, "f1": f1}, index=pd.Index(labels, name="cell_type"))
    return ari, table
