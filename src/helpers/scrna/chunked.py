"""The single-cell pipeline at the study's size: sample by sample, never a dense (nor a whole sparse) cells x genes matrix.

:func:`build_atlas_chunked` gives the cells, clusters and annotation of :func:`helpers.scrna.build_atlas` (with
``cnv=False``: expression evidence only) in memory bounded by one sample plus a few numbers per cell:

1. **per-sample QC** (:func:`qc_samples`), one task per 10x sample (a process pool or a dask.distributed cluster
   through :func:`helpers.workflow.open_executor`): the same :func:`~helpers.scrna.qc.run_qc` rules (they are per
   sample already: MAD thresholds and scrublet are computed within each sample), normalisation, the sample's own
   highly-variable-gene statistics (scanpy's ``seurat`` flavour, which scanpy's batch-aware selection computes per
   batch), and the sample's kept raw counts written to a scratch folder;
2. **highly variable genes** combined across samples as scanpy's batch-aware selection does;
3. **PCA** of the scaled (clipped at 10) HVG matrix with scanpy's covariance solver on a dask array whose blocks are
   the samples, read back from the scratch folder and scaled one at a time (``sc.pp.pca(svd_solver="covariance_eigh")``
   on dask: one pass for the covariance, one for the projection);
4. **Harmony** on the PCs, **kNN** (exact up to :data:`~helpers.scrna.embedding.EXACT_KNN_MAX_CELLS` cells, else
   pynndescent), **Leiden**, **UMAP** (optional): as :func:`~helpers.scrna.embedding.cluster_and_umap`;
5. **annotation** (:func:`~helpers.scrna.malignant.call_malignant` with ``cnv=False``, programme scores) on the cells x
   annotation genes only (the genes of the gene sets and signatures: a gene's z-score does not depend on the other
   genes), and the per-sample features (:func:`~helpers.scrna.features.sample_features`);
6. the annotated atlas written sample by sample (:func:`write_atlas_chunked`, anndata's ``write_elem`` and
   ``sparse_dataset(...).append``), the same file layout as :func:`~helpers.scrna.h5ad.write_atlas`.

Why not a dask-backed AnnData throughout: scanpy's QC, scrublet and batch-aware HVG need each sample in memory anyway,
and scanpy's ``scale`` on a dask array computes its means lazily inside the PCA graph, so dask keeps every block in
memory until the means are known; here the means are reduced first (one pass over the samples) and the PCA graph only
streams. Copy-number inference (``cnv=True``) needs every gene of every cell of a patient at once and is not done here.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import DataContractError
from .annotate import match_genes
from .embedding import EXACT_KNN_MAX_CELLS
from .genesets import hb_genes, hierarchy_gene_sets, linclass7_weights, lsc17_weights, signatures

__all__ = ["ChunkedAtlas", "SampleQC", "annotation_gene_list", "build_atlas_chunked", "qc_samples",
           "write_atlas_chunked"]  # fmt: skip

_BCL2 = ["BCL2", "MCL1", "BCL2L1", "BCL2A1"]
#: Name of the column that carries, per cell, the counts of all genes outside the annotation genes (so that the
#: per-sample pseudobulk's library size is the whole transcriptome's).
REMAINDER = "_other_genes"


def annotation_gene_list() -> list[str]:
    """List every gene symbol the annotation, programme scores and per-sample features read (before matching).

    Returns
    -------
    list of str
        Human gene symbols, first occurrence order, without duplicates: the hierarchy and normal-cell markers, the
        OXPHOS set, the LSC17 and LinClass-7 genes and the BCL-2 family. The chunked path keeps only these genes of
        every cell in memory.
    """
    sig = signatures()
    genes = [g for gs in hierarchy_gene_sets(top=100).values() for g in gs]
    genes += [g for gs in hierarchy_gene_sets(top=100, include_normal=False).values() for g in gs]
    genes += list(sig["OXPHOS"]) + list(lsc17_weights()) + list(linclass7_weights()) + _BCL2
    return list(dict.fromkeys(genes))


def _feature_genes() -> list[str]:
    return list(dict.fromkeys([*lsc17_weights(), *_BCL2, *linclass7_weights()]))


@dataclass(frozen=True)
class _Task:
    k: int
    sample_id: str
    path: str
    meta: dict
    categories: tuple[str, ...]
    scratch: str
    min_genes: int
    hb_max: float
    doublets: bool
    seed: int
    n_top_genes: int


@dataclass
class SampleQC:
    """What one sample's QC task returns (small: tables and the annotation genes' columns)."""

    sample_id: str
    gene_ids: np.ndarray
    var: pd.DataFrame
    summary: pd.DataFrame
    cells: pd.DataFrame
    obs: pd.DataFrame
    hvg: pd.DataFrame | None
    small_log: sp.csr_matrix | None  # fewer than 3 kept cells: their log expression (pooled for the HVG, as scanpy)
    ann_log: sp.csr_matrix
    feat_counts: sp.csr_matrix
    scratch: str
    seconds: float


def _excluded(var_names: pd.Index) -> np.ndarray:
    return np.asarray(var_names.str.upper().str.startswith("MT-") | var_names.isin(hb_genes()))


def _normalised(counts: sp.csr_matrix, var_names: pd.Index) -> ad.AnnData:
    from .embedding import normalise

    a = ad.AnnData(X=counts.copy(), var=pd.DataFrame(index=var_names))
    normalise(a, keep_counts=False)  # the caller has the counts: a second copy would only be copied again on slicing
    return a


def _qc_one(t: _Task) -> SampleQC:
    """One sample: read, QC (the in-memory rules), normalise, per-sample HVG statistics, scratch counts."""
    import scanpy as sc

    from .h5ad import read_h5ad_counts
    from .qc import run_qc
    from .tenx import read_10x

    t0 = time.perf_counter()
    a = read_h5ad_counts(t.path) if t.path.endswith(".h5ad") else read_10x(Path(t.path))
    # obs as load_cohort_scrna builds it for the whole cohort (same columns, same order, same categories)
    a.obs["barcode"] = a.obs_names.astype(str)
    a.obs["sample_id"] = pd.Categorical([t.sample_id] * a.n_obs, categories=list(t.categories))
    for c, v in t.meta.items():
        if c not in ("patient_id", "timepoint"):
            a.obs[c] = v
    a.obs_names = [f"{t.sample_id}_{b}" for b in a.obs_names]
    a.obs["patient_id"] = t.meta["patient_id"]
    a.obs["timepoint"] = pd.Categorical([t.meta["timepoint"]] * a.n_obs,
                                        categories=["diagnosis", "remission", "relapse"])  # fmt: skip
    kept, summary, cells = run_qc(a, min_genes=t.min_genes, hb_max=t.hb_max, doublets=t.doublets, seed=t.seed)
    counts = sp.csr_matrix(kept.X, dtype=np.float32)
    scratch = Path(t.scratch) / f"{t.k:05d}_{t.sample_id}.npz"
    sp.save_npz(scratch, counts, compressed=False)  # read back several times: no compression
    norm = _normalised(counts, kept.var_names)
    keep_genes = ~_excluded(kept.var_names)
    hvg, small = None, None
    log_kept = sp.csr_matrix(norm.X[:, keep_genes])  # one column slice, used by the HVG or pooled
    if kept.n_obs >= 3:
        sub = ad.AnnData(X=log_kept, var=pd.DataFrame(index=kept.var_names[keep_genes]))
        n_top = int(min(t.n_top_genes, sub.n_vars))
        # What scanpy's batch-aware selection computes for each batch (same function, same options).
        hvg = sc.pp.highly_variable_genes(sub, n_top_genes=n_top, flavor="seurat", filter_unexpressed_genes=True,
                                          inplace=False)  # fmt: skip
        hvg.index = sub.var_names
    else:
        small = log_kept
    ann = match_genes(annotation_gene_list(), kept.var_names)
    feat = match_genes(_feature_genes(), kept.var_names)
    ai = kept.var_names.get_indexer(ann)
    fi = kept.var_names.get_indexer(feat)
    fc = counts[:, fi]
    remainder = np.asarray(counts.sum(axis=1)).ravel() - np.asarray(fc.sum(axis=1)).ravel()
    return SampleQC(sample_id=t.sample_id, gene_ids=a.var["gene_ids"].to_numpy(), var=kept.var.copy(),
                    summary=summary, cells=cells, obs=kept.obs.copy(), hvg=hvg, small_log=small,
                    ann_log=sp.csr_matrix(norm.X[:, ai]), feat_counts=sp.hstack([fc, remainder[:, None]],
                                                                                format="csr", dtype=np.float32),
                    scratch=str(scratch), seconds=time.perf_counter() - t0)  # fmt: skip


def qc_samples(
    sheet: pd.DataFrame,
    samples: pd.DataFrame,
    scratch: str | Path,
    *,
    executor: Executor | None = None,
    min_genes: int = 100,
    hb_max: float = 90.0,
    doublets: bool = True,
    seed: int = 0,
    n_top_genes: int = 2000,
) -> list[SampleQC]:
    """Per-sample QC of a cohort's 10x samples, one task each; results in sheet order.

    Parameters
    ----------
    sheet
        Validated sample sheet (:func:`helpers.scrna.contract.read_sample_sheet`); extra columns are copied to ``obs``.
    samples
        The cohort's sample table (``sample_id``, ``patient_id``, ``timepoint``).
    scratch
        Folder for each sample's kept raw counts (read back by the cohort step); on a dask cluster, a folder the
        workers share.
    executor
        A :class:`concurrent.futures.Executor` (a process pool, or the dask.distributed executor of
        :func:`helpers.workflow.open_executor`); ``None`` runs the samples in this process, one after the other.
    min_genes, hb_max, doublets, seed
        As :func:`helpers.scrna.qc.run_qc`.
    n_top_genes
        Highly variable genes per sample (as :func:`helpers.scrna.embedding.select_hvg`).

    Returns
    -------
    list of SampleQC
        One per sample; ``pd.concat`` of their ``summary`` and ``cells`` gives :func:`~helpers.scrna.qc.run_qc`'s
        tables for the whole cohort.
    """
    Path(scratch).mkdir(parents=True, exist_ok=True)
    known = samples.set_index("sample_id")
    cats = tuple(sheet["sample_id"])
    extra = [c for c in sheet.columns if c not in ("sample_id", "path")]
    tasks = []
    for k, row in enumerate(sheet.itertuples(index=False)):
        meta = {c: getattr(row, c) for c in extra}
        meta.update(patient_id=known.loc[row.sample_id, "patient_id"], timepoint=known.loc[row.sample_id, "timepoint"])
        tasks.append(_Task(k, row.sample_id, str(row.path), meta, cats, str(scratch), min_genes, hb_max, doublets,
                           seed, n_top_genes))  # fmt: skip
    if executor is None:
        return [_qc_one(t) for t in tasks]
    futures = [executor.submit(_qc_one, t) for t in tasks]
    return [f.result() for f in futures]


def _combine_hvg(parts: list[pd.DataFrame], n_vars: int, n_top: int) -> pd.Series:
    """Combine per-batch ``seurat`` HVG tables as scanpy does (``_highly_variable_genes_batched`` of scanpy 1.12).

    The mean of the statistics, genes ranked by the batches selecting them, ties by normalised dispersion. Written
    here because scanpy combines only batches it holds in one AnnData; the per-batch tables come from
    ``sc.pp.highly_variable_genes`` itself.
    """
    order = parts[0].index.copy()
    df = pd.concat(parts, axis=0)
    df["highly_variable"] = df["highly_variable"].astype(int)
    df = df.groupby(df.index, observed=True).agg(dict(means="mean", dispersions="mean", dispersions_norm="mean",
                                                      highly_variable="sum"))  # fmt: skip
    df["highly_variable_nbatches"] = df["highly_variable"]
    df.sort_values(["highly_variable_nbatches", "dispersions_norm"], ascending=False, na_position="last",
                   inplace=True)  # fmt: skip
    df["highly_variable"] = np.arange(df.shape[0]) < n_top
    return df.loc[order, "highly_variable"]


def _select_hvg(results: list[SampleQC], var_names: pd.Index, n_top_genes: int) -> np.ndarray:
    """Compute the mask :func:`helpers.scrna.embedding.select_hvg` gives on the whole cohort, from per-sample tables."""
    import scanpy as sc

    keep = ~_excluded(var_names)
    names = var_names[keep]
    n_top = int(min(n_top_genes, keep.sum()))
    tables = {r.sample_id: r.hvg for r in results if r.hvg is not None}
    small = [r.small_log for r in results if r.small_log is not None and r.small_log.shape[0] > 0]
    if small:  # select_hvg pools samples with fewer than 3 cells into one batch
        pooled = ad.AnnData(X=sp.vstack(small, format="csr"), var=pd.DataFrame(index=names))
        hv = sc.pp.highly_variable_genes(pooled, n_top_genes=n_top, flavor="seurat", filter_unexpressed_genes=True,
                                         inplace=False)  # fmt: skip
        hv.index = names
        tables["_pooled"] = hv
    if len([r for r in results if r.obs.shape[0] > 0]) == 1:
        raise ValueError("the chunked path needs several samples (one sample fits in memory: use build_atlas)")
    chosen = _combine_hvg([tables[k] for k in sorted(tables)], len(names), n_top)  # scanpy sorts the batch names
    mask = np.zeros(len(var_names), bool)
    mask[np.flatnonzero(keep)[chosen.to_numpy()]] = True
    return mask


def _hvg_block(path: str, var_names: pd.Index, hv: np.ndarray) -> np.ndarray:
    counts = sp.load_npz(path).tocsr()
    x = _normalised(counts, var_names).X[:, hv]
    return np.asarray(x.toarray(), dtype=np.float32)


def _scaled_block(path: str, var_names: pd.Index, hv: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    # sc.pp.scale(max_value=10) on one sample's block with the cohort's means and standard deviations
    x = (_hvg_block(path, var_names, hv) - mean) / std
    return np.clip(x, -10, 10).astype(np.float32)


def _moments(results: list[SampleQC], var_names: pd.Index, hv: np.ndarray, workers: int) -> tuple[np.ndarray, ...]:
    """Stream the per-gene mean and standard deviation (ddof 1, as ``sc.pp.scale``) over the samples.

    Chan et al.'s pairwise combination of per-block means and sums of squared deviations.
    """
    from concurrent.futures import ThreadPoolExecutor

    def one(r):
        x = _hvg_block(r.scratch, var_names, hv).astype(np.float64)
        m = x.mean(axis=0)
        return x.shape[0], m, ((x - m) ** 2).sum(axis=0)

    n, mean, m2 = 0, np.zeros(int(hv.sum())), np.zeros(int(hv.sum()))
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for nb, mb, m2b in pool.map(one, [r for r in results if r.obs.shape[0] > 0]):
            tot = n + nb
            delta = mb - mean
            mean = mean + delta * nb / tot
            m2 = m2 + m2b + delta**2 * n * nb / tot
            n = tot
    std = np.sqrt(m2 / max(n - 1, 1))
    std[std == 0] = 1
    return mean, std


@dataclass
class ChunkedAtlas:
    """The chunked pipeline's result: per-cell tables and embeddings, the annotation genes, the QC tables.

    ``adata`` holds the QC-passed cells x the annotation genes (log-normalised ``X``), with ``obs`` as
    :func:`helpers.scrna.build_atlas` gives it, ``obsm`` (PCA, Harmony, UMAP) and ``obsp`` (the kNN graph); the full
    expression stays in the scratch folder until :func:`write_atlas_chunked` writes it.
    """

    adata: ad.AnnData
    qc_summary: pd.DataFrame
    qc_cells: pd.DataFrame
    var: pd.DataFrame
    hvg: np.ndarray
    scratch: list[str]
    feat_counts: ad.AnnData
    timings: dict[str, float] = field(default_factory=dict)
    knn: str = ""

    def sample_features(self, *, min_leukemic_cells: int = 20) -> pd.DataFrame:
        """Compute :func:`helpers.scrna.features.sample_features` of the atlas.

        Pseudobulk of the feature genes and of the rest of the transcriptome, from the raw counts kept for them.

        Parameters
        ----------
        min_leukemic_cells
            Fewest leukemic cells for a sample's leukemic-compartment features (fewer: missing).

        Returns
        -------
        pandas.DataFrame
            One row per sample (``sample_id``, ``patient_id``, ``timepoint`` and the features), as
            :func:`helpers.scrna.features.sample_features` returns it.
        """
        from .features import sample_features

        fa = self.feat_counts
        fa.obs = self.adata.obs
        return sample_features(fa, min_leukemic_cells=min_leukemic_cells)


def build_atlas_chunked(
    sheet: pd.DataFrame,
    samples: pd.DataFrame,
    scratch: str | Path,
    *,
    executor: Executor | None = None,
    seed: int = 0,
    min_genes: int = 100,
    hb_max: float = 90.0,
    doublets: bool = True,
    n_top_genes: int = 2000,
    n_pcs: int = 30,
    integrate_key: str | None = "patient_id",
    knn: str = "auto",
    n_neighbors: int = 15,
    resolution: float = 1.0,
    umap: bool = True,
    species: str = "human",
    threads: int = 2,
) -> ChunkedAtlas:
    """Run QC, HVG, PCA, Harmony, kNN, Leiden, UMAP and annotation of a cohort, one sample in memory at a time.

    This reproduces :func:`helpers.scrna.build_atlas` with ``cnv=False`` (same cells, clusters up to the kNN search).

    Parameters
    ----------
    sheet, samples, scratch, executor
        As :func:`qc_samples` (the per-sample QC is fanned out on ``executor``).
    seed
        Random state of scrublet, PCA, Harmony, Leiden and UMAP.
    min_genes
        Absolute floor on detected genes, on top of the per-sample MAD limits.
    hb_max
        Haemoglobin share of a barcode's UMIs (%) above which it is removed as a red cell / reticulocyte.
    doublets
        Detect doublets with scrublet (per sample).
    n_top_genes
        Highly variable genes (batch-aware over the samples, as :func:`helpers.scrna.embedding.select_hvg`).
    n_pcs
        Principal components (at most the HVG and the cells minus one).
    integrate_key
        ``obs`` column Harmony integrates across (``None``, or fewer than two values: no integration).
    knn
        ``"auto"`` (exact search up to :data:`~helpers.scrna.embedding.EXACT_KNN_MAX_CELLS` cells, pynndescent
        above), ``"sklearn"`` or ``"pynndescent"``.
    n_neighbors
        Neighbours per cell of the kNN graph.
    resolution
        Leiden resolution.
    umap
        Compute the UMAP layout.
    species
        ``"human"`` or ``"mouse"`` gene symbols.
    threads
        Threads of the cohort step's passes over the samples (each holds one sample's HVG block).

    Returns
    -------
    ChunkedAtlas
        ``timings`` gives the seconds of each step (``qc``, ``hvg``, ``pca``, ``harmony``, ``knn``, ``leiden``,
        ``umap``, ``annotation``).

    Raises
    ------
    ValueError
        An unknown ``knn``, or a cohort of a single sample (use :func:`helpers.scrna.build_atlas`).
    DataContractError
        A sample whose features differ from the first sample's (another Cell Ranger reference), or any problem of
        the 10x files found while reading them.
    """
    import dask
    import dask.array as da
    import scanpy as sc

    from .malignant import call_malignant
    from .scores import cell_programme_scores

    if knn not in ("auto", "sklearn", "pynndescent"):
        raise ValueError(f"knn must be 'auto', 'sklearn' or 'pynndescent', got {knn!r}")
    tm: dict[str, float] = {}
    t = time.perf_counter()
    results = qc_samples(sheet, samples, scratch, executor=executor, min_genes=min_genes, hb_max=hb_max,
                         doublets=doublets, seed=seed, n_top_genes=n_top_genes)  # fmt: skip
    tm["qc"] = time.perf_counter() - t
    ref = results[0].gene_ids
    for r, path in zip(results, sheet["path"], strict=True):
        if len(r.gene_ids) != len(ref) or np.any(r.gene_ids != ref):
            raise DataContractError(path, f"sample '{r.sample_id}' has {len(r.gene_ids)} features that differ from "
                                    f"the first sample's {len(ref)} (different Cell Ranger reference?)",
                                    column="features")  # fmt: skip
    var = results[0].var.copy()
    var_names = var.index
    summary = pd.concat([r.summary for r in results], ignore_index=True)
    cells = pd.concat([r.cells for r in results])
    obs = pd.concat([r.obs for r in results])
    live = [r for r in results if r.obs.shape[0] > 0]

    t = time.perf_counter()
    hv = _select_hvg(results, var_names, n_top_genes)
    var["highly_variable"] = hv
    tm["hvg"] = time.perf_counter() - t

    t = time.perf_counter()
    mean, std = _moments(live, var_names, hv, threads)
    blocks = [da.from_delayed(dask.delayed(_scaled_block)(r.scratch, var_names, hv, mean, std),
                              shape=(r.obs.shape[0], int(hv.sum())), dtype=np.float32) for r in live]  # fmt: skip
    x = da.concatenate(blocks, axis=0)
    n_pcs = int(min(n_pcs, int(hv.sum()) - 1, obs.shape[0] - 1))
    with dask.config.set(scheduler="threads", num_workers=max(1, threads)):
        pcs = sc.pp.pca(x, n_comps=n_pcs, svd_solver="covariance_eigh", return_info=False)
        x_pca = np.asarray(pcs.compute(), dtype=np.float32)
    tm["pca"] = time.perf_counter() - t

    a = ad.AnnData(X=sp.vstack([r.ann_log for r in results], format="csr"), obs=obs,
                   var=pd.DataFrame(index=match_genes(annotation_gene_list(), var_names)))  # fmt: skip
    a.obsm["X_pca"] = x_pca
    rep = "X_pca"
    t = time.perf_counter()
    if integrate_key is not None and obs[integrate_key].nunique() >= 2:
        import harmonypy

        # as helpers.scrna.embedding.embed
        ho = harmonypy.run_harmony(x_pca, obs, integrate_key, max_iter_harmony=20, verbose=False, random_state=seed)
        z = np.asarray(ho.Z_corr)
        a.obsm["X_pca_harmony"] = z if z.shape[0] == a.n_obs else z.T
        rep = "X_pca_harmony"
    tm["harmony"] = time.perf_counter() - t

    # The three calls of helpers.scrna.embedding.cluster_and_umap, one by one so that each step is timed.
    method = knn if knn != "auto" else ("sklearn" if a.n_obs <= EXACT_KNN_MAX_CELLS else "pynndescent")
    t = time.perf_counter()
    sc.pp.neighbors(a, n_neighbors=n_neighbors, use_rep=rep, transformer=method, random_state=seed)
    tm["knn"] = time.perf_counter() - t
    t = time.perf_counter()
    sc.tl.leiden(a, resolution=resolution, flavor="igraph", n_iterations=2, random_state=seed)
    tm["leiden"] = time.perf_counter() - t
    t = time.perf_counter()
    if umap:
        sc.tl.umap(a, random_state=seed, min_dist=0.3)
    tm["umap"] = time.perf_counter() - t

    t = time.perf_counter()
    a.uns["malignant_by_patient"] = call_malignant(a, cnv=False, species=species)
    cell_programme_scores(a)
    tm["annotation"] = time.perf_counter() - t
    feat = match_genes(_feature_genes(), var_names)
    fc = sp.vstack([r.feat_counts for r in results], format="csr")
    fa = ad.AnnData(X=fc, obs=pd.DataFrame(index=obs.index), var=pd.DataFrame(index=[*feat, REMAINDER]))
    fa.layers["counts"] = fc
    return ChunkedAtlas(adata=a, qc_summary=summary, qc_cells=cells, var=var, hvg=hv,
                        scratch=[r.scratch for r in results], feat_counts=fa, timings=tm, knn=method)  # fmt: skip


def write_atlas_chunked(atlas: ChunkedAtlas, path: str | Path) -> Path:
    """Write the annotated atlas sample by sample: the layout of :func:`helpers.scrna.h5ad.write_atlas`.

    ``X`` (log-normalised) and ``layers['counts']`` of all genes are appended one sample at a time with anndata's
    ``sparse_dataset(...).append``; ``obs``, ``var``, ``obsm`` and ``obsp`` are written with ``write_elem``.

    Parameters
    ----------
    atlas
        The result of :func:`build_atlas_chunked` (its scratch files must still exist).
    path
        The ``.h5ad`` file to write (atomically; its folder is created).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import h5py
    from anndata.io import sparse_dataset, write_elem

    from ..io import atomic_path
    from .h5ad import atlas_frames

    a = atlas.adata
    obs, var = atlas_frames(a.obs, atlas.var)
    gz = {"compression": "gzip"}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["encoding-type"] = "anndata"
        f.attrs["encoding-version"] = "0.1.0"
        x_ds = c_ds = None
        for s in atlas.scratch:
            counts = sp.load_npz(s).tocsr().astype(np.float32)
            if counts.shape[0] == 0:
                continue
            x = sp.csr_matrix(_normalised(counts, var.index).X, dtype=np.float32)
            if x_ds is None:
                write_elem(f, "X", x, dataset_kwargs=gz)
                write_elem(f, "layers", {"counts": counts}, dataset_kwargs=gz)
                x_ds, c_ds = sparse_dataset(f["X"]), sparse_dataset(f["layers"]["counts"])
            else:
                x_ds.append(x)
                c_ds.append(counts)
        write_elem(f, "obs", obs, dataset_kwargs=gz)
        write_elem(f, "var", var, dataset_kwargs=gz)
        write_elem(f, "obsm", {k: np.asarray(v) for k, v in a.obsm.items()
                               if k in ("X_pca", "X_pca_harmony", "X_umap")}, dataset_kwargs=gz)  # fmt: skip
        write_elem(f, "obsp", {k: sp.csr_matrix(a.obsp[k]) for k in ("connectivities", "distances") if k in a.obsp},
                   dataset_kwargs=gz)  # fmt: skip
        for k in ("varm", "varp", "uns"):
            write_elem(f, k, {})
    return path
