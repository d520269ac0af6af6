"""BeatAML 2.0 (Bottomly et al. 2022 Cancer Cell) through the dataset registry: measured points and published fits.

Dataset ``beataml2`` (data/registry.yaml): ``dose/<dbgap_subject_id>.json`` (measured points per inhibitor),
``fits.json`` (published probit intercept / beta) and ``drugs.json`` (published AUC / IC50). The patient table (FAB
group, mutation flags, clinical data) is :func:`helpers.beataml.load_beataml`, shared with the integration.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ..beataml import DATASET, read_json, require_keys
from ..errors import DataContractError
from ..registry import dataset_path
from .fit import fit_curves, probit_auc

__all__ = [
    "FEATURE_DRUGS",
    "add_refit_auc",
    "compare_with_published",
    "load_points",
    "load_published",
    "patient_features",
    "refit_accuracy",
    "refit_curves",
]

#: The drugs of the patient-level features and the prefix of their columns.
FEATURE_DRUGS = (("ven", "Venetoclax"), ("aza", "Azacytidine"))


def load_points(drugs: list[str] | None = None) -> pd.DataFrame:
    """Read the measured dose-response points of every patient as one long table (optionally only ``drugs``).

    Parameters
    ----------
    drugs
        Inhibitors kept (names as in the dataset); None keeps all.

    Returns
    -------
    pandas.DataFrame
        One row per measured point: ``patient_id`` (dbGaP subject id as text), ``drug``, ``conc_uM`` (µM) and
        ``viability_pct`` (% of the untreated control); patients in numeric order of their subject id.

    Raises
    ------
    DataContractError
        A patient's file is not JSON, or an inhibitor's points are not ``[[conc_uM, viability_pct], ...]``.
    PublicDataMissing
        The dataset is not in the public data mirror.
    """
    folder = dataset_path(DATASET, "dose")
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
    """Read the published probit fits, AUCs and IC50s (medians over a patient's specimens) as one long table.

    Returns
    -------
    pandas.DataFrame
        One row per patient and drug with a published AUC: ``patient_id, drug, intercept, beta`` (probit on log10
        µM), ``auc`` (AUC units, higher = more resistant), ``ic50_uM`` (µM) and the tested range ``min_conc_uM,
        max_conc_uM``.

    Raises
    ------
    DataContractError
        ``fits.json`` or ``drugs.json`` lacks a required key, or one of its matrices is not numeric of shape patients
        x drugs.
    """
    fits, drugs = read_json("fits.json"), read_json("drugs.json")
    require_keys(fits, ("intercept", "beta", "conc"), "fits.json")
    require_keys(drugs, ("patients", "drugs", "auc", "ic50"), "drugs.json")
    pats = [str(p) for p in drugs["patients"]]
    names = [d["name"] for d in drugs["drugs"]]
    shape = (len(pats), len(names))
    arrays = {}
    for name, k, v in (("fits.json", "intercept", fits["intercept"]), ("fits.json", "beta", fits["beta"]),
                       ("drugs.json", "auc", drugs["auc"]), ("drugs.json", "ic50_uM", drugs["ic50"])):
        try:
            a = np.array(v, dtype=float)
        except (TypeError, ValueError):
            a = None  # ragged rows or text: reported with the expected shape below
        if a is None or a.shape != shape:
            got = "ragged or non-numeric" if a is None else f"shape {a.shape}"
            raise DataContractError(dataset_path(DATASET, name), f"{k} matrix is {got}, expected {shape} "
                                    "(patients x drugs of drugs.json)")
        arrays[k] = a
    out = pd.DataFrame({"patient_id": np.repeat(pats, len(names)), "drug": np.tile(names, len(pats)),
                        **{k: a.ravel() for k, a in arrays.items()}})
    rng = pd.DataFrame(fits["conc"], index=["min_conc_uM", "max_conc_uM"]).T
    out = out.join(rng, on="drug")
    return out.dropna(subset=["auc"]).reset_index(drop=True)


def compare_with_published(fits: pd.DataFrame, published: pd.DataFrame, *, tol_consistent: float = 0.1) -> pd.DataFrame:
    """Join refits with the published values and mark the curves where one published fit underlies both numbers.

    The published AUC is the median over a patient's specimens and the parameters are medians taken separately, so
    they describe one fit only for patients with a single specimen (or when the medians come from the same one). A
    curve is ``single_fit`` when the AUC recomputed from the published intercept and beta equals the published AUC
    within ``tol_consistent`` (rounding of the published values); these are the curves an exact refit must match.

    Parameters
    ----------
    fits
        Probit refits (:func:`refit_curves`): ``patient_id, drug, auc, intercept``, ...
    published
        :func:`load_published`.
    tol_consistent
        Largest difference (AUC units) between the published AUC and the AUC of the published parameters for one
        fit.

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


def refit_curves(points: pd.DataFrame, *, model: str = "probit") -> pd.DataFrame:
    """Refit every patient's dose-response curve of :func:`load_points` with ``model``.

    Parameters
    ----------
    points
        Long table ``patient_id, drug, conc_uM, viability_pct`` (:func:`load_points`).
    model
        ``probit`` (the BeatAML model: AUC and IC50) or ``ll4`` (4-parameter logistic: DSS1-3).

    Returns
    -------
    pandas.DataFrame
        One row per patient and drug, the columns of :func:`helpers.dst.fit.fit_curves` with ``patient_id``.
    """
    fits = fit_curves(points.rename(columns={"patient_id": "sample"}), model=model)
    return fits.rename(columns={"sample": "patient_id"})


def add_refit_auc(patients: pd.DataFrame, probit: pd.DataFrame, *, drug: str = "Venetoclax",
                  column: str = "ven_auc_refit") -> pd.DataFrame:
    """Add one drug's refitted AUC to the patient table as a column (missing for patients without that curve).

    Parameters
    ----------
    patients
        The patient table (:func:`helpers.beataml.load_beataml`).
    probit
        Probit refits (:func:`refit_curves`).
    drug
        The drug whose AUC is added.
    column
        Name of the new column.

    Returns
    -------
    pandas.DataFrame
        A copy of ``patients`` with ``column``.
    """
    auc = probit[probit["drug"] == drug].set_index("patient_id")["auc"]
    return patients.assign(**{column: patients["patient_id"].map(auc)})


def refit_accuracy(comparison: pd.DataFrame, *, tol_auc: float = 1.0) -> pd.DataFrame:
    """Measure per drug how closely the refits reproduce the published fits (from :func:`compare_with_published`).

    Parameters
    ----------
    comparison
        The table of :func:`compare_with_published` (``drug, d_auc, d_intercept, single_fit``).
    tol_auc
        Largest absolute AUC difference (AUC units) counted as a match.

    Returns
    -------
    pandas.DataFrame
        One row per drug (sorted): ``curves``, ``single_fit_curves`` (those an exact refit must match),
        ``median_abs_d_auc``, ``within_1_auc`` (share within ``tol_auc``) and ``median_abs_d_intercept`` over the
        single-fit curves, and ``all_curves_within_1_auc`` over every curve.
    """
    rows = []
    for drug, g in comparison.groupby("drug"):
        s = g[g["single_fit"]]
        rows.append({"drug": drug, "curves": len(g), "single_fit_curves": len(s),
                     "median_abs_d_auc": s["d_auc"].abs().median(), "within_1_auc": (s["d_auc"].abs() <= tol_auc).mean(),
                     "median_abs_d_intercept": s["d_intercept"].abs().median(),
                     "all_curves_within_1_auc": (g["d_auc"].abs() <= tol_auc).mean()})  # fmt: skip
    return pd.DataFrame(rows)


def patient_features(patients: pd.DataFrame, probit: pd.DataFrame, ll4: pd.DataFrame) -> pd.DataFrame:
    """Tabulate the refitted drug-response features of every BeatAML patient, one row each.

    The features are those of :func:`helpers.dst.features.beataml_feature_dictionary`.

    Parameters
    ----------
    patients
        The patient table (:func:`helpers.beataml.load_beataml`): ``patient_id``, ``monocytic``.
    probit
        Probit refits (:func:`refit_curves` with ``model="probit"``): ``auc``, ``ic50_uM`` per patient and drug.
    ll4
        4PL refits (:func:`refit_curves` with ``model="ll4"``): ``dss2`` per patient and drug.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, monocytic`` and ``<prefix>_auc, <prefix>_ic50_um, <prefix>_dss2`` for each drug of
        :data:`FEATURE_DRUGS`; patients with neither drug are left out; sorted by the numeric subject id.
    """
    feats = patients[["patient_id", "monocytic"]].copy()  # the integration reads FAB and mutations from the same table
    for prefix, drug in FEATURE_DRUGS:
        f = probit[probit["drug"] == drug].set_index("patient_id")[["auc", "ic50_uM"]]
        f.columns = [f"{prefix}_auc", f"{prefix}_ic50_um"]
        f[f"{prefix}_dss2"] = ll4[ll4["drug"] == drug].set_index("patient_id")["dss2"]
        feats = feats.join(f, on="patient_id")
    feats = feats.dropna(subset=[f"{p}_auc" for p, _ in FEATURE_DRUGS], how="all")
    return feats.sort_values("patient_id", key=lambda s: s.astype(int))
