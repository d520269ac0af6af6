"""BeatAML 2.0 (Bottomly et al. 2022, Cancer Cell) as one patient table shared by the DST and integration axes.

Reads the registered dataset ``beataml2`` (``data/registry.yaml``): ``cohort.json`` (clinical data and FAB class of one
index specimen per patient, clinical NPM1 and FLT3-ITD assays), ``mutations.json`` (whole-exome calls) and
``drugs.json`` (published ex vivo drug AUCs: probit fits, median over a patient's specimens; higher AUC = more
resistant). One FAB rule and one mutation rule serve both the DST notebook (its own refits of the dose curves, read by
:mod:`helpers.dst.beataml`) and the integration (the published AUCs), so that both test the published ex vivo biology
of venetoclax on the same patient groups: resistance of monocytic (FAB M4/M5) leukemia and of KRAS / PTPN11 mutants,
sensitivity of NPM1 / IDH1 mutants (Kuusanmaki et al. 2020; Pei et al. 2020; Zhang et al. 2020).

What BeatAML cannot answer: its patients were mostly treated with intensive chemotherapy, so it has no AZA/VEN
clinical response; the ex vivo AUC is the outcome here, not a predictor of clinical resistance.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .clinical import MUTATION_COLUMNS, eln2024_less_intensive, genetic_groups
from .errors import DataContractError
from .registry import dataset_path
from .stats import bh_fdr
from .units import DAYS_PER_MONTH

__all__ = [
    "BEATAML_DICTIONARY",
    "DATASET",
    "beataml_dataset_files",
    "drug_auc",
    "eln2024_from_calls",
    "fab_group",
    "load_beataml",
    "mutation_flags",
    "mutation_groups",
    "read_json",
    "require_keys",
    "ven_by_fab",
    "ven_by_mutation",
]

DATASET = "beataml2"
FAB_GROUPS = ("M0/M1", "M4/M5", "other")
_MONOCYTIC = {"M4", "M4eo", "M5", "M5a", "M5b"}
_PRIMITIVE = {"M0", "M1", "M0/M1"}
_PATIENT_KEYS = ("id", "age", "sex", "dx", "stage", "isDenovo", "fab", "blastsBM", "eln", "response", "os", "vital",
                 "flt3itd", "npm1c")  # fmt: skip


def read_json(name: str) -> Any:
    """Read and parse one JSON file of the dataset ``beataml2``.

    Parameters
    ----------
    name
        File name inside the dataset ``beataml2`` (e.g. ``cohort.json``).

    Returns
    -------
    Any
        The parsed JSON (dicts and lists as :func:`json.load` returns them).

    Raises
    ------
    DataContractError
        The file is not valid JSON; the message names the file.
    PublicDataMissing
        The dataset or the file is not in the public data mirror (:func:`helpers.registry.dataset_path`).
    """
    path = dataset_path(DATASET, name)
    try:
        with open(path) as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise DataContractError(path, f"not valid JSON: {exc}") from None


def require_keys(obj: Any, keys: tuple[str, ...], name: str, *, what: str = "the top level") -> None:
    """Check that a parsed JSON object of the dataset has the given keys.

    Parameters
    ----------
    obj
        A parsed JSON object (a dict is expected).
    keys
        Keys it must have.
    name
        File of the dataset it was read from (named in the error).
    what
        Which part of the file ``obj`` is, for the message.

    Returns
    -------
    None
        Returns only when every key is present.

    Raises
    ------
    DataContractError
        ``obj`` is not a dict or lacks one of ``keys``; the message names file ``name``, ``what`` and the missing keys.
    """
    missing = [k for k in keys if not isinstance(obj, dict) or k not in obj]
    if missing:
        raise DataContractError(dataset_path(DATASET, name), f"{what} lacks the key(s) {', '.join(missing)}")


def fab_group(fab: pd.Series) -> pd.Series:
    """Group FAB classes into ``M0/M1`` (primitive), ``M4/M5`` (monocytic, incl. M4eo, M5a/b) and ``other``.

    ``NOS`` (not otherwise specified) counts as unknown: it says nothing about monocytic differentiation.

    Parameters
    ----------
    fab
        FAB class as recorded (``M0``, ``M4eo``, ``M5a``, ``NOS``, ...).

    Returns
    -------
    pandas.Series
        The group per entry (same index); missing for an empty, missing or NOS class.
    """
    f = fab.astype("string").str.strip()
    out = np.where(f.isin(_MONOCYTIC), "M4/M5", np.where(f.isin(_PRIMITIVE), "M0/M1", "other"))
    return pd.Series(out, index=fab.index, dtype=object).where(f.notna() & ~f.isin(["", "NOS"]))


def mutation_flags(patients: pd.DataFrame, mutations: pd.DataFrame, sequenced: set[str]) -> pd.DataFrame:
    """Flag (0/1) each gene of :data:`helpers.clinical.MUTATION_COLUMNS` per patient from exome and clinical calls.

    Parameters
    ----------
    patients
        ``cohort.json`` patients: ``id`` and the clinical assays ``npm1c``, ``flt3itd`` (true / false / missing).
    mutations
        ``mutations.json`` calls: ``p`` (patient), ``g`` (gene), ``c`` (variant class).
    sequenced
        Patients with exome data (``cohort.json`` ``sequenced``), as text.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``patients``. A gene is 1 when the exome has a call in it and 0 for other sequenced patients,
        missing without exome. NPM1 is 1 when the exome or the clinical assay finds it, and known when either was
        done. FLT3-ITD comes from the clinical assay (exome calls of an internal tandem duplication are unreliable),
        else from an in-frame FLT3 insertion in the exome.
    """
    pid = patients["id"].astype(str)
    has_seq = pid.isin(sequenced)
    calls = mutations.assign(p=mutations["p"].astype(str))
    out = pd.DataFrame(index=patients.index)
    for gene in MUTATION_COLUMNS:
        out[gene] = pid.isin(set(calls.loc[calls["g"] == gene, "p"])).astype(float).where(has_seq)
    clin_npm1 = patients["npm1c"].map({True: 1.0, False: 0.0})
    out["NPM1"] = pd.concat([out["NPM1"], clin_npm1], axis=1).max(axis=1, skipna=True)
    itd_wes = pid.isin(set(calls.loc[(calls["g"] == "FLT3") & (calls["c"] == "In-frame ins"), "p"]))
    clin_itd = patients["flt3itd"].map({True: 1.0, False: 0.0})
    out["FLT3_ITD"] = clin_itd.where(clin_itd.notna(), itd_wes.astype(float).where(has_seq))
    return out


def drug_auc(drug: str) -> pd.Series:
    """Read the published AUC of one inhibitor per patient, leaving out patients without it.

    Parameters
    ----------
    drug
        Inhibitor name as in ``drugs.json`` (e.g. ``Venetoclax``); an unknown name is a ``KeyError``.

    Returns
    -------
    pandas.Series
        Published probit AUC (AUC units, 0-286; higher = more resistant) indexed by patient id (dbGaP subject id as
        text), named ``drug``.

    Raises
    ------
    KeyError
        ``drug`` is not in ``drugs.json``.
    DataContractError
        ``drugs.json`` lacks ``patients``, ``drugs`` or ``auc``, or its AUC matrix does not have one row per patient
        and one value per drug.
    """
    d = read_json("drugs.json")
    require_keys(d, ("patients", "drugs", "auc"), "drugs.json")
    names = [x["name"] for x in d["drugs"]]
    if drug not in names:
        raise KeyError(f"{drug!r} not in BeatAML drugs.json; e.g. {', '.join(names[:5])}")
    path = dataset_path(DATASET, "drugs.json")
    if len(d["auc"]) != len(d["patients"]):
        raise DataContractError(path, f"auc has {len(d['auc'])} rows for {len(d['patients'])} patients")
    bad = [i for i, row in enumerate(d["auc"]) if len(row) != len(names)]
    if bad:
        raise DataContractError(path, f"auc row {bad[0]} has {len(d['auc'][bad[0]])} values for {len(names)} drugs")
    j = names.index(drug)
    auc = pd.Series([row[j] for row in d["auc"]], index=[str(p) for p in d["patients"]], dtype=float, name=drug)
    return auc.dropna()


def eln2024_from_calls(table: pd.DataFrame) -> pd.Series:
    """Classify ELN 2024 less-intensive risk from the gene columns (:func:`helpers.clinical.eln2024_less_intensive`).

    Parameters
    ----------
    table
        Patient table with the 0/1 gene columns of :data:`helpers.clinical.MUTATION_COLUMNS`.

    Returns
    -------
    pandas.Series
        Categorical ``eln2024``: ``favorable``, ``intermediate`` or ``adverse`` per patient (missing where the
        class is not computable).
    """
    return eln2024_less_intensive(table)


def load_beataml(*, drugs: tuple[str, ...] = ("Venetoclax", "Azacytidine")) -> pd.DataFrame:
    """Load the patient table of BeatAML 2.0: clinical data, mutation flags and published drug AUCs.

    Parameters
    ----------
    drugs
        Inhibitors whose published AUC becomes a ``<drug>_auc`` column (``ven_auc``, ``aza_auc`` for the defaults).

    Returns
    -------
    pandas.DataFrame
        One row per patient: ``patient_id`` (dbGaP subject id as text), ``age``, ``sex``, ``dx``, ``stage``,
        ``de_novo``, ``fab``, ``fab_group`` (:func:`fab_group`), ``monocytic``, ``bm_blast_pct``, ``eln2017``
        (published), induction ``response``, ``os_months``, ``os_event``, one 0/1 column per gene of
        :data:`helpers.clinical.MUTATION_COLUMNS` (:func:`mutation_flags`), ``signalling``, ``npm1_or_idh``,
        ``eln2024``, ``<drug>_auc`` per drug (published probit AUC, higher = more resistant).

    Raises
    ------
    DataContractError
        A dataset file is not JSON or lacks a required key (top level or patient record), ``mutations.json`` is not
        a list of ``p``/``g``/``c`` calls, or patient ids are not unique.
    KeyError
        A name of ``drugs`` is not in ``drugs.json``.
    """
    coh = read_json("cohort.json")
    require_keys(coh, ("patients", "sequenced"), "cohort.json")
    for i, rec in enumerate(coh["patients"]):
        require_keys(rec, _PATIENT_KEYS, "cohort.json", what=f"patient record {i}")
    muts = read_json("mutations.json")
    if not isinstance(muts, list):
        raise DataContractError(dataset_path(DATASET, "mutations.json"), "expected a list of calls")
    muts = pd.DataFrame(muts, columns=None if muts else ["p", "g", "c"])
    if not {"p", "g", "c"} <= set(muts.columns):
        raise DataContractError(dataset_path(DATASET, "mutations.json"), "expected keys p (patient), g (gene), c (class)")
    p = pd.DataFrame(coh["patients"])
    if not p["id"].astype(str).is_unique:
        raise DataContractError(dataset_path(DATASET, "cohort.json"), "patient ids are not unique")
    t = pd.DataFrame(
        {
            "patient_id": p["id"].astype(str),
            "age": p["age"],
            "sex": p["sex"].map({"Male": "M", "Female": "F"}),
            "dx": p["dx"],
            "stage": p["stage"],
            "de_novo": p["isDenovo"].map({True: 1.0, False: 0.0}),
            "fab": p["fab"],
            "bm_blast_pct": p["blastsBM"],
            "eln2017": p["eln"],
            "response": p["response"],
            "os_months": p["os"] / DAYS_PER_MONTH,
            "os_event": p["vital"].map({"Dead": 1.0, "Alive": 0.0}),
        }
    )
    t["fab_group"] = fab_group(t["fab"])
    t["monocytic"] = (t["fab_group"] == "M4/M5").astype(float).where(t["fab_group"].notna())
    t = t.join(mutation_flags(p, muts, {str(x) for x in coh["sequenced"]}))
    t = t.join(genetic_groups(t))
    t["eln2024"] = eln2024_from_calls(t)
    for drug in drugs:
        t[f"{_slug(drug)}_auc"] = t["patient_id"].map(drug_auc(drug))
    return t


def _slug(drug: str) -> str:
    return {"Venetoclax": "ven", "Azacytidine": "aza"}.get(drug, drug.split(" ")[0].lower().replace("-", "_"))


def ven_by_fab(table: pd.DataFrame, *, auc: str = "ven_auc") -> pd.DataFrame:
    """Summarise a drug AUC (venetoclax by default) by FAB group and test M4/M5 against M0/M1.

    Parameters
    ----------
    table
        Patient table (:func:`load_beataml`) with ``fab_group`` and ``auc``.
    auc
        The AUC column (published ``ven_auc``, or a refit).

    Returns
    -------
    pandas.DataFrame
        One row per group of ``M0/M1``, ``M4/M5``, ``other``: ``group, n, median_auc, q1, q3, delta_vs_m0m1``
        (median minus the M0/M1 median); the two-sided Mann-Whitney p of M4/M5 against M0/M1 is in the
        ``p_vs_m0m1`` column of the M4/M5 row.
    """
    d = table[[auc, "fab_group"]].dropna()
    rows = []
    for g in FAB_GROUPS:
        x = d.loc[d["fab_group"] == g, auc]
        q1, med, q3 = np.percentile(x, [25, 50, 75]) if len(x) else (np.nan,) * 3
        rows.append({"group": g, "n": len(x), "median_auc": med, "q1": q1, "q3": q3, "p_vs_m0m1": np.nan})
    out = pd.DataFrame(rows)
    out.insert(5, "delta_vs_m0m1", out["median_auc"] - out.loc[0, "median_auc"])
    a, b = d.loc[d["fab_group"] == "M4/M5", auc], d.loc[d["fab_group"] == "M0/M1", auc]
    if len(a) and len(b):
        out.loc[1, "p_vs_m0m1"] = float(stats.mannwhitneyu(a, b).pvalue)
    return out


def ven_by_mutation(table: pd.DataFrame, genes: list[str], *, auc: str = "ven_auc") -> pd.DataFrame:
    """Compare a drug AUC (venetoclax by default) of mutated and wild-type patients, per gene.

    Parameters
    ----------
    table
        Patient table (:func:`load_beataml`) with the 0/1 columns ``genes`` and ``auc``.
    genes
        Mutation columns tested, one row each.
    auc
        The AUC column (published ``ven_auc``, or a refit).

    Returns
    -------
    pandas.DataFrame
        ``gene, n_mut, n_wt, median_mut, median_wt, delta, direction, p, q``: two-sided Mann-Whitney ``p`` (genes with
        at least 3 mutated and 3 wild-type patients), Benjamini-Hochberg ``q`` across ``genes``; ``direction`` is
        ``resistant`` when the mutants' median AUC is higher.
    """
    rows = []
    for g in genes:
        d = table[[auc, g]].dropna()
        m, w = d.loc[d[g] == 1, auc], d.loc[d[g] == 0, auc]
        row = {"gene": g, "n_mut": len(m), "n_wt": len(w)}
        if len(m) >= 3 and len(w) >= 3:
            row.update(median_mut=m.median(), median_wt=w.median(), delta=m.median() - w.median(),
                       p=float(stats.mannwhitneyu(m, w).pvalue))  # fmt: skip
            row["direction"] = "resistant" if row["delta"] > 0 else "sensitive"
        rows.append(row)
    cols = ["gene", "n_mut", "n_wt", "median_mut", "median_wt", "delta", "direction", "p"]
    out = pd.DataFrame(rows, columns=cols)
    out["q"] = bh_fdr(out["p"])
    return out


def mutation_groups(table: pd.DataFrame, genes: list[str], *, value: str = "ven_auc",
                    none_label: str = "none of these") -> pd.DataFrame:
    """Stack ``value`` by mutated gene into a long table, for plotting the groups side by side.

    Parameters
    ----------
    table
        The patient table (:func:`load_beataml`) with the 0/1 mutation columns ``genes`` and ``value``.
    genes
        Mutation columns, one group each; a patient mutated in several genes appears in each of their groups.
    value
        The column shown; patients without it are left out.
    none_label
        Name of the group of patients mutated in none of ``genes`` (a missing flag counts as not mutated).

    Returns
    -------
    pandas.DataFrame
        Columns ``value`` and ``group``, indexed by the rows of ``table``, groups in the order of ``genes`` then
        ``none_label``.
    """
    d = table.dropna(subset=[value])
    parts = [d.loc[d[g] == 1, [value]].assign(group=g) for g in genes]
    parts.append(d.loc[d[genes].fillna(0).sum(axis=1) == 0, [value]].assign(group=none_label))
    return pd.concat(parts)


# Columns of :func:`load_beataml` that the integration's clinical dictionary does not already describe.
BEATAML_DICTIONARY = pd.DataFrame(
    [
        ("dx", "", "beataml2 cohort.json", "Diagnosis group of the index specimen (AML, MDS, ...)"),
        ("stage", "", "beataml2 cohort.json", "Disease stage of the index specimen (initial diagnosis, relapse, ...)"),
        ("de_novo", "0/1", "beataml2 cohort.json", "De novo AML (1) or secondary / therapy-related (0)"),
        ("fab", "", "beataml2 cohort.json", "FAB class as recorded (M5a/M5b, M4eo kept)"),
        ("fab_group", "", "derived: FAB",
         "M0/M1 (primitive), M4/M5 (monocytic, incl. M4eo, M5a, M5b) or other; missing when FAB is missing or NOS"),
        ("monocytic", "0/1", "derived: FAB", "FAB M4/M5"),
        ("bm_blast_pct", "%", "beataml2 cohort.json", "Bone-marrow blasts"),
        ("eln2017", "", "beataml2 cohort.json", "Published ELN 2017 risk (uses cytogenetics)"),
        ("response", "", "beataml2 cohort.json", "Response to induction therapy (mostly intensive chemotherapy)"),
        ("os_months", "months", "beataml2 cohort.json", "Overall survival from the index specimen"),
        ("os_event", "0/1", "beataml2 cohort.json", "Death"),
        ("ven_auc", "AUC units (0-286)", "beataml2 drugs.json", "Published venetoclax probit AUC; high = resistant"),
        ("aza_auc", "AUC units (0-286)", "beataml2 drugs.json", "Published azacitidine probit AUC; high = resistant"),
        ("NPM1", "0/1", "beataml2 mutations.json / cohort.json",
         "NPM1 mutated in the exome or by the clinical assay; missing when neither was done"),
        ("FLT3_ITD", "0/1", "beataml2 cohort.json / mutations.json",
         "FLT3-ITD by the clinical assay; exome in-frame FLT3 insertion when the assay is missing"),
    ],
    columns=["name", "unit", "source", "definition"],
)


def beataml_dataset_files() -> list[Path]:
    """List the dataset files this module reads (for provenance notes).

    Returns
    -------
    list of Path
        ``cohort.json``, ``mutations.json`` and ``drugs.json`` of the dataset.

    Raises
    ------
    PublicDataMissing
        A file is not in the public data mirror.
    """
    return [dataset_path(DATASET, f) for f in ("cohort.json", "mutations.json", "drugs.json")]
