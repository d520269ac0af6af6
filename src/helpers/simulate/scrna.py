"""Simulated 10x single-cell RNA-seq of the DREAM cohort (axis 3), with the true label of every cell.

For each sample whose ``assays`` include ``scrna`` the simulator writes the Cell Ranger output
``scrna/<sample_id>/filtered_feature_bc_matrix.h5`` and one line of ``scrna/sample_sheet.csv``. Expression is built
from the real gene sets (registry dataset ``aml_gene_sets``):

- leukemic cells in the seven Zeng 2022 hierarchy states; each state up-regulates its own gene set and, per cell, part
  of the programmes of its neighbours in the hierarchy (a continuum, not discrete types);
- normal T, B, NK, erythroid and mature myeloid cells (canonical markers; erythroid cells are dominated by haemoglobin)
  and the normal counterparts of the hierarchy: HSC/MPP, GMP, monocytes and DC carry their own markers plus 60 % of the
  programme of the leukemic state they resemble, without the patient effect and copy-number changes of the leukemia;
  a regenerating marrow (remission, relapse) holds more of them;
- copy-number changes of the leukemia (own stream ``default_rng([seed, 3, 17])``) from the karyotype of
  ``clinical.csv``: normal karyotype none; other abnormalities one of +8, del(7q), del(5q), del(17p) in 60 % (the
  others balanced, invisible to copy-number inference); complex: -7 or del(7q), del(5q), -17 or del(17p), +8 in 30 %;
  each change in a clone of 70-100 % of the leukemic cells (expression x 1.5 gained, x 0.5 lost, gene positions of
  :func:`helpers.scrna.cnv.gene_positions`);
- composition from the sample's latent biology (``tables.sample_truth``): leukemic share = ``blast_pct``, monocytic
  share of leukemic cells (ProMono-like + Mono-like) = ``mono_frac``, LSPC-Quiescent share grows with ``lsc_frac``;
- BCL2 up and MCL1 / BCL2A1 down with ``bcl2_dependence`` (and BCL2-low monocytic states), the Hallmark OXPHOS genes
  with ``oxphos_dependence``; the relapse samples inherit the planted monocytic / BCL2-low shift of the cohort;
- a patient effect on leukemic cells and a sample (batch) effect on all cells, gamma-Poisson counts, per-cell library
  sizes, mitochondrial reads (and 4 % damaged, mito-rich, low-count cells), ambient RNA of each sample's own soup
  (haemoglobin-rich when erythroid cells are many), and heterotypic or homotypic doublets (sum of two cells).

Planted truth: ``truth/scrna_cells.csv.gz`` (sample, barcode, cell type, compartment, malignant, doublet, damaged)
and ``truth/scrna_samples.csv`` (planted fractions, programme shifts, ``cnv_events`` and ``karyotype`` per sample).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..assays import has_assay
from ..io import atomic_path, write_table
from ..scrna.cnv import CNV_ARMS, gene_positions
from ..scrna.genesets import (
    CELL_TYPES,
    HIERARCHY_STATES,
    hallmark_sets,
    hb_genes,
    hierarchy_gene_sets,
    lsc17_weights,
    mito_genes,
    signatures,
)
from ..scrna.tenx import write_10x_h5

if TYPE_CHECKING:
    from .cohort import CohortTables

__all__ = ["simulate_scrna", "SCRNA_SCALES", "HIERARCHY_EDGES"]

DEPENDS_ON = ["scrna/genesets.py", "scrna/tenx.py", "scrna/cnv.py", "io.py", "registry.py"]

#: Cells per sample (mean), number of extra Hallmark genes, mean UMIs per cell.
SCRNA_SCALES = {
    "ci": {"cells": 200, "extra_genes": 250, "depth": 2000},
    "full": {"cells": 1500, "extra_genes": 3500, "depth": 5000},
}
#: Neighbouring states in the Zeng 2022 hierarchy (primitive -> monocytic, with the cDC branch).
HIERARCHY_EDGES = [
    ("LSPC-Quiescent", "LSPC-Primed"),
    ("LSPC-Primed", "LSPC-Cycle"),
    ("LSPC-Primed", "GMP-like"),
    ("LSPC-Cycle", "GMP-like"),
    ("GMP-like", "ProMono-like"),
    ("ProMono-like", "Mono-like"),
    ("ProMono-like", "cDC-like"),
]
# Relative UMI depth of each cell type (erythroid and lymphoid cells are small, monocytic cells large).
_DEPTH = {"LSPC-Quiescent": 0.8, "LSPC-Primed": 1.0, "LSPC-Cycle": 1.3, "GMP-like": 1.1, "ProMono-like": 1.2,
          "Mono-like": 1.2, "cDC-like": 1.0, "HSC/MPP": 0.8, "GMP": 1.1, "Monocyte": 1.2, "DC": 1.0, "T": 0.6,
          "B": 0.6, "NK": 0.7, "Erythroid": 0.6, "Myeloid": 1.0, "Megakaryocyte": 0.8, "Mast/Baso": 0.8,
          "Cycling": 1.2}  # fmt: skip
# Normal bone-marrow mix over NORMAL_TYPES (HSC/MPP, GMP, monocytes, DC, T, B, NK, erythroid, neutrophils, Mk,
# mast/baso), before a per-sample Dirichlet draw; a regenerating marrow (remission, relapse) has more normal
# progenitors, monocytes and DC.
_NORMAL_MIX = np.array([0.03, 0.04, 0.08, 0.02, 0.28, 0.09, 0.09, 0.22, 0.15, 0.0, 0.0, 0.0])
_NORMAL_MIX_REGEN = np.array([0.06, 0.08, 0.12, 0.04, 0.20, 0.07, 0.07, 0.20, 0.16, 0.0, 0.0, 0.0])
# Normal counterparts carry part of the programme of the leukemic state they resemble (the lineage is shared).
_COUNTERPART = {"HSC/MPP": "LSPC-Quiescent", "GMP": "GMP-like", "Monocyte": "Mono-like", "DC": "cDC-like"}
_COUNTERPART_SHARE = 0.6
# Karyotypes (Grimwade et al. 2010; complex karyotypes with -5/-7/-17 go with TP53): share of patients with none.
_P_NO_CNV = 0.45
# BCL2-family offsets by state (Pei et al. 2020 Cancer Discov: monocytic AML loses BCL2, gains MCL1).
_STATE_BCL2 = {"LSPC-Quiescent": 0.5, "LSPC-Primed": 0.4, "LSPC-Cycle": 0.3, "GMP-like": 0.0, "ProMono-like": -0.5,
               "Mono-like": -1.0, "cDC-like": -0.3}  # fmt: skip
# Classic markers that always respond (some are outside the Zeng lists: CRHBP, AVP, MKI67, TOP2A, CLEC10A).
_KEY_MARKERS = {
    "LSPC-Quiescent": ["CD34", "SPINK2", "CRHBP", "AVP"], "LSPC-Primed": ["CD34", "SPINK2"],
    "LSPC-Cycle": ["MKI67", "TOP2A", "SPINK2"], "GMP-like": ["MPO", "ELANE", "AZU1"],
    "ProMono-like": ["ELANE", "AZU1", "LYZ"], "Mono-like": ["CD14", "LYZ", "S100A8", "FCN1"],
    "cDC-like": ["CLEC10A", "FCER1A"], "HSC/MPP": ["HLF", "MECOM"], "GMP": ["MS4A3", "CEBPE"],
    "Monocyte": ["CSF1R", "CX3CR1"], "DC": ["CD1C", "IRF8"], "T": ["CD3D", "IL7R"], "B": ["MS4A1", "CD79A"], "NK": ["GNLY", "NKG7"],
    "Erythroid": ["GYPA", "CA1"], "Myeloid": ["CSF3R", "FCGR3B"], "Megakaryocyte": ["PF4", "PPBP"],
    "Mast/Baso": ["CPA3", "MS4A2"], "Cycling": ["MKI67", "TOP2A"],
}  # fmt: skip
_SET_RESPONSIVE = 0.6  # share of a Zeng gene set's genes that the programme moves (canonical markers: 0.9)
_LFC_STATE = (1.0, 0.4)  # log fold change (mean, sd) of a leukemic state's responsive genes
_LFC_NORMAL = (2.0, 0.5)
_NEIGHBOUR_MAX = 0.6  # a cell carries up to this share of each neighbouring state's programme
_HB_TARGET = 0.6
_HB_SHARE = {"HBB": 0.5, "HBA2": 0.25, "HBA1": 0.18, "HBD": 0.04, "HBM": 0.01}
_DAMAGED_RATE = 0.04
_DOUBLET_RATE = 0.06
_DISPERSION = 0.2  # gamma-Poisson overdispersion of biological variation


def _gene_universe(rng: np.random.Generator, extra: int) -> tuple[list[str], dict[str, list[str]]]:
    sets = hierarchy_gene_sets(top=100)
    sig = signatures()
    core = []
    for genes in list(sets.values()) + list(sig.values()):
        core += genes
    core += list(lsc17_weights()) + hb_genes() + mito_genes() + [g for gs in _KEY_MARKERS.values() for g in gs]
    core = list(dict.fromkeys(core))
    pool = sorted({g for s in hallmark_sets().values() for g in s} - set(core))
    filler = sorted(rng.choice(pool, size=min(extra, len(pool)), replace=False).tolist())
    return core + filler, sets


def _composition(rng: np.random.Generator, truth: pd.Series, regenerating: bool) -> np.ndarray:
    """Probabilities of the cell types (:data:`CELL_TYPES`) for one sample from its latent biology."""
    blast = truth["blast_pct"] / 100
    mono = float(np.clip(truth["mono_frac"], 0.0, 0.97))
    lsc = float(truth["lsc_frac"])
    # Non-monocytic leukemic states: Q grows with lsc_frac; the others around a typical mix.
    base = np.array([4 * lsc, 0.30, 0.20, 0.25, 0.05])
    non_mono = rng.dirichlet(60 * base / base.sum()) * (1 - mono)
    promono_share = rng.uniform(0.3, 0.5)
    leuk = np.array([*non_mono[:4], mono * promono_share, mono * (1 - promono_share), non_mono[4]])
    mix = _NORMAL_MIX_REGEN if regenerating else _NORMAL_MIX
    normal = np.zeros(len(mix))
    normal[mix > 0] = rng.dirichlet(40 * mix[mix > 0])
    return np.concatenate([blast * leuk, (1 - blast) * normal])


def _sample_counts(
    rng: np.random.Generator,
    log_base: np.ndarray,
    programmes: np.ndarray,
    types: np.ndarray,
    neighbour_w: np.ndarray,
    extra_effect: np.ndarray,
    libsize: np.ndarray,
    mito_frac: np.ndarray,
    mito_idx: np.ndarray,
    ambient_frac: float,
) -> np.ndarray:
    """Draw counts (cells x genes) for cells of given types, vectorised over cells."""
    # log-abundance = base + own programme + neighbour programmes + sample/patient/biology effects
    logit = log_base[None, :] + programmes[types] + neighbour_w @ programmes + extra_effect
    logit[:, mito_idx] = -np.inf  # mitochondrial reads are added separately with their own fraction
    p = np.exp(logit - logit.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    soup = p.mean(axis=0)  # the sample's ambient profile: what lysed cells of this sample release
    p = (1 - ambient_frac) * p + ambient_frac * soup[None, :]
    mito_profile = np.exp(log_base[mito_idx])
    mito_profile /= mito_profile.sum()
    p = p * (1 - mito_frac)[:, None]
    p[:, mito_idx] = mito_frac[:, None] * mito_profile[None, :]
    lam = p * libsize[:, None]
    lam = rng.gamma(1 / _DISPERSION, _DISPERSION * lam)  # biological overdispersion
    return rng.poisson(lam).astype(np.int32)


def _write_csv_gz(df: pd.DataFrame, path: Path) -> None:
    """Write a gzipped CSV with a fixed header time (same data, same bytes)."""
    text = df.to_csv(index=False, lineterminator="\n", float_format="%.6g").encode()
    with atomic_path(path) as tmp:
        tmp.write_bytes(gzip.compress(text, compresslevel=6, mtime=0))


# What a sample draws from the cohort model (the names of :func:`_build_model`'s locals).
_MODEL_KEYS = ("truth", "cfg", "is_leuk_type", "adjacency", "n_genes", "patient_effect", "bcl2_i", "anti_i",
               "state_bcl2", "ox_idx", "events", "_region", "depth_type", "log_base", "programmes", "mito_idx",
               "gene_ids", "genes", "kary")


def _build_model(tables: CohortTables, sc_samples: pd.DataFrame, cfg: dict, rng: np.random.Generator,
                 crng: np.random.Generator) -> dict:
    """Genes, programmes, patient effects and copy-number events: everything shared by the samples of a cohort."""
    genes, sets = _gene_universe(rng, cfg["extra_genes"])
    n_genes = len(genes)
    gidx = {g: i for i, g in enumerate(genes)}
    gene_ids = [f"SIMG{i + 1:07d}" for i in range(n_genes)]  # simulated genes: no real Ensembl ids are implied

    # Baseline abundance: log-normal over genes; mitochondrial and haemoglobin genes are given their own levels.
    log_base = rng.normal(0.0, 1.1, n_genes)
    mito_idx = np.array([gidx[g] for g in mito_genes()])
    log_base[mito_idx] = rng.normal(3.0, 0.5, len(mito_idx))
    hb_idx = np.array([gidx[g] for g in hb_genes()])
    log_base[hb_idx] = -3.0  # near-silent outside erythroid cells (and the ambient soup)

    # Programmes: one row per cell type, log fold changes on that type's genes.
    programmes = np.zeros((len(CELL_TYPES), n_genes))
    # Programme genes are cell-type specific: low outside the cells that express them.
    in_sets = np.array([gidx[g] for g in {g for ct in CELL_TYPES for g in sets[ct]} | {
        g for gs in _KEY_MARKERS.values() for g in gs}])
    log_base[in_sets] -= 1.2
    # Published gene sets are imperfect markers: only part of each list responds, by varying amounts; the classic
    # markers of each state (van Galen 2019, Zeng 2022) always do.
    for k, ct in enumerate(CELL_TYPES):
        idx = np.array([gidx[g] for g in sets[ct]])
        idx = idx[rng.random(len(idx)) < (_SET_RESPONSIVE if ct in HIERARCHY_STATES else 0.9)]
        idx = np.union1d(idx, [gidx[g] for g in _KEY_MARKERS.get(ct, [])]).astype(int)
        lfc = rng.normal(*(_LFC_STATE if ct in HIERARCHY_STATES else _LFC_NORMAL), len(idx))
        programmes[k, idx] += np.maximum(lfc, 0.2)
    ery = CELL_TYPES.index("Erythroid")
    # Erythroblasts: haemoglobin about 60 % of the library (HBB > HBA2 > HBA1 >> the rest), the remainder a broad
    # transcriptome; the per-cell gamma noise spreads the share, so a few reticulocyte-like cells pass 90 %.
    non_hb = np.ones(n_genes, bool)
    non_hb[np.r_[hb_idx, mito_idx]] = False
    rest = np.exp(log_base + programmes[ery])[non_hb].sum()
    hb_share = np.array([_HB_SHARE.get(g, 0.002) for g in hb_genes()])
    programmes[ery, hb_idx] = np.log(_HB_TARGET / (1 - _HB_TARGET) * rest * hb_share / hb_share.sum()) - log_base[hb_idx]
    # Normal mature myeloid cells share part of the monocytic programme (as real monocytes and neutrophils do).
    programmes[CELL_TYPES.index("Myeloid")] += 0.3 * programmes[CELL_TYPES.index("Mono-like")]
    base_prog = programmes.copy()
    for normal_t, leuk_t in _COUNTERPART.items():
        programmes[CELL_TYPES.index(normal_t)] += _COUNTERPART_SHARE * base_prog[CELL_TYPES.index(leuk_t)]
    adjacency = np.zeros((len(CELL_TYPES), len(CELL_TYPES)))
    for a, b in HIERARCHY_EDGES:
        ia, ib = CELL_TYPES.index(a), CELL_TYPES.index(b)
        adjacency[ia, ib] = adjacency[ib, ia] = 1.0

    sig = signatures()
    bcl2_i = gidx["BCL2"]
    anti_i = np.array([gidx["MCL1"], gidx["BCL2A1"]])
    ox_idx = np.array([gidx[g] for g in sig["OXPHOS"]])
    state_bcl2 = np.array([_STATE_BCL2.get(ct, 0.0) for ct in CELL_TYPES])
    is_leuk_type = np.array([ct in HIERARCHY_STATES for ct in CELL_TYPES])
    depth_type = np.array([_DEPTH[ct] for ct in CELL_TYPES])

    truth = tables.sample_truth.set_index("sample_id")
    patients = sorted(sc_samples["patient_id"].unique())
    patient_effect = {p: rng.normal(0, 0.25, n_genes) for p in patients}
    # Copy-number changes of each patient's leukemia (own stream: the other draws keep their order), from the
    # karyotype of clinical.csv: normal -> none; other abnormalities -> one typical change or a balanced one (no copy
    # change, invisible to CNV inference); complex -> several of -5q/-7/-17 (+8). Each change sits in a clone that
    # holds 70-100 % of the leukemic cells.
    pos = gene_positions(genes)
    kary = tables.clinical.set_index("patient_id")["karyotype"] if "karyotype" in tables.clinical else {}
    events = {}
    for p in patients:
        k = str(kary.get(p, "normal")) if hasattr(kary, "get") else "normal"
        if k == "complex":
            ev = [str(crng.choice(["-7", "del(7q)"])), "del(5q)", str(crng.choice(["-17", "del(17p)"]))]
            ev = ev + (["+8"] if crng.random() < 0.3 else [])
        elif k == "intermediate_other" and crng.random() < 0.6:
            ev = [str(crng.choice(["+8", "del(7q)", "del(5q)", "del(17p)"], p=[0.5, 0.2, 0.2, 0.1]))]
        else:
            ev = []
        events[p] = [(e, float(crng.uniform(0.7, 1.0))) for e in ev]
    chrom = pos["chromosome"].str.removeprefix("chr").to_numpy()
    start = pos["start"].to_numpy()

    def _region(name: str) -> np.ndarray:
        c, lo, hi, _ = CNV_ARMS[name]
        return np.flatnonzero((chrom == c) & (start >= lo) & (start < hi))

    return dict(locals())

def _simulate_sample(m: dict, rng: np.random.Generator, crng: np.random.Generator, sid: str, pid: str, tp: str,
                     out: Path) -> tuple[dict, pd.DataFrame, dict]:
    """Draw and write one sample (``scrna/<sid>/filtered_feature_bc_matrix.h5``); its sheet, truth and sample rows."""
    (truth, cfg, is_leuk_type, adjacency, n_genes, patient_effect, bcl2_i, anti_i,
     state_bcl2, ox_idx, events, _region, depth_type, log_base, programmes, mito_idx,
     gene_ids, genes, kary) = (m[k] for k in _MODEL_KEYS)
    st = truth.loc[sid]
    probs = _composition(rng, st, tp in ("remission", "relapse"))
    n_cells = max(40, int(round(cfg["cells"] * rng.uniform(0.7, 1.3))))
    n_dbl = int(round(_DOUBLET_RATE * n_cells))
    n_single = n_cells - n_dbl
    n_draw = n_single + 2 * n_dbl
    types = rng.choice(len(CELL_TYPES), size=n_draw, p=probs)
    leuk = is_leuk_type[types]
    # Per-cell continuum: a random share of each neighbouring state's programme (leukemic cells only).
    neighbour_w = adjacency[types] * rng.uniform(0.0, _NEIGHBOUR_MAX, (n_draw, len(CELL_TYPES))) * leuk[:, None]
    batch = rng.normal(0, 0.15, n_genes)
    extra = np.broadcast_to(batch, (n_draw, n_genes)).copy()
    extra[leuk] += patient_effect[pid]
    bcl2_dep = float(st["bcl2_dependence"])
    extra[leuk, bcl2_i] += 0.6 * bcl2_dep + state_bcl2[types[leuk]]
    extra[np.ix_(leuk, anti_i)] += (-0.4 * bcl2_dep - state_bcl2[types[leuk]])[:, None]
    extra[np.ix_(leuk, ox_idx)] += 0.015 * (float(st["oxphos_dependence"]) - 55.0)
    leuk_idx = np.flatnonzero(leuk)
    for name, clone in events[pid]:
        carriers = leuk_idx[crng.random(len(leuk_idx)) < clone]
        extra[np.ix_(carriers, _region(name))] += np.log(CNV_ARMS[name][3])
    depth = cfg["depth"] * rng.lognormal(0, 0.2)
    libsize = depth * depth_type[types] * rng.lognormal(0, 0.35, n_draw)
    mito = rng.beta(4, 70, n_draw)  # about 5 % mitochondrial reads in healthy cells
    damaged = rng.random(n_draw) < _DAMAGED_RATE
    mito[damaged] = rng.uniform(0.3, 0.7, damaged.sum())
    libsize[damaged] *= 0.3  # broken cells lose cytoplasmic mRNA and keep mitochondrial transcripts
    ambient = float(rng.uniform(0.01, 0.06))
    counts = _sample_counts(rng, log_base, programmes, types, neighbour_w, extra, libsize, mito, mito_idx, ambient)
    # Doublets: the last 2 * n_dbl drawn cells are merged pairwise (two cells in one droplet).
    a_idx = np.arange(n_single, n_single + n_dbl)
    b_idx = a_idx + n_dbl
    dbl_counts = counts[a_idx] + counts[b_idx]
    all_counts = np.vstack([counts[:n_single], dbl_counts])
    ctype = [CELL_TYPES[t] for t in types[:n_single]] + [
        f"{CELL_TYPES[types[a]]}+{CELL_TYPES[types[b]]}" for a, b in zip(a_idx, b_idx, strict=True)
    ]
    is_dbl = np.r_[np.zeros(n_single, bool), np.ones(n_dbl, bool)]
    dmg = np.r_[damaged[:n_single], damaged[a_idx] & damaged[b_idx]]
    # Cell Ranger lists barcodes sorted; draw unique 16-mers, suffix -1 (one GEM group).
    bases = np.array(list("ACGT"))
    bc = set()
    while len(bc) < n_cells:
        bc.update("".join(x) + "-1" for x in bases[rng.integers(0, 4, (n_cells - len(bc), 16))])
    bc = sorted(bc)
    perm = rng.permutation(n_cells)  # random droplet order: types interleaved across sorted barcodes
    all_counts, ctype, is_dbl, dmg = all_counts[perm], [ctype[i] for i in perm], is_dbl[perm], dmg[perm]
    keep = all_counts.sum(axis=1) > 0
    rel = Path(sid) / "filtered_feature_bc_matrix.h5"
    write_10x_h5(out / "scrna" / rel, all_counts[keep], np.array(bc)[keep], gene_ids, genes, library_id=sid)
    labels = np.array(ctype, dtype=object)[keep]
    cells = (
        pd.DataFrame(
            {
                "sample_id": sid,
                "barcode": np.array(bc)[keep],
                "cell_type": np.where(is_dbl[keep], "doublet", labels),
                "doublet_of": np.where(is_dbl[keep], labels, ""),
                "compartment": [
                    "doublet" if d else ("leukemic" if t in HIERARCHY_STATES else "normal")
                    for t, d in zip(labels, is_dbl[keep], strict=True)
                ],
                "malignant": [int(t in HIERARCHY_STATES and not d) for t, d in zip(labels, is_dbl[keep],
                                                                                    strict=True)],
                "doublet": is_dbl[keep].astype(int),
                "damaged": dmg[keep].astype(int),
            }
        )
    )
    row = {"sample_id": sid, "patient_id": pid, "timepoint": tp, "n_cells": int(keep.sum()),
           "ambient_frac": ambient, "leukemic_frac_planted": float(probs[:7].sum()),
           "cnv_events": ";".join(e for e, _ in events[pid]), "karyotype": str(kary.get(pid, ""))}
    row.update({f"p_{ct}": float(p) for ct, p in zip(CELL_TYPES, probs, strict=True)})
    leuk_p = probs[:7] / max(probs[:7].sum(), 1e-12)
    row.update({f"leukfrac_{ct}": float(p) for ct, p in zip(HIERARCHY_STATES, leuk_p, strict=True)})
    row.update({"bcl2_dependence": bcl2_dep, "oxphos_dependence": float(st["oxphos_dependence"]),
                "mono_frac": float(st["mono_frac"])})
    return {"sample_id": sid, "path": rel.as_posix()}, cells, row


def simulate_scrna(
    tables: CohortTables, out_dir: str | Path, *, scale: str = "ci", seed: int = 20261129,
    cells_per_sample: int | None = None,
) -> None:
    """Write the scRNA-seq part of the simulated cohort (see the module docstring).

    Parameters
    ----------
    tables
        :class:`helpers.simulate.CohortTables` of the cohort.
    out_dir
        Cohort folder; writes ``scrna/`` and ``truth/scrna_*``.
    scale
        ``"ci"`` (about 200 cells per sample, ~1,300 genes) or ``"full"`` (about 1,500 cells, ~4,600 genes).
    seed
        Cohort seed; the stream is ``default_rng([seed, 3])``.
    cells_per_sample
        Override the scale's mean cells per sample (benchmarks use it to build atlases of a given size).
    """
    if scale not in SCRNA_SCALES:
        raise ValueError(f"scale must be one of {tuple(SCRNA_SCALES)}, got {scale!r}")
    cfg = dict(SCRNA_SCALES[scale])
    if cells_per_sample is not None:
        cfg["cells"] = int(cells_per_sample)
    rng = np.random.default_rng([seed, 3])
    out = Path(out_dir)
    samples = tables.samples
    sc_samples = samples[has_assay(samples["assays"], "scrna")]
    m = _build_model(tables, sc_samples, cfg, rng, np.random.default_rng([seed, 3, 17]))
    crng = m["crng"]
    sheet_rows, cell_rows, sample_rows = [], [], []
    for sid, pid, tp in sc_samples[["sample_id", "patient_id", "timepoint"]].itertuples(index=False):
        sheet, cells, row = _simulate_sample(m, rng, crng, sid, pid, tp, out)
        sheet_rows.append(sheet)
        cell_rows.append(cells)
        sample_rows.append(row)
    write_table(pd.DataFrame(sheet_rows), out / "scrna" / "sample_sheet.csv")
    _write_csv_gz(pd.concat(cell_rows, ignore_index=True), out / "truth" / "scrna_cells.csv.gz")
    write_table(pd.DataFrame(sample_rows), out / "truth" / "scrna_samples.csv")
