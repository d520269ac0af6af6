"""Bridge from clone counts to single cells: the transcriptional states that given clones occupy.

A clone-aware single-cell experiment (LARRY, Weinreb et al. 2020; or the barcode read out of 10x libraries) gives a
binary cell x clone matrix (``adata.obsm['X_clone']``). With clone names that match the barcodes of the bulk counts,
the resistant clones found in the mice can be looked up among the cells: their states, and whether they are biased
towards a state compared with all clones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import DataContractError

if TYPE_CHECKING:  # anndata is imported when a file is read, not with this module
    from anndata import AnnData

__all__ = ["clone_state_table", "shared_clones_with_cells", "state_enrichment", "load_clone_matrix", "expanding_clones"]


def load_clone_matrix(path: str | Path, *, clone_key: str = "X_clone",
                      clone_names: Sequence[str] | None = None) -> tuple[AnnData, list[str]]:  # fmt: skip
    """Read an h5ad with a cell x clone matrix and the names of its clones.

    Clone names come from ``adata.uns['clone_names']`` when present, else ``clone_names``, else ``clone_0...``.

    Parameters
    ----------
    path
        The ``.h5ad`` file.
    clone_key
        ``obsm`` key of the cell x clone matrix.
    clone_names
        Names of the clone columns when the file has none.

    Returns
    -------
    adata : anndata.AnnData
        The cells, with the (cells x clones, binary) matrix in ``obsm[clone_key]``.
    clone_names : list of str
        One name per clone column.

    Raises
    ------
    DataContractError
        The file is not a readable h5ad, has no ``obsm[clone_key]``, or the clone names do not match its columns.
    """
    import warnings

    import anndata as ad

    try:
        with warnings.catch_warnings():  # files from older anndata versions read fine but warn about their encoding
            warnings.simplefilter("ignore")
            adata = ad.read_h5ad(path)
    except (OSError, KeyError, ValueError) as exc:
        raise DataContractError(path, f"not a readable h5ad file ({exc})") from None
    if clone_key not in adata.obsm:
        raise DataContractError(path, f"no cell x clone matrix in obsm['{clone_key}']", column=clone_key)
    n = adata.obsm[clone_key].shape[1]
    names = adata.uns.get("clone_names", clone_names)
    names = [f"clone_{i}" for i in range(n)] if names is None else [str(x) for x in names]
    if len(names) != n:
        raise DataContractError(path, f"{len(names)} clone names for {n} clone columns", column=clone_key)
    return adata, names


def clone_state_table(adata: AnnData, clone_names: Sequence[str], *, clone_key: str = "X_clone",
                      state_key: str = "state_info", time_key: str | None = "time_info") -> pd.DataFrame:  # fmt: skip
    """Count cells per clone, state (and time point) into a long table ``clone, state[, time], n_cells``.

    Parameters
    ----------
    adata
        Cells with the clone matrix in ``obsm[clone_key]``.
    clone_names
        Names of the clone columns.
    clone_key
        ``obsm`` key of the cell x clone matrix.
    state_key, time_key
        ``obs`` columns of the cell state and time point (``time_key=None``: no time).

    Returns
    -------
    DataFrame
        ``clone, state[, time], n_cells``.
    """
    x = sp.csr_matrix(adata.obsm[clone_key])
    cells, clones = x.nonzero()
    df = pd.DataFrame({"clone": np.asarray(clone_names, dtype=object)[clones],
                       "state": adata.obs[state_key].astype(str).to_numpy()[cells]})  # fmt: skip
    keys = ["clone", "state"]
    if time_key is not None and time_key in adata.obs:
        df["time"] = adata.obs[time_key].astype(str).to_numpy()[cells]
        keys.append("time")
    return df.groupby(keys, as_index=False).size().rename(columns={"size": "n_cells"})


def shared_clones_with_cells(barcodes: Iterable[str], clone_names: Iterable[str]) -> list[str]:
    """Find the clones present both among bulk barcodes and among the single-cell clone names (sorted).

    Parameters
    ----------
    barcodes
        Bulk barcodes (e.g. those called resistant).
    clone_names
        Clone names of the single cells.

    Returns
    -------
    list of str
        The common names, sorted.
    """
    return sorted(set(map(str, barcodes)) & set(map(str, clone_names)))


def state_enrichment(table: pd.DataFrame, clones: Iterable[str]) -> pd.DataFrame:
    """Compare the state composition of ``clones`` with all clones: cells, fractions and the log2 ratio per state.

    Parameters
    ----------
    table
        Output of :func:`clone_state_table`.
    clones
        The selected clones.

    Returns
    -------
    DataFrame
        One row per state (the index), most cells first: ``cells_selected, cells_all, fraction_selected,
        fraction_all`` and ``log2_ratio`` (of the fractions, each plus 0.001).
    """
    clones = set(map(str, clones))
    per_state = table.groupby("state")["n_cells"].sum()
    sel = table[table["clone"].isin(clones)].groupby("state")["n_cells"].sum().reindex(per_state.index, fill_value=0)
    out = pd.DataFrame({"cells_selected": sel, "cells_all": per_state})
    out["fraction_selected"] = out["cells_selected"] / max(out["cells_selected"].sum(), 1)
    out["fraction_all"] = out["cells_all"] / out["cells_all"].sum()
    out["log2_ratio"] = np.log2((out["fraction_selected"] + 1e-3) / (out["fraction_all"] + 1e-3))
    return out.sort_values("cells_all", ascending=False)


def expanding_clones(table: pd.DataFrame, *, late: str = "6", min_cells: int = 5, fold: float = 3.0) -> pd.Index:
    """Find the clones that expand to a late time point: ``min_cells`` cells there, ``fold`` times their earlier ones.

    Parameters
    ----------
    table
        Output of :func:`clone_state_table` with a ``time`` column.
    late
        The late time point (as written in the table).
    min_cells
        Fewest cells of the clone at the late time point.
    fold
        Late cells over the cells at all earlier time points (at least 1).

    Returns
    -------
    Index
        The expanding clones.
    """
    size = table.pivot_table(index="clone", columns="time", values="n_cells", aggfunc="sum", fill_value=0)
    early = size.drop(columns=late, errors="ignore").sum(axis=1)
    return size.index[(size.get(late, 0) >= min_cells) & (size.get(late, 0) >= fold * early.clip(lower=1))]
