"""Clinical and sample tables of the data contract: loading with validation, and the derived clinical endpoints.

``clinical.csv`` has one row per patient, ``samples.csv`` one row per bone-marrow sample (see data/README.md).
Loaders validate with pandera and raise :class:`~helpers.errors.DataContractError` naming the file, row and column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from .errors import DataContractError
from .plausibility import clinical_problems, report, samples_problems
from .validation import read_csv_checked, validate_frame

__all__ = [
    "MUTATION_COLUMNS",
    "RESPONSES",
    "load_clinical",
    "load_samples",
    "clinical_endpoints",
    "eln2024_less_intensive",
]

MUTATION_COLUMNS = ["NPM1", "IDH1", "IDH2", "FLT3_ITD", "NRAS", "KRAS", "TP53", "RUNX1", "ASXL1", "PTPN11", "DDX41"]
RESPONSES = ["CR", "CRi", "MLFS", "PR", "refractory"]
RESPONDER_CATEGORIES = ("CR", "CRi")  # composite CR + CRi, as in VIALE-A
TIMEPOINTS = ["diagnosis", "remission", "relapse"]
ASSAYS = {"dst", "cytometry", "scrna", "barcoding"}
_DATE = r"^\d{4}-\d{2}-\d{2}$"


def _date_or_empty(s: pd.Series) -> pd.Series:
    return s.isna() | s.astype(str).str.fullmatch(_DATE)


CLINICAL_SCHEMA = pa.DataFrameSchema(
    {
        "patient_id": pa.Column(str, pa.Check.str_matches(r"^[A-Za-z0-9_-]+$"), unique=True),
        "age": pa.Column(int, pa.Check.in_range(18, 110)),
        "sex": pa.Column(str, pa.Check.isin(["F", "M"])),
        **{g: pa.Column(int, pa.Check.isin([0, 1])) for g in MUTATION_COLUMNS},
        "karyotype": pa.Column(str, pa.Check.isin(["normal", "intermediate_other", "complex", "unknown"])),
        "fab": pa.Column(str, pa.Check.isin(["M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7", "NOS"])),
        "monocytic": pa.Column(int, pa.Check.isin([0, 1])),
        "bm_blast_pct": pa.Column(float, pa.Check.in_range(0, 100), coerce=True),
        "diagnosis_date": pa.Column(str, pa.Check.str_matches(_DATE)),
        "best_response": pa.Column(str, pa.Check.isin(RESPONSES)),
        "response_date": pa.Column(str, pa.Check(_date_or_empty), nullable=True),
        "relapse": pa.Column(int, pa.Check.isin([0, 1])),
        "relapse_date": pa.Column(str, pa.Check(_date_or_empty), nullable=True),
        "last_followup_date": pa.Column(str, pa.Check.str_matches(_DATE)),
        "vital_status": pa.Column(str, pa.Check.isin(["alive", "dead"])),
    },
    strict=False,
    coerce=False,
)

SAMPLES_SCHEMA = pa.DataFrameSchema(
    {
        "sample_id": pa.Column(str, pa.Check.str_matches(r"^[A-Za-z0-9_.-]+$"), unique=True),
        "patient_id": pa.Column(str),
        "timepoint": pa.Column(str, pa.Check.isin(TIMEPOINTS)),
        "tissue": pa.Column(str, pa.Check.isin(["bone_marrow", "peripheral_blood"])),
        "collection_date": pa.Column(str, pa.Check.str_matches(_DATE)),
        "assays": pa.Column(str, pa.Check(lambda s: s.fillna("").map(lambda v: set(filter(None, v.split(";"))) <= ASSAYS)), nullable=True),
    },
    strict=False,
)


def load_clinical(data_dir: str | Path, *, problems: list | None = None) -> pd.DataFrame:
    """Read and validate ``<data_dir>/clinical.csv``; dates stay ISO strings, mutation flags are 0/1 integers.

    Plausibility (:func:`helpers.plausibility.clinical_problems`: dates that exist and follow each other, blasts in
    %) raises its first problem, or appends them all to ``problems`` when a list is given.
    """
    path = Path(data_dir) / "clinical.csv"
    df = read_csv_checked(path, dtype={"patient_id": str, "response_date": str, "relapse_date": str})
    for c in ["age", "relapse", "monocytic", *MUTATION_COLUMNS]:
        if c in df and not pd.api.types.is_integer_dtype(df[c]):
            bad = df.index[pd.to_numeric(df[c], errors="coerce").isna()]
            raise DataContractError(path, f"expected an integer, got {df.loc[bad[0], c]!r}" if len(bad) else
                                    "expected integers", row=int(bad[0]) + 2 if len(bad) else None, column=c)
    df = validate_frame(df, CLINICAL_SCHEMA, path)
    bad = df.index[(df["relapse"] == 1) & df["relapse_date"].isna()]
    if len(bad):
        raise DataContractError(path, "relapse = 1 but relapse_date is empty", row=int(bad[0]) + 2, column="relapse_date")
    report(clinical_problems(df, path), problems)
    return df


def load_samples(data_dir: str | Path, *, clinical: pd.DataFrame | None = None, problems: list | None = None
                 ) -> pd.DataFrame:  # fmt: skip
    """Read and validate ``<data_dir>/samples.csv``; with ``clinical``, every sample's patient must exist."""
    path = Path(data_dir) / "samples.csv"
    df = validate_frame(read_csv_checked(path, dtype={"sample_id": str, "patient_id": str, "assays": str}), SAMPLES_SCHEMA, path)
    df["assays"] = df["assays"].fillna("")
    report(samples_problems(df, path), problems)
    if clinical is not None:
        unknown = ~df["patient_id"].isin(clinical["patient_id"])
        if unknown.any():
            i = int(np.flatnonzero(unknown)[0])
            raise DataContractError(
                path, f"patient {df['patient_id'].iloc[i]!r} is not in clinical.csv", row=i + 2, column="patient_id"
            )
    return df


def eln2024_less_intensive(clinical: pd.DataFrame) -> pd.Series:
    """ELN 2024 genetic risk for less-intensive therapy (Dohner et al., Blood 2024) per patient.

    adverse: TP53 mutated. favorable: IDH1 or DDX41 mutated (TP53 wild type); NPM1 or IDH2 mutated or other
    abnormalities, without FLT3-ITD / NRAS / KRAS. intermediate: FLT3-ITD and/or NRAS/KRAS (TP53 wild type, no IDH1 or
    DDX41). Missing mutation calls give a missing class.
    """
    m = clinical[["TP53", "IDH1", "DDX41", "FLT3_ITD", "NRAS", "KRAS"]]
    known = m.notna().all(axis=1)
    b = m.fillna(0).astype(bool)
    signalling = b["FLT3_ITD"] | b["NRAS"] | b["KRAS"]
    risk = np.select(
        [b["TP53"], b["IDH1"] | b["DDX41"], signalling], ["adverse", "favorable", "intermediate"], default="favorable"
    )
    out = pd.Series(pd.Categorical(risk, categories=["favorable", "intermediate", "adverse"]), index=clinical.index)
    return out.where(known).rename("eln2024")


def clinical_endpoints(clinical: pd.DataFrame) -> pd.DataFrame:
    """Per patient: response group, primary resistance flag, relapse-free and overall survival from dates.

    - ``responder``: CR or CRi (composite complete remission); ``primary_resistant`` = 1 - responder.
    - ``rfs_months`` / ``rfs_event``: from response date to relapse or death (responders only).
    - ``os_months`` / ``os_event``: from diagnosis to death or last follow-up.
    - ``response_group``: ``primary_resistant``, ``responder_relapsed`` or ``responder_ongoing``.
    """
    c = clinical
    d = pd.to_datetime(c["diagnosis_date"])
    r = pd.to_datetime(c["response_date"])
    rel = pd.to_datetime(c["relapse_date"])
    fu = pd.to_datetime(c["last_followup_date"])
    responder = c["best_response"].isin(RESPONDER_CATEGORIES).astype(int)
    dead = (c["vital_status"] == "dead").astype(int)
    rfs_end = rel.where(c["relapse"] == 1, fu)
    out = pd.DataFrame(
        {
            "patient_id": c["patient_id"],
            "responder": responder,
            "primary_resistant": 1 - responder,
            "relapse": c["relapse"].where(responder == 1),
            "rfs_months": ((rfs_end - r).dt.days / 30.4375).where(responder == 1),
            "rfs_event": ((c["relapse"] == 1) | (dead == 1)).astype(int).where(responder == 1),
            "os_months": (fu - d).dt.days / 30.4375,
            "os_event": dead,
        }
    )
    out["response_group"] = np.where(
        responder == 0, "primary_resistant", np.where(c["relapse"] == 1, "responder_relapsed", "responder_ongoing")
    )
    return out
