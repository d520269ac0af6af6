"""Simulated genetic barcoding of patient-derived xenografts (PDX), written in the data contract's layout.

For every patient whose diagnosis sample lists the ``barcoding`` assay: the leukemia cells carry a lentiviral
barcode library (a genBaRcode BC32-GFP style backbone, 32 wobble positions), the barcoded pool is expanded and split
into replicate mice, half given vehicle and half AZA/VEN. Blood is read before treatment and after it (and, at full
scale, at relapse of the treated mice), each sample as PCR replicates sequenced to gzipped FASTQ.

What is planted (``truth/barcodes_*.csv``, never read by the analyses):

- clone sizes in the pool are log-normal, so a few clones dominate every mouse by starting abundance alone;
- every clone has a small heritable fitness shared by all mice (treatment-independent, the vehicle arm shows it);
- engraftment is a random draw of cells, growth has per-mouse drift and rare per-mouse "jackpot" expansions;
- a set of *pre-existing resistant clones* per PDX (more of them in VEN-resistant leukemias, from the latent
  ``ven_log10_ic50_um``) escape the AZA/VEN kill in every treated mouse; ``plant_resistance=False`` plants none;
- reads: per-library stagger, binned Illumina qualities, substitution errors at the quality's rate (and N calls),
  PCR errors, low-quality reads and primer-dimer reads without the backbone.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..assays import has_assay
from ..io import atomic_path, write_table, write_text

if TYPE_CHECKING:
    from .cohort import CohortTables

__all__ = ["simulate_barcodes", "BARCODE_SCALES", "READ_LENGTH"]

# The backbone of the BC32-GFP library (genBaRcode, Thielecke et al. 2017).
BACKBONE = "ACTNNCGANNCTTNNCGANNCTTNNGGANNCTANNACTNNCGANNCTTNNCGANNCTTNNGGANNCTANNACTNNCGANN"
PRIMER_TAIL = "GA"  # last bases of the amplicon primer, before the stagger
TRAILER = "GTACCGATCG"  # vector sequence after the backbone
READ_LENGTH = 88
BARCODE_SCALES = {
    "ci": {"n_clones": 150, "vehicle": 2, "treated": 3, "relapse": False, "pcr": 2, "reads": 2000,
           "engraft": 4000, "dna_cells": 20000},
    "full": {"n_clones": 800, "vehicle": 3, "treated": 5, "relapse": True, "pcr": 2, "reads": 6000,
             "engraft": 20000, "dna_cells": 60000},
}  # fmt: skip
# Binned qualities (NovaSeq bins) and the probability of each bin for good and poor reads.
_QBINS = np.array([37, 25, 11, 2])
_QP_GOOD = [0.962, 0.03, 0.006, 0.002]
_QP_POOR = [0.45, 0.25, 0.2, 0.1]
_ACGT = np.frombuffer(b"ACGT", dtype=np.uint8)


def _random_barcodes(rng: np.random.Generator, n: int, length: int = 32, min_dist: int = 6) -> np.ndarray:
    """``n`` distinct random barcodes (codes 0-3) at least ``min_dist`` substitutions apart."""
    out = np.empty((0, length), dtype=np.uint8)
    while out.shape[0] < n:
        cand = rng.integers(0, 4, size=(n, length), dtype=np.uint8)
        for row in cand:
            if out.shape[0] == n:
                break
            if out.shape[0] == 0 or (out != row).sum(axis=1).min() >= min_dist:
                out = np.vstack([out, row])
    return out


def _write_fastq_gz(path: Path, seq: np.ndarray, qual: np.ndarray, name: str) -> None:
    """Write reads (uint8 matrices of equal width) as gzipped FASTQ with fixed-width names; deterministic bytes."""
    with atomic_path(path) as tmp, open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6,
                                                                        mtime=0, filename="") as gz:  # fmt: skip
        gz.write(_fastq_records(seq, qual, name))


def _fastq_records(seq: np.ndarray, qual: np.ndarray, name: str, first: int = 1) -> bytes:
    """FASTQ records of reads numbered from ``first`` (8 digits)."""
    n, width = seq.shape
    prefix = np.frombuffer(f"@{name}:".encode(), dtype=np.uint8)
    idx = np.arange(first, first + n)
    digits = np.stack([(idx // 10**k) % 10 for k in range(7, -1, -1)], axis=1).astype(np.uint8) + ord("0")
    rec = np.concatenate(
        [np.broadcast_to(prefix, (n, prefix.size)), digits, np.full((n, 1), 10, np.uint8), seq,
         np.frombuffer(b"\n+\n", np.uint8)[None, :].repeat(n, 0), qual, np.full((n, 1), 10, np.uint8)],
        axis=1,
    )  # fmt: skip
    return rec.tobytes()


def _reads(rng, clone_bc, template_freq, n_reads, stagger):
    """Sequence and quality matrices of one PCR library."""
    reads_per_clone = rng.multinomial(n_reads, template_freq)
    clone = np.repeat(np.arange(clone_bc.shape[0]), reads_per_clone)
    rng.shuffle(clone)
    return _reads_of_clones(rng, clone_bc, clone, stagger)


def _reads_of_clones(rng, clone_bc, clone, stagger):
    """Sequence and quality matrices of reads whose molecules come from the clones ``clone`` (in read order)."""
    tmpl = np.frombuffer(BACKBONE.encode(), dtype=np.uint8)
    wob = np.flatnonzero(tmpl == ord("N"))
    n = clone.size
    off = np.full(n, len(PRIMER_TAIL) + stagger)
    # a few reads phase-shifted by one base (a primer synthesis error): placed at another offset
    shifted = rng.random(n) < 0.02
    off[shifted] += np.where(rng.random(shifted.sum()) < 0.5, -1, 1)
    off = np.clip(off, 0, READ_LENGTH - len(BACKBONE) - 1)
    seq = _ACGT[rng.integers(0, 4, size=(n, READ_LENGTH))]
    seq[:, : len(PRIMER_TAIL)] = np.frombuffer(PRIMER_TAIL.encode(), np.uint8)
    amplicon = np.broadcast_to(tmpl, (n, tmpl.size)).copy()
    amplicon[:, wob] = _ACGT[clone_bc[clone]]
    # PCR errors: one substitution anywhere in the amplicon of about 1 % of molecules
    pcr = np.flatnonzero(rng.random(n) < 0.01)
    pos = rng.integers(0, tmpl.size, pcr.size)
    amplicon[pcr, pos] = _ACGT[(np.searchsorted(_ACGT, amplicon[pcr, pos]) + rng.integers(1, 4, pcr.size)) % 4]
    trailer = np.frombuffer((TRAILER * 2).encode(), np.uint8)
    for o in np.unique(off):
        rows = np.flatnonzero(off == o)
        seq[np.ix_(rows, np.arange(o, o + tmpl.size))] = amplicon[rows]
        tail = READ_LENGTH - o - tmpl.size
        seq[np.ix_(rows, np.arange(o + tmpl.size, READ_LENGTH))] = trailer[:tail]
    # primer dimers and other reads without the backbone
    junk = rng.random(n) < 0.03
    seq[junk] = _ACGT[rng.integers(0, 4, size=(int(junk.sum()), READ_LENGTH))]
    # qualities (binned) and sequencing errors at the quality's rate; Phred 2 calls are often N
    poor = rng.random(n) < 0.06
    qi = np.where(poor[:, None], rng.choice(4, size=(n, READ_LENGTH), p=_QP_POOR),
                  rng.choice(4, size=(n, READ_LENGTH), p=_QP_GOOD))  # fmt: skip
    q = _QBINS[qi]
    err = rng.random((n, READ_LENGTH)) < 10 ** (-q / 10)
    r, c = np.nonzero(err)
    seq[r, c] = _ACGT[(np.searchsorted(_ACGT, seq[r, c]) + rng.integers(1, 4, r.size)) % 4]
    is_n = (q == 2) & (rng.random((n, READ_LENGTH)) < 0.5)
    seq[is_n] = ord("N")
    return seq, (q + 33).astype(np.uint8)


def simulate_barcodes(
    tables: CohortTables, out_dir: str | Path, *, scale: str = "ci", seed: int = 20261129, plant_resistance: bool = True
) -> None:
    """Write ``<out_dir>/barcodes/`` (FASTQ.gz, sample sheet, library pattern) and ``<out_dir>/truth/barcodes_*.csv``.

    Parameters
    ----------
    tables
        :class:`helpers.simulate.cohort.CohortTables`; PDX are the patients whose samples include ``barcoding``.
    out_dir
        Cohort folder.
    scale
        ``"ci"`` or ``"full"`` (see :data:`BARCODE_SCALES`).
    seed
        Cohort seed; this assay draws from ``np.random.default_rng([seed, 4, k])`` for its k-th PDX.
    plant_resistance
        ``False`` plants no resistant clone (the calibration scenario: every expansion is chance).
    """
    cfg = BARCODE_SCALES[scale]
    out = Path(out_dir)
    root = out / "barcodes"
    (root / "fastq").mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    samples = tables.samples
    pdx_samples = samples[has_assay(samples["assays"], "barcoding")]
    truth = tables.sample_truth.set_index("sample_id")
    sheet, clones_truth, pdx_truth, abund_truth = [], [], [], []
    for k, srow in enumerate(pdx_samples.itertuples(index=False)):
        rng = np.random.default_rng([seed, 4, k])
        pid, sid = srow.patient_id, srow.sample_id
        pdx = f"PDX-{pid}"
        lat = truth.loc[sid]
        n_cl = cfg["n_clones"]
        bc = _random_barcodes(rng, n_cl)
        pool = rng.lognormal(0.0, 1.0, n_cl)
        pool /= pool.sum()
        fitness = rng.normal(0.0, 0.35, n_cl)
        # VEN-resistant leukemias carry more pre-existing resistant clones (1 to 6 % of clones)
        frac = 0.01 + 0.05 / (1 + np.exp(-2.0 * (lat["ven_log10_ic50_um"] + 0.5)))
        n_res = max(2, int(round(frac * n_cl))) if plant_resistance else 0
        resistant = np.zeros(n_cl, dtype=bool)
        resistant[rng.choice(n_cl, n_res, replace=False)] = True
        kill = 3.0 + 1.0 * rng.random()  # log-units of AZA/VEN kill of sensitive clones
        arms = ["vehicle"] * cfg["vehicle"] + ["aza_ven"] * cfg["treated"]
        for b in range(n_cl):
            clones_truth.append({"pdx_id": pdx, "barcode": _ACGT[bc[b]].tobytes().decode(),
                                 "pool_frequency": pool[b], "fitness": fitness[b], "resistant": int(resistant[b])})  # fmt: skip
        pdx_truth.append({"pdx_id": pdx, "patient_id": pid, "sample_id": sid, "n_clones": n_cl,
                          "n_resistant": n_res, "kill_log": kill, "plant_resistance": int(plant_resistance)})  # fmt: skip
        lib = 0
        for m, arm in enumerate(arms, start=1):
            mouse = f"{pdx}-M{m}"
            cells = rng.multinomial(cfg["engraft"], pool).astype(float)
            size = cells * np.exp(1.5 + fitness + rng.normal(0, 0.3, n_cl))
            stages = [("pre_treatment", size)]
            growth = 2.0 + fitness + rng.normal(0, 0.5, n_cl)
            jackpot = rng.random(n_cl) < 0.02
            growth += jackpot * rng.normal(2.5, 0.5, n_cl)
            if arm == "aza_ven":
                growth -= np.where(resistant, -1.0, kill)
            post = size * np.exp(growth)
            stages.append(("post_treatment", post))
            if arm == "aza_ven" and cfg["relapse"]:
                regrow = 1.5 + fitness + rng.normal(0, 0.4, n_cl) + np.where(resistant, 1.0, 0.0)
                stages.append(("relapse", post * np.exp(regrow)))
            for tp, sizes in stages:
                p = sizes / sizes.sum()
                dna = rng.multinomial(cfg["dna_cells"], p)
                for b in np.flatnonzero(p > 0):
                    abund_truth.append({"pdx_id": pdx, "mouse_id": mouse, "timepoint": tp,
                                        "barcode": _ACGT[bc[b]].tobytes().decode(), "cell_fraction": p[b]})  # fmt: skip
                for rep in range(1, cfg["pcr"] + 1):
                    lib += 1
                    lib_id = f"{pdx}-L{lib:02d}"
                    bias = rng.gamma(20.0, 1 / 20.0, n_cl)  # PCR amplification efficiency per clone
                    tf = dna * bias
                    seq, qual = _reads(rng, bc, tf / tf.sum(), cfg["reads"], stagger=int(rng.integers(0, 4)))
                    rel = f"fastq/{lib_id}.fastq.gz"
                    _write_fastq_gz(root / rel, seq, qual, lib_id.replace("-", "_"))
                    sheet.append({"file": rel, "library_id": lib_id, "pdx_id": pdx, "patient_id": pid,
                                  "sample_id": sid, "mouse_id": mouse, "arm": arm, "timepoint": tp,
                                  "pcr_replicate": rep})  # fmt: skip
    write_table(pd.DataFrame(sheet), root / "sample_sheet.csv")
    write_text(
        "# Read pattern of the barcode library (data contract: docs/barcodes.md)\n"
        "# BC32-GFP backbone (genBaRcode): fixed bases and 32 wobble positions (N)\n"
        f"pattern: {BACKBONE}\n",
        root / "library_pattern.txt",
    )
    write_table(pd.DataFrame(clones_truth), out / "truth" / "barcodes_clones.csv")
    write_table(pd.DataFrame(pdx_truth), out / "truth" / "barcodes_pdx.csv")
    write_table(pd.DataFrame(abund_truth), out / "truth" / "barcodes_abundance.csv")
