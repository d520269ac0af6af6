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
from .fit import probit_auc

__all__ = ["load_points", "load_published", "compare_with_published"]


def load_points(drugs: list[str] | None = None) -> pd.DataFrame:
    """Measured points as a long table ``patient_id, drug, conc_uM, viability_pct`` (optionally only ``drugs``)."""
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
    """Published fits: ``patient_id, drug, intercept, beta, auc, ic50_uM`` (median over a patient's specimens)."""
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
