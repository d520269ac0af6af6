"""Clinical and sample tables: validation messages and derived endpoints."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from helpers.clinical import clinical_endpoints, eln2024_less_intensive, load_clinical, load_samples
from helpers.errors import DataContractError
from helpers.simulate import simulate_patients


@pytest.fixture(scope="module")
def cohort_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cohort")
    simulate_patients(40, seed=7).write(d)
    return d


def _broken(cohort_dir, tmp_path, fname, edit):
    d = tmp_path / "c"
    shutil.copytree(cohort_dir, d)
    df = pd.read_csv(d / fname, dtype=str, keep_default_na=False)
    edit(df).to_csv(d / fname, index=False)
    return d


def test_valid_tables_load(cohort_dir):
    c = load_clinical(cohort_dir)
    s = load_samples(cohort_dir, clinical=c)
    assert c["patient_id"].is_unique and len(c) == 40
    assert set(s["timepoint"]) <= {"diagnosis", "remission", "relapse"}


@pytest.mark.parametrize(
    ("fname", "edit", "pattern"),
    [
        ("clinical.csv", lambda d: d.drop(columns="TP53"), r"clinical\.csv.*missing required column.*TP53"),
        ("clinical.csv", lambda d: pd.concat([d, d.iloc[[3]]]), r"clinical\.csv \(row 42, column 'patient_id'\).*duplicated value 'DRM004' \(lines 5, 42\)"),
        ("clinical.csv", lambda d: d.assign(age=d["age"].where(d.index != 5, "seventy")), r"row 7, column 'age'.*integer"),
        ("clinical.csv", lambda d: d.assign(diagnosis_date=d["diagnosis_date"].where(d.index != 2, "03/04/2023")), r"row 4, column 'diagnosis_date'"),
        ("clinical.csv", lambda d: d.assign(best_response=d["best_response"].where(d.index != 0, "good")), r"row 2, column 'best_response'.*'good'"),
        ("samples.csv", lambda d: d.assign(timepoint=d["timepoint"].where(d.index != 1, "day 28")), r"samples\.csv \(row 3, column 'timepoint'\)"),
        ("samples.csv", lambda d: d.assign(assays=d["assays"].where(d.index != 0, "dst;westernblot")), r"row 2, column 'assays'"),
        ("samples.csv", lambda d: d.assign(patient_id=d["patient_id"].where(d.index != 4, "XYZ999")), r"row 6, column 'patient_id'.*not in clinical"),
    ],
)
def test_broken_tables_name_file_row_and_column(cohort_dir, tmp_path, fname, edit, pattern):
    d = _broken(cohort_dir, tmp_path, fname, edit)
    with pytest.raises(DataContractError, match=pattern):
        c = load_clinical(d)
        load_samples(d, clinical=c)


def test_missing_file(tmp_path):
    with pytest.raises(DataContractError, match=r"clinical\.csv.*file not found"):
        load_clinical(tmp_path)


def test_eln2024_rules():
    genes = ["TP53", "IDH1", "DDX41", "FLT3_ITD", "NRAS", "KRAS", "NPM1", "IDH2"]
    cases = [  # (mutated genes, expected class), one per rule of Dohner et al. 2024
        (["TP53"], "adverse"),
        (["TP53", "NPM1"], "adverse"),
        (["TP53", "IDH1"], "adverse"),
        (["IDH1"], "favorable"),
        (["IDH1", "FLT3_ITD"], "favorable"),
        (["DDX41", "KRAS"], "favorable"),
        (["NPM1"], "favorable"),
        (["IDH2"], "favorable"),
        (["NPM1", "FLT3_ITD"], "intermediate"),
        (["IDH2", "NRAS"], "intermediate"),
        (["KRAS"], "intermediate"),
        ([], "favorable"),
    ]
    df = pd.DataFrame([{g: int(g in muts) for g in genes} for muts, _ in cases])
    assert list(eln2024_less_intensive(df).astype(str)) == [c for _, c in cases]
    df.loc[0, "NRAS"] = None
    assert pd.isna(eln2024_less_intensive(df).iloc[0])


def test_endpoints_follow_dates():
    c = pd.DataFrame(
        {
            "patient_id": ["a", "b", "c"],
            "best_response": ["CR", "refractory", "CRi"],
            "diagnosis_date": ["2023-01-01"] * 3,
            "response_date": ["2023-02-01", None, "2023-03-01"],
            "relapse": [1, 0, 0],
            "relapse_date": ["2023-08-01", None, None],
            "last_followup_date": ["2024-01-01", "2023-05-01", "2024-03-01"],
            "vital_status": ["dead", "dead", "alive"],
        }
    )
    e = clinical_endpoints(c).set_index("patient_id")
    assert e.loc["a", "rfs_months"] == pytest.approx(181 / 30.4375)
    assert e.loc["b", "primary_resistant"] == 1 and pd.isna(e.loc["b", "rfs_months"])
    assert e.loc["c", "rfs_event"] == 0 and e.loc["a", "rfs_event"] == 1
    assert list(e["response_group"]) == ["responder_relapsed", "primary_resistant", "responder_ongoing"]
