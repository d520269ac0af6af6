"""Reading and writing 10x Genomics Cell Ranger count matrices, with the checks of the data contract.

Supported layouts (what Cell Ranger delivers per sample):

- ``filtered_feature_bc_matrix.h5`` (Cell Ranger >= 3: group ``matrix`` with ``features/{id,name,feature_type}``) and
  ``filtered_gene_bc_matrices_h5.h5`` (Cell Ranger 2: one group per genome with ``genes`` / ``gene_names``);
- the matrix-market folder: ``matrix.mtx[.gz]``, ``features.tsv[.gz]`` (v3) or ``genes.tsv`` (v2), ``barcodes.tsv[.gz]``.

The matrix is stored features x barcodes in compressed sparse column form; we return cells x genes AnnData with raw
integer counts in ``X`` (CSR, float32), ``var['gene_ids']`` and unique gene symbols as ``var_names``. Every dimension is
cross-checked (shape against indptr, indices, barcodes and features), because a truncated or mixed-up file otherwise
loads silently with shifted genes.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp

from ..errors import DataContractError

__all__ = ["read_10x", "read_10x_h5", "read_10x_mtx", "write_10x_h5"]


def _decode(a: np.ndarray) -> np.ndarray:
    return np.array([x.decode() if isinstance(x, bytes) else str(x) for x in a], dtype=object)


def _build(path: Path, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: np.ndarray,
           barcodes: np.ndarray, gene_ids: np.ndarray, gene_names: np.ndarray,
           feature_types: np.ndarray | None = None) -> ad.AnnData:  # fmt: skip
    """Check every dimension of a features x barcodes CSC matrix and return cells x genes AnnData."""
    n_genes, n_cells = (int(x) for x in shape)
    if len(indptr) != n_cells + 1:
        raise DataContractError(path, f"indptr has {len(indptr)} entries but shape says {n_cells} barcodes (+1)",
                                column="indptr")
    if len(data) != len(indices) or (len(indptr) and indptr[-1] != len(data)):
        raise DataContractError(path, f"data ({len(data)}), indices ({len(indices)}) and indptr[-1] "
                                f"({indptr[-1] if len(indptr) else '?'}) disagree: truncated matrix", column="data")
    if np.any(np.diff(indptr) < 0):
        raise DataContractError(path, "indptr is not non-decreasing", column="indptr")
    if len(indices) and (indices.min() < 0 or indices.max() >= n_genes):
        raise DataContractError(path, f"feature index {int(indices.max())} outside the {n_genes} features of shape",
                                column="indices")
    if len(barcodes) != n_cells:
        raise DataContractError(path, f"{len(barcodes)} barcodes but the matrix has {n_cells} columns",
                                column="barcodes")
    if len(gene_ids) != n_genes or len(gene_names) != n_genes:
        raise DataContractError(path, f"{len(gene_ids)} feature ids / {len(gene_names)} names but the matrix has "
                                f"{n_genes} rows", column="features")
    if len(data) and (np.any(data < 0) or np.any(data != np.round(data))):
        raise DataContractError(path, "counts must be non-negative integers (raw UMI counts)", column="data")
    dup = pd.Index(barcodes).duplicated()
    if dup.any():
        raise DataContractError(path, f"barcode '{barcodes[np.argmax(dup)]}' appears twice", column="barcodes",
                                row=int(np.argmax(dup)))
    mat = sp.csc_matrix((np.asarray(data, dtype=np.float32), np.asarray(indices), np.asarray(indptr)),
                        shape=(n_genes, n_cells))
    var = pd.DataFrame({"gene_ids": gene_ids, "feature_types": feature_types if feature_types is not None
                        else np.full(n_genes, "Gene Expression", dtype=object)}, index=pd.Index(gene_names, dtype=str))
    adata = ad.AnnData(X=sp.csr_matrix(mat.T), obs=pd.DataFrame(index=pd.Index(barcodes, dtype=str)), var=var)
    adata.var_names_make_unique()
    if "feature_types" in adata.var and (adata.var["feature_types"] != "Gene Expression").any():
        adata = adata[:, adata.var["feature_types"] == "Gene Expression"].copy()  # drop antibody / CRISPR features
    return adata


def read_10x_h5(path: str | Path, *, genome: str | None = None) -> ad.AnnData:
    """Read a Cell Ranger HDF5 matrix (v3 ``matrix`` group or v2 per-genome groups).

    Parameters
    ----------
    path
        ``filtered_feature_bc_matrix.h5`` or ``filtered_gene_bc_matrices_h5.h5``.
    genome
        For v2 files with several genomes: which one (default: the only one, else an error).

    Returns
    -------
    AnnData
        Cells x genes: ``X`` sparse CSR float32 raw UMI counts, ``obs_names`` the barcodes, ``var_names`` the gene
        symbols (made unique), ``var['gene_ids']`` (Ensembl ids) and ``var['feature_types']``; only "Gene
        Expression" features are kept (antibody / CRISPR features dropped).

    Raises
    ------
    DataContractError
        Not an HDF5 file, missing datasets, or dimensions that do not agree.
    """
    path = Path(path)
    try:
        fh = h5py.File(path, "r")
    except (OSError, FileNotFoundError) as exc:
        raise DataContractError(path, f"not a readable 10x HDF5 file ({exc.__class__.__name__})") from None
    with fh:
        if "matrix" in fh:
            g = fh["matrix"]
            need = ["data", "indices", "indptr", "shape", "barcodes", "features/id", "features/name"]
            for k in need:
                if k not in g:
                    raise DataContractError(path, f"Cell Ranger v3 file lacks 'matrix/{k}'", column=k)
            ftypes = _decode(g["features/feature_type"][:]) if "features/feature_type" in g else None
            return _build(path, g["data"][:], g["indices"][:], g["indptr"][:], g["shape"][:],
                          _decode(g["barcodes"][:]), _decode(g["features/id"][:]), _decode(g["features/name"][:]),
                          ftypes)
        genomes = [k for k in fh if isinstance(fh[k], h5py.Group)]
        if not genomes:
            raise DataContractError(path, "no 'matrix' group (v3) and no genome group (v2)")
        if genome is None:
            if len(genomes) > 1:
                raise DataContractError(path, f"several genomes {genomes}: pass genome=")
            genome = genomes[0]
        if genome not in fh:
            raise DataContractError(path, f"genome '{genome}' not in file (has {genomes})")
        g = fh[genome]
        for k in ["data", "indices", "indptr", "shape", "barcodes", "genes", "gene_names"]:
            if k not in g:
                raise DataContractError(path, f"Cell Ranger v2 genome group lacks '{genome}/{k}'", column=k)
        return _build(path, g["data"][:], g["indices"][:], g["indptr"][:], g["shape"][:],
                      _decode(g["barcodes"][:]), _decode(g["genes"][:]), _decode(g["gene_names"][:]))


def _open_text(path: Path):
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def _first(folder: Path, names: list[str]) -> Path | None:
    for n in names:
        if (folder / n).is_file():
            return folder / n
    return None


def read_10x_mtx(folder: str | Path) -> ad.AnnData:
    """Read a Cell Ranger matrix-market folder (v3 ``features.tsv.gz`` or v2 ``genes.tsv``).

    Parameters
    ----------
    folder
        The folder holding ``matrix.mtx[.gz]``, ``features.tsv[.gz]`` (or ``genes.tsv``) and ``barcodes.tsv[.gz]``.

    Returns
    -------
    AnnData
        As :func:`read_10x_h5`: cells x genes raw UMI counts, gene symbols as ``var_names``, ``var['gene_ids']``.

    Raises
    ------
    DataContractError
        Missing files, an unreadable matrix, a features table with the wrong number of columns, or dimensions that
        do not agree between the matrix, the features and the barcodes.
    """
    folder = Path(folder)
    mtx = _first(folder, ["matrix.mtx.gz", "matrix.mtx"])
    feats = _first(folder, ["features.tsv.gz", "features.tsv", "genes.tsv.gz", "genes.tsv"])
    bcs = _first(folder, ["barcodes.tsv.gz", "barcodes.tsv"])
    for name, f in [("matrix.mtx[.gz]", mtx), ("features.tsv[.gz] or genes.tsv", feats), ("barcodes.tsv[.gz]", bcs)]:
        if f is None:
            raise DataContractError(folder, f"10x matrix folder lacks {name}")
    try:
        with (gzip.open(mtx, "rb") if mtx.suffix == ".gz" else open(mtx, "rb")) as fh:
            m = scipy.io.mmread(fh)
    except (ValueError, OSError, EOFError) as exc:
        raise DataContractError(mtx, f"unreadable matrix-market file: {exc}") from None
    m = sp.csc_matrix(m)
    with _open_text(feats) as fh:
        rows = [line.rstrip("\n").split("\t") for line in fh if line.strip()]
    for i, r in enumerate(rows, start=1):
        if len(r) < 2:
            raise DataContractError(feats, "a feature line needs at least an id and a name (tab-separated)", row=i)
    ids = np.array([r[0] for r in rows], dtype=object)
    names = np.array([r[1] for r in rows], dtype=object)
    ftypes = np.array([r[2] if len(r) > 2 else "Gene Expression" for r in rows], dtype=object)
    with _open_text(bcs) as fh:
        barcodes = np.array([line.strip() for line in fh if line.strip()], dtype=object)
    if m.shape[0] != len(ids):
        raise DataContractError(mtx, f"matrix has {m.shape[0]} rows but {feats.name} lists {len(ids)} features",
                                column="features")
    return _build(mtx, m.data, m.indices, m.indptr, m.shape, barcodes, ids, names, ftypes)


def read_10x(path: str | Path) -> ad.AnnData:
    """Read one sample's 10x output: an ``.h5`` file or a matrix-market folder (see module docstring).

    Parameters
    ----------
    path
        A Cell Ranger ``.h5`` matrix, or a matrix-market folder.

    Returns
    -------
    AnnData
        Cells x genes raw UMI counts as :func:`read_10x_h5` returns them.

    Raises
    ------
    DataContractError
        When ``path`` does not exist, or any problem :func:`read_10x_h5` / :func:`read_10x_mtx` finds.
    """
    path = Path(path)
    if path.is_dir():
        return read_10x_mtx(path)
    if not path.exists():
        raise DataContractError(path, "10x output not found")
    return read_10x_h5(path)


def write_10x_h5(
    path: str | Path,
    counts: sp.spmatrix,
    barcodes: list[str] | np.ndarray,
    gene_ids: list[str] | np.ndarray,
    gene_names: list[str] | np.ndarray,
    *,
    library_id: str,
    genome: str = "GRCh38",
    chemistry: str = "Single Cell 3' v3",
) -> Path:
    """Write a Cell Ranger v3 ``filtered_feature_bc_matrix.h5`` deterministically (same input, same bytes).

    Parameters
    ----------
    path
        Target file.
    counts
        Cells x genes integer counts (converted to the file's genes x cells CSC layout).
    barcodes, gene_ids, gene_names
        Labels of the cells and genes.
    library_id, genome, chemistry
        Metadata stored as Cell Ranger does.

    Returns
    -------
    pathlib.Path
        ``path`` (written atomically).
    """
    from ..io import atomic_path

    csc = sp.csr_matrix(counts).T.tocsc()  # genes x cells, one column per barcode
    csc.sort_indices()
    n_genes, n_cells = csc.shape
    opts = {"compression": "gzip", "compression_opts": 4, "shuffle": True, "track_times": False}

    def sarr(x):
        x = [s.encode() for s in x]
        return np.array(x, dtype=f"S{max(1, max((len(s) for s in x), default=1))}")

    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w", track_order=False) as fh:
            fh.attrs["chemistry_description"] = chemistry
            fh.attrs["filetype"] = "matrix"
            fh.attrs["library_ids"] = np.array([library_id.encode()])
            fh.attrs["original_gem_groups"] = np.array([1])
            fh.attrs["version"] = np.int64(2)
            g = fh.create_group("matrix")
            g.create_dataset("barcodes", data=sarr(barcodes), **opts)
            g.create_dataset("data", data=csc.data.astype(np.int32), **opts)
            g.create_dataset("indices", data=csc.indices.astype(np.int64), **opts)
            g.create_dataset("indptr", data=csc.indptr.astype(np.int64), **opts)
            g.create_dataset("shape", data=np.array([n_genes, n_cells], dtype=np.int32), track_times=False)
            f = g.create_group("features")
            f.create_dataset("_all_tag_keys", data=np.array([b"genome"]), track_times=False)
            f.create_dataset("feature_type", data=sarr(["Gene Expression"] * n_genes), **opts)
            f.create_dataset("genome", data=sarr([genome] * n_genes), **opts)
            f.create_dataset("id", data=sarr(gene_ids), **opts)
            f.create_dataset("name", data=sarr(gene_names), **opts)
    return Path(path)
