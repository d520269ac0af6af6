"""The dream scale: every sample from its own stream, so slices and parallel writers give the same bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from helpers.cytometry import read_fcs
from helpers.simulate.dream import DREAM_SIZES, write_dream


def _digest(folder: Path) -> dict[str, str]:
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file()}  # fmt: skip


def test_dream_slice_is_deterministic_and_independent_of_workers(tmp_path):
    frac = 0.002  # 200-1,000 events per tube: the dream code path at a size the suite can afford
    one = write_dream(tmp_path / "a", seed=7, max_samples=2, workers=1, event_fraction=frac)
    two = write_dream(tmp_path / "b", seed=7, max_samples=2, workers=2, event_fraction=frac)
    d1 = _digest(one)
    assert d1 == _digest(two)
    write_dream(one, seed=7, max_samples=2, workers=1, event_fraction=frac)  # incremental rerun: nothing moves
    assert _digest(one) == d1
    # A smaller slice holds exactly the same bytes for the samples it has.
    first = _digest(write_dream(tmp_path / "c", seed=7, max_samples=1, workers=1, event_fraction=frac))
    fcs_first = {k: v for k, v in first.items() if k.endswith(".fcs")}
    assert fcs_first and all(d1[k] == v for k, v in fcs_first.items())
    assert len([k for k in d1 if k.endswith(".fcs")]) == 2 * len(fcs_first)
    # Another seed, other bytes.
    other = _digest(write_dream(tmp_path / "d", seed=8, max_samples=1, workers=1, event_fraction=frac))
    assert any(other[k] != v for k, v in fcs_first.items())
    files = pd.read_csv(one / "truth" / "cytometry_dream_files.csv")
    lo, hi = DREAM_SIZES["cytometry_events"]
    assert files["n_events"].between(lo * frac - 1, hi * frac + 1).all()
    sheet = pd.read_csv(one / "cytometry" / "sample_sheet.csv")
    assert sheet["sample_id"].nunique() == 2 and (one / "cytometry" / "gating.yaml").is_file()
    ev = read_fcs(one / "cytometry" / files.loc[0, "file"])
    assert ev.n_events == files.loc[0, "n_events"] and ev.spillover is not None
