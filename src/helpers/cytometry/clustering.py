"""Unsupervised view of the leukemic cells: FlowSOM clusters and metaclusters (``flowsom`` package), UMAP, abundances.

Gates only find the populations one asks for; FlowSOM (Van Gassen et al. 2015) on the gated leukemic cells of all
samples shows states the gates split or miss (e.g. CD34- CD117+ blasts, partially monocytic cells).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .fcs import read_fcs
from .gating import Strategy, apply_strategy, compensate_for, load_strategy

__all__ = ["collect_events", "run_flowsom", "flowsom_stability", "stability_table", "cluster_abundance", "umap_embedding"]


def collect_events(sheet: pd.DataFrame, markers: list[str], *, gate: str = "blasts", panel: str = "FUNC",
                   condition: str = "untreated", strategy: Strategy | str = "aml_functional",
                   max_per_sample: int = 1000, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:  # fmt: skip
    """Gated events of one tube per sample, arcsinh-transformed, subsampled to at most ``max_per_sample`` each.

    Parameters
    ----------
    sheet
        Validated sample sheet (``path, sample_id, panel, condition``).
    markers
        Markers to collect (columns of ``X``).
    gate
        Gate of the strategy whose events are kept.
    panel, condition
        The tube of each sample to read.
    strategy
        Gating strategy (or the name of a shipped one).
    max_per_sample
        Events kept per sample at most (a random subset).
    seed
        Seeds the subsampling.

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


def run_flowsom(X: np.ndarray, markers: list[str], *, xdim: int = 10, ydim: int = 10, n_metaclusters: int = 10,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:  # fmt: skip
    """FlowSOM self-organising map and consensus metaclustering, with FlowSOM's defaults.

    Parameters
    ----------
    X
        Cells x markers (transformed, e.g. arcsinh).
    markers
        Column names of ``X``.
    xdim, ydim
        SOM grid: 10 x 10 as in FlowSOM (Van Gassen et al. 2015; ``BuildSOM`` defaults).
    n_metaclusters
        Consensus-hierarchical metaclusters (FlowSOM's ``nClus`` default is 10).
    seed
        Seeds the SOM and the consensus resampling.

    Returns
    -------
    (clusters, metaclusters, profile)
        SOM node and metacluster of every cell, and the median arcsinh intensity of each marker per metacluster.

    Notes
    -----
    The first call in a process compiles the package's numba kernels (about 35 s on a loaded 2-core machine; later
    calls take well under a second). numba's on-disk cache does not help here: the SOM kernel takes another jitted
    function as an argument, and such signatures are compiled anew in every process (each run would only add cache
    files), so it is not enabled.
    """
    from flowsom.models import FlowSOMEstimator

    # The estimator API of the flowsom package (SOM + ConsensusCluster, its default metaclustering). Its FlowSOM
    # wrapper class fails when a SOM node ends up empty (it writes NaN into a read-only AnnData view), so it is not
    # used here. The SOM seeds numpy's global generator with ``seed``, and the consensus resampling that follows draws
    # from it, so one seed gives one answer; one BLAS thread keeps the distance sums in one order.
    est = FlowSOMEstimator(xdim=xdim, ydim=ydim, n_clusters=n_metaclusters, seed=seed)
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        meta = np.asarray(est.fit_predict(np.asarray(X, dtype=np.float64)), dtype=int)
    clusters = np.asarray(est.cluster_labels, dtype=int)
    profile = pd.DataFrame(X, columns=markers).groupby(meta).median()
    profile.index.name = "metacluster"
    return clusters, meta, profile


def flowsom_stability(X: np.ndarray, markers: list[str], *, seeds: list[int] | range = range(5),
                      reference: np.ndarray | None = None, **kwargs: Any) -> pd.DataFrame:  # fmt: skip
    """Run FlowSOM under several seeds and report how much the metaclustering depends on the seed.

    Parameters
    ----------
    X, markers
        As for :func:`run_flowsom`.
    seeds
        Seeds to try.
    reference
        Optional reference labels of the cells (manual gates): each run's adjusted Rand index (ARI) against them.
    **kwargs
        Passed to :func:`run_flowsom` (grid, number of metaclusters).

    Returns
    -------
    pandas.DataFrame
        One row per seed: ``seed``, ``ari_vs_reference`` (NaN without a reference), ``ari_vs_seeds`` (mean ARI
        against the other seeds' metaclusters). ``attrs["summary"]`` holds the minimum, median and maximum of both and
        their spread (max - min).
    """
    from sklearn.metrics import adjusted_rand_score

    labels = {s: run_flowsom(X, markers, seed=s, **kwargs)[1] for s in seeds}
    rows = []
    for s, lab in labels.items():
        others = [adjusted_rand_score(lab, o) for t, o in labels.items() if t != s]
        rows.append({"seed": s, "ari_vs_reference": adjusted_rand_score(reference, lab) if reference is not None
                     else np.nan, "ari_vs_seeds": float(np.mean(others)) if others else np.nan})  # fmt: skip
    df = pd.DataFrame(rows)
    summ = {}
    for c in ("ari_vs_reference", "ari_vs_seeds"):
        v = df[c].dropna()
        if len(v):
            summ[c] = {"min": float(v.min()), "median": float(v.median()), "max": float(v.max()),
                       "spread": float(v.max() - v.min())}  # fmt: skip
    df.attrs["summary"] = summ
    return df


def stability_table(stability: pd.DataFrame) -> pd.DataFrame:
    """Summarise the ARI spread of :func:`flowsom_stability` as a table (for a report or a benchmark).

    Parameters
    ----------
    stability
        :func:`flowsom_stability` output.

    Returns
    -------
    pandas.DataFrame
        One row per comparison (``ari_vs_reference``, ``ari_vs_seeds``): ``n_seeds, min, median, max, spread`` and
        ``n_below_0_8`` (seeds whose ARI is under 0.8).
    """
    rows = []
    for c, s in stability.attrs["summary"].items():
        v = stability[c].dropna()
        rows.append({"comparison": c, "n_seeds": int(len(v)), **s, "n_below_0_8": int((v < 0.8).sum())})
    return pd.DataFrame(rows, columns=["comparison", "n_seeds", "min", "median", "max", "spread", "n_below_0_8"])


def cluster_abundance(sample_ids: pd.Series | np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """Percentage of each sample's cells in each metacluster.

    Parameters
    ----------
    sample_ids
        Sample of every cell.
    labels
        Metacluster of every cell.

    Returns
    -------
    pandas.DataFrame
        Samples x metaclusters, in % of the sample's cells.
    """
    tab = pd.crosstab(pd.Series(np.asarray(sample_ids), name="sample_id"), pd.Series(labels, name="metacluster"))
    return 100 * tab.div(tab.sum(axis=1), axis=0)


def umap_embedding(X: np.ndarray, *, n_neighbors: int = 15, seed: int = 0) -> np.ndarray:
    """2-D UMAP of the cells (single-threaded, so the same seed gives the same layout).

    Parameters
    ----------
    X
        Cells x markers (transformed).
    n_neighbors
        UMAP's neighbourhood size.
    seed
        UMAP's random state.

    Returns
    -------
    numpy.ndarray
        Cells x 2 coordinates.
    """
    with warnings.catch_warnings():  # umap-learn warns that a random_state forces n_jobs=1, which is the point here
        warnings.simplefilter("ignore")  # (and its tqdm import warns when ipywidgets is missing)
        import umap

        return umap.UMAP(n_neighbors=n_neighbors, random_state=seed, n_jobs=1).fit_transform(X)
