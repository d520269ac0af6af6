"""Assembling the integration tables: per-sample features of the four axes plus the clinical data.

Each axis notebook writes ``<output_dir>/features.csv`` (one row per ``sample_id`` with ``patient_id`` and
``timepoint``; patient-level cohorts such as BeatAML key on ``patient_id`` only) and ``features_dictionary.csv``
(``name, unit, source, definition, role, biomarker, direction``: the contract of ``helpers/data/feature_dictionary.yaml``).
This module reads only those two files, checks them against the data contract, and builds

- the longitudinal **sample table**: every sample of ``samples.csv`` with the features measured on it and, per axis,
  an explicit ``status_<axis>`` column (``measured``, ``missing`` when the assay was planned but gave no features, or
  ``not_planned``), so that a missing assay is never confused with a missing value;
- the **patient table**: clinical data, ELN 2024 risk, endpoints, derived genetic groups and the features of the
  diagnosis sample (the pre-treatment biology that a biomarker must use);
- the **data dictionary** of every column of the patient table (name, unit, source, definition, level).

The code is generic over feature columns: which features exist, which are quality control, which one stands for each
pre-specified biomarker of the study and in which direction, is read from the tables and their dictionaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..assays import has_assay
from ..axes import axes, axis_of_assay, check_feature_dictionary, dictionary_spec
from ..clinical import RESPONDER_CATEGORIES, genetic_groups
from ..errors import DataContractError
from ..units import DAYS_PER_MONTH
from ..validation import read_csv_checked

__all__ = [
    "FeatureTable",
    "load_feature_table",
    "collect_features",
    "combined_dictionary",
    "remission_endpoints",
    "genetic_groups",
    "assemble_sample_table",
    "assemble_patient_table",
    "data_dictionary",
    "CLINICAL_DICTIONARY",
    "log_transform_concentrations",
    "find_markers",
    "biomarker_candidates",
    "MARKER_COLUMNS",
]

DICTIONARY_COLUMNS = dictionary_spec().columns
_ID_COLUMNS = ("sample_id", "patient_id", "timepoint")
# Columns an axis may add to identify replicate units (e.g. one row per PDX mouse); not features.
_REPLICATE_ID_COLUMNS = ("pdx_id", "mouse_id", "replicate", "arm", "lab_id", "specimen_id")


@dataclass
class FeatureTable:
    """The features of one axis, checked against the data contract.

    Attributes
    ----------
    axis
        Assay name (``dst``, ``cytometry``, ``scrna``, ``barcoding``).
    table
        One row per key (``sample_id``, or ``patient_id`` for patient-level cohorts); id columns then features.
    dictionary
        ``name, unit, source, definition, role, biomarker, direction`` of every feature column (after renaming, see
        ``renamed``).
    level
        ``"sample"`` or ``"patient"``.
    n_input_rows
        Rows in features.csv before replicate rows (e.g. several PDX per sample) were averaged.
    renamed
        Original name -> name in ``table`` for features renamed to avoid a clash with another axis.
    """

    axis: str
    table: pd.DataFrame
    dictionary: pd.DataFrame
    level: str
    n_input_rows: int
    renamed: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The key column: ``sample_id`` or ``patient_id``."""
        return "sample_id" if self.level == "sample" else "patient_id"

    @property
    def features(self) -> list[str]:
        """The feature columns of :attr:`table` (every column but the ids)."""
        return [c for c in self.table.columns if c not in _ID_COLUMNS]


def _read(path: Path, **kw: Any) -> pd.DataFrame:
    # Feature tables are written by the axis notebooks, where pandas writes missing values as NA/NaN.
    return read_csv_checked(path, na_values=["", "NA", "NaN", "nan"], **kw)


def load_feature_table(folder: str | Path, *, axis: str) -> FeatureTable:
    """Read and check ``<folder>/features.csv`` and ``<folder>/features_dictionary.csv`` of one axis.

    Parameters
    ----------
    folder
        Output folder of the axis notebook.
    axis
        Assay name, recorded as the source of every feature.

    Returns
    -------
    FeatureTable
        Numeric features only (text columns other than the ids are dropped: the integration models numbers); rows
        that repeat a key (replicate units such as PDX mice) are averaged per key.

    Raises
    ------
    DataContractError
        Missing id column, an empty or duplicated key that cannot be averaged, a feature column without a dictionary
        entry, a dictionary that breaks its contract (:func:`helpers.axes.check_feature_dictionary`: columns, role,
        biomarker, direction), or a feature whose values are not numbers.
    """
    folder = Path(folder)
    fpath, dpath = folder / "features.csv", folder / "features_dictionary.csv"
    df = _read(fpath, dtype={"sample_id": str, "patient_id": str, "timepoint": str})
    dic = _read(dpath, dtype=str)
    try:
        registered = axis_of_assay(axis)
    except KeyError:
        registered = None  # an axis outside the registry: its roles are not checked against a declaration
    check_feature_dictionary(dic, dpath, axis=registered)
    dic[["biomarker", "direction"]] = dic[["biomarker", "direction"]].fillna("")
    if "patient_id" not in df.columns:
        raise DataContractError(fpath, "missing required column 'patient_id'", column="patient_id")
    level = "sample" if "sample_id" in df.columns else "patient"
    key = "sample_id" if level == "sample" else "patient_id"
    if level == "sample" and "timepoint" not in df.columns:
        raise DataContractError(fpath, "a per-sample table needs a 'timepoint' column", column="timepoint")
    for col in (key, "patient_id"):
        empty = df.index[df[col].isna()]
        if len(empty):
            raise DataContractError(fpath, "empty identifier", row=int(empty[0]) + 2, column=col)
    ids = [c for c in _ID_COLUMNS if c in df.columns]
    reps = [c for c in _REPLICATE_ID_COLUMNS if c in df.columns]
    feats = [c for c in df.columns if c not in ids and c not in reps]
    documented = set(dic["name"].dropna())
    for c in feats:
        if c not in documented:
            raise DataContractError(dpath, f"feature {c!r} of {fpath.name} has no dictionary entry", column="name")
    numeric = []
    for c in feats:
        col = df[c]
        if pd.api.types.is_bool_dtype(col):
            df[c] = col.astype(float)
        elif not pd.api.types.is_numeric_dtype(col):
            conv = pd.to_numeric(col, errors="coerce")
            bad = col.notna() & conv.isna()
            if bad.all():
                continue  # a text annotation column (documented): not a model feature
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataContractError(fpath, f"expected a number, got {col.iloc[i]!r}", row=i + 2, column=c)
            df[c] = conv
        numeric.append(c)
    n_input = len(df)
    if df[key].duplicated().any():
        # Replicate units (one row per PDX mouse, per arm...) are averaged per key; the id columns must agree.
        for col in ids:
            if col == key:
                continue
            nun = df.groupby(key)[col].nunique()
            if (nun > 1).any():
                k = nun.index[nun > 1][0]
                i = int(np.flatnonzero((df[key] == k).to_numpy())[1])
                raise DataContractError(fpath, f"{key} {k!r} appears with different {col} values", row=i + 2, column=col)
        first = df.groupby(key, sort=False)[[c for c in ids if c != key]].first()
        means = df.groupby(key, sort=False)[numeric].mean()
        df = first.join(means).reset_index()
    table = df[[*ids, *numeric]].reset_index(drop=True)
    d = dic.drop_duplicates("name").set_index("name").reindex(numeric).reset_index()[list(DICTIONARY_COLUMNS)]
    d["source"] = [f"{axis}: {s}" if isinstance(s, str) and s and s != axis else axis for s in d["source"]]
    return FeatureTable(axis=axis, table=table, dictionary=d, level=level, n_input_rows=n_input)


def combined_dictionary(features: dict[str, FeatureTable]) -> pd.DataFrame:
    """Stack the dictionaries of all loaded axes into one table.

    Parameters
    ----------
    features
        Assay -> :class:`FeatureTable`, in registry order.

    Returns
    -------
    pandas.DataFrame
        ``name, unit, source, definition, role, biomarker, direction``, axis after axis.
    """
    parts = [ft.dictionary for ft in features.values()]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(DICTIONARY_COLUMNS))


def collect_features(upstream_dirs: dict[str, str | Path]) -> tuple[dict[str, FeatureTable], pd.DataFrame]:
    """Load the feature tables of whichever upstream axes produced one.

    Parameters
    ----------
    upstream_dirs
        Upstream notebook name (``01_dst``...) -> its output folder (absolute or already resolved); each axis of the
        registry (:func:`helpers.axes.axes`) is looked up by its notebook.

    Returns
    -------
    features
        Assay name -> :class:`FeatureTable`, in registry order. Feature names that clash across axes are prefixed
        with the assay name (``scrna_bcl2_score``).
    status
        One row per known axis: ``axis, notebook, status`` (``loaded`` / ``no features.csv`` / ``not run``),
        ``rows``, ``features``.
    """
    out: dict[str, FeatureTable] = {}
    rows = []
    for registered in axes():
        nb, axis = registered.notebook, registered.assay
        folder = upstream_dirs.get(nb)
        if folder is None:
            rows.append({"axis": axis, "notebook": nb, "status": "not run", "rows": 0, "features": 0})
            continue
        folder = Path(folder)
        if not (folder / "features.csv").is_file():
            rows.append({"axis": axis, "notebook": nb, "status": "no features.csv", "rows": 0, "features": 0})
            continue
        ft = load_feature_table(folder, axis=axis)
        out[axis] = ft
        rows.append({"axis": axis, "notebook": nb, "status": "loaded", "rows": len(ft.table),
                     "features": len(ft.features)})  # fmt: skip
    # Disambiguate names used by more than one axis.
    seen: dict[str, list[str]] = {}
    for axis, ft in out.items():
        for f in ft.features:
            seen.setdefault(f, []).append(axis)
    for axis, ft in out.items():
        ren = {f: f"{axis}_{f}" for f in ft.features if len(seen[f]) > 1}
        if ren:
            ft.table = ft.table.rename(columns=ren)
            ft.dictionary["name"] = ft.dictionary["name"].replace(ren)
            ft.renamed = ren
    return out, pd.DataFrame(rows)



def remission_endpoints(clinical: pd.DataFrame) -> pd.DataFrame:
    """Endpoints measured from remission (responders only; missing for primary-resistant patients).

    - ``relapse_months`` / ``relapse_event``: cause-specific time to relapse (deaths without relapse censored): the
      hazard that adaptive resistance acts on.
    - ``os_rem_months`` / ``os_rem_event``: overall survival from the response date.
    - ``relapse_cause``: 1 relapse, 2 death in remission (competing risk), 0 censored, at ``relapse_months``.

    Relapse-free survival (relapse or death) is ``rfs_months`` / ``rfs_event`` of :func:`helpers.clinical.clinical_endpoints`.

    Parameters
    ----------
    clinical
        Clinical table with ``response_date``, ``relapse_date``, ``last_followup_date``, ``relapse``,
        ``best_response`` and ``vital_status``.

    Returns
    -------
    pandas.DataFrame
        The five columns above, indexed like ``clinical``.
    """
    r = pd.to_datetime(clinical["response_date"])
    rel = pd.to_datetime(clinical["relapse_date"])
    fu = pd.to_datetime(clinical["last_followup_date"])
    relapsed = clinical["relapse"] == 1
    responder = r.notna() & clinical["best_response"].isin(RESPONDER_CATEGORIES)
    month = DAYS_PER_MONTH
    return pd.DataFrame(
        {
            "relapse_months": ((rel.where(relapsed, fu) - r).dt.days / month).where(responder),
            "relapse_event": relapsed.astype(float).where(responder),
            "os_rem_months": ((fu - r).dt.days / month).where(responder),
            "os_rem_event": (clinical["vital_status"] == "dead").astype(float).where(responder),
            # Competing-risk coding: 1 relapse, 2 death in remission, 0 censored.
            "relapse_cause": pd.Series(
                np.where(relapsed, 1.0, np.where(clinical["vital_status"] == "dead", 2.0, 0.0)), index=clinical.index
            ).where(responder),
        },
        index=clinical.index,
    )


def _status(samples: pd.DataFrame, measured: pd.Series, axis: str) -> pd.Series:
    planned = has_assay(samples["assays"], axis)
    return pd.Series(
        np.where(measured, "measured", np.where(planned, "missing", "not_planned")), index=samples.index, dtype=str
    )


def assemble_sample_table(samples: pd.DataFrame, features: dict[str, FeatureTable]) -> pd.DataFrame:
    """Build the longitudinal table: every sample with its features and an explicit status per axis.

    Parameters
    ----------
    samples
        Validated samples.csv (:func:`helpers.clinical.load_samples`).
    features
        Per-sample feature tables (patient-level tables are ignored here).

    Returns
    -------
    pandas.DataFrame
        ``sample_id, patient_id, timepoint, collection_date``, then per axis ``status_<axis>`` and its features.

    Raises
    ------
    DataContractError
        A feature row whose sample is not in samples.csv, or whose patient or timepoint disagrees with it.
    """
    out = samples[["sample_id", "patient_id", "timepoint", "collection_date"]].copy()
    ref = samples.set_index("sample_id")
    for axis, ft in features.items():
        if ft.level != "sample":
            continue
        t = ft.table
        path = f"{axis} features.csv"
        unknown = ~t["sample_id"].isin(ref.index)
        if unknown.any():
            i = int(np.flatnonzero(unknown.to_numpy())[0])
            raise DataContractError(path, f"sample {t['sample_id'].iloc[i]!r} is not in samples.csv", row=i + 2,
                                    column="sample_id")  # fmt: skip
        for col in ("patient_id", "timepoint"):
            bad = t[col].to_numpy() != ref.loc[t["sample_id"], col].to_numpy()
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise DataContractError(
                    path, f"{col} {t[col].iloc[i]!r} disagrees with samples.csv "
                    f"({ref.loc[t['sample_id'].iloc[i], col]!r})", row=i + 2, column=col,
                )  # fmt: skip
        out[f"status_{axis}"] = _status(samples, samples["sample_id"].isin(t["sample_id"]), axis).to_numpy()
        out = out.merge(t.drop(columns=["patient_id", "timepoint"]), on="sample_id", how="left")
    return out


def assemble_patient_table(
    clinical: pd.DataFrame,
    samples: pd.DataFrame | None,
    features: dict[str, FeatureTable],
    *,
    timepoint: str = "diagnosis",
) -> pd.DataFrame:
    """Build the patient table: clinical data, endpoints, genetic groups and the features of one timepoint.

    Parameters
    ----------
    clinical
        Clinical table with ELN 2024 and endpoints (:func:`helpers.clinical.load_cohort_tables`).
    samples
        Validated samples.csv, or None for patient-level cohorts.
    features
        Feature tables by assay (sample- or patient-level).
    timepoint
        Which sample's features describe the patient (pre-treatment: ``diagnosis``).

    Returns
    -------
    pandas.DataFrame
        Clinical columns, ``signalling``, ``npm1_or_idh``, remission endpoints, then per axis ``status_<axis>``
        followed by its features (missing where the assay was not done or failed); one row per patient.

    Raises
    ------
    DataContractError
        Per-sample features given without a samples table.
    """
    pt = clinical.copy()
    groups = genetic_groups(pt)
    for c in groups:
        if c not in pt:
            pt[c] = groups[c]
    if {"response_date", "relapse_date", "last_followup_date"} <= set(pt.columns):
        pt = pt.join(remission_endpoints(pt))
    if "mrd_pct" in pt and "log10_mrd" not in pt:
        # Flow MRD spans decades; 0 (undetectable) is floored at 0.001 %, below the assay's usual sensitivity.
        pt["log10_mrd"] = np.log10(pt["mrd_pct"].clip(lower=1e-3))
    if {"TP53", "FLT3_ITD", "NRAS", "KRAS"} <= set(pt.columns) and "eln2024_rule" not in pt:
        from ..clinical import eln2024_rules

        pt["eln2024_rule"] = eln2024_rules(pt)["eln2024_rule"].to_numpy()
    for axis, ft in features.items():
        t = ft.table
        if ft.level == "sample":
            if samples is None:
                raise DataContractError(f"{axis} features.csv", "per-sample features need samples.csv")
            # Flow MRD is measured in the remission marrow: a clinical column of the patient, not a feature of the
            # diagnosis sample (the cytometry axis writes it at the remission sample).
            flow = [c for c in t.columns if c.startswith("mrd_flow_")]
            if flow:
                rem = t.loc[t["timepoint"] == "remission", ["patient_id", *flow]].groupby("patient_id").first()
                pt = pt.merge(rem.reset_index(), on="patient_id", how="left")
                t = t.drop(columns=flow)
            t = t[t["timepoint"] == timepoint]
            keep = samples.loc[samples["timepoint"] == timepoint, ["patient_id", "assays"]]
            # If a patient had several samples at this timepoint, average them (rare: repeat aspirates).
            t = t.drop(columns=["sample_id", "timepoint"]).groupby("patient_id", sort=False).mean().reset_index()
            planned = has_assay(keep["assays"], axis).groupby(keep["patient_id"]).any()
        else:
            t = t.drop(columns=[c for c in ("timepoint",) if c in t])
            planned = pd.Series(True, index=t["patient_id"].unique())
        unknown = ~t["patient_id"].isin(pt["patient_id"])
        if unknown.any():
            i = int(np.flatnonzero(unknown.to_numpy())[0])
            raise DataContractError(f"{axis} features.csv", f"patient {t['patient_id'].iloc[i]!r} is not in the "
                                    "clinical table", row=i + 2, column="patient_id")  # fmt: skip
        measured = pt["patient_id"].isin(t["patient_id"]).to_numpy()
        plan = pt["patient_id"].map(planned).fillna(False).astype(bool).to_numpy()
        pt[f"status_{axis}"] = np.where(measured, "measured", np.where(plan, "missing", "not_planned"))
        pt = pt.merge(t, on="patient_id", how="left")
    return pt.reset_index(drop=True)


# Definitions of the clinical and derived columns of the patient table.
CLINICAL_DICTIONARY = {
    "patient_id": ("", "clinical", "Patient identifier"),
    "age": ("years", "clinical", "Age at diagnosis"),
    "sex": ("", "clinical", "Sex (F/M)"),
    "karyotype": ("", "clinical", "Karyotype class (normal, intermediate_other, complex, unknown)"),
    "fab": ("", "clinical", "FAB morphological subtype"),
    "monocytic": ("0/1", "clinical", "Monocytic leukemia (FAB M4/M5)"),
    "bm_blast_pct": ("%", "clinical", "Bone-marrow blasts at diagnosis"),
    "diagnosis_date": ("date", "clinical", "Date of diagnosis"),
    "best_response": ("", "clinical", "Best response to AZA/VEN, ELN 2022 (CR, CRh, CRi, MLFS, PR, refractory, "
                      "early_death)"),
    "response_date": ("date", "clinical", "Date of CR/CRh/CRi"),
    "death_date": ("date", "clinical", "Date of death (empty when alive)"),
    "mrd_pct": ("% of leukocytes", "clinical", "Flow MRD in the remission marrow (responders)"),
    "mrd_positive": ("0/1", "clinical", "Flow MRD >= 0.1 % of leukocytes (ELN 2021 MRD threshold)"),
    "cr_crh": ("0/1", "derived: clinical", "CR or CRh (ELN 2022)"),
    "early_death_30": ("0/1", "derived: clinical", "Death within 30 days of diagnosis"),
    "early_death_60": ("0/1", "derived: clinical", "Death within 60 days of diagnosis"),
    "eln2024_rule": ("", "derived: genetics", "Rule of ELN 2024 (Dohner et al. 2024, Table 1) deciding the class"),
    "log10_mrd": ("log10 % of leukocytes", "derived: clinical", "log10 of flow MRD at remission"),
    "mrd_flow_pct": ("% of CD45+ cells", "cytometry", "Flow MRD measured by the cytometry axis in the remission marrow "
                     "(LAIP / different-from-normal; empty under the ELN 2021 limit of detection)"),
    "mrd_flow_events": ("count", "cytometry", "Aberrant events behind mrd_flow_pct"),
    "mrd_flow_cd45_events": ("count", "cytometry", "CD45+ events of the remission MRD tube"),
    "mrd_flow_lod_pct": ("% of CD45+ cells", "cytometry", "Limit of detection of the remission MRD tube (20 events)"),
    "relapse": ("0/1", "clinical", "Relapse after CR/CRi"),
    "relapse_date": ("date", "clinical", "Date of relapse"),
    "last_followup_date": ("date", "clinical", "Date of death or last follow-up"),
    "vital_status": ("", "clinical", "alive / dead at last follow-up"),
    "eln2024": ("", "derived: genetics", "ELN 2024 genetic risk for less-intensive therapy (Dohner et al. 2024)"),
    "responder": ("0/1", "derived: clinical", "CR, CRh or CRi (composite complete remission)"),
    "primary_resistant": ("0/1", "derived: clinical", "No CR/CRh/CRi, early deaths included (primary resistance)"),
    "rfs_months": ("months", "derived: clinical", "Relapse-free survival from CR/CRi (relapse or death)"),
    "rfs_event": ("0/1", "derived: clinical", "Relapse or death (RFS event)"),
    "os_months": ("months", "derived: clinical", "Overall survival from diagnosis"),
    "os_event": ("0/1", "derived: clinical", "Death"),
    "response_group": ("", "derived: clinical", "primary_resistant, responder_relapsed or responder_ongoing"),
    "signalling": ("0/1", "derived: genetics", "FLT3-ITD, NRAS, KRAS or PTPN11 mutated"),
    "npm1_or_idh": ("0/1", "derived: genetics", "NPM1, IDH1 or IDH2 mutated"),
    "relapse_months": ("months", "derived: clinical", "Time from CR/CRi to relapse (deaths censored)"),
    "relapse_event": ("0/1", "derived: clinical", "Relapse (cause-specific event)"),
    "os_rem_months": ("months", "derived: clinical", "Overall survival from CR/CRi"),
    "os_rem_event": ("0/1", "derived: clinical", "Death after CR/CRi"),
    "relapse_cause": ("0/1/2", "derived: clinical", "At relapse_months: 1 relapse, 2 death in remission, 0 censored"),
}
_GENE_NAMES = {"FLT3_ITD": "FLT3 internal tandem duplication"}


def data_dictionary(
    table: pd.DataFrame, features: dict[str, FeatureTable] | pd.DataFrame, *, level: str = "patient"
) -> pd.DataFrame:
    """Describe every column of an integration table (its data dictionary).

    Parameters
    ----------
    table
        Patient or sample table from this module.
    features
        The feature tables whose dictionaries describe the feature columns, or one combined dictionary table
        (``name, unit, source, definition``).
    level
        Written in the ``level`` column (``patient`` or ``sample``).

    Returns
    -------
    pandas.DataFrame
        ``name, unit, source, definition, level, n_available``; columns no dictionary knows are described as such
        rather than silently dropped.
    """
    known = {}
    dics = [features] if isinstance(features, pd.DataFrame) else [ft.dictionary for ft in features.values()]
    for dic in dics:
        for r in dic.itertuples(index=False):
            known[r.name] = (r.unit if isinstance(r.unit, str) else "", r.source, r.definition)
    rows = []
    for c in table.columns:
        if c in known:
            unit, src, definition = known[c]
        elif c in CLINICAL_DICTIONARY:
            unit, src, definition = CLINICAL_DICTIONARY[c]
        elif c.startswith("status_"):
            unit, src, definition = "", c[7:], "Assay status: measured, missing (planned, no result) or not_planned"
        elif c in _GENE_NAMES or c.isupper():
            unit, src, definition = "0/1", "clinical: genetics", f"{_GENE_NAMES.get(c, c)} mutated"
        elif c == "sample_id":
            unit, src, definition = "", "samples", "Sample identifier"
        elif c == "timepoint":
            unit, src, definition = "", "samples", "diagnosis, remission or relapse"
        elif c == "collection_date":
            unit, src, definition = "date", "samples", "Date of sample collection"
        else:
            unit, src, definition = "", "unknown", "not documented by any dictionary"
        rows.append({"name": c, "unit": unit, "source": src, "definition": definition, "level": level,
                     "n_available": int(table[c].notna().sum())})  # fmt: skip
    return pd.DataFrame(rows)


_CONC_UNITS = {"um", "µm", "nm", "mm", "m", "ug/ml", "ng/ml", "umol/l", "nmol/l"}

def log_transform_concentrations(
    table: pd.DataFrame, dictionary: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Add ``log10_<name>`` for positive features measured in concentration units (IC50s are log-normal).

    Parameters
    ----------
    table
        Patient or sample table.
    dictionary
        The feature dictionary (:func:`combined_dictionary`).

    Returns
    -------
    table
        With the new columns.
    dictionary
        With one entry per new column (its role, biomarker and direction those of the original feature).
    mapping
        Original feature -> its log10 column (use the log10 column in models).
    """
    out, mapping, extra = table.copy(), {}, []
    for r in dictionary.itertuples(index=False):
        unit = str(r.unit).strip().lower() if isinstance(r.unit, str) else ""
        if r.name in out and unit in _CONC_UNITS:
            x = pd.to_numeric(out[r.name], errors="coerce")
            if (x.dropna() > 0).all() and x.notna().any():
                out[f"log10_{r.name}"] = np.log10(x)
                mapping[r.name] = f"log10_{r.name}"
                extra.append({"name": f"log10_{r.name}", "unit": f"log10 {r.unit}", "source": r.source,
                              "definition": f"log10 of {r.name}: {r.definition}", "role": r.role,
                              "biomarker": r.biomarker, "direction": r.direction})  # fmt: skip
    dic = pd.concat([dictionary, pd.DataFrame(extra, columns=list(DICTIONARY_COLUMNS))], ignore_index=True)
    return out, dic, mapping


def biomarker_candidates(dictionary: pd.DataFrame, columns: list[str]) -> list[str]:
    """Feature columns that describe the leukemia, leaving out quality-control read-outs (Z', QC flags, counts).

    QC columns (dictionary ``role`` ``qc``) stay in the tables, where they explain missing values, but are not screened
    as biomarkers.

    Parameters
    ----------
    dictionary
        Feature dictionary (``name`` and ``role``; :func:`combined_dictionary`).
    columns
        Candidate columns, in the order to keep.

    Returns
    -------
    list of str
        ``columns`` without the QC and id columns (columns the dictionary does not know are kept).
    """
    role = dict(zip(dictionary["name"], dictionary["role"].fillna("").astype(str), strict=False))
    return [c for c in columns if role.get(c, "") not in ("qc", "id")]


MARKER_COLUMNS = ["biomarker", "feature", "direction", "n_measured"]


def find_markers(table: pd.DataFrame, candidates: list[str], dictionary: pd.DataFrame, *,
                 min_n: int = 10) -> pd.DataFrame:  # fmt: skip
    """Name the feature that stands for each of the study's pre-specified biomarkers, with its direction.

    The axes' dictionaries name the feature that carries a biomarker (column ``biomarker``) and what a higher value
    is expected to mean (``direction``: ``resistant``, ``sensitive`` or empty). Where several axes carry the same
    biomarker, the first axis of the registry whose feature has enough measurements wins (the dictionary's row order).

    Parameters
    ----------
    table
        Patient (or sample) table.
    candidates
        Feature columns to choose from (e.g. every non-QC feature of the axes, log10 columns in place of their
        concentration originals).
    dictionary
        The combined feature dictionary (:func:`combined_dictionary`, or the output of
        :func:`log_transform_concentrations`, whose log10 columns inherit their original's biomarker).
    min_n
        A feature needs at least this many measured rows of ``table``.

    Returns
    -------
    pandas.DataFrame
        ``biomarker, feature, direction, n_measured``, one row per biomarker found, in the order of the study's list
        (:func:`helpers.axes.dictionary_spec`); a cohort without an axis simply lacks its biomarkers.
    """
    usable = {c for c in candidates if c in table and int(table[c].notna().sum()) >= min_n}
    carriers = dictionary[dictionary["biomarker"].fillna("").astype(str) != ""]
    rows = []
    for biomarker in dictionary_spec().biomarkers:
        hits = carriers[(carriers["biomarker"] == biomarker) & carriers["name"].isin(usable)]
        if len(hits):
            r = hits.iloc[0]
            direction = r["direction"] if isinstance(r["direction"], str) else ""
            rows.append({"biomarker": biomarker, "feature": r["name"], "direction": direction,
                         "n_measured": int(table[r["name"]].notna().sum())})  # fmt: skip
    return pd.DataFrame(rows, columns=MARKER_COLUMNS)
