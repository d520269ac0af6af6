"""Clinical and sample tables: validation messages and derived endpoints."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from helpers.clinical import (
    ELN2024_RULES,
    clinical_endpoints,
    eln2024_less_intensive,
    eln2024_rules,
    load_clinical,
    load_samples,
)
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


_ELN_GENES = ["TP53", "IDH1", "DDX41", "FLT3_ITD", "NRAS", "KRAS", "NPM1", "IDH2"]


@pytest.mark.parametrize(
    ("mutated", "missing", "regimen", "expected", "rule"),
    [  # one case per rule of Dohner et al. 2024, Table 1 and footnotes, and per not-computable branch
        (["TP53"], [], "AZA+VEN", "adverse", "adverse_TP53"),
        (["TP53", "NPM1"], [], "AZA+VEN", "adverse", "adverse_TP53"),
        (["TP53", "IDH1"], [], "AZA+IVO", "adverse", "adverse_TP53"),
        (["TP53", "DDX41"], [], "AZA+VEN", "adverse", "adverse_TP53"),
        (["TP53"], ["NRAS", "DDX41"], "AZA+VEN", "adverse", "adverse_TP53"),  # TP53 decides alone
        (["NPM1"], [], "AZA+VEN", "favorable", "favorable_NPM1"),
        (["IDH2"], [], "AZA+VEN", "favorable", "favorable_IDH2"),
        (["IDH1"], [], "AZA+VEN", "favorable", "favorable_IDH1"),
        (["IDH1", "FLT3_ITD"], [], "AZA+VEN", "intermediate", "intermediate_signalling"),  # footnote *: not VEN
        (["IDH1", "NRAS"], [], "AZA+VEN", "intermediate", "intermediate_signalling"),
        (["IDH1", "KRAS"], [], "AZA+IVO", "favorable", "favorable_IDH1_IVO"),  # footnote *: AZA + IVO
        (["IDH1", "FLT3_ITD"], [], "AZA+IVO", "favorable", "favorable_IDH1_IVO"),
        (["DDX41"], [], "AZA+VEN", "favorable", "favorable_DDX41"),
        (["DDX41", "KRAS"], [], "AZA+VEN", "favorable", "favorable_DDX41"),  # no signalling qualifier for DDX41
        (["NPM1", "FLT3_ITD"], [], "AZA+VEN", "intermediate", "intermediate_signalling"),
        (["IDH2", "NRAS"], [], "AZA+VEN", "intermediate", "intermediate_signalling"),
        (["KRAS"], [], "AZA+VEN", "intermediate", "intermediate_signalling"),
        (["NPM1", "KRAS"], [], "AZA+IVO", "intermediate", "intermediate_signalling"),
        ([], [], "AZA+VEN", "favorable", "favorable_other"),
        ([], ["TP53"], "AZA+VEN", "not computable", "not_computable_TP53"),
        (["NPM1"], ["NRAS"], "AZA+VEN", "not computable", "not_computable_signalling"),
        (["KRAS"], ["DDX41"], "AZA+VEN", "not computable", "not_computable_DDX41"),
        (["KRAS"], ["IDH1"], "AZA+IVO", "not computable", "not_computable_IDH1"),
        (["KRAS"], ["IDH1"], "AZA+VEN", "intermediate", "intermediate_signalling"),  # IDH1 irrelevant under VEN
        (["NPM1"], ["DDX41"], "AZA+VEN", "favorable", "favorable_NPM1"),  # DDX41 cannot change a favorable call
        (["DDX41"], ["NRAS"], "AZA+VEN", "favorable", "favorable_DDX41"),
    ],
)
def test_eln2024_rules(mutated, missing, regimen, expected, rule):
    row = {g: (None if g in missing else int(g in mutated)) for g in _ELN_GENES}
    r = eln2024_rules(pd.DataFrame([row]), regimen=regimen).iloc[0]
    assert (r["eln2024_label"], r["eln2024_rule"]) == (expected, rule)
    assert r["eln2024_source"] == ELN2024_RULES[rule][1]
    cls = eln2024_less_intensive(pd.DataFrame([row]), regimen=regimen).iloc[0]
    assert (pd.isna(cls) and expected == "not computable") or cls == expected


def test_eln2024_prior_hma_and_per_patient_regimen():
    df = pd.DataFrame([{g: int(g in ("IDH1", "NRAS")) for g in _ELN_GENES}] * 2).assign(prior_hma=[0, 1])
    r = eln2024_rules(df, regimen=pd.Series(["AZA+IVO", "AZA+IVO"]))
    assert list(r["eln2024_rule"]) == ["favorable_IDH1_IVO", "not_applicable_prior_HMA"]
    assert list(eln2024_less_intensive(df, label_not_computable=True).astype(str)) == ["intermediate", "not computable"]
    with pytest.raises(ValueError, match="regimen"):
        eln2024_rules(df, regimen="VEN+LDAC")


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


def test_eln2022_response_coding():
    c = pd.DataFrame(
        {
            "patient_id": ["a", "b", "c", "d"],
            "best_response": ["CRh", "early_death", "MLFS", "CR"],
            "diagnosis_date": ["2023-01-01"] * 4,
            "response_date": ["2023-02-01", None, None, "2023-02-10"],
            "relapse": [0, 0, 0, 0],
            "relapse_date": [None] * 4,
            "last_followup_date": ["2024-01-01", "2023-01-21", "2023-02-25", "2023-06-01"],
            "vital_status": ["alive", "dead", "dead", "dead"],
        }
    )
    e = clinical_endpoints(c).set_index("patient_id")
    assert list(e["responder"]) == [1, 0, 0, 1]  # CRh counts as composite CR; early death and MLFS as failures
    assert list(e["cr_crh"]) == [1, 0, 0, 1]
    assert list(e["early_death_30"]) == [0, 1, 0, 0] and list(e["early_death_60"]) == [0, 1, 1, 0]
    assert e.loc["d", "rfs_event"] == 1  # death in remission ends RFS


@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        (lambda d: d.assign(death_date=d["death_date"].where(d["vital_status"] != "dead", "")),
         r"column 'death_date'.*vital_status is dead but death_date is empty"),
        (lambda d: d.assign(death_date=d["death_date"].mask(d["vital_status"] == "alive", "2025-01-01")),
         r"column 'death_date'.*alive"),
        (lambda d: d.assign(mrd_pct=d["mrd_pct"].mask(d["best_response"].isin(["refractory", "PR", "MLFS"]), "0.5")),
         r"column 'mrd_pct'.*without CR/CRh/CRi"),
        (lambda d: d.assign(mrd_pct=d["mrd_pct"].where(d["mrd_pct"] == "", "150")), r"column 'mrd_pct'"),
        (lambda d: d.assign(mrd_positive=d["mrd_positive"].map({"1": "0", "0": "1", "": ""})),
         r"column 'mrd_positive'.*disagrees"),
    ],
)
def test_outcome_columns_are_checked(cohort_dir, tmp_path, edit, pattern):
    d = _broken(cohort_dir, tmp_path, "clinical.csv", edit)
    with pytest.raises(DataContractError, match=pattern):
        load_clinical(d)
