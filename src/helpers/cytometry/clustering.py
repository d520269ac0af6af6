"""Unsupervised view of the leukemic cells: FlowSOM clusters and metaclusters (``flowsom`` package), UMAP, abundances.

Gates only find the populations one asks for; FlowSOM (Van Gassen et al. 2015) on the gated leukemic cells of all
samples shows states the gates split or miss (e.g. CD34- CD117+ blasts, partially monocytic cells).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .fcs import read_fcs
from .gating import Strategy, apply_strategy, compensate_for, load_strategy

__all__ = ["collect_events", "run_flowsom", "cluster_abundance", "umap_embedding"]


def collect_events(sheet: pd.DataFrame, markers: list[str], *, gate: str = "blasts", panel: str = "FUNC",
                   condition: str = "untreated", strategy: Strategy | str = "aml_functional",
                   max_per_sample: int = 1000, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:  # fmt: skip
    """Gated events of one tube per sample, arcsinh-transformed, subsampled to at most ``max_per_sample`` each.

    Returns
    -------
    (X, obs)
        ``X`` (cells x markers, float32, arcsinh(x / cofactor) of compensated values); ``obs`` with ``sample_id``.
    """
    strat = strategy if isinstance(strategy, Strategy) else load_strategy(strategy)
    rng = np.random.default_rng(seed)
    xs, ids = [], []
    sel = sheet[(sheet["panel"] == panel) & (sheet["condition"] == condition)].sort_values("sample_id")
    for r in sel.itertuples(index=False):
        with threadpool_limits(1):  # one BLAS thread is faster for the small compensation product
            data = compensate_for(strat, read_fcs(r.path))
        out, _ = apply_strategy(data, strat, compensated=True)
        idx = np.flatnonzero(out.membership[gate])
        if idx.size > max_per_sample:
            idx = np.sort(rng.choice(idx, max_per_sample, replace=False))
        cols = [data.column(m) for m in markers]
        # arcsinh in float64, then rounded to float32: numpy's float32 arcsinh differs by one unit in the last place
        # between its AVX-512 and AVX2 code paths, and the online SOM training amplifies that into another map; a
        # float64 result lands on the same float32 on every CPU (docs/reproducibility.md).
        xs.append(np.arcsinh(data.events[np.ix_(idx, cols)].astype(np.float64) / strat.cofactor).astype(np.float32))
        ids += [r.sample_id] * idx.size
    X = np.vstack(xs).astype(np.float32) if xs else np.empty((0, len(markers)), np.float32)
    return X, pd.DataFrame({"sample_id": ids})


def run_flowsom(X: np.ndarray, markers: list[str], *, xdim: int = 7, ydim: int = 7, n_metaclusters: int = 8,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:  # fmt: skip
    """FlowSOM self-organising map and consensus metaclustering.

    Returns
    -------
    (clusters, metaclusters, profile)
        SOM node and metacluster of every cell, and the median arcsinh intensity of each marker per metacluster.
    """
    from flowsom.models import FlowSOMEstimator

    # The estimator API of the flowsom package (SOM + consensus metaclustering). Its FlowSOM wrapper class fails
    # when a SOM node ends up empty (it writes NaN into a read-only AnnData view), so it is not used here.
    est = FlowSOMEstimator(xdim=xdim, ydim=ydim, n_clusters=n_metaclusters, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        meta = np.asarray(est.fit_predict(np.asarray(X, dtype=np.float64)), dtype=int)
    clusters = np.asarray(est.cluster_labels, dtype=int)
    profile = pd.DataFrame(X, columns=markers).groupby(meta).median()
    profile.index.name = "metacluster"
    return clusters, meta, profile


def cluster_abundance(sample_ids: pd.Series | np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """Percentage of each sample's cells in each metacluster (samples x metaclusters)."""
    tab = pd.crosstab(pd.Series(np.asarray(sample_ids), name="sample_id"), pd.Series(labels, name="metacluster"))
    return 100 * tab.div(tab.sum(axis=1), axis=0)


def umap_embedding(X: np.ndarray, *, n_neighbors: int = 15, seed: int = 0) -> np.ndarray:
    """2-D UMAP of the cells (single-threaded, so the same seed gives the same layout)."""
    with warnings.catch_warnings():  # umap-learn warns that a random_state forces n_jobs=1, which is the point here
        warnings.simplefilter("ignore")  # (and its tqdm import warns when ipywidgets is missing)
        import umap

        return umap.UMAP(n_neighbors=n_neighbors, random_state=seed, n_jobs=1).fit_transform(X)
