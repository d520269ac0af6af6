"""From a cohort's ``dst/`` folder to per-sample features: load, QC, normalise, fit, score, synergy.

Each step is a function of the helpers package; :func:`process_plates` chains them the way the DST notebook and the
command line do, and :func:`sample_features` assembles the per-sample feature table read by the integration.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from ..assays import has_assay
from .contract import load_plates
from .dss import selective_dss
from .fit import fit_curves
from .qc import flag_wells, normalise_plates, plate_qc
from .synergy import synergy_table

__all__ = ["DSTResult", "process_plates", "sample_features", "FEATURE_DICTIONARY", "COMBO"]

COMBO = ("Azacitidine", "Venetoclax")  # the dose-matrix pair: rows, columns


@dataclass(frozen=True, eq=False)
class DSTResult:
    """The tables of the DST chain (:func:`process_plates`) for one cohort.

    Attributes
    ----------
    wells
        One row per well: normalised (``viability_pct``), flagged (``well_flag``) and with its plate's
        ``plate_qc_pass``.
    qc
        One row per plate: Z'-factor, SSMD, control CVs, edge / row / column effects, ``qc_pass`` and ``qc_reason``.
    fits
        One row per sample x drug: ``auc, ic50_uM`` from the AUC model, ``dss1-3``, ``top``, ``slope`` from ll4.
    synergy_cells
        One row per cell of the AZA x VEN dose matrix of each sample, with the four synergy scores.
    synergy
        One row per sample: block means of the synergy scores.
    """

    wells: pd.DataFrame
    qc: pd.DataFrame
    fits: pd.DataFrame
    synergy_cells: pd.DataFrame
    synergy: pd.DataFrame

    def __getitem__(self, name: str) -> pd.DataFrame:
        """The table ``name`` (``result["qc"]`` is ``result.qc``), for code that reads the tables by name."""
        if name not in {f.name for f in fields(self)}:
            raise KeyError(name)
        return getattr(self, name)


def process_plates(dst_dir: str | Path, *, samples: pd.DataFrame | None = None, auc_model: str = "probit") -> DSTResult:
    """Run the DST chain on every plate of a cohort.

    Parameters
    ----------
    dst_dir
        The cohort's ``dst/`` folder.
    samples
        samples.csv table (plates must belong to known samples).
    auc_model
        Model for AUC and IC50 (``probit`` as BeatAML, or ``ll4``); DSS always come from the ll4 fit.

    Returns
    -------
    DSTResult
        ``wells`` (normalised, flagged), ``qc`` (per plate), ``fits`` (per sample x drug: ``auc, ic50_uM`` from
        ``auc_model`` and ``dss1-3``, ``top``, ``slope`` from ll4), ``synergy_cells``, ``synergy`` (per sample).
        Wells of failed plates and flagged wells are not fitted.
    """
    wells = flag_wells(load_plates(dst_dir, samples=samples))
    qc = plate_qc(wells)
    wells = normalise_plates(wells, qc)
    usable = (wells["plate_qc_pass"] == 1) & wells["viability_pct"].notna() & (wells["role"] == "sample")
    single = wells[usable & (wells["drug2"] == "")].rename(columns={"sample_id": "sample"})
    ll4 = fit_curves(single, model="ll4")
    if auc_model == "probit":
        pr = fit_curves(single, model="probit")
        fits = pr[["sample", "drug", "auc", "ic50_uM", "intercept", "beta", "min_conc_uM", "max_conc_uM", "n_points",
                   "fit_flag"]].merge(
            ll4[["sample", "drug", "top", "slope", "log10_ic50_uM", "r2", "dss1", "dss2", "dss3"]],
            on=["sample", "drug"])
    elif auc_model == "ll4":
        fits = ll4
    else:
        raise ValueError(f"auc_model must be 'probit' or 'll4', got {auc_model!r}")
    fits = fits.rename(columns={"sample": "sample_id"})
    combo = wells[usable & (wells["drug"] == COMBO[0]) & (wells["drug2"] == COMBO[1])]
    cells, blocks = synergy_table(combo, block="sample_id", conc_row="conc_uM", conc_col="conc2_uM")
    return DSTResult(wells=wells, qc=qc, fits=fits, synergy_cells=cells, synergy=blocks)


FEATURE_DICTIONARY = pd.DataFrame(
    [
        ("sample_id", "", "samples.csv", "Sample identifier"),
        ("patient_id", "", "samples.csv", "Patient identifier"),
        ("timepoint", "", "samples.csv", "diagnosis or relapse"),
        ("dst_qc_pass", "0/1", "plate QC", "1 when at least one plate of the sample passed QC (Z' >= 0.3, SSMD >= 3, "
         "DMSO CV <= 20 %, edge ratio 0.8-1.2); features are missing otherwise"),
        ("dst_z_prime", "", "plate QC", "Best Z'-factor among the sample's plates"),
        ("ven_auc", "% x log10(uM)", "probit fit", "Venetoclax AUC of the fitted viability over the tested range "
         "(BeatAML definition; 0.0001-10 uM here, so the maximum is 500); higher = more resistant"),
        ("ven_ic50_um", "uM", "probit fit", "Venetoclax IC50, clamped to the tested range"),
        ("ven_dss2", "", "ll4 fit", "Venetoclax DSS2 (Yadav 2014, threshold 10 %); higher = more sensitive"),
        ("ven_zdss2", "", "ll4 fit", "Venetoclax DSS2 as (x - mean)/(SD + 1) against the cohort's diagnosis samples"),
        ("aza_auc", "% x log10(uM)", "probit fit", "Azacitidine AUC (0.0137-10 uM, maximum 286.3)"),
        ("aza_ic50_um", "uM", "probit fit", "Azacitidine IC50, clamped to the tested range"),
        ("aza_dss2", "", "ll4 fit", "Azacitidine DSS2"),
        ("azaven_bliss_mean", "% inhibition", "dose matrix", "Mean Bliss excess over the 49 combination cells"),
        ("azaven_hsa_mean", "% inhibition", "dose matrix", "Mean HSA excess over the combination cells"),
        ("azaven_loewe_mean", "% inhibition", "dose matrix", "Mean Loewe excess over the combination cells"),
        ("azaven_zip_mean", "% inhibition", "dose matrix", "Mean ZIP delta over the combination cells"),
        ("azaven_zip_max", "% inhibition", "dose matrix", "Largest ZIP delta of the matrix"),
        ("azaven_max_inhibition", "%", "dose matrix", "Highest observed inhibition in the combination cells"),
    ],
    columns=["name", "unit", "source", "definition"],
)


def sample_features(samples: pd.DataFrame, result: dict) -> pd.DataFrame:
    """One row per DST sample with the features of :data:`FEATURE_DICTIONARY` (NaN where QC failed)."""
    has = has_assay(samples["assays"], "dst")
    out = samples.loc[has, ["sample_id", "patient_id", "timepoint"]].reset_index(drop=True)
    qc = result["qc"].groupby("sample_id").agg(dst_qc_pass=("qc_pass", "max"), dst_z_prime=("z_prime", "max"))
    out = out.join(qc, on="sample_id")
    out["dst_qc_pass"] = out["dst_qc_pass"].fillna(0).astype(int)
    f = result["fits"]
    dx = out.loc[out["timepoint"] == "diagnosis", "sample_id"]
    ven = f[f["drug"] == "Venetoclax"]
    ref = ven[ven["sample_id"].isin(dx)]
    ven = selective_dss(ven, ref)
    for prefix, d in (("ven", ven), ("aza", f[f["drug"] == "Azacitidine"])):
        cols = {"auc": f"{prefix}_auc", "ic50_uM": f"{prefix}_ic50_um", "dss2": f"{prefix}_dss2"}
        if prefix == "ven":
            cols["zdss2"] = "ven_zdss2"
        out = out.join(d.set_index("sample_id")[list(cols)].rename(columns=cols), on="sample_id")
    syn = result["synergy"].set_index("sample_id")
    syn_cols = {f"{k}_mean": f"azaven_{k}_mean" for k in ("bliss", "hsa", "loewe", "zip")} | {"zip_max": "azaven_zip_max"}
    out = out.join(syn[list(syn_cols)].rename(columns=syn_cols), on="sample_id")
    cells = result["synergy_cells"]
    comb = cells[(cells["conc_uM"] > 0) & (cells["conc2_uM"] > 0)]
    out = out.join(comb.groupby("sample_id")["inhibition_pct"].max().rename("azaven_max_inhibition"), on="sample_id")
    feature_cols = [c for c in FEATURE_DICTIONARY["name"] if c not in ("sample_id", "patient_id", "timepoint")]
    out.loc[out["dst_qc_pass"] == 0, [c for c in feature_cols if c not in ("dst_qc_pass", "dst_z_prime")]] = np.nan
    return out[list(FEATURE_DICTIONARY["name"])]
