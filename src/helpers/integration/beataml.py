"""BeatAML 2.0 (Bottomly et al. 2022, Cancer Cell) as a patient-level cohort for the integration.

Reads the registered dataset ``beataml2`` (files ``cohort.json``, ``mutations.json``, ``drugs.json``): one index
specimen per patient with clinical data and FAB class, whole-exome mutation calls, and the published ex vivo drug AUCs
(probit fits, median over a patient's specimens; higher AUC = more resistant). From these it builds a patient table
with the integration's genetic columns and ELN 2024 risk for less-intensive therapy, and tests the published ex vivo
biology of venetoclax: resistance of monocytic (FAB M4/M5) leukemia, of KRAS / PTPN11 mutants, sensitivity of NPM1 /
IDH1 mutants (Kuusanmaki et al. 2020; Pei et al. 2020; Zhang et al. 2020).

What BeatAML cannot answer: its patients were mostly treated with intensive chemotherapy, so it has no AZA/VEN
clinical response; the ex vivo VEN AUC is the outcome here, not a predictor of clinical resistance.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..clinical import MUTATION_COLUMNS, eln2024_less_intensive
from ..errors import DataContractError
from ..registry import dataset_path
from .stats import bh_fdr
from .tables import genetic_groups

__all__ = [
    "BEATAML_DICTIONARY",
    "load_beataml", "drug_auc", "fab_group", "ven_by_fab", "ven_by_mutation", "eln2024_from_calls"]

DATASET = "beataml2"
_MONOCYTIC = {"M4", "M4eo", "M5", "M5a", "M5b"}
_PRIMITIVE = {"M0", "M1", "M0/M1"}


def _load_json(name: str):
    path = dataset_path(DATASET, name)
    try:
        with open(path) as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise DataContractError(path, f"not valid JSON: {exc}") from exc


def fab_group(fab: pd.Series) -> pd.Series:
    """``M0/M1`` (primitive), ``M4/M5`` (monocytic, incl. M4eo and M5a/b), ``other`` FAB classes, missing if unknown."""
    f = fab.astype("string")
    out = np.where(f.isin(_MONOCYTIC), "M4/M5", np.where(f.isin(_PRIMITIVE), "M0/M1", "other"))
    return pd.Series(out, index=fab.index).where(f.notna() & (f != "NOS"))


def drug_auc(drug: str) -> pd.Series:
    """Published AUC of one inhibitor per patient (``patient_id`` as text), patients without it left out."""
    d = _load_json("drugs.json")
    names = [x["name"] for x in d["drugs"]]
    if drug not in names:
        raise KeyError(f"{drug!r} not in BeatAML drugs.json; e.g. {', '.join(names[:5])}")
    j = names.index(drug)
    auc = pd.Series([row[j] for row in d["auc"]], index=[str(p) for p in d["patients"]], dtype=float, name=drug)
    if len(d["auc"]) != len(d["patients"]):
        raise DataContractError(dataset_path(DATASET, "drugs.json"), "auc rows do not match the patient list")
    return auc.dropna()


def eln2024_from_calls(table: pd.DataFrame) -> pd.Series:
    """ELN 2024 less-intensive risk from the gene columns (:func:`helpers.clinical.eln2024_less_intensive`)."""
    return eln2024_less_intensive(table)


def load_beataml(*, drugs: tuple[str, ...] = ("Venetoclax", "Azacytidine")) -> pd.DataFrame:
    """Patient table of BeatAML 2.0.

    Returns
    -------
    pandas.DataFrame
        One row per patient: ``patient_id`` (dbGaP subject id as text), ``age``, ``sex``, ``dx``, ``stage``,
        ``de_novo``, ``fab``, ``fab_group``, ``monocytic``, ``bm_blast_pct``, ``eln2017`` (published), induction
        ``response``, ``os_months``, ``os_event``, one 0/1 column per gene of :data:`helpers.clinical.MUTATION_COLUMNS`
        (missing for patients without exome; FLT3-ITD from the clinical assay, or an in-frame FLT3 insertion in the
        exome when the assay is missing), ``signalling``, ``npm1_or_idh``, ``eln2024``, ``<drug>_auc`` per drug.
    """
    coh = _load_json("cohort.json")
    muts = pd.DataFrame(_load_json("mutations.json"))
    if not {"p", "g", "c"} <= set(muts.columns):
        raise DataContractError(dataset_path(DATASET, "mutations.json"), "expected keys p (patient), g (gene), c (class)")
    p = pd.DataFrame(coh["patients"])
    sequenced = {str(x) for x in coh["sequenced"]}
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
            "os_months": p["os"] / 30.4375,
            "os_event": p["vital"].map({"Dead": 1.0, "Alive": 0.0}),
        }
    )
    t["fab_group"] = fab_group(t["fab"])
    t["monocytic"] = (t["fab_group"] == "M4/M5").astype(float).where(t["fab_group"].notna())
    muts["patient_id"] = muts["p"].astype(str)
    has_seq = t["patient_id"].isin(sequenced)
    for gene in MUTATION_COLUMNS:
        if gene == "FLT3_ITD":
            continue
        mutated = set(muts.loc[muts["g"] == gene, "patient_id"])
        t[gene] = t["patient_id"].isin(mutated).astype(float).where(has_seq)
    itd_wes = set(muts.loc[(muts["g"] == "FLT3") & (muts["c"] == "In-frame ins"), "patient_id"])
    clin_itd = p["flt3itd"].map({True: 1.0, False: 0.0})
    t["FLT3_ITD"] = clin_itd.where(clin_itd.notna(), t["patient_id"].isin(itd_wes).astype(float).where(has_seq))
    # Keep the contract's column order for the genes.
    t = t[[c for c in t.columns if c not in MUTATION_COLUMNS] + list(MUTATION_COLUMNS)]
    t = t.join(genetic_groups(t))
    t["eln2024"] = eln2024_from_calls(t)
    for drug in drugs:
        auc = drug_auc(drug)
        t[f"{_slug(drug)}_auc"] = t["patient_id"].map(auc)
    return t


def _slug(drug: str) -> str:
    return {"Venetoclax": "ven", "Azacytidine": "aza"}.get(drug, drug.split(" ")[0].lower().replace("-", "_"))


def ven_by_fab(table: pd.DataFrame, *, auc: str = "ven_auc") -> pd.DataFrame:
    """Venetoclax AUC by FAB group, and the Mann-Whitney test of M4/M5 against M0/M1.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``group, n, median_auc, q1, q3``; the test is in the ``p_vs_m0m1`` column of the M4/M5 row.
    """
    d = table[[auc, "fab_group"]].dropna()
    rows = []
    for g in ("M0/M1", "M4/M5", "other"):
        x = d.loc[d["fab_group"] == g, auc]
        q1, med, q3 = np.percentile(x, [25, 50, 75]) if len(x) else (np.nan,) * 3
        rows.append({"group": g, "n": len(x), "median_auc": med, "q1": q1, "q3": q3, "p_vs_m0m1": np.nan})
    a, b = d.loc[d["fab_group"] == "M4/M5", auc], d.loc[d["fab_group"] == "M0/M1", auc]
    if len(a) and len(b):
        rows[1]["p_vs_m0m1"] = float(stats.mannwhitneyu(a, b).pvalue)
    return pd.DataFrame(rows)


def ven_by_mutation(table: pd.DataFrame, genes: list[str], *, auc: str = "ven_auc") -> pd.DataFrame:
    """Venetoclax AUC in mutated versus wild-type patients, per gene (Mann-Whitney, BH across genes).

    Returns
    -------
    pandas.DataFrame
        ``gene, n_mut, n_wt, median_mut, median_wt, delta, direction, p, q``; ``direction`` is ``resistant`` when the
        mutants' median AUC is higher.
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


# Columns of :func:`load_beataml` that the integration's clinical dictionary does not already describe.
BEATAML_DICTIONARY = pd.DataFrame(
    [
        ("dx", "", "beataml2 cohort.json", "Diagnosis group of the index specimen (AML, MDS, ...)"),
        ("stage", "", "beataml2 cohort.json", "Disease stage of the index specimen (initial diagnosis, relapse, ...)"),
        ("de_novo", "0/1", "beataml2 cohort.json", "De novo AML (1) or secondary / therapy-related (0)"),
        ("fab", "", "beataml2 cohort.json", "FAB class as recorded (M5a/M5b, M4eo kept)"),
        ("fab_group", "", "derived: FAB", "M0/M1 (primitive), M4/M5 (monocytic) or other"),
        ("monocytic", "0/1", "derived: FAB", "FAB M4/M5"),
        ("bm_blast_pct", "%", "beataml2 cohort.json", "Bone-marrow blasts"),
        ("eln2017", "", "beataml2 cohort.json", "Published ELN 2017 risk (uses cytogenetics)"),
        ("response", "", "beataml2 cohort.json", "Response to induction therapy (mostly intensive chemotherapy)"),
        ("os_months", "months", "beataml2 cohort.json", "Overall survival from the index specimen"),
        ("os_event", "0/1", "beataml2 cohort.json", "Death"),
        ("ven_auc", "AUC units (0-286)", "beataml2 drugs.json", "Published venetoclax probit AUC; high = resistant"),
        ("aza_auc", "AUC units (0-286)", "beataml2 drugs.json", "Published azacitidine probit AUC; high = resistant"),
        ("FLT3_ITD", "0/1", "beataml2 cohort.json / mutations.json",
         "FLT3-ITD by the clinical assay; exome in-frame FLT3 insertion when the assay is missing"),
    ],
    columns=["name", "unit", "source", "definition"],
)


def beataml_dataset_files() -> list[Path]:
    """The dataset files this module reads (for provenance notes)."""
    return [dataset_path(DATASET, f) for f in ("cohort.json", "mutations.json", "drugs.json")]
