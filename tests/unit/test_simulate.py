"""The simulated cohort: calibration to the published facts, determinism, size, and the truth kept apart.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_simulate_public_data.py``.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from helpers.clinical import clinical_endpoints, load_clinical, load_samples
from helpers.paths import repo_root
from helpers.simulate import AXIS_SIMULATORS, simulate_patients


@pytest.fixture(scope="module")
def many_cohorts() -> pd.DataFrame:
    """Patient truth of 20 cohorts of 120 (different seeds), to check calibration beyond one draw."""
    return pd.concat(
        [simulate_patients(120, seed=s).patient_truth.assign(seed=s) for s in range(20)], ignore_index=True
    )


def test_calibrated_to_the_published_facts(many_cohorts):
    t = many_cohorts
    # About 30 % primary resistance; about half of responders relapse (DOMAIN.md, VIALE-A).
    assert 0.25 <= t["primary_resistant"].mean() <= 0.37
    assert 0.38 <= t.loc[t["primary_resistant"] == 0, "relapsed"].mean() <= 0.62
    # ELN 2024 less-intensive classes near 47 / 19 / 34 % and ordered response 86 > 59 ~ 54 % (Blood Adv 2024).
    share = t["eln2024"].value_counts(normalize=True)
    assert 0.38 <= share["favorable"] <= 0.56 and 0.12 <= share["intermediate"] <= 0.26
    assert 0.24 <= share["adverse"] <= 0.40
    resp = 1 - t.groupby("eln2024")["primary_resistant"].mean()
    assert resp["favorable"] > resp["intermediate"] and resp["favorable"] > resp["adverse"] + 0.15
    # Monocytic leukemias are less BCL2-dependent and less VEN-sensitive; no single marker is perfect.
    mono = t["monocytic"] == 1
    assert t.loc[mono, "ven_log10_ic50_um"].median() > t.loc[~mono, "ven_log10_ic50_um"].median() + 0.3
    from sklearn.metrics import roc_auc_score

    for col in ("ven_sensitivity_z", "bcl2_dependence"):
        auc = roc_auc_score(t["primary_resistant"], -t[col])
        assert 0.6 < auc < 0.9, f"{col}: AUC {auc:.2f}"
    # The planted null is unrelated to outcome.
    assert abs(roc_auc_score(t["primary_resistant"], t["immune_activation"]) - 0.5) < 0.05


def test_clinical_course_is_consistent():
    tables = simulate_patients(120, seed=3)
    c = tables.clinical
    e = clinical_endpoints(c)
    assert (e["rfs_months"].dropna() > 0).all() and (e["os_months"] > 0).all()
    rel = c[c["relapse"] == 1]
    assert (pd.to_datetime(rel["relapse_date"]) > pd.to_datetime(rel["response_date"])).all()
    assert (pd.to_datetime(c["last_followup_date"]) >= pd.to_datetime(c["diagnosis_date"])).all()
    s = tables.samples
    assert set(s.loc[s["timepoint"] == "relapse", "patient_id"]) == set(rel["patient_id"])
    # Relapse samples carry the planted shift towards monocytic / BCL2-low states.
    st = tables.sample_truth.set_index(["patient_id", "timepoint"])
    pairs = st.xs("relapse", level=1).join(st.xs("diagnosis", level=1), rsuffix="_dx")
    assert (pairs["mono_frac"] >= pairs["mono_frac_dx"]).mean() > 0.9
    assert (pairs["bcl2_dependence"] < pairs["bcl2_dependence_dx"]).mean() > 0.9


def test_ci_cohort_follows_the_contract_and_stays_small(ci_cohort):
    c = load_clinical(ci_cohort)
    s = load_samples(ci_cohort, clinical=c)
    assert len(c) == 120 and len(s) > 120
    size = sum(f.stat().st_size for f in ci_cohort.rglob("*") if f.is_file())
    assert size < 50e6, f"CI-scale cohort is {size / 1e6:.1f} MB"
    for axis in AXIS_SIMULATORS:
        assert (ci_cohort / axis).is_dir(), f"no {axis}/ folder in the CI cohort"


def _reads_truth(text: str) -> bool:
    return any(
        re.search(r"""["'/]truth["'/]""", line) and not line.lstrip().startswith("#") for line in text.splitlines()
    )


def test_analyses_never_read_the_truth():
    """The helper package never reads truth/ (the simulator and its reader ``helpers.truth`` aside); a notebook may, only
    to validate after its features are written."""
    root = repo_root()
    offenders = [
        str(p.relative_to(root))
        for p in (root / "src" / "helpers").rglob("*.py")
        if "simulate" not in p.parts and "truth" not in p.parts and _reads_truth(p.read_text())
    ]
    for nb in root.glob("notebooks/*.py"):
        cells = re.split(r"^# %%", nb.read_text(), flags=re.M)
        written = False
        for i, cell in enumerate(cells):
            if _reads_truth(cell) and (not written or "features.csv" in cell):
                offenders.append(f"{nb.relative_to(root)} cell {i}")
            written = written or "features.csv" in cell
    assert not offenders, f"analysis code reads the planted truth: {offenders}"
