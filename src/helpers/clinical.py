"""Clinical and sample tables of the data contract: loading with validation, and the derived clinical endpoints.

``clinical.csv`` has one row per patient, ``samples.csv`` one row per bone-marrow sample (see data/README.md).
Loaders validate with pandera and raise :class:`~helpers.errors.DataContractError` naming the file, row and column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from .assays import parse_assays
from .axes import assay_tokens
from .errors import DataContractError
from .plausibility import clinical_problems, report, samples_problems
from .units import DAYS_PER_MONTH
from .validation import read_csv_checked, validate_frame

__all__ = [
    "MUTATION_COLUMNS",
    "RESPONSES",
    "load_clinical",
    "load_samples",
    "clinical_endpoints",
    "eln2024_less_intensive",
    "eln2024_rules",
    "ELN2024_RULES",
    "NOT_COMPUTABLE",
    "genetic_groups",
    "load_cohort_tables",
]

MUTATION_COLUMNS = ["NPM1", "IDH1", "IDH2", "FLT3_ITD", "NRAS", "KRAS", "TP53", "RUNX1", "ASXL1", "PTPN11", "DDX41"]
# Best response coded as ELN 2022 (Döhner et al., Blood 2022;140:1345, Table 9): CR, CR with partial haematological
# recovery (CRh), CR with incomplete recovery (CRi), morphologic leukemia-free state (MLFS), partial remission (PR),
# refractory (no response), and early death (death before response assessment, counted as a treatment failure).
RESPONSES = ["CR", "CRh", "CRi", "MLFS", "PR", "refractory", "early_death"]
RESPONDER_CATEGORIES = ("CR", "CRh", "CRi")  # composite complete remission (CR + CRh + CRi)
MRD_THRESHOLD_PCT = 0.1  # flow MRD positive at >= 0.1 % of leukocytes (ELN 2021 MRD update, Heuser et al., Blood 2021)
TIMEPOINTS = ["diagnosis", "remission", "relapse"]
ASSAYS = set(assay_tokens())
_DATE = r"^\d{4}-\d{2}-\d{2}$"

# Döhner H, et al. Genetic risk classification for adults with AML receiving less-intensive therapies: the 2024 ELN
# recommendations. Blood 2024;144(21):2169-2173, Table 1 and its footnotes. Each rule: (id, class, source line).
ELN2024_RULES = {
    "adverse_TP53": ("adverse", "Table 1, adverse: mutated TP53"),
    "favorable_DDX41": ("favorable", "Table 1, favorable: mutated DDX41 (no signalling or TP53 qualifier; footnote "
                                     "†: near-heterozygous VAF suggests a germ-line variant)"),
    "favorable_IDH1_IVO": ("favorable", "Table 1, favorable: mutated IDH1 (TP53wt); footnote *: favorable applies "
                                        "specifically to AZA + IVO, irrespective of activating signalling mutations"),
    "intermediate_signalling": ("intermediate", "Table 1, intermediate: other cytogenetic and molecular abnormalities "
                                                "(FLT3-ITDpos and/or NRASmut and/or KRASmut; TP53wt); under AZA + VEN "
                                                "this includes IDH1 with a signalling mutation (footnote * restricts "
                                                "the IDH1 rule to AZA + IVO)"),
    "favorable_NPM1": ("favorable", "Table 1, favorable: mutated NPM1 (FLT3-ITDneg, NRASwt, KRASwt, TP53wt)"),
    "favorable_IDH2": ("favorable", "Table 1, favorable: mutated IDH2 (FLT3-ITDneg, NRASwt, KRASwt, TP53wt)"),
    "favorable_IDH1": ("favorable", "Table 1, favorable: mutated IDH1 (TP53wt), without signalling mutations"),
    "favorable_other": ("favorable", "Table 1, favorable: other cytogenetic and/or molecular abnormalities "
                                     "(FLT3-ITDneg, NRASwt, KRASwt, TP53wt); footnote ‡: tentative, by the absence of "
                                     "activating signalling mutations"),
    "not_applicable_prior_HMA": (None, "Table 1, note: the classification does not apply to patients who have "
                                       "received prior treatment with an HMA"),
    "not_computable_TP53": (None, "TP53 call missing: the adverse rule cannot be excluded"),
    "not_computable_signalling": (None, "FLT3-ITD, NRAS or KRAS call missing (none mutated, TP53wt, DDX41 not "
                                        "mutated): favorable and intermediate cannot be told apart"),
    "not_computable_DDX41": (None, "signalling mutation present but the DDX41 call is missing: DDX41 would make it "
                                   "favorable"),
    "not_computable_IDH1": (None, "AZA + IVO with a signalling mutation but the IDH1 call is missing"),
}
ELN2024_CLASSES = ["favorable", "intermediate", "adverse"]
NOT_COMPUTABLE = "not computable"
REGIMENS = ("AZA+VEN", "AZA+IVO")


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
        # Optional columns (ELN 2022 endpoints): date of death, flow MRD at remission.
        "death_date": pa.Column(str, pa.Check(_date_or_empty), nullable=True, required=False),
        "mrd_pct": pa.Column(float, pa.Check.in_range(0, 100), nullable=True, required=False, coerce=True),
        "mrd_positive": pa.Column(float, pa.Check.isin([0, 1]), nullable=True, required=False, coerce=True),
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
        "assays": pa.Column(str, pa.Check(lambda s: s.map(lambda v: parse_assays(v) <= ASSAYS)), nullable=True),
    },
    strict=False,
)


def load_clinical(data_dir: str | Path, *, problems: list | None = None) -> pd.DataFrame:
    """Read and validate ``<data_dir>/clinical.csv``; dates stay ISO strings, mutation flags are 0/1 integers.

    Plausibility (:func:`helpers.plausibility.clinical_problems`: dates that exist and follow each other, blasts in
    %) raises its first problem, or appends them all to ``problems`` when a list is given.

    Parameters
    ----------
    data_dir
        The cohort folder.
    problems
        A list to collect the plausibility problems in (``python -m helpers check``) instead of raising the first.

    Returns
    -------
    pandas.DataFrame
        One row per patient, in file order.

    Raises
    ------
    DataContractError
        The file is missing or unreadable, a column is missing or holds an invalid value, relapse and death dates
        disagree with the rest of the row, or (without ``problems``) a plausibility rule fails.
    """
    path = Path(data_dir) / "clinical.csv"
    df = read_csv_checked(path, dtype={"patient_id": str, "response_date": str, "relapse_date": str, "death_date": str})
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
    _check_outcome_columns(df, path)
    return df


def _check_outcome_columns(df: pd.DataFrame, path: Path) -> None:
    """Rules of the ELN 2022 outcome columns: death date, early death and MRD agree with the rest of the row."""
    responder = df["best_response"].isin(RESPONDER_CATEGORIES)
    checks = []
    if "death_date" in df:
        dd = pd.to_datetime(df["death_date"], errors="coerce")
        dead = df["vital_status"] == "dead"
        checks += [
            (dead & dd.isna(), "death_date", "vital_status is dead but death_date is empty"),
            (~dead & dd.notna(), "death_date", "death_date given but vital_status is alive"),
            (dd.notna() & (dd < pd.to_datetime(df["diagnosis_date"], errors="coerce")), "death_date",
             "death_date before diagnosis_date"),
            (dd.notna() & (dd != pd.to_datetime(df["last_followup_date"], errors="coerce")), "death_date",
             "death_date differs from last_followup_date (the date of death ends follow-up)"),
        ]
    checks.append((responder & df["response_date"].isna(), "response_date",
                   f"best_response {'/'.join(RESPONDER_CATEGORIES)} needs a response_date"))
    checks.append(((df["relapse"] == 1) & ~responder, "relapse", "relapse = 1 without CR/CRh/CRi"))
    for col in ("mrd_pct", "mrd_positive"):
        if col in df:
            checks.append((df[col].notna() & ~responder, col, "MRD given for a patient without CR/CRh/CRi"))
    if {"mrd_pct", "mrd_positive"} <= set(df.columns):
        both = df["mrd_pct"].notna() & df["mrd_positive"].notna()
        disagree = both & ((df["mrd_pct"] >= MRD_THRESHOLD_PCT).astype(float) != df["mrd_positive"])
        checks.append((disagree, "mrd_positive", f"mrd_positive disagrees with mrd_pct at {MRD_THRESHOLD_PCT} %"))
    for mask, col, problem in checks:
        bad = df.index[mask.fillna(False).to_numpy(bool)]
        if len(bad):
            raise DataContractError(path, problem, row=int(bad[0]) + 2, column=col)


def load_samples(data_dir: str | Path, *, clinical: pd.DataFrame | None = None, problems: list | None = None
                 ) -> pd.DataFrame:  # fmt: skip
    """Read and validate ``<data_dir>/samples.csv``; with ``clinical``, every sample's patient must exist.

    Parameters
    ----------
    data_dir
        The cohort folder.
    clinical
        The validated clinical table, to check ``patient_id`` against.
    problems
        A list to collect the plausibility problems in instead of raising the first.

    Returns
    -------
    pandas.DataFrame
        One row per sample; an empty ``assays`` cell becomes ``""``.

    Raises
    ------
    DataContractError
        The file is missing or invalid, a sample's patient is not in ``clinical``, or (without ``problems``) a
        collection date is impossible or a sample id is not usable as a file name.
    """
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


def eln2024_rules(clinical: pd.DataFrame, *, regimen: str | pd.Series = "AZA+VEN") -> pd.DataFrame:
    """Classify ELN 2024 genetic risk for less-intensive therapy, with the rule (Döhner et al. 2024) of each patient.

    Rules are applied in the order of :data:`ELN2024_RULES` with three-valued logic (mutated, wild type, not
    tested): a missing call makes the class ``not computable`` only when its value could change the class (e.g. a
    TP53-mutated patient is adverse whatever the other calls; a TP53-wild-type patient without signalling mutations is
    favorable whatever DDX41 is). TP53 goes first: the table lists DDX41 without a TP53 qualifier, but a TP53
    mutation defines the adverse class outright and no DDX41 + TP53 data back a favorable call.

    Parameters
    ----------
    clinical
        Columns ``TP53``, ``FLT3_ITD``, ``NRAS``, ``KRAS``, ``DDX41``, ``NPM1``, ``IDH1``, ``IDH2`` as 0/1 (missing =
        not tested); optional ``prior_hma`` (0/1) and ``regimen``.
    regimen
        ``"AZA+VEN"`` (DREAM; default) or ``"AZA+IVO"``, for every patient, or a per-patient Series. The IDH1 rule
        differs: under AZA + IVO an IDH1 mutation (TP53wt) is favorable irrespective of FLT3-ITD / NRAS / KRAS; under
        AZA + VEN IDH1 with such a mutation is intermediate (footnote * of Table 1).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``clinical``: ``eln2024`` (categorical favorable / intermediate / adverse, missing when not
        computable or not applicable), ``eln2024_label`` (the class or ``not computable``), ``eln2024_rule`` (key of
        :data:`ELN2024_RULES`) and ``eln2024_source`` (its line of the paper).
    """
    idx = clinical.index
    reg = regimen if isinstance(regimen, pd.Series) else pd.Series(regimen, index=idx)
    bad = ~reg.isin(REGIMENS)
    if bad.any():
        raise ValueError(f"regimen must be one of {REGIMENS}, got {reg[bad].iloc[0]!r}")
    ivo = (reg == "AZA+IVO").to_numpy()

    def call(g):
        return pd.to_numeric(clinical[g], errors="coerce").to_numpy(float) if g in clinical else np.full(len(idx), np.nan)

    tp53, ddx41, idh1, idh2, npm1 = (call(g) for g in ("TP53", "DDX41", "IDH1", "IDH2", "NPM1"))
    sig_calls = np.column_stack([call(g) for g in ("FLT3_ITD", "NRAS", "KRAS")])
    sig_pos = (sig_calls == 1).any(axis=1)
    sig_neg = (sig_calls == 0).all(axis=1)
    prior = call("prior_hma") == 1 if "prior_hma" in clinical else np.zeros(len(idx), bool)
    conds = [
        ("not_applicable_prior_HMA", prior),
        ("adverse_TP53", tp53 == 1),
        ("not_computable_TP53", np.isnan(tp53)),
        ("favorable_DDX41", ddx41 == 1),
        ("favorable_IDH1_IVO", ivo & (idh1 == 1)),
        ("not_computable_IDH1", ivo & sig_pos & np.isnan(idh1)),
        ("not_computable_DDX41", sig_pos & np.isnan(ddx41)),
        ("intermediate_signalling", sig_pos),
        ("not_computable_signalling", ~sig_neg),
        ("favorable_NPM1", npm1 == 1),
        ("favorable_IDH2", idh2 == 1),
        ("favorable_IDH1", idh1 == 1),
    ]
    rule = np.select([c for _, c in conds], [k for k, _ in conds], default="favorable_other")
    cls = np.array([ELN2024_RULES[r][0] for r in rule], dtype=object)
    eln = pd.Categorical(np.where(pd.isna(cls), None, cls), categories=ELN2024_CLASSES)
    return pd.DataFrame(
        {
            "eln2024": eln,
            "eln2024_label": np.where(pd.isna(cls), NOT_COMPUTABLE, cls),
            "eln2024_rule": rule,
            "eln2024_source": [ELN2024_RULES[r][1] for r in rule],
        },
        index=idx,
    )


def eln2024_less_intensive(
    clinical: pd.DataFrame, *, regimen: str | pd.Series = "AZA+VEN", label_not_computable: bool = False
) -> pd.Series:
    """Classify each patient's ELN 2024 genetic risk for less-intensive therapy (Döhner et al., Blood 2024).

    See :func:`eln2024_rules` for the rules and their sources.

    Parameters
    ----------
    clinical
        The clinical table (mutation calls 0/1, missing = not tested).
    regimen
        ``"AZA+VEN"`` (default) or ``"AZA+IVO"``, or a per-patient Series.
    label_not_computable
        Label patients whose class is not computable ``not computable`` (an extra category) instead of missing.

    Returns
    -------
    pandas.Series
        Categorical, named ``eln2024``, indexed like ``clinical``: favorable / intermediate / adverse.

    Raises
    ------
    ValueError
        ``regimen`` holds another value.
    """
    r = eln2024_rules(clinical, regimen=regimen)
    if label_not_computable:
        return pd.Series(pd.Categorical(r["eln2024_label"], categories=[*ELN2024_CLASSES, NOT_COMPUTABLE]),
                         index=clinical.index, name="eln2024")  # fmt: skip
    return r["eln2024"].rename("eln2024")


def clinical_endpoints(clinical: pd.DataFrame) -> pd.DataFrame:
    """Derive ELN 2022 response groups, early death, relapse-free and overall survival from the dates, per patient.

    - ``responder``: composite complete remission (CR, CRh or CRi); ``primary_resistant`` = 1 - responder, so that
      early deaths, MLFS, PR and refractory disease all count as failures (intention to treat, ELN 2022).
    - ``cr_crh``: CR or CRh (the ELN 2022 composite for less-intensive therapy).
    - ``early_death_30`` / ``early_death_60``: death within 30 / 60 days of diagnosis (the start of AZA/VEN is not in
      the data contract; diagnosis is taken as day 0).
    - ``rfs_months`` / ``rfs_event``: from response date to relapse or death (responders only; ELN 2022 RFS).
    - ``os_months`` / ``os_event``: from diagnosis to death or last follow-up.
    - ``response_group``: ``primary_resistant``, ``responder_relapsed`` or ``responder_ongoing``.

    Months are days / 30.4375 (:data:`helpers.units.DAYS_PER_MONTH`).

    Parameters
    ----------
    clinical
        The validated clinical table (:func:`load_clinical`).

    Returns
    -------
    pandas.DataFrame
        One row per patient: ``patient_id`` and the columns above (survival in months; RFS missing for
        non-responders).
    """
    c = clinical
    d = pd.to_datetime(c["diagnosis_date"])
    r = pd.to_datetime(c["response_date"])
    rel = pd.to_datetime(c["relapse_date"])
    fu = pd.to_datetime(c["last_followup_date"])
    responder = c["best_response"].isin(RESPONDER_CATEGORIES).astype(int)
    dead = (c["vital_status"] == "dead").astype(int)
    death = pd.to_datetime(c["death_date"]) if "death_date" in c else fu.where(dead == 1)
    days_to_death = (death - d).dt.days
    rfs_end = rel.where(c["relapse"] == 1, fu)
    out = pd.DataFrame(
        {
            "patient_id": c["patient_id"],
            "responder": responder,
            "primary_resistant": 1 - responder,
            "cr_crh": c["best_response"].isin(["CR", "CRh"]).astype(int),
            "early_death_30": (days_to_death <= 30).astype(int),
            "early_death_60": (days_to_death <= 60).astype(int),
            "relapse": c["relapse"].where(responder == 1),
            "rfs_months": ((rfs_end - r).dt.days / DAYS_PER_MONTH).where(responder == 1),
            "rfs_event": ((c["relapse"] == 1) | (dead == 1)).astype(int).where(responder == 1),
            "os_months": (fu - d).dt.days / DAYS_PER_MONTH,
            "os_event": dead,
        }
    )
    out["response_group"] = np.where(
        responder == 0, "primary_resistant", np.where(c["relapse"] == 1, "responder_relapsed", "responder_ongoing")
    )
    return out


def genetic_groups(clinical: pd.DataFrame) -> pd.DataFrame:
    """Derive the genetic groups used by the models.

    ``signalling``: FLT3-ITD, NRAS, KRAS or PTPN11 mutated (RAS/receptor tyrosine kinase signalling, linked to VEN
    resistance); ``npm1_or_idh``: NPM1, IDH1 or IDH2 mutated (linked to VEN sensitivity). Missing calls stay missing.

    Parameters
    ----------
    clinical
        Mutation calls as 0/1 columns (missing = not tested); absent genes are skipped.

    Returns
    -------
    pandas.DataFrame
        Float 0/1 columns ``signalling`` and ``npm1_or_idh``, indexed like ``clinical``; NaN when no listed gene is
        mutated and a call is missing.
    """
    def any_of(cols):
        present = [c for c in cols if c in clinical]
        m = clinical[present].astype(float)
        val = (m.fillna(0) > 0).any(axis=1).astype(float)
        # Unknown only when no gene is known to be mutated and at least one call is missing.
        return val.where(val.eq(1) | m.notna().all(axis=1))

    return pd.DataFrame(
        {"signalling": any_of(["FLT3_ITD", "NRAS", "KRAS", "PTPN11"]), "npm1_or_idh": any_of(["NPM1", "IDH1", "IDH2"])},
        index=clinical.index,
    )


def load_cohort_tables(data_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load the clinical table with ELN 2024 and the endpoints, and the sample table, both validated.

    Parameters
    ----------
    data_dir
        A cohort folder holding ``clinical.csv`` and ``samples.csv``.

    Returns
    -------
    clinical, samples
        One row per patient (with ``eln2024`` and the endpoints of :func:`clinical_endpoints`) and one per sample.

    Raises
    ------
    DataContractError
        Either table breaks the data contract.
    """
    clinical = load_clinical(data_dir)
    samples = load_samples(data_dir, clinical=clinical)
    clinical = clinical.assign(eln2024=eln2024_less_intensive(clinical)).merge(
        clinical_endpoints(clinical).drop(columns=["relapse"]), on="patient_id"
    )
    return clinical, samples
