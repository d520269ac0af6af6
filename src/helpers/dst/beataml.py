"""BeatAML 2.0 (Bottomly et al. 2022 Cancer Cell) through the dataset registry: points, published fits, clinic.

Dataset ``beataml2`` (data/registry.yaml): ``dose/<dbgap_subject_id>.json`` (measured points per inhibitor),
``fits.json`` (published probit intercept / beta), ``drugs.json`` (published AUC / IC50), ``cohort.json`` (FAB and
clinical data of one index specimen per patient) and ``mutations.json`` (WES calls).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ..errors import DataContractError
from ..registry import dataset_path
from .fit import probit_auc

__all__ = ["load_points", "load_published", "load_clinical", "compare_with_published", "MUTATION_GENES"]

MUTATION_GENES = ["NPM1", "IDH1", "IDH2", "FLT3", "NRAS", "KRAS", "PTPN11", "TP53", "RUNX1", "ASXL1"]


def load_points(drugs: list[str] | None = None) -> pd.DataFrame:
    """Measured points as a long table ``patient_id, drug, conc_uM, viability_pct`` (optionally only ``drugs``)."""
    folder = dataset_path("beataml2", "dose")
    rows_p, rows_d, rows_c, rows_v = [], [], [], []
    for f in sorted(folder.glob("*.json"), key=lambda p: int(p.stem)):
        try:
            data = json.loads(f.read_text())
        except json.JSONDecodeError as exc:
            raise DataContractError(f, f"not valid JSON: {exc}") from None
        for drug, pts in data.items():
            if drugs is not None and drug not in drugs:
                continue
            arr = np.asarray(pts, float)
            if arr.ndim != 2 or arr.shape[1] != 2:
                raise DataContractError(f, f"inhibitor {drug!r}: expected [[conc_uM, viability_pct], ...]")
            rows_p.append(np.full(len(arr), f.stem))
            rows_d.append(np.full(len(arr), drug, dtype=object))
            rows_c.append(arr[:, 0])
            rows_v.append(arr[:, 1])
    return pd.DataFrame({"patient_id": np.concatenate(rows_p), "drug": np.concatenate(rows_d),
                         "conc_uM": np.concatenate(rows_c), "viability_pct": np.concatenate(rows_v)})


def load_published() -> pd.DataFrame:
    """Published fits: ``patient_id, drug, intercept, beta, auc, ic50_uM`` (median over a patient's specimens)."""
    fits = json.loads(dataset_path("beataml2", "fits.json").read_text())
    drugs = json.loads(dataset_path("beataml2", "drugs.json").read_text())
    pats = [str(p) for p in drugs["patients"]]
    names = [d["name"] for d in drugs["drugs"]]
    shape = (len(pats), len(names))
    arrays = {k: np.array(v, dtype=float) for k, v in (("intercept", fits["intercept"]), ("beta", fits["beta"]),
                                                          ("auc", drugs["auc"]), ("ic50_uM", drugs["ic50"]))}
    for k, a in arrays.items():
        if a.shape != shape:
            raise DataContractError(dataset_path("beataml2"), f"{k} matrix has shape {a.shape}, expected {shape}")
    out = pd.DataFrame({"patient_id": np.repeat(pats, len(names)), "drug": np.tile(names, len(pats)),
                        **{k: a.ravel() for k, a in arrays.items()}})
    rng = pd.DataFrame(fits["conc"], index=["min_conc_uM", "max_conc_uM"]).T
    out = out.join(rng, on="drug")
    return out.dropna(subset=["auc"]).reset_index(drop=True)


def load_clinical() -> pd.DataFrame:
    """Per patient: FAB, FAB group (``M0/M1``, ``M4/M5``, ``other``), monocytic flag and mutation flags.

    Mutation flags are 1 when WES found any call in the gene (``mutations.json``), 0 for sequenced patients without
    one, NaN for patients without WES. NPM1 and FLT3-ITD also use the clinical calls of ``cohort.json``.
    """
    coh = json.loads(dataset_path("beataml2", "cohort.json").read_text())
    muts = pd.DataFrame(json.loads(dataset_path("beataml2", "mutations.json").read_text()))
    c = pd.DataFrame(coh["patients"])
    out = pd.DataFrame({"patient_id": c["id"].astype(str), "fab": c["fab"], "age": c["age"], "sex": c["sex"],
                        "eln2017": c["eln"], "dx": c["dx"]})
    fab = out["fab"].fillna("").str.upper()
    out["fab_group"] = np.select([fab.str.match(r"^M[01]$|^M0/M1$"), fab.str.match(r"^M[45]")],
                                 ["M0/M1", "M4/M5"], default="other")
    out.loc[fab == "", "fab_group"] = np.nan
    out["monocytic"] = (out["fab_group"] == "M4/M5").astype(float).where(out["fab_group"].notna())
    sequenced = set(map(str, coh["sequenced"]))
    hit = muts.assign(p=muts["p"].astype(str)).groupby("g")["p"].apply(set)
    seq = out["patient_id"].isin(sequenced)
    for g in MUTATION_GENES:
        out[g] = np.where(out["patient_id"].isin(hit.get(g, set())), 1.0, np.where(seq, 0.0, np.nan))
    out["NPM1"] = np.where(c["npm1c"].fillna(False).astype(bool), 1.0, out["NPM1"])
    out["FLT3_ITD"] = c["flt3itd"].astype(float)
    return out


def compare_with_published(fits: pd.DataFrame, published: pd.DataFrame, *, tol_consistent: float = 0.1) -> pd.DataFrame:
    """Join refits with the published values and mark the curves where one published fit underlies both numbers.

    The published AUC is the median over a patient's specimens and the parameters are medians taken separately, so
    they describe one fit only for patients with a single specimen (or when the medians come from the same one). A
    curve is ``single_fit`` when the AUC recomputed from the published intercept and beta equals the published AUC
    within ``tol_consistent`` (rounding of the published values); these are the curves an exact refit must match.

    Returns
    -------
    pandas.DataFrame
        Refit and published columns side by side, ``d_auc`` (refit - published), ``d_intercept``, ``single_fit``.
    """
    m = fits.merge(published, on=["patient_id", "drug"], suffixes=("", "_pub"))
    lo, hi = np.log10(m["min_conc_uM_pub"]), np.log10(m["max_conc_uM_pub"])
    m["auc_from_pub_params"] = probit_auc(m["intercept_pub"], m["beta_pub"], lo, hi)
    m["single_fit"] = (m["auc_from_pub_params"] - m["auc_pub"]).abs() <= tol_consistent
    m["d_auc"] = m["auc"] - m["auc_pub"]
    m["d_intercept"] = m["intercept"] - m["intercept_pub"]
    return m
