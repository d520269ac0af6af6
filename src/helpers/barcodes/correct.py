"""Error correction of barcodes: neighbours within a distance, then clustering into true barcodes.

Finding neighbours: comparing all pairs is quadratic (100,000 barcodes = 5e9 pairs), so candidates come from the
pigeonhole principle. Cut every barcode into ``d + 1`` segments; two barcodes within distance ``d`` share at least one
segment exactly, at the same position for the Hamming distance and shifted by at most ``d`` for the Levenshtein
distance. Candidate pairs are joined on (segment, sequence) and their exact distances computed in bulk (numpy for
Hamming, ``rapidfuzz.process.cpdist`` for Levenshtein).

Clustering methods (``counts`` are reads per distinct barcode):

- ``message_passing`` (starcode, Zorita et al. 2015): ``a`` passes its reads to a neighbour ``b`` within ``d`` when
  ``count(b) >= ratio * count(a)``; with several such neighbours, to the most abundant; chains are followed to a root.
- ``closest_abundant`` (genBaRcode's "standard" correction): from the least abundant barcode up, each barcode merges
  into its closest neighbour among the more abundant ones (ties: the more abundant), counts accumulate along chains.
- ``sphere`` ("most abundant absorbs"): the most abundant unassigned barcode absorbs every unassigned neighbour within
  ``d``; repeat.
- ``directional`` (UMI-tools, Smith et al. 2017): edge ``a -> b`` when ``a`` and ``b`` are within ``d`` (Hamming 1 by
  default) and ``count(a) >= 2 count(b) - 1``; each barcode joins the first, most abundant root that reaches it.

Ties are broken by the order (count descending, sequence ascending), so results never depend on input order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cpdist

__all__ = [
    "neighbour_pairs",
    "cluster_barcodes",
    "collapse_counts",
    "correct_counts",
    "CLUSTER_METHODS",
]

CLUSTER_METHODS = ("message_passing", "closest_abundant", "sphere", "directional")


def _rank(counts: pd.Series) -> pd.Series:
    """Aggregate identical barcodes and order them: count descending, then sequence ascending."""
    c = counts.groupby(level=0, sort=True).sum()
    c = c.sort_values(ascending=False, kind="stable")
    c.index.name = "barcode"
    return c.astype("int64")


def neighbour_pairs(barcodes: Iterable[str], distance: int, *, metric: str = "hamming") -> pd.DataFrame:
    """Find all pairs of barcodes within ``distance`` of each other (each unordered pair once).

    Parameters
    ----------
    barcodes
        Sequence of distinct strings.
    distance
        Maximum distance (inclusive), >= 1.
    metric
        ``"hamming"`` (only equal lengths compared) or ``"levenshtein"``.

    Returns
    -------
    DataFrame
        Columns ``i, j`` (positions in ``barcodes``, ``i < j``) and ``distance`` (substitutions, or edits for
        Levenshtein), int64; empty for fewer than two barcodes or ``distance < 1``.

    Raises
    ------
    ValueError
        ``metric`` is neither ``hamming`` nor ``levenshtein``.
    """
    if metric not in ("hamming", "levenshtein"):
        raise ValueError(f"metric must be 'hamming' or 'levenshtein', got {metric!r}")
    seqs = np.asarray(list(barcodes), dtype=object)
    n = seqs.size
    empty = pd.DataFrame({"i": np.array([], dtype=np.int64), "j": np.array([], dtype=np.int64),
                          "distance": np.array([], dtype=np.int64)})  # fmt: skip
    if n < 2 or distance < 1:
        return empty
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=n)
    lmin = int(lengths.min())
    k = distance + 1
    bounds = np.linspace(0, lmin, k + 1).round().astype(int)
    shifts = range(-distance, distance + 1) if metric == "levenshtein" else (0,)
    ser = pd.Series(seqs)
    left, right = [], []
    for seg in range(k):
        a, b = int(bounds[seg]), int(bounds[seg + 1])
        if b <= a:
            continue
        left.append(pd.DataFrame({"seg": seg, "key": ser.str.slice(a, b), "i": np.arange(n)}))
        for sh in shifts:
            if a + sh < 0:
                continue
            key = ser.str.slice(a + sh, b + sh)
            ok = (key.str.len() == b - a).to_numpy()
            right.append(pd.DataFrame({"seg": seg, "key": key[ok], "j": np.flatnonzero(ok)}))
    cand = pd.concat(left).merge(pd.concat(right), on=["seg", "key"])
    i, j = cand["i"].to_numpy(), cand["j"].to_numpy()
    keep = i < j
    pairs = np.unique(np.stack([i[keep], j[keep]], axis=1), axis=0) if keep.any() else np.empty((0, 2), np.int64)
    if metric == "hamming":
        pairs = pairs[lengths[pairs[:, 0]] == lengths[pairs[:, 1]]]
        d = np.empty(len(pairs), dtype=np.int64)
        for length in np.unique(lengths[pairs[:, 0]]):
            sel = lengths[pairs[:, 0]] == length
            mat = np.frombuffer("".join(seqs[lengths == length]).encode(), dtype=np.uint8).reshape(-1, length)
            pos = np.full(n, -1)
            pos[lengths == length] = np.arange(mat.shape[0])
            d[sel] = (mat[pos[pairs[sel, 0]]] != mat[pos[pairs[sel, 1]]]).sum(axis=1)
    else:
        pairs = pairs[np.abs(lengths[pairs[:, 0]] - lengths[pairs[:, 1]]) <= distance]
        d = cpdist(list(seqs[pairs[:, 0]]), list(seqs[pairs[:, 1]]), scorer=Levenshtein.distance,
                   score_cutoff=distance, workers=1).astype(np.int64)  # fmt: skip
    ok = d <= distance
    return pd.DataFrame({"i": pairs[ok, 0].astype(np.int64), "j": pairs[ok, 1].astype(np.int64), "distance": d[ok]})


def _roots(parent: np.ndarray) -> np.ndarray:
    """Follow parent pointers to the roots (pointer jumping, vectorised)."""
    root = parent.copy()
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root
        root = nxt


def cluster_barcodes(
    counts: pd.Series,
    *,
    method: str = "message_passing",
    distance: int = 1,
    ratio: float = 5.0,
    metric: str = "levenshtein",
) -> pd.Series:
    """Assign every barcode to the centroid of its cluster.

    Parameters
    ----------
    counts
        Reads per barcode (index = barcode); identical barcodes are summed first.
    method
        One of :data:`CLUSTER_METHODS` (see the module docstring).
    distance
        Maximum distance between a barcode and the one it merges into.
    ratio
        ``message_passing`` only: minimum count ratio parent / child (starcode ``-r``, default 5).
    metric
        ``"levenshtein"`` or ``"hamming"``.

    Returns
    -------
    Series
        Centroid per barcode (index ``barcode``, name ``centroid``), in the order count descending, barcode ascending.

    Raises
    ------
    ValueError
        ``method`` is not one of :data:`CLUSTER_METHODS`, or ``metric`` is not ``hamming`` or ``levenshtein``.
    """
    if method not in CLUSTER_METHODS:
        raise ValueError(f"method must be one of {CLUSTER_METHODS}, got {method!r}")
    c = _rank(counts)
    seqs = c.index.to_numpy()
    cnt = c.to_numpy()
    n = cnt.size
    pairs = neighbour_pairs(seqs, distance, metric=metric)
    # rank order: a smaller position means more abundant (or equal count and smaller sequence)
    i, j, d = pairs["i"].to_numpy(), pairs["j"].to_numpy(), pairs["distance"].to_numpy()
    parent = np.arange(n)
    if method == "message_passing":
        ok = cnt[i] >= ratio * cnt[j]  # i is the more abundant one of each pair (i < j)
        pj, pi = j[ok], i[ok]
        # several candidate parents: the most abundant (smallest rank position) wins
        order = np.lexsort((pi, pj))
        first = np.unique(pj[order], return_index=True)[1]
        parent[pj[order][first]] = pi[order][first]
        centroid = _roots(parent)
    elif method == "closest_abundant":
        order = np.lexsort((i, d, j))  # per child j: closest first, then most abundant
        first = np.unique(j[order], return_index=True)[1]
        parent[j[order][first]] = i[order][first]
        centroid = _roots(parent)
    elif method == "sphere":
        adj = _adjacency(n, i, j)
        centroid = np.full(n, -1)
        for node in range(n):  # rank order: the most abundant unassigned barcode absorbs its neighbours
            if centroid[node] >= 0:
                continue
            centroid[node] = node
            nb = adj[node]
            centroid[nb[centroid[nb] < 0]] = node
    else:  # directional
        ok = cnt[i] >= 2 * cnt[j] - 1
        fwd = _adjacency(n, i[ok], j[ok], directed=True)
        back = cnt[j] >= 2 * cnt[i] - 1
        fwd2 = _adjacency(n, j[back], i[back], directed=True)
        centroid = np.full(n, -1)
        for node in range(n):
            if centroid[node] >= 0:
                continue
            centroid[node] = node
            queue = deque([node])
            while queue:
                cur = queue.popleft()
                for nb in (*fwd[cur], *fwd2[cur]):
                    if centroid[nb] < 0:
                        centroid[nb] = node
                        queue.append(nb)
    out = pd.Series(seqs[centroid], index=c.index, name="centroid")
    return out


def _adjacency(n: int, i: np.ndarray, j: np.ndarray, *, directed: bool = False) -> list[np.ndarray]:
    """Adjacency lists (neighbours in rank order) from edge arrays."""
    src = i if directed else np.concatenate([i, j])
    dst = j if directed else np.concatenate([j, i])
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    bounds = np.searchsorted(src, np.arange(n + 1))
    return [dst[bounds[k] : bounds[k + 1]] for k in range(n)]


def collapse_counts(counts: pd.Series | pd.DataFrame, centroid: pd.Series) -> pd.Series | pd.DataFrame:
    """Sum counts (a Series, or a barcode x sample DataFrame) per centroid; a barcode without a centroid keeps its own.

    Parameters
    ----------
    counts
        Counts indexed by barcode.
    centroid
        ``barcode -> centroid`` (:func:`cluster_barcodes`).

    Returns
    -------
    Series or DataFrame
        Counts per centroid, most reads first.
    """
    mapping = centroid.reindex(counts.index)
    mapping = mapping.where(mapping.notna(), pd.Series(counts.index, index=counts.index))
    out = counts.groupby(mapping.to_numpy()).sum()
    out.index.name = "barcode"
    if isinstance(out, pd.Series):
        return out.sort_index().sort_values(ascending=False, kind="stable").rename("count")
    return out.loc[out.sum(axis=1).sort_index().sort_values(ascending=False, kind="stable").index]


def correct_counts(counts: pd.Series, **kwargs: Any) -> pd.Series:
    """Cluster ``counts`` and return the counts per centroid.

    Parameters
    ----------
    counts
        Reads per barcode.
    **kwargs
        Options of :func:`cluster_barcodes` (``method``, ``distance``, ``ratio``, ``metric``).

    Returns
    -------
    Series
        Reads per centroid (index ``barcode``, name ``count``), most reads first.
    """
    return collapse_counts(_rank(counts), cluster_barcodes(counts, **kwargs))
