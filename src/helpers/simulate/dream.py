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

Sizes not simulated at this scale yet (the single-cell and barcode axes keep the ``full`` scale's generators): 5,000-10,000
cells per scRNA sample, 1-5 million reads per barcode library.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from ..io import atomic_path, write_table
from . import cytometry as cy
from .cohort import simulate_patients

__all__ = ["DREAM_SIZES", "DREAM_STREAM", "write_dream"]

DREAM_STREAM = 31
#: The study's sizes (events per FCS file drawn uniformly per tube).
DREAM_SIZES = {"cytometry_events": (100_000, 500_000), "scrna_cells": (5_000, 10_000),
               "barcode_reads": (1_000_000, 5_000_000)}  # fmt: skip
_CODE = [Path(__file__), Path(cy.__file__), Path(cy.__file__).with_name("cohort.py")]


def _fingerprint(seed: int, event_fraction: float) -> str:
    h = hashlib.sha256(f"{seed}|{event_fraction!r}|{DREAM_SIZES}".encode())
    for f in _CODE:
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()[:16]


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


def write_dream(out_dir: str | Path, *, seed: int, n_patients: int = 120, max_samples: int | None = None,
                workers: int = 1, event_fraction: float = 1.0) -> Path:  # fmt: skip
    """Write (or bring up to date) the cytometry of the ``dream`` scale, or its first ``max_samples`` samples.

    Parameters
    ----------
    out_dir
        Cohort folder: ``clinical.csv``, ``samples.csv``, ``cytometry/fcs/<sample>/<panel>_<condition>.fcs``,
        ``cytometry/sample_sheet.csv``, ``cytometry/panels.csv``, ``cytometry/gating.yaml`` and
        ``truth/cytometry_dream_files.csv``.
    seed
        Same seed, same bytes (whatever ``workers`` and whichever slice).
    max_samples
        Write only the first N samples of the cohort (a slice for benchmarks and tests).
    workers
        Processes writing samples in parallel (each holds one tube's events at a time: at most about 80 MB).
    event_fraction
        Multiplies every tube's event count (1 = the study's sizes; tests use a tiny fraction).

    Returns
    -------
    pathlib.Path
        ``out_dir``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = simulate_patients(n_patients, seed=seed)
    tables.write(out)
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
                                f"samples written: {len(todo)} of {len(samples)}\n")  # fmt: skip
    return out
