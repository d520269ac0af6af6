"""Questions of the single-cell axis: composition by response, paired diagnosis-to-relapse change, pseudobulk DE.

- Compositions are compositional data (fractions sum to one): they are compared on centred log-ratios (CLR, with a
  pseudocount of half a cell) rather than raw fractions, so that one state expanding does not make the others look
  like they shrink.
- Diagnosis vs relapse is paired by patient: per state, a Wilcoxon signed-rank test of the CLR changes; for the
  composition as a whole, an exact sign-flip permutation test of the mean CLR change vector (its squared Aitchison
  norm), which is valid for the handful of pairs of a clinical study.
- Pseudobulk differential expression sums the leukemic cells of each sample, so that the patient (not the cell) is
  the unit of replication (Squair et al. 2021 Nat Commun), and fits DESeq2 (pydeseq2); the paired contrast uses the
  design ``~ patient_id + timepoint``.
- Enrichment of the DE statistics in the Hallmark and hierarchy gene sets uses decoupler's univariate linear model.
"""

from __future__ import annotations

import itertools
import warnings

import anndata as ad
import numpy as np
import pandas as pd
from scipy import stats

from ..stats import bh_fdr
from .genesets import HIERARCHY_STATES, hallmark_sets, hb_genes, hierarchy_gene_sets
from .scores import pseudobulk

__all__ = [
    "state_counts",
    "clr",
    "compare_groups",
    "paired_composition_test",
    "pseudobulk_de",
    "enrichment",
]


def state_counts(adata: ad.AnnData, *, sample_key: str = "sample_id") -> pd.DataFrame:
    """Leukemic cells per sample (rows) and hierarchy state (columns), zeros included.

    Parameters
    ----------
    adata
        Annotated cells (``obs['compartment']``, ``obs['cell_type']``).
    sample_key
        ``obs`` column naming the sample.

    Returns
    -------
    DataFrame
        Samples x :data:`~helpers.scrna.genesets.HIERARCHY_STATES`, cell counts.
    """
    obs = adata.obs[adata.obs["compartment"] == "leukemic"]
    ct = pd.crosstab(obs[sample_key].astype(str), obs["cell_type"].astype(str))
    return ct.reindex(columns=list(HIERARCHY_STATES), fill_value=0)


def clr(counts: pd.DataFrame, *, pseudocount: float = 0.5) -> pd.DataFrame:
    """Centred log-ratio of each row of a count table: log(x + c) minus the row mean of log(x + c).

    Parameters
    ----------
    counts
        Rows = samples, columns = parts (e.g. :func:`state_counts`).
    pseudocount
        ``c``, added so that empty parts have a finite log.

    Returns
    -------
    DataFrame
        Same shape and labels as ``counts``; every row sums to 0.
    """
    lx = np.log(counts.to_numpy(dtype=float) + pseudocount)
    return pd.DataFrame(lx - lx.mean(axis=1, keepdims=True), index=counts.index, columns=counts.columns)


def compare_groups(values: pd.DataFrame, groups: pd.Series, *, a: str, b: str) -> pd.DataFrame:
    """Two-sided Mann-Whitney U test of every column between two groups of rows, with BH-adjusted p-values.

    Parameters
    ----------
    values
        Rows = samples (one per patient), columns = features (e.g. CLR of states, scores).
    groups
        Group of each row (same index).
    a, b
        The two groups; ``median_diff`` is median(b) - median(a).

    Returns
    -------
    DataFrame
        One row per column of ``values``: ``feature``, ``n_<a>``, ``n_<b>``, ``median_<a>``, ``median_<b>``,
        ``median_diff``, ``p`` (NaN with fewer than two values in a group) and ``fdr`` (Benjamini-Hochberg).
    """
    g = groups.reindex(values.index)
    rows = []
    for col in values.columns:
        xa = values.loc[g == a, col].dropna()
        xb = values.loc[g == b, col].dropna()
        p = stats.mannwhitneyu(xa, xb, alternative="two-sided").pvalue if len(xa) > 1 and len(xb) > 1 else np.nan
        rows.append({"feature": col, f"n_{a}": len(xa), f"n_{b}": len(xb), f"median_{a}": xa.median(),
                     f"median_{b}": xb.median(), "median_diff": xb.median() - xa.median(), "p": p})
    out = pd.DataFrame(rows)
    out["fdr"] = bh_fdr(out["p"].to_numpy())
    return out


def paired_composition_test(
    counts: pd.DataFrame, pairs: pd.DataFrame, *, pseudocount: float = 0.5, max_exact: int = 16, seed: int = 0,
    n_perm: int = 20000,
) -> tuple[pd.DataFrame, dict]:
    """Paired test of the composition change between two timepoints of the same patients.

    Parameters
    ----------
    counts
        Samples x states counts (:func:`state_counts`).
    pairs
        One row per patient with columns ``before`` and ``after`` (sample ids present in ``counts``).
    pseudocount
        Added to every count before the log-ratio.
    max_exact
        Up to this many pairs, the sign-flip null is enumerated exactly (2^n flips); above, ``n_perm`` random flips.
    seed
        Random state of the random flips.
    n_perm
        Random flips when the exact enumeration is too large.

    Returns
    -------
    (DataFrame, dict)
        Per state: mean CLR change, patients with an increase, Wilcoxon signed-rank p and BH FDR; and the global test
        (``n_pairs``, ``statistic`` = squared norm of the mean CLR change, ``p``).
    """
    z = clr(counts, pseudocount=pseudocount)
    d = z.loc[pairs["after"].to_numpy()].to_numpy() - z.loc[pairs["before"].to_numpy()].to_numpy()
    n = len(d)
    rows = []
    for j, state in enumerate(counts.columns):
        dj = d[:, j]
        p = stats.wilcoxon(dj, alternative="two-sided").pvalue if n >= 2 and np.any(dj != 0) else np.nan
        rows.append({"state": state, "n_pairs": n, "mean_clr_change": dj.mean() if n else np.nan,
                     "n_increased": int((dj > 0).sum()), "p": p})
    table = pd.DataFrame(rows)
    table["fdr"] = bh_fdr(table["p"].to_numpy())
    stat = float(np.sum(d.mean(axis=0) ** 2)) if n else np.nan
    if n == 0:
        return table, {"n_pairs": 0, "statistic": np.nan, "p": np.nan}
    if n <= max_exact:
        signs = np.array(list(itertools.product([1.0, -1.0], repeat=n)))
    else:
        signs = np.random.default_rng(seed).choice([1.0, -1.0], size=(n_perm, n))
    null = np.sum((signs @ d / n) ** 2, axis=1)
    p_global = float((np.sum(null >= stat - 1e-12) + (0 if n <= max_exact else 1)) / (len(null) + (0 if n <= max_exact else 1)))
    return table, {"n_pairs": n, "statistic": stat, "p": p_global}


def pseudobulk_de(
    adata: ad.AnnData,
    *,
    samples: pd.DataFrame,
    design: str,
    contrast: list[str],
    min_cells: int = 20,
    min_counts: int = 10,
    sample_key: str = "sample_id",
) -> pd.DataFrame:
    """Test differential expression with DESeq2 (pydeseq2) on pseudobulks of the leukemic cells of each sample.

    Parameters
    ----------
    adata
        Annotated cells with raw counts in ``layers['counts']``.
    samples
        One row per sample to include (index = sample id) with the design's columns.
    design
        Formula, e.g. ``"~ group"`` or ``"~ patient_id + timepoint"``.
    contrast
        ``[factor, tested level, reference level]``.
    min_cells
        Samples with fewer leukemic cells are left out.
    min_counts
        Genes with fewer total counts over the included pseudobulks are left out, as are MT- and haemoglobin genes.
    sample_key
        ``obs`` column naming each cell's sample (the pseudobulk unit, matched to the index of ``samples``).

    Returns
    -------
    DataFrame
        pydeseq2's results (baseMean, log2FoldChange, lfcSE, stat, pvalue, padj) indexed by gene, sorted by gene.
    """
    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.ds import DeseqStats

    leuk = adata[(adata.obs["compartment"] == "leukemic").to_numpy()]
    pb, n_cells = pseudobulk(leuk, sample_key)
    keep = [s for s in samples.index if s in pb.index and n_cells[s] >= min_cells]
    counts = pb.loc[keep].round().astype(int)
    # Haemoglobin and mitochondrial reads in leukemic pseudobulks come from the ambient soup and from damaged cells,
    # which differ between samples for technical reasons (erythroid content, handling): they are not tested.
    technical = counts.columns.str.upper().str.startswith("MT-") | counts.columns.isin(hb_genes())
    counts = counts.loc[:, (counts.sum(axis=0) >= min_counts) & ~technical]
    meta = samples.loc[keep].copy()
    for c in meta.columns:
        meta[c] = meta[c].astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dds = DeseqDataSet(counts=counts, metadata=meta, design=design, quiet=True, n_cpus=1)
        dds.deseq2()
        ds = DeseqStats(dds, contrast=contrast, quiet=True, n_cpus=1)
        ds.summary()
    res = ds.results_df.copy()
    res.index.name = "gene"
    res.attrs["n_samples"] = len(keep)
    return res.sort_index()


def enrichment(de: pd.DataFrame, *, stat: str = "stat", tmin: int = 5) -> pd.DataFrame:
    """Gene-set enrichment of a DE statistic (decoupler ULM) in the Hallmark and Zeng hierarchy gene sets.

    Parameters
    ----------
    de
        Differential expression indexed by gene (:func:`pseudobulk_de`).
    stat
        Column of ``de`` regressed on gene-set membership.
    tmin
        Gene sets with fewer genes in ``de`` are left out.

    Returns
    -------
    DataFrame
        ``source`` (gene set), ``score`` (t-value of the ULM slope: positive = up in the tested level), ``p``, ``fdr``,
        sorted by p-value.
    """
    import decoupler as dc

    sets = {**hallmark_sets(), **{f"ZENG_{k}": v for k, v in hierarchy_gene_sets(top=100).items()}}
    net = pd.DataFrame([(k, g) for k, genes in sets.items() for g in genes], columns=["source", "target"])
    net = net.drop_duplicates()
    mat = de[[stat]].dropna().T
    mat.index = ["contrast"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es, pv = dc.mt.ulm(mat, net, tmin=tmin)
    out = pd.DataFrame({"source": es.columns, "score": es.iloc[0].to_numpy(), "p": pv.iloc[0].to_numpy()})
    out["fdr"] = bh_fdr(out["p"].to_numpy())
    return out.sort_values(["p", "source"]).reset_index(drop=True)
