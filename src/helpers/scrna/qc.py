"""Per-sample quality control of single cells: data-driven (MAD) thresholds, haemoglobin handling and doublets.

Thresholds are chosen per sample because depth, viability and red-cell contamination differ between marrow
aspirates: a fixed cut that suits one sample removes a healthy population of another. For each sample, a cell is an
outlier when (on the log scale for counts and genes) it lies more than ``nmads`` median absolute deviations from the
sample's median (Germain et al. 2020 Genome Biol; the scverse single-cell best-practices book).

Haemoglobin: bone-marrow aspirates carry red cells and reticulocytes whose droplets are almost only HBB/HBA reads
(the real AML027 sample: HBB alone is 38 % of all UMIs). Barcodes whose haemoglobin share exceeds ``hb_max``
(default 90 %) are removed as reticulocyte / red-cell contamination: enucleated cells keep little mRNA besides
globins. Erythroblasts (GYPA, CA1, ALAS2, KLF1 expressed; typically 40-90 % Hb) stay as the erythroid population.
The haemoglobin share of the non-erythroid cells estimates the ambient Hb soup that contaminates every droplet.
Haemoglobin and mitochondrial genes are kept out of the highly variable genes (see :mod:`.embedding`).
"""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .genesets import hb_genes

__all__ = ["qc_metrics", "mad_outliers", "otsu_threshold", "detect_doublets", "run_qc", "QC_REASONS"]

QC_REASONS = ("low_genes", "low_counts", "high_counts", "high_genes", "high_mito", "hb_dominated", "doublet")


def qc_metrics(adata: ad.AnnData) -> pd.DataFrame:
    """Per-cell QC metrics from raw counts (vectorised over the sparse matrix).

    Parameters
    ----------
    adata
        Raw counts in ``X``; gene symbols as ``var_names`` (``MT-`` genes are mitochondrial).

    Returns
    -------
    DataFrame
        ``total_counts``, ``n_genes``, ``pct_mito``, ``pct_hb`` (percent of the cell's UMIs) indexed like ``obs``.
    """
    x = sp.csr_matrix(adata.X)
    tot = np.asarray(x.sum(axis=1)).ravel()
    ngen = np.diff(x.indptr) if x.has_canonical_format else np.asarray((x > 0).sum(axis=1)).ravel()
    names = adata.var_names.str.upper()
    mito = np.asarray(names.str.startswith("MT-"), dtype=float)
    hb = np.asarray(names.isin(hb_genes()), dtype=float)
    denom = np.maximum(tot, 1)
    return pd.DataFrame(
        {
            "total_counts": tot,
            "n_genes": ngen.astype(int),
            "pct_mito": 100 * (x @ mito) / denom,
            "pct_hb": 100 * (x @ hb) / denom,
        },
        index=adata.obs_names,
    )


def mad_outliers(values: np.ndarray, *, nmads: float, side: str = "both") -> tuple[np.ndarray, float, float]:
    """Flag values more than ``nmads`` scaled median absolute deviations from the median.

    The MAD is scaled by 1.4826 (consistent with the standard deviation for normal data).

    Parameters
    ----------
    values
        The values of one sample.
    nmads
        Scaled MADs from the median beyond which a value is an outlier.
    side
        ``"both"``, ``"lower"`` or ``"upper"``.

    Returns
    -------
    (ndarray, float, float)
        The boolean outlier mask and the lower and upper thresholds (``-inf`` / ``inf`` on the side not tested).
    """
    v = np.asarray(values, dtype=float)
    med = np.median(v)
    mad = 1.4826 * np.median(np.abs(v - med))
    lo = med - nmads * mad if side in ("both", "lower") else -np.inf
    hi = med + nmads * mad if side in ("both", "upper") else np.inf
    return (v < lo) | (v > hi), lo, hi


def otsu_threshold(values: np.ndarray, *, bins: int = 100) -> float:
    """Otsu's threshold: the cut maximising the between-class variance of a (bimodal) distribution.

    Parameters
    ----------
    values
        The values to split in two classes.
    bins
        Histogram bins the cut is searched over.

    Returns
    -------
    float
        The threshold (the middle of the plateau when the two modes are separated by empty bins).
    """
    v = np.asarray(values, dtype=float)
    hist, edges = np.histogram(v, bins=bins)
    centers = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centers) / np.maximum(w0, 1)
    m1 = (np.sum(hist * centers) - np.cumsum(hist * centers)) / np.maximum(w1, 1)
    between = (w0 * w1 * (m0 - m1) ** 2)[:-1]
    if len(between) == 0:
        return float(np.median(v))
    # Between two well separated modes the criterion is flat (empty bins): take the middle of that plateau.
    top = np.flatnonzero(between >= between.max() * (1 - 1e-9))
    return float((edges[1:][top[0]] + edges[1:][top[-1]]) / 2)


def detect_doublets(
    adata: ad.AnnData,
    *,
    batch_key: str = "sample_id",
    expected_rate: float = 0.05,
    seed: int = 0,
    min_cells: int = 30,
    blas_threads: int | None = 1,
) -> pd.DataFrame:
    """Scrublet doublet scores per sample (scanpy's implementation) with a data-driven threshold.

    Scanpy's automatic threshold needs scikit-image; we call scrublet with exact kNN and choose, per sample, Otsu's
    threshold on the scores of the simulated doublets (the same idea as scrublet's minimum between the two modes),
    raised when needed so that at most ``expected_rate`` of the sample's cells are called.

    Parameters
    ----------
    adata
        Raw counts of the cells to score (after the other QC filters).
    batch_key
        Samples are scored separately (doublets form within one droplet run).
    expected_rate
        Scrublet's prior doublet rate, also the largest share of a sample called doublet (10x: about 0.8 % per
        1,000 cells recovered).
    seed
        Random state of the doublet simulation.
    min_cells
        Samples with fewer cells are not scored (score NaN, never called doublet).
    blas_threads
        BLAS threads while scrublet runs (``None``: the library's default, one per core). Scrublet's PCA is ARPACK,
        hundreds of matrix-vector products too small to share among threads: on a dream-scale sample (8,300 cells)
        its PCA took 2.1 s on one thread and 6.5 s on two, with the same scores to the last bit (the chunked path
        already runs one sample per core). The exact kNN's OpenMP threads are left alone: scikit-learn's neighbour
        search splits its work by their number and the scores of a few cells change with it.

    Returns
    -------
    DataFrame
        ``doublet_score``, ``doublet_threshold`` and ``predicted_doublet`` per cell.
    """
    import scanpy as sc
    from threadpoolctl import threadpool_limits

    out = pd.DataFrame({"doublet_score": np.nan, "doublet_threshold": np.nan, "predicted_doublet": False},
                       index=adata.obs_names)
    x = sp.csr_matrix(adata.X)  # once: the X of a view is a new copy at every access
    for _, idx in adata.obs.groupby(batch_key, observed=True).indices.items():
        if len(idx) < min_cells:
            continue
        whole = len(idx) == adata.n_obs  # one sample (the chunked path): no row copy (scrublet copies its input)
        sub = ad.AnnData(X=x if whole else x[idx], obs=pd.DataFrame(index=adata.obs_names[idx]),
                         var=pd.DataFrame(index=adata.var_names))
        n_pcs = int(min(30, len(idx) // 3))
        # scrublet divides by zero when it detects no doublet (harmless)
        with warnings.catch_warnings(), threadpool_limits(blas_threads, user_api="blas"):
            warnings.simplefilter("ignore", RuntimeWarning)
            sc.pp.scrublet(sub, expected_doublet_rate=expected_rate, threshold=1.0, use_approx_neighbors=False,
                           n_prin_comps=n_pcs, random_state=seed, verbose=False)
        score = sub.obs["doublet_score"].to_numpy()
        # Otsu on the simulated doublets, but never calling more than the expected rate: with a few hundred cells
        # the two modes overlap and Otsu alone removes many singlets.
        thr = max(otsu_threshold(sub.uns["scrublet"]["doublet_scores_sim"]),
                  float(np.quantile(score, 1 - expected_rate)))
        out.iloc[idx, 0] = score
        out.iloc[idx, 1] = thr
        out.iloc[idx, 2] = score > thr
    return out


def run_qc(
    adata: ad.AnnData,
    *,
    batch_key: str = "sample_id",
    nmads: float = 5.0,
    nmads_mito: float = 3.0,
    mito_floor: float = 10.0,
    min_genes: int = 100,
    hb_max: float = 90.0,
    doublets: bool = True,
    doublet_rate: float = 0.05,
    seed: int = 0,
) -> tuple[ad.AnnData, pd.DataFrame, pd.DataFrame]:
    """Per-sample QC; returns the kept cells, a per-sample summary of what was removed and why, and per-cell metrics.

    Parameters
    ----------
    adata
        Raw counts with ``obs[batch_key]``.
    batch_key
        Column naming the sample of each cell.
    nmads
        MADs for total counts and detected genes (log scale, both sides).
    nmads_mito
        MADs above the median for the mitochondrial percentage.
    mito_floor
        The mitochondrial threshold is never below this percentage (so that a very clean sample is not trimmed).
    min_genes
        Absolute floor on detected genes (empty droplets and debris).
    hb_max
        Cells whose haemoglobin share (%) is above this are removed as red-cell / reticulocyte contamination.
    doublets
        Run :func:`detect_doublets` on the cells that pass the other filters.
    doublet_rate
        Expected doublet rate (scrublet prior and the most a sample may lose to doublet calls).
    seed
        Random state of the doublet simulation.

    Returns
    -------
    (AnnData, DataFrame, DataFrame)
        Kept cells (with the QC metrics and ``qc_status`` in ``obs``); the per-sample table: cells before / after,
        removed per reason (a cell counts once, under the first reason in :data:`QC_REASONS`), the thresholds used,
        haemoglobin share of all UMIs before and after, and the ambient Hb estimate (median Hb % of the cells with
        under 5 % Hb); and the per-cell metrics and ``qc_status`` of every input cell (for QC plots).
    """
    m = qc_metrics(adata)
    obs = adata.obs.join(m) if not set(m.columns) & set(adata.obs.columns) else adata.obs.drop(
        columns=list(set(m.columns) & set(adata.obs.columns))).join(m)
    reasons = pd.DataFrame(False, index=adata.obs_names, columns=list(QC_REASONS))
    rows = []
    for sample, idx in obs.groupby(batch_key, observed=True).indices.items():
        s = obs.iloc[idx]
        lc, lo_c, hi_c = mad_outliers(np.log1p(s["total_counts"]), nmads=nmads)
        lg, lo_g, hi_g = mad_outliers(np.log1p(s["n_genes"]), nmads=nmads)
        _, _, hi_m = mad_outliers(s["pct_mito"], nmads=nmads_mito, side="upper")
        hi_m = max(hi_m, mito_floor)
        r = reasons.iloc[idx]
        r["low_genes"] = (s["n_genes"] < max(min_genes, np.expm1(lo_g))).to_numpy()
        r["low_counts"] = (np.log1p(s["total_counts"]) < lo_c).to_numpy()
        r["high_counts"] = (np.log1p(s["total_counts"]) > hi_c).to_numpy()
        r["high_genes"] = (np.log1p(s["n_genes"]) > hi_g).to_numpy()
        r["high_mito"] = (s["pct_mito"] > hi_m).to_numpy()
        r["hb_dominated"] = (s["pct_hb"] > hb_max).to_numpy()
        reasons.iloc[idx] = r.to_numpy()
        rows.append({batch_key: sample, "min_genes_used": float(max(min_genes, np.expm1(lo_g))),
                     "max_counts_used": float(np.expm1(hi_c)), "max_pct_mito_used": float(hi_m),
                     "max_pct_hb_used": float(hb_max)})
    pre = ~reasons.drop(columns="doublet").any(axis=1)
    if doublets:
        d = detect_doublets(adata[pre.to_numpy()], batch_key=batch_key, expected_rate=doublet_rate, seed=seed)
        obs = obs.join(d)
        obs["predicted_doublet"] = obs["predicted_doublet"].fillna(False).astype(bool)
        reasons["doublet"] = obs["predicted_doublet"].to_numpy()
    # Each removed cell is counted under its first reason, so the columns add up to the cells removed.
    first = reasons.to_numpy()
    first_reason = np.where(first.any(axis=1), np.array(QC_REASONS)[np.argmax(first, axis=1)], "pass")
    obs["qc_status"] = pd.Categorical(first_reason, categories=["pass", *QC_REASONS])
    keep = first_reason == "pass"
    hb_mask = np.asarray(adata.var_names.str.upper().isin(hb_genes()), dtype=float)
    x = sp.csr_matrix(adata.X)
    hb_counts = x @ hb_mask
    summary = pd.DataFrame(rows).set_index(batch_key)
    g = obs.assign(_keep=keep, _hb=hb_counts).groupby(batch_key, observed=True)
    summary["cells_before"] = g.size()
    for reason in QC_REASONS:
        summary[f"removed_{reason}"] = g["qc_status"].apply(lambda s, r=reason: int((s == r).sum()))
    summary["cells_after"] = g["_keep"].sum().astype(int)
    summary["pct_removed"] = 100 * (1 - summary["cells_after"] / summary["cells_before"])
    summary["pct_hb_umis_before"] = 100 * g["_hb"].sum() / g["total_counts"].sum()
    kept = obs.assign(_hb=hb_counts)[keep].groupby(batch_key, observed=True)
    summary["pct_hb_umis_after"] = 100 * kept["_hb"].sum() / kept["total_counts"].sum()
    summary["ambient_hb_pct"] = obs[keep & (obs["pct_hb"] < 5)].groupby(batch_key, observed=True)["pct_hb"].median()
    summary["median_genes_after"] = kept["n_genes"].median()
    summary["median_counts_after"] = kept["total_counts"].median()
    summary["median_pct_mito_after"] = kept["pct_mito"].median()
    out = adata[keep].copy()
    out.obs = obs[keep].copy()
    cells = obs[[batch_key, "total_counts", "n_genes", "pct_mito", "pct_hb", "qc_status"]].copy()
    if "doublet_score" in obs:
        cells["doublet_score"] = obs["doublet_score"]
    return out, summary.reset_index(), cells
