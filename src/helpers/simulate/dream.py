"""The ``dream`` scale: the simulated cohort at the study's real sizes, written sample by sample and in parallel.

DREAM at full size (the study protocol): cytometry on every bone-marrow sample (diagnosis, remission, relapse), each in
the panel's tubes of 100,000-500,000 events. The ``ci`` and ``full`` scales draw every file from one random stream in
sample order, which ties each file to all the files before it; here every sample has its own stream
(``default_rng([seed, DREAM_STREAM, 1, k])`` for the k-th sample of the cohort), so samples are written in any order,
by any number of processes, and a slice (``max_samples``) holds exactly the bytes of the same samples of the whole.

Incremental: a sample whose folder carries the fingerprint of the code, seed and sizes that made it is not rewritten.
The sample sheet lists the samples written so far, in cohort order. Never used by the test suite beyond a tiny slice;
benchmarks read slices of it. Command line::

    python -m helpers.simulate --scale dream --out data/simulated/dream --max-samples 4 --workers 2

Single-cell RNA-seq (``axes`` with ``"scrna"``): every diagnosis and relapse sample of the cohort (about 145 of them,
marked ``scrna`` in ``samples.csv``) as one Cell Ranger ``filtered_feature_bc_matrix.h5`` of 5,250-9,750 cells (the
``full`` scale's gene universe and biology, 7,500 cells on average), the k-th from its own stream
(``default_rng([seed, DREAM_STREAM, 3, k])``; the cohort's genes, programmes and patient effects from
``default_rng([seed, DREAM_STREAM, 3])`` and ``[seed, DREAM_STREAM, 4]``). A writer holds one sample's dense counts
(about 2 GB at 10,000 cells): give ``workers`` accordingly. Per-cell truth: ``truth/scrna_dream_cells/<sample>.csv.gz``.

Barcode libraries (:func:`write_dream_barcodes`): 17 PDX, 714 libraries of 1-5 million reads, one stream per library.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from ..assays import has_assay
from ..io import atomic_path, write_table, write_text
from . import barcodes as bc
from . import cytometry as cy
from . import scrna as sim_sc
from .cohort import simulate_patients

__all__ = ["DREAM_SIZES", "DREAM_STREAM", "DREAM_PDX", "DREAM_SCRNA_CELLS", "dream_scrna_samples", "write_dream",
           "write_dream_barcodes"]

DREAM_STREAM = 31
#: The study's sizes (events per FCS file drawn uniformly per tube).
DREAM_SIZES = {"cytometry_events": (100_000, 500_000), "scrna_cells": (5_000, 10_000),
               "barcode_reads": (1_000_000, 5_000_000)}  # fmt: skip
#: Mean cells per scRNA sample (each sample draws 0.7-1.3 times it, as the other scales do).
DREAM_SCRNA_CELLS = 7_500
_CODE = [Path(__file__), Path(cy.__file__), Path(cy.__file__).with_name("cohort.py")]
_SC_CODE = [Path(__file__), Path(sim_sc.__file__), Path(cy.__file__).with_name("cohort.py"),
            Path(sim_sc.__file__).parents[1] / "scrna" / "tenx.py"]


def _fingerprint(seed: int, event_fraction: float, code: list[Path] = _CODE) -> str:
    h = hashlib.sha256(f"{seed}|{event_fraction!r}|{DREAM_SIZES}".encode())
    for f in code:
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()[:16]


@functools.lru_cache(maxsize=2)
def _dream_tables(n_patients: int, seed: int):
    """Simulate the cohort's tables with the study's number of PDX: ``DREAM_PDX`` diagnosis samples carry ``barcoding``.

    The PDX are drawn from the dream scale's own stream, so the other tables (and the cytometry) do not move.
    """
    tables = simulate_patients(n_patients, seed=seed)
    s = tables.samples
    dx = np.flatnonzero((s["timepoint"] == "diagnosis").to_numpy())
    rng = np.random.default_rng([seed, DREAM_STREAM, 5])
    chosen = set(rng.choice(dx, size=min(DREAM_PDX, len(dx)), replace=False).tolist())
    tokens = [[t for t in str(a).split(";") if t and t != "barcoding"] for a in s["assays"]]
    s["assays"] = [";".join([*t, "barcoding"] if i in chosen else t) for i, t in enumerate(tokens)]
    return tables


def _tubes() -> list[tuple[str, str]]:
    return [(panel, cond) for panel, conds in cy.CONDITIONS.items() for cond in conds]


def _write_sample(k: int, sample_id: str, bio: dict, out: str, seed: int, event_fraction: float,
                  fingerprint: str) -> list[dict]:  # fmt: skip
    """All tubes of the k-th sample from its own stream; returns its sample-sheet and truth rows."""
    folder = Path(out) / "cytometry" / "fcs" / sample_id
    stamp = folder / ".dream"
    if stamp.is_file():
        done = json.loads(stamp.read_text())
        if done.get("fingerprint") == fingerprint:
            return done["rows"]
    rng = np.random.default_rng([seed, DREAM_STREAM, 1, k])
    b = pd.Series(bio)
    lo, hi = DREAM_SIZES["cytometry_events"]
    rows = []
    for panel, cond in _tubes():
        markers = cy.PANELS[panel]
        detectors = [cy.DETECTORS[m] for m in markers]
        n = max(10, int(round(int(rng.integers(lo, hi + 1)) * event_fraction)))
        true, counts, _ = cy._draw_events(rng, markers, n, b, panel, cond)
        fluo = true[:, 3:] @ cy.SPILLOVER.loc[detectors, detectors].to_numpy()
        time = np.cumsum(rng.exponential(1 / 3.0, n))
        data = np.column_stack([true[:, :3], fluo, time])
        data[:, :3] = np.clip(data[:, :3], 0, cy.MAX_RANGE)
        data[:, 3:-1] = np.minimum(data[:, 3:-1], cy.MAX_RANGE)
        channels = [*cy.SCATTER, *detectors, "Time"]
        labels = [*cy.SCATTER, *markers, "Time"]
        cname = cond.replace("+", "-")
        rel = f"fcs/{sample_id}/{panel}_{cname}.fcs"
        # Only acquisition keywords: these files carry no planted identifiers (the privacy checks use ci/full).
        meta = {"$CYT": "LSRFortessa", "$TIMESTEP": "0.01", "$SPILLOVER": cy._spill_string(detectors)}
        meta.update({f"$P{j + 1}R": "262144" for j in range(len(channels) - 1)})
        meta[f"$P{len(channels)}R"] = str(int(np.ceil(time[-1])) + 1)
        cy._write_fcs(Path(out) / "cytometry" / rel, data, channels, labels, meta)
        ven, aza = cy.DRUG_CONCENTRATIONS_UM.get(cond, (0.0, 0.0))
        rows.append({"file": rel, "sample_id": sample_id, "panel": panel, "condition": cond, "ven_um": ven,
                     "aza_um": aza, "n_events": n, **{f"truth_{c}": int(v) for c, v in counts.items()}})  # fmt: skip
    with atomic_path(stamp) as tmp:
        tmp.write_text(json.dumps({"fingerprint": fingerprint, "rows": rows}))
    return rows


def dream_scrna_samples(samples: pd.DataFrame) -> pd.DataFrame:
    """Select the samples profiled by scRNA-seq at the dream scale: every diagnosis and relapse sample.

    Parameters
    ----------
    samples
        The cohort's ``samples.csv`` table (``sample_id``, ``patient_id``, ``timepoint``, ...).

    Returns
    -------
    pandas.DataFrame
        Its diagnosis and relapse rows, in cohort order, with a fresh 0..n-1 index (the position is the sample's
        random stream).
    """
    return samples[samples["timepoint"].isin(["diagnosis", "relapse"])].reset_index(drop=True)


_MODELS: dict = {}


def _scrna_model(seed: int, n_patients: int, cells: int) -> dict:
    """Return the cohort's single-cell model (built once per process: workers rebuild it rather than receive it)."""
    key = (seed, n_patients, cells)
    if key not in _MODELS:
        tables = simulate_patients(n_patients, seed=seed)
        cfg = dict(sim_sc.SCRNA_SCALES["full"], cells=cells)
        sc_samples = dream_scrna_samples(tables.samples)
        _MODELS.clear()
        _MODELS[key] = sim_sc._build_model(tables, sc_samples, cfg, np.random.default_rng([seed, DREAM_STREAM, 3]),
                                           np.random.default_rng([seed, DREAM_STREAM, 4]))
    return _MODELS[key]


def _write_scrna_sample(k: int, sid: str, pid: str, tp: str, out: str, seed: int, n_patients: int, cells: int,
                        fingerprint: str) -> tuple[dict, dict]:  # fmt: skip
    """Write the k-th scRNA sample from its own stream; return its sample-sheet and sample-truth rows."""
    folder = Path(out) / "scrna" / sid
    stamp = folder / ".dream"
    if stamp.is_file():
        done = json.loads(stamp.read_text())
        if done.get("fingerprint") == fingerprint:
            return done["sheet"], done["row"]
    rng = np.random.default_rng([seed, DREAM_STREAM, 3, k])
    sheet, cells_df, row = sim_sc._simulate_sample(_scrna_model(seed, n_patients, cells), rng, rng, sid, pid, tp,
                                                   Path(out))
    sim_sc._write_csv_gz(cells_df, Path(out) / "truth" / "scrna_dream_cells" / f"{sid}.csv.gz")
    with atomic_path(stamp) as tmp:
        tmp.write_text(json.dumps({"fingerprint": fingerprint, "sheet": sheet, "row": row}))
    return sheet, row


def _write_scrna(out: Path, samples: pd.DataFrame, *, seed: int, n_patients: int, max_samples: int | None,
                 workers: int, cell_fraction: float) -> int:  # fmt: skip
    sc_samples = dream_scrna_samples(samples)
    n = len(sc_samples) if max_samples is None else min(max_samples, len(sc_samples))
    cells = max(20, int(round(DREAM_SCRNA_CELLS * cell_fraction)))
    fp = _fingerprint(seed, cell_fraction, _SC_CODE)
    args = [(k, *sc_samples.loc[k, ["sample_id", "patient_id", "timepoint"]], str(out), seed, n_patients, cells, fp)
            for k in range(n)]  # fmt: skip
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(_write_scrna_sample, *zip(*args, strict=True)))
    else:
        parts = [_write_scrna_sample(*a) for a in args]
    write_table(pd.DataFrame([s for s, _ in parts]), out / "scrna" / "sample_sheet.csv")
    write_table(pd.DataFrame([r for _, r in parts]), out / "truth" / "scrna_dream_samples.csv")
    return n


def write_dream(out_dir: str | Path, *, seed: int, n_patients: int = 120, max_samples: int | None = None,
                workers: int = 1, event_fraction: float = 1.0, axes: tuple[str, ...] = ("cytometry",),
                cell_fraction: float = 1.0) -> Path:  # fmt: skip
    """Write (or bring up to date) the ``dream`` scale, or its first ``max_samples`` samples of each axis.

    Parameters
    ----------
    out_dir
        Cohort folder: ``clinical.csv``, ``samples.csv``, ``cytometry/fcs/<sample>/<panel>_<condition>.fcs``,
        ``cytometry/sample_sheet.csv``, ``cytometry/panels.csv``, ``cytometry/gating.yaml`` and
        ``truth/cytometry_dream_files.csv``.
    seed
        Same seed, same bytes (whatever ``workers`` and whichever slice).
    n_patients
        Patients of the simulated cohort (the study's 120).
    max_samples
        Write only the first N samples of the cohort (a slice for benchmarks and tests).
    workers
        Processes writing samples in parallel (each holds one tube's events at a time: at most about 80 MB).
    event_fraction
        Multiplies every tube's event count (1 = the study's sizes; tests use a tiny fraction).
    axes
        ``"cytometry"`` and / or ``"scrna"`` (``scrna/sample_sheet.csv``, ``scrna/<sample>/``,
        ``truth/scrna_dream_samples.csv``).
    cell_fraction
        Multiplies the cells per scRNA sample (1 = the study's sizes).

    Returns
    -------
    pathlib.Path
        ``out_dir``.

    Raises
    ------
    ValueError
        An axis in ``axes`` other than ``"cytometry"`` and ``"scrna"``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    unknown = set(axes) - {"cytometry", "scrna"}
    if unknown:
        raise ValueError(f"the dream scale simulates cytometry and scrna, not {sorted(unknown)}")
    tables = _dream_tables(n_patients, seed)
    # Every diagnosis and relapse sample is profiled by scRNA-seq at this scale; samples.csv lists the assay for the
    # samples written (the data contract: every sample planned for scrna is in the sheet).
    planned = dream_scrna_samples(tables.samples)["sample_id"]
    n_sc = len(planned) if max_samples is None else min(max_samples, len(planned))
    sc_ids = set(planned[:n_sc]) if "scrna" in axes else set()
    if "scrna" in axes:
        tables.samples["assays"] = [";".join([x for x in str(a).split(";") if x and x != "scrna"]
                                             + (["scrna"] if sid in sc_ids else []))
                                    for sid, a in zip(tables.samples["sample_id"], tables.samples["assays"].fillna(""),
                                                      strict=True)]  # fmt: skip
    tables.write(out)
    lines = []
    if "scrna" in axes:
        n_sc = _write_scrna(out, tables.samples, seed=seed, n_patients=n_patients, max_samples=max_samples,
                            workers=workers, cell_fraction=cell_fraction)
        lines.append(f"scrna samples written: {n_sc} of {len(planned)}\n")
    if "cytometry" not in axes:
        (out / "COHORT").write_text(f"simulated DREAM cohort\nscale: dream\nseed: {seed}\npatients: {n_patients}\n"
                                    + "".join(lines))
        return out
    samples = tables.samples.reset_index(drop=True)
    truth = tables.sample_truth.set_index("sample_id").loc[samples["sample_id"]].reset_index()
    bio = cy._sample_biology(truth, np.random.default_rng([seed, DREAM_STREAM, 0]))
    todo = range(len(samples) if max_samples is None else min(max_samples, len(samples)))
    fp = _fingerprint(seed, event_fraction)
    args = [(k, samples.loc[k, "sample_id"], bio.iloc[k].to_dict(), str(out), seed, event_fraction, fp) for k in todo]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(_write_sample, *zip(*args, strict=True)))
    else:
        parts = [_write_sample(*a) for a in args]
    rows = pd.DataFrame([r for part in parts for r in part])
    cyto = out / "cytometry"
    write_table(rows[["file", "sample_id", "panel", "condition", "ven_um", "aza_um"]], cyto / "sample_sheet.csv")
    panels = pd.DataFrame([{"panel": p, "marker": m, "channel": cy.DETECTORS[m]} for p, ms in cy.PANELS.items()
                           for m in ms])  # fmt: skip
    write_table(panels, cyto / "panels.csv")
    strategy = Path(__file__).resolve().parents[1] / "cytometry" / "strategies" / "aml_functional.yaml"
    shutil.copyfile(strategy, cyto / "gating.yaml")
    (out / "truth").mkdir(exist_ok=True)
    write_table(rows, out / "truth" / "cytometry_dream_files.csv")
    (out / "COHORT").write_text(f"simulated DREAM cohort\nscale: dream\nseed: {seed}\npatients: {n_patients}\n"
                                f"samples written: {len(todo)} of {len(samples)}\n" + "".join(lines))  # fmt: skip
    return out


# ----------------------------------------------------------------------------------------------------------------------
# Barcode libraries at the study's size

#: PDX of the dream scale and their design: 17 PDX x (3 vehicle mice x 2 time points + 5 treated mice x 3 time points)
#: x 2 PCR replicates = 714 libraries, about the study's 700.
DREAM_PDX = 17
_READ_CHUNK = 250_000  # reads drawn and compressed at a time: about 200 MB of work arrays whatever the library's size


@functools.lru_cache(maxsize=4)
def _pdx_design(seed: int, k: int, ven_log10_ic50: float) -> tuple[np.ndarray, list[dict]]:
    """Clone barcodes of the k-th PDX and its libraries (mouse, arm, time point, template frequencies, reads)."""
    cfg = bc.BARCODE_SCALES["full"]
    rng = np.random.default_rng([seed, DREAM_STREAM, 5, k])
    n_cl = cfg["n_clones"]
    codes = bc._random_barcodes(rng, n_cl)
    pool = rng.lognormal(0.0, 1.0, n_cl)
    pool /= pool.sum()
    fitness = rng.normal(0.0, 0.35, n_cl)
    frac = 0.01 + 0.05 / (1 + np.exp(-2.0 * (ven_log10_ic50 + 0.5)))
    resistant = np.zeros(n_cl, dtype=bool)
    resistant[rng.choice(n_cl, max(2, int(round(frac * n_cl))), replace=False)] = True
    kill = 3.0 + 1.0 * rng.random()
    lo, hi = DREAM_SIZES["barcode_reads"]
    libs = []
    arms = ["vehicle"] * cfg["vehicle"] + ["aza_ven"] * cfg["treated"]
    for m, arm in enumerate(arms, start=1):
        cells = rng.multinomial(cfg["engraft"], pool).astype(float)
        size = cells * np.exp(1.5 + fitness + rng.normal(0, 0.3, n_cl))
        growth = 2.0 + fitness + rng.normal(0, 0.5, n_cl) + (rng.random(n_cl) < 0.02) * rng.normal(2.5, 0.5, n_cl)
        if arm == "aza_ven":
            growth -= np.where(resistant, -1.0, kill)
        post = size * np.exp(growth)
        stages = [("pre_treatment", size), ("post_treatment", post)]
        if arm == "aza_ven":
            stages.append(("relapse", post * np.exp(1.5 + fitness + rng.normal(0, 0.4, n_cl) + resistant)))
        for tp, sizes in stages:
            dna = rng.multinomial(cfg["dna_cells"], sizes / sizes.sum())
            for rep in range(1, cfg["pcr"] + 1):
                tf = dna * rng.gamma(20.0, 1 / 20.0, n_cl)
                libs.append({"mouse": m, "arm": arm, "timepoint": tp, "pcr_replicate": rep, "freq": tf / tf.sum(),
                             "stagger": int(rng.integers(0, 4)), "reads": int(rng.integers(lo, hi + 1))})  # fmt: skip
    return codes, libs


def _write_library(k: int, j: int, pdx: str, ven_log10_ic50: float, out: str, seed: int, read_fraction: float,
                   fingerprint: str) -> dict:  # fmt: skip
    """Write the j-th library of the k-th PDX from its own stream, in chunks; return its sample-sheet row and reads."""
    codes, libs = _pdx_design(seed, k, ven_log10_ic50)
    lib = libs[j]
    lib_id = f"{pdx}-L{j + 1:02d}"
    rel = f"fastq/{pdx}/{lib_id}.fastq.gz"
    path = Path(out) / "barcodes" / rel
    stamp = path.with_name(f".{lib_id}.dream")
    row = {"file": rel, "library_id": lib_id, "pdx_id": pdx, "mouse_id": f"{pdx}-M{lib['mouse']}", "arm": lib["arm"],
           "timepoint": lib["timepoint"], "pcr_replicate": lib["pcr_replicate"]}  # fmt: skip
    if stamp.is_file() and json.loads(stamp.read_text()).get("fingerprint") == fingerprint:
        return json.loads(stamp.read_text())["row"]
    rng = np.random.default_rng([seed, DREAM_STREAM, 5, k, j])
    n = max(10, int(round(lib["reads"] * read_fraction)))
    clone = np.repeat(np.arange(codes.shape[0]), rng.multinomial(n, lib["freq"])).astype(np.int32)
    rng.shuffle(clone)
    name = lib_id.replace("-", "_")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6,
                                                                        mtime=0, filename="") as gz:  # fmt: skip
        for lo in range(0, n, _READ_CHUNK):
            seq, qual = bc._reads_of_clones(rng, codes, clone[lo : lo + _READ_CHUNK], lib["stagger"])
            gz.write(bc._fastq_records(seq, qual, name, first=lo + 1))
    row["n_reads"] = n
    with atomic_path(stamp) as tmp:
        tmp.write_text(json.dumps({"fingerprint": fingerprint, "row": row}))
    return row


def write_dream_barcodes(out_dir: str | Path, *, seed: int, n_patients: int = 120, max_samples: int | None = None,
                         workers: int = 1, read_fraction: float = 1.0) -> Path:  # fmt: skip
    """Write (or bring up to date) the barcode libraries of the ``dream`` scale, or those of its first PDX.

    Every library has its own stream (``default_rng([seed, DREAM_STREAM, 5, k, j])`` for the j-th library of the k-th
    PDX, whose clones and mice come from ``default_rng([seed, DREAM_STREAM, 5, k])``), so libraries are written in any
    order, by any number of processes, in chunks of reads (a 5-million-read library never sits in memory), and a
    slice holds exactly the bytes of the same libraries of the whole.

    Parameters
    ----------
    out_dir
        Cohort folder (``clinical.csv`` and ``samples.csv`` are written by :func:`write_dream`): writes
        ``barcodes/fastq/<pdx>/<library>.fastq.gz``, ``barcodes/sample_sheet.csv``, ``barcodes/library_pattern.txt``
        and ``truth/barcodes_dream_libraries.csv`` (reads per library).
    seed
        Same seed, same bytes (whatever ``workers`` and whichever slice).
    n_patients
        Patients of the simulated cohort (as given to :func:`write_dream`: the PDX are drawn among them).
    max_samples
        Write only the libraries of the first N PDX (diagnosis samples carrying the ``barcoding`` assay).
    workers
        Processes writing libraries in parallel.
    read_fraction
        Multiplies every library's reads (1 = the study's 1-5 million; tests use a tiny fraction).

    Returns
    -------
    pathlib.Path
        ``out_dir``.
    """
    out = Path(out_dir)
    tables = _dream_tables(n_patients, seed)
    if not (out / "samples.csv").is_file():  # write_dream's tables (the same PDX, and the scRNA samples it wrote)
        tables.write(out)
    samples, truth = tables.samples, tables.sample_truth.set_index("sample_id")
    pdx = samples[has_assay(samples["assays"], "barcoding")].reset_index(drop=True)
    pdx = pdx.iloc[: len(pdx) if max_samples is None else max_samples]
    h = hashlib.sha256(f"{_fingerprint(seed, read_fraction)}|barcodes".encode())
    h.update(hashlib.sha256(Path(bc.__file__).read_bytes()).digest())
    fp = h.hexdigest()[:16]
    n_libs = len(_pdx_design(seed, 0, 0.0)[1])
    args = [(k, f"PDX-{r.patient_id}", float(truth.loc[r.sample_id, "ven_log10_ic50_um"]), str(out), seed,
             read_fraction, fp) for k, r in enumerate(pdx.itertuples(index=False))]  # fmt: skip
    tasks = [(*a[:1], j, *a[1:]) for a in args for j in range(n_libs)]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            rows = list(pool.map(_write_library, *zip(*tasks, strict=True)))
    else:
        rows = [_write_library(*t) for t in tasks]
    sheet = pd.DataFrame(rows)
    meta = pdx.set_index("patient_id").loc[[r.split("PDX-", 1)[1] for r in sheet["pdx_id"]]]
    sheet.insert(3, "patient_id", meta.index.to_numpy())
    sheet.insert(4, "sample_id", meta["sample_id"].to_numpy())
    root = out / "barcodes"
    root.mkdir(parents=True, exist_ok=True)
    write_table(sheet.drop(columns="n_reads"), root / "sample_sheet.csv")
    write_text("# Read pattern of the barcode library (data contract: docs/barcodes.md)\n"
               "# BC32-GFP backbone (genBaRcode): fixed bases and 32 wobble positions (N)\n"
               f"pattern: {bc.BACKBONE}\n", root / "library_pattern.txt")  # fmt: skip
    (out / "truth").mkdir(exist_ok=True)
    write_table(sheet[["library_id", "pdx_id", "n_reads"]], out / "truth" / "barcodes_dream_libraries.csv")
    return out
