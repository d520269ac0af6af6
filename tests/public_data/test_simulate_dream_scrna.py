"""The dream scale's single-cell samples: each from its own stream, so slices and parallel writers give the same bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from helpers.scrna import load_cohort_scrna
from helpers.simulate.dream import DREAM_SCRNA_CELLS, dream_scrna_samples, write_dream

FRACTION = 0.02  # about 150 cells per sample: the dream code path at a size the suite can afford


def _digest(folder: Path) -> dict[str, str]:
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted((folder / "scrna").rglob("*.h5"))}  # fmt: skip


def test_dream_scrna_slice_is_deterministic(public_data, tmp_path):
    kw = {"seed": 7, "axes": ("scrna",), "cell_fraction": FRACTION}
    two = write_dream(tmp_path / "a", max_samples=2, workers=1, **kw)
    d2 = _digest(two)
    assert len(d2) == 2
    assert _digest(write_dream(tmp_path / "b", max_samples=2, workers=2, **kw)) == d2  # same bytes, in parallel
    write_dream(two, max_samples=2, workers=1, **kw)  # incremental rerun: nothing moves
    assert _digest(two) == d2
    three = _digest(write_dream(tmp_path / "c", max_samples=3, workers=1, **kw))
    assert len(three) == 3 and all(three[k] == v for k, v in d2.items())  # a slice of 2 = the first 2 of 3
    other = _digest(write_dream(tmp_path / "d", max_samples=2, workers=1, **{**kw, "seed": 8}))
    assert len(other) == 2 and set(other.values()).isdisjoint(d2.values())
    # The contract reader takes the slice as a cohort: samples.csv lists scrna for exactly the samples written.
    samples = pd.read_csv(two / "samples.csv")
    planned = dream_scrna_samples(samples)
    assert len(planned) >= 140  # every diagnosis and relapse sample of 120 patients (145 with this seed)
    sheet = pd.read_csv(two / "scrna" / "sample_sheet.csv")
    assert list(sheet["sample_id"]) == list(planned["sample_id"][:2])
    assert samples["assays"].str.contains("scrna").sum() == 2
    adata = load_cohort_scrna(two)
    truth = pd.read_csv(two / "truth" / "scrna_dream_samples.csv")
    mean = DREAM_SCRNA_CELLS * FRACTION
    assert truth["n_cells"].between(0.6 * mean, 1.3 * mean).all()
    assert adata.n_obs == truth["n_cells"].sum() and adata.obs["patient_id"].notna().all()
