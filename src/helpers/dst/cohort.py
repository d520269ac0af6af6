"""From a cohort's ``dst/`` folder to per-sample features: load, QC, normalise, fit, score, synergy.

Each step is a function of the helpers package; :func:`process_plates` chains them the way the DST notebook and the
command line do (the per-sample feature table read by the integration is :func:`helpers.dst.features.sample_features`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd

from .contract import load_plates
from .fit import fit_curves
from .qc import flag_wells, normalise_plates, plate_qc
from .synergy import synergy_table

__all__ = ["DSTResult", "process_plates", "COMBO"]

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
        """Return the table ``name`` (``result["qc"]`` is ``result.qc``), for code that reads the tables by name.

        Parameters
        ----------
        name
            One of ``wells``, ``qc``, ``fits``, ``synergy_cells``, ``synergy``.

        Returns
        -------
        pandas.DataFrame
            The table.

        Raises
        ------
        KeyError
            ``name`` is not one of the tables.
        """
        if name not in {f.name for f in fields(self)}:
            raise KeyError(name)
        return getattr(self, name)


def process_plates(dst_dir: str | Path, *, samples: pd.DataFrame | None = None, auc_model: str = "probit") -> DSTResult:
    """Run the DST chain on every plate of a cohort.

    Parameters
    ----------
    dst_dir
        The cohort's ``dst/`` folder (``plates.csv``, reader exports, plate maps).
    samples
        samples.csv table (plates must belong to known samples); None skips that check.
    auc_model
        Model for AUC and IC50 (``probit`` as BeatAML, or ``ll4``); DSS always come from the ll4 fit.

    Returns
    -------
    DSTResult
        ``wells`` (normalised, flagged), ``qc`` (per plate), ``fits`` (per sample x drug: ``auc, ic50_uM`` from
        ``auc_model`` and ``dss1-3``, ``top``, ``slope`` from ll4), ``synergy_cells``, ``synergy`` (per sample).
        Wells of failed plates and flagged wells are not fitted. Concentrations are in µM, viabilities in % of the
        plate's DMSO controls.

    Raises
    ------
    ValueError
        ``auc_model`` is neither ``probit`` nor ``ll4``.
    DataContractError
        A file of ``dst_dir`` breaks the DST data contract (:func:`helpers.dst.contract.load_plates`).
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
