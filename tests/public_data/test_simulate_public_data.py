"""The simulated cohort: calibration to the published facts, determinism, size, and the truth kept apart.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_simulate.py``.
"""

from __future__ import annotations

import pytest

from helpers.simulate import AXIS_SIMULATORS, simulate_cohort


@pytest.mark.slow
def test_same_seed_same_bytes_other_seed_differs(public_data, tmp_path):
    a = simulate_cohort(tmp_path / "a", scale="ci", seed=11, progress=False)
    b = simulate_cohort(tmp_path / "b", scale="ci", seed=11, progress=False)
    c = simulate_cohort(tmp_path / "c", scale="ci", seed=12, progress=False)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), f"{rel} differs between two runs with one seed"
    for part in ["clinical.csv", *AXIS_SIMULATORS]:
        pa, pc = a / part, c / part
        blobs_a = [f.read_bytes() for f in sorted(pa.rglob("*")) if f.is_file()] if pa.is_dir() else [pa.read_bytes()]
        blobs_c = [f.read_bytes() for f in sorted(pc.rglob("*")) if f.is_file()] if pc.is_dir() else [pc.read_bytes()]
        assert blobs_a != blobs_c, f"{part} is the same with another seed"
