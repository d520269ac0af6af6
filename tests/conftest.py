"""Shared fixtures: the CI-scale simulated cohort and the public data mirror."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.paths import public_data_root, repo_root
from helpers.simulate import AXIS_SIMULATORS, DEFAULT_SEED, ensure_cohort

CI_COHORT = "data/simulated/ci"


@pytest.fixture(scope="session")
def ci_cohort() -> Path:
    """The CI-scale simulated cohort (generated once, shared with the nbval references); read-only for tests."""
    return ensure_cohort(repo_root() / CI_COHORT, scale="ci", seed=DEFAULT_SEED, axes=AXIS_SIMULATORS)


@pytest.fixture(scope="session")
def public_data() -> Path:
    """The public data mirror. Missing data fail the test loudly (never skip): CI always has it."""
    root = public_data_root()
    if not root.is_dir():
        pytest.fail(f"public data mirror not found at {root}; set DREAM_PUBLIC_DATA", pytrace=False)
    return root
