"""Copy-number inference from single-cell expression, per patient, against a normal reference.

The smoothing itself is infercnvpy's (Sturm et al., the Python re-implementation of inferCNV, Tirosh et al. 2016):
expression ordered along the genome, minus the normal reference, averaged in running windows of genes. What
infercnvpy leaves to the user, and this module adds, is the decision on top of the smoothed matrix:

1. which cells are the normal reference (:func:`choose_reference`: the sample's own lymphocytes, else other mature
   normal classes, else a clear error);
2. whether a patient's leukemia has a copy-number change at all: the mean profile of its candidate (non-reference)
   cells must deviate from the reference over a run of consecutive windows (a chromosome-arm scale event), and
3. per cell, the projection of its profile onto that patient's consensus change (``cnv_score``: about 1 for a cell
   carrying the clone's changes, about 0 for a normal cell), which is what the malignant call reads.

Gene positions come from the table shipped inside the infercnvpy wheel (``var`` of its bundled inferCNV example data
set, Tirosh et al. 2016 Science 352:189: chromosome, start, end of 9,450 human genes, hg19, the gene-ordering file
of the inferCNV example), so nothing is downloaded at run time. Genes outside that table take no part in the
copy-number step (they still count for expression). No mouse table is shipped: mouse data get expression only.
"""

from __future__ import annotations

import contextlib
import functools
import io
import warnings
from typing import TYPE_CHECKING

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import DataContractError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = ["gene_positions", "annotate_positions", "choose_reference", "infer_cnv_patient", "CNV_ARMS"]

#: Centromere positions of hg19 (bp, UCSC cytoBand acen boundaries, rounded), to name p and q arms.
_CENTROMERE = {
    "1": 125.0e6, "2": 93.3e6, "3": 91.0e6, "4": 50.4e6, "5": 48.4e6, "6": 61.0e6, "7": 59.9e6, "8": 45.6e6,
    "9": 49.0e6, "10": 40.2e6, "11": 53.7e6, "12": 35.8e6, "13": 17.9e6, "14": 17.6e6, "15": 19.0e6, "16": 36.6e6,
    "17": 24.0e6, "18": 17.2e6, "19": 26.5e6, "20": 27.5e6, "21": 13.2e6, "22": 14.7e6, "X": 60.6e6, "Y": 12.5e6,
}  # fmt: skip
#: Copy-number changes typical of AML (Grimwade et al. 2010 Blood 116:354): name -> (chromosome, start, end, ratio).
CNV_ARMS = {
    "+8": ("8", 0.0, 1e9, 1.5),
    "-7": ("7", 0.0, 1e9, 0.5),
    "del(7q)": ("7", 59.9e6, 1e9, 0.5),
    "del(5q)": ("5", 48.4e6, 1e9, 0.5),
    "-17": ("17", 0.0, 1e9, 0.5),
    "del(17p)": ("17", 0.0, 24.0e6, 0.5),
}


@functools.cache
def _position_table(species: str) -> pd.DataFrame:
    if species not in ("human", "mouse"):
        raise ValueError(f"species must be 'human' or 'mouse', got {species!r}")
    if species == "mouse":
        raise DataContractError("species", "no mouse gene positions are shipped with the installed packages: copy "
                                "number cannot be inferred for mouse data (use cnv=False, expression only)")
    import importlib.resources

    import infercnvpy.datasets

    with warnings.catch_warnings():  # written by an older anndata: its format notices are expected
        warnings.simplefilter("ignore")
        with importlib.resources.as_file(importlib.resources.files(infercnvpy.datasets) / "data" /
                                         "oligodendroglioma.h5ad") as f:
            var = ad.read_h5ad(f, backed="r").var[["chromosome", "start", "end"]].copy()
    var = var.dropna()
    var = var[var["chromosome"].astype(str).str.fullmatch(r"chr([0-9]+|X|Y)")]
    var.index = pd.Index(var.index.astype(str).str.upper(), name="key")
    var = var[~var.index.duplicated(keep="first")]
    return var.astype({"chromosome": str, "start": float, "end": float})


def gene_positions(genes: Iterable[str], *, species: str = "human") -> pd.DataFrame:
    """Look up the genomic position of each gene symbol (matched case-insensitively; NaN where unknown).

    Parameters
    ----------
    genes
        Gene symbols.
    species
        ``"human"`` (hg19 positions of the infercnvpy example table); ``"mouse"`` raises: no table is shipped.

    Returns
    -------
    DataFrame
        Indexed by the given symbols: ``chromosome`` (``chr1`` ...), ``start``, ``end``, ``arm`` (``p`` / ``q``, human).
    """
    t = _position_table(species)
    idx = pd.Index([str(g) for g in genes])
    out = t.reindex(idx.str.upper())
    out.index = idx
    if species == "human":
        cen = out["chromosome"].str.removeprefix("chr").map(_CENTROMERE)
        out["arm"] = np.where(out["chromosome"].isna(), None, np.where(out["start"] < cen, "p", "q"))
    return out


def annotate_positions(adata: ad.AnnData, *, species: str = "human", min_genes: int = 200) -> int:
    """Add ``var`` columns ``chromosome``, ``start``, ``end`` (what infercnvpy reads); return the genes placed.

    Parameters
    ----------
    adata
        Cells x genes with gene symbols as ``var_names``; its ``var`` is changed in place (NaN where unknown).
    species
        ``"human"`` (hg19 positions in base pairs); ``"mouse"`` raises: no table is shipped.
    min_genes
        Fewest symbols with a known position for the copy-number inference to be meaningful.

    Returns
    -------
    int
        The number of genes given a position.

    Raises
    ------
    DataContractError
        When fewer than ``min_genes`` gene symbols have a known position (wrong species, or Ensembl ids as names).
    """
    pos = gene_positions(adata.var_names, species=species)
    n = int(pos["chromosome"].notna().sum())
    if n < min_genes:
        raise DataContractError("var_names", f"only {n} of {adata.n_vars} gene symbols have a known {species} "
                                f"genomic position (need {min_genes}): are var_names gene symbols of that species?",
                                column="var_names")
    for c in ("chromosome", "start", "end"):
        adata.var[c] = pos[c].to_numpy()
    return n


def choose_reference(cell_class: pd.Series, *, min_cells: int = 20,
                     preferred: Sequence[str] = ("T", "B", "NK"),
                     fallback: Sequence[str] = ("Erythroid", "Myeloid", "Mast/Baso", "Megakaryocyte"),
                     ) -> tuple[np.ndarray, str]:
    """Pick the normal reference cells of one patient from their expression class.

    Lymphocytes first (AML is a myeloid disease: its T, B and NK cells are the sample's own normal cells); if there
    are fewer than ``min_cells``, the mature non-myeloblastic classes are added.

    Parameters
    ----------
    cell_class
        Expression class of each of the patient's cells (``T``, ``B``, ``NK``, ``Myeloid``, ...).
    min_cells
        Fewest reference cells accepted.
    preferred
        Classes tried first.
    fallback
        Classes added when the preferred ones have fewer than ``min_cells`` cells.

    Returns
    -------
    (ndarray, str)
        Boolean mask of reference cells and a sentence saying which classes were used.

    Raises
    ------
    DataContractError
        When fewer than ``min_cells`` cells of any reference class are present.
    """
    cls = cell_class.astype(str).to_numpy()
    mask = np.isin(cls, preferred)
    used = [c for c in preferred if (cls == c).any()]
    if mask.sum() < min_cells:
        mask = np.isin(cls, [*preferred, *fallback])
        used = [c for c in (*preferred, *fallback) if (cls == c).any()]
    if mask.sum() < min_cells:
        raise DataContractError("sample", f"no normal reference cells: {int(mask.sum())} cells of the classes "
                                f"{', '.join((*preferred, *fallback))} (need {min_cells}) to infer copy number against")
    return mask, f"{int(mask.sum())} cells ({', '.join(used)})"


def infer_cnv_patient(
    adata: ad.AnnData,
    reference: np.ndarray,
    *,
    candidates: np.ndarray | None = None,
    reference_groups: np.ndarray | None = None,
    window_size: int | None = None,
    min_delta: float = 0.05,
    min_z: float = 3.0,
    min_arm_genes: int = 15,
    layer: str | None = None,
) -> dict:
    """Copy-number profile and per-cell CNV score of one patient's cells (log-normalised ``X``, positions in ``var``).

    Parameters
    ----------
    adata
        One patient's cells (all samples), log-normalised expression, ``var`` with ``chromosome``/``start``/``end``.
    reference
        Boolean mask of normal reference cells (:func:`choose_reference`).
    candidates
        Cells that may be leukemic (default: all non-reference cells): the consensus change is their mean profile.
    reference_groups
        Class of each reference cell (e.g. T, B, NK): infercnvpy then treats expression within the range of the
        classes' means as copy-neutral, which cancels lineage programmes that happen to cluster on a chromosome.
    window_size
        Genes per running window (default: 100, or fewer for small gene panels so that a chromosome holds several).
    min_delta
        Smallest mean deviation of an arm's genes from the reference (log-normalised expression units).
    min_z
        Smallest deviation of an arm from the other arms, in robust standard deviations of the arms' t statistics.
    min_arm_genes
        Arms with fewer placed genes are not tested.
    layer
        Expression layer (default ``X``).

    Returns
    -------
    dict
        ``cnv_score`` (per cell), ``detected`` (bool), ``n_windows_changed``, ``changed_chromosomes`` (changed arms,
        e.g. ``"chr8p+;chr8q+"``), ``arms`` (the per-arm test), ``window_size``, ``X_cnv`` (cells x windows) and
        ``chr_pos``.
    """
    import infercnvpy as cnv
    import scanpy as sc

    n_pos = int(adata.var["chromosome"].notna().sum())
    if window_size is None:
        window_size = int(min(100, max(11, n_pos // 60)))
    var = pd.DataFrame({"chromosome": np.asarray(adata.var["chromosome"], dtype=object),
                        "start": np.asarray(adata.var["start"], dtype=float),
                        "end": np.asarray(adata.var["end"], dtype=float)},
                       index=pd.Index(np.asarray(adata.var_names, dtype=object), dtype=object))
    var.loc[pd.isna(var["chromosome"]).to_numpy(), "chromosome"] = None  # infercnvpy skips genes without a position
    a = ad.AnnData(X=adata.layers[layer] if layer else adata.X, var=var)
    # infercnvpy indexes the gene names with a 2-D array: pyarrow-backed strings (pandas 3 default) cannot be
    a.var.index = pd.Index(np.asarray(var.index, dtype=object), dtype=object)
    a.obs_names = adata.obs_names
    groups = np.where(reference, "ref", "") if reference_groups is None else np.asarray(reference_groups, dtype=object)
    groups = np.where(reference, groups, "_other").astype(str)
    # classes with a handful of cells give noisy means: fold them into the largest reference class
    vc = pd.Series(groups[reference]).value_counts()
    small = list(vc.index[vc < 10])
    if small and len(vc) > len(small):
        groups = np.where(np.isin(groups, small), vc.index[0], groups)
    a.obs["_ref"] = groups
    cats = sorted(set(groups[reference]))
    step = max(1, window_size // 10)
    verbosity = sc.settings.verbosity
    sc.settings.verbosity = 0  # its note on genes without a position: the count is returned instead
    try:
        # infercnvpy's progress bar (timings) goes to stderr and offers no switch: it would enter notebook outputs
        with contextlib.redirect_stderr(io.StringIO()):
            chr_pos, x_cnv, _ = cnv.tl.infercnv(a, reference_key="_ref", reference_cat=cats, window_size=window_size,
                                                step=step, n_jobs=1, inplace=False, dynamic_threshold=None)
    finally:
        sc.settings.verbosity = verbosity
    x = x_cnv.toarray() if sp.issparse(x_cnv) else np.asarray(x_cnv)
    starts = sorted(chr_pos.items(), key=lambda kv: kv[1])
    chrom = np.empty(x.shape[1], dtype=object)
    for k, (c, s) in enumerate(starts):
        end = starts[k + 1][1] if k + 1 < len(starts) else x.shape[1]
        chrom[s:end] = c
    cand = ~reference if candidates is None else (candidates & ~reference)
    ref_mean = x[reference].mean(axis=0)
    out = {"n_genes_placed": n_pos, "window_size": window_size, "X_cnv": x, "chr_pos": chr_pos, "detected": False,
           "n_windows_changed": 0, "changed_chromosomes": "", "cnv_score": np.zeros(adata.n_obs), "arms": None}
    if cand.sum() < 10:
        return out
    # Detection, per chromosome arm (AML's recurrent changes are arm-scale: +8, -7/7q-, 5q-, -17/17p-): the mean
    # deviation of the candidates' genes from the reference, against the spread of that mean when genes are assigned
    # to arms at random (lineage genes that differ from lymphocytes scatter over the genome; a copy change moves all
    # the genes of its arm).
    placed = np.flatnonzero(adata.var["chromosome"].notna().to_numpy() &
                            ~adata.var["chromosome"].isin(["chrX", "chrY"]).to_numpy())
    xg = a.X[:, placed]
    xg = xg.tocsr() if sp.issparse(xg) else sp.csr_matrix(xg)
    cls = sorted(set(groups[reference]))
    means = np.vstack([np.asarray(xg[groups == c].mean(axis=0)).ravel() for c in cls])
    lo, hi = means.min(axis=0), means.max(axis=0)
    cm = np.asarray(xg[cand].mean(axis=0)).ravel()
    d = np.where(cm > hi, cm - hi, np.where(cm < lo, cm - lo, 0.0))
    q1, q99 = np.quantile(d, [0.02, 0.98])
    d = np.clip(d, q1, q99)  # one strongly lineage-specific gene must not carry an arm
    gchrom = adata.var["chromosome"].to_numpy()[placed].astype(str)
    gstart = adata.var["start"].to_numpy()[placed].astype(float)
    cen = pd.Series(gchrom).str.removeprefix("chr").map(_CENTROMERE).to_numpy(dtype=float)
    arm = np.char.add(gchrom.astype(str), np.where(gstart < cen, "p", "q"))
    # Centre on the genome-wide median: candidates and lymphocytes differ in size and in how many of the measured genes
    # they express, which shifts every arm alike.
    d = d - np.median(d)
    sd_gene = float(d.std()) if d.std() > 0 else 1e-9
    rows = []
    for name in dict.fromkeys(arm):
        sel = arm == name
        n = int(sel.sum())
        if n < min_arm_genes:
            continue
        mean = float(d[sel].mean())
        nz = d[sel][np.abs(d[sel]) > 1e-9]
        concord = float((np.sign(nz) == np.sign(mean)).mean()) if nz.size else 0.0
        rows.append({"arm": name, "n_genes": n, "mean": mean, "t": mean * np.sqrt(n) / sd_gene,
                     "concordance": concord})
    arms = pd.DataFrame(rows)
    if arms.empty:
        return out
    # z against the spread of the arms themselves (robust: most arms are copy-neutral); t of independent genes would
    # be anti-conservative, neighbouring genes being co-regulated
    t = arms["t"].to_numpy()
    scale = max(1.4826 * float(np.median(np.abs(t - np.median(t)))), 1.0)
    arms["z"] = (t - np.median(t)) / scale
    arms["changed"] = (arms["z"].abs() >= min_z) & (arms["mean"].abs() >= min_delta) & (arms["concordance"] >= 0.6)
    out["arms"] = arms
    changed_arms = set(arms.loc[arms["changed"], "arm"])
    if not changed_arms:
        return out
    # Windows -> arms: infercnvpy orders each chromosome's genes by start and steps its windows along them.
    warm = np.empty(x.shape[1], dtype=object)
    for c, s0 in chr_pos.items():
        selc = gchrom == c
        order = np.argsort(gstart[selc], kind="stable")
        arms_c = arm[selc][order]
        n_w = (next((v for k2, v in sorted(chr_pos.items(), key=lambda kv: kv[1]) if v > s0), x.shape[1]) - s0)
        for j in range(n_w):
            mid = min(len(arms_c) - 1, j * step + window_size // 2)
            warm[s0 + j] = arms_c[mid] if len(arms_c) else ""
    win_changed = np.isin(warm.astype(str), list(changed_arms))
    # Per cell: projection on the consensus of the changed windows, first of all candidates, then of the cells that
    # carry it (normal myeloid cells among the candidates dilute the first consensus, never flip its sign).
    consensus = x[cand].mean(axis=0) - ref_mean
    v = consensus * win_changed
    score = (x - ref_mean) @ v / max(float(v @ v), 1e-12)
    carriers = cand & (score > 0.5)
    if carriers.sum() >= 10:
        v = (x[carriers].mean(axis=0) - ref_mean) * win_changed
        score = (x - ref_mean) @ v / max(float(v @ v), 1e-12)
    ch = arms[arms["changed"]]
    out.update(detected=True, n_windows_changed=int(win_changed.sum()), cnv_score=score,
               changed_chromosomes=";".join(f"{r.arm}{'+' if r.mean > 0 else '-'}" for r in ch.itertuples()))
    return out
