"""The tubes beside the gated functional panels.

Dye dilution (``PROLIF``), flow MRD at remission (``MRD``) and the reference controls that standardise intensities
across acquisition batches.

- :func:`proliferation_readouts` / :func:`proliferation_features`: every PROLIF tube of a sample against its day-0
  reference and unstained control (:func:`helpers.cytometry.proliferation.proliferation_table`), then per sample the
  division index of each arm, the percent divided and the model-free median-dilution estimate of the untreated arm,
  and the dye-dilution proliferation arrest under each drug.
- :func:`load_reference_controls`: ``reference_controls.csv`` (``file, batch, panel, role``), the tubes that are not
  patient samples: an aliquot of one control marrow acquired in every batch (``batch_control``) and a normal marrow
  as the reference of the MRD analysis (``normal_reference``).
- :func:`batch_normalised_mfi`: reference-sample quantile normalisation (:class:`QuantileNormaliser`, CytoNorm-like)
  fitted on the batch controls and applied to the MFI table. A median commutes with a monotone map (exactly for an
  odd number of events, to interpolation between two neighbours otherwise), so mapping a tube's median is mapping its
  events and taking their median; no second pass over the files is needed.
- :func:`mrd_readouts`: per remission tube, the LAIP of the patient's diagnosis tube against the normal reference's
  progenitors, the LAIP-aberrant events of the remission progenitors (different-from-normal when the diagnosis shows
  no LAIP), and MRD % of CD45+ cells with its ELN 2021 category (:func:`helpers.cytometry.mrd.mrd_call`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataContractError
from ..safepaths import confined_path
from ..validation import read_csv_checked
from .fcs import read_fcs
from .gating import Strategy, apply_strategy, compensate_for, load_strategy
from .mrd import ELN_LIMITS, dfn_events, laip_events, laip_profile, mrd_call
from .normalise import QuantileNormaliser
from .privacy import tube_id
from .proliferation import proliferation_table

__all__ = [
    "CONTROL_ROLES",
    "TUBE_FEATURES",
    "load_reference_controls",
    "proliferation_readouts",
    "proliferation_features",
    "batch_normalised_mfi",
    "normalised_features",
    "mrd_readouts",
]

CONTROL_ROLES = ("batch_control", "normal_reference")
_ARMS = {"untreated": "untreated", "VEN": "ven", "AZA": "aza", "AZA+VEN": "azaven"}

# name: (unit, definition, role, direction)
TUBE_FEATURES = {
    **{f"dye_division_index_{k}": ("divisions per precursor", f"CFSE division index (Roederer 2011), {arm} arm",
                                   "proliferation", "higher = more divisions")
       for arm, k in _ARMS.items()},  # fmt: skip
    "dye_percent_divided_untreated": ("% of precursors", "CFSE: precursors that divided at least once, untreated",
                                      "proliferation", "higher = more cells cycling"),
    "dye_proliferation_index_untreated": ("divisions per dividing precursor", "CFSE proliferation index, untreated",
                                          "proliferation", "higher = faster division of the responders"),
    "dye_median_divisions_untreated": ("divisions", "log2((day0 - af) / (sample - af)) on medians, untreated",
                                       "proliferation", "higher = more divisions"),
    **{f"dye_prolif_arrest_{k}": ("%", f"100 (1 - division index under {arm} / untreated), CFSE",
                                  "drug_effect", "higher = stronger arrest by the drug")
       for arm, k in _ARMS.items() if arm != "untreated"},  # fmt: skip
    "lsc_bcl2_mfi_norm": ("MFI (batch-normalised)", "lsc_bcl2_mfi after reference-sample quantile normalisation",
                          "bcl2_family", "higher = more BCL2"),
    "lsc_bclxl_mfi_norm": ("MFI (batch-normalised)", "lsc_bclxl_mfi after reference-sample quantile normalisation",
                           "bcl2_family", "higher = more BCL-xL"),
    "lsc_mcl1_mfi_norm": ("MFI (batch-normalised)", "lsc_mcl1_mfi after reference-sample quantile normalisation",
                          "bcl2_family", "higher = more MCL1"),
    "bcl2_family_score_norm": ("log2 ratio", "log2(BCL2 / sqrt(BCL-xL x MCL1)) on the batch-normalised LSC MFIs "
                               "(not the published MAC-Score)", "bcl2_family", "higher = more BCL2-dependent"),
    "mrd_flow_pct": ("% of CD45+ cells", "flow MRD in the remission marrow (LAIP, else different-from-normal); "
                     "empty under the ELN limit of detection", "mrd", "higher = more residual leukemia"),
    "mrd_flow_events": ("count", "aberrant events counted for mrd_flow_pct", "mrd", "higher = more residual leukemia"),
    "mrd_flow_cd45_events": ("count", "CD45+ events of the MRD tube (ELN: >= 500 000 for a negative call)", "qc", ""),
    "mrd_flow_lod_pct": ("% of CD45+ cells", "limit of detection of this tube: 20 events / CD45+ events", "qc", ""),
}


def load_reference_controls(folder: str | Path) -> pd.DataFrame | None:
    """Read ``<cytometry>/reference_controls.csv`` (None when the folder has none).

    Parameters
    ----------
    folder
        The cohort's ``cytometry`` folder.

    Returns
    -------
    pandas.DataFrame or None
        The table as text (``file, batch, panel, role`` and any other columns; empty cells as ``""``) plus ``path``,
        each file resolved inside ``folder``; None when the file is absent.

    Raises
    ------
    DataContractError
        Missing column, unknown role, a batch control without a batch, or a listed file that does not exist; the
        message names the row and column.
    """
    path = Path(folder) / "reference_controls.csv"
    if not path.is_file():
        return None
    df = read_csv_checked(path, dtype=str).fillna("")
    for col in ("file", "batch", "panel", "role"):
        if col not in df.columns:
            raise DataContractError(path, f"missing required column '{col}'", column=col)
    for i, r in df.iterrows():
        if r["role"] not in CONTROL_ROLES:
            raise DataContractError(path, f"role '{r['role']}' is not one of {CONTROL_ROLES}", row=int(i) + 2,
                                    column="role")  # fmt: skip
        if r["role"] == "batch_control" and not r["batch"]:
            raise DataContractError(path, "a batch control needs its batch", row=int(i) + 2, column="batch")
    df["path"] = [str(confined_path(path.parent, f, sheet=path, row=i + 2, column="file")) for i, f in enumerate(df["file"])]
    for i, p in enumerate(df["path"]):
        if not Path(p).is_file():
            raise DataContractError(path, f"listed FCS file does not exist: {df['file'].iat[i]}", row=i + 2, column="file")
    return df


def proliferation_readouts(sheet: pd.DataFrame, *, channel: str = "CFSE", dilution: float = 2.0,
                           min_fsc: float | None = 35000.0) -> pd.DataFrame:  # fmt: skip
    """Compute the dye-dilution read-outs of every cultured PROLIF tube of the sheet (one row per tube, by tube id).

    Parameters
    ----------
    sheet
        Validated sample sheet with ``path``; each sample's PROLIF tubes need a ``day0`` reference (and may have an
        ``unstained`` control) beside the cultured conditions.
    channel
        The dye's marker or detector name.
    dilution
        Dye ratio between a mother and a daughter cell.
    min_fsc
        FSC-A threshold of the debris gate (None: keep every event).

    Returns
    -------
    pandas.DataFrame
        ``tube_id, sample_id, condition`` and the columns of :func:`proliferation_table` (without the file name).
    """
    prolif = sheet[sheet["panel"] == "PROLIF"]
    frames = []
    for sid, grp in prolif.groupby("sample_id", sort=True):
        by = grp.set_index("condition")["path"]
        arms = [c for c in _ARMS if c in by.index]
        if not arms:
            continue
        t = proliferation_table([by[c] for c in arms], channel, by["day0"],
                                unstained=by.get("unstained"), dilution=dilution, min_fsc=min_fsc)  # fmt: skip
        t.insert(0, "condition", arms)
        t.insert(0, "sample_id", sid)
        t.insert(0, "tube_id", [tube_id(sid, "PROLIF", c) for c in arms])
        frames.append(t.drop(columns="file"))
    if not frames:
        return pd.DataFrame(columns=["tube_id", "sample_id", "condition"])
    out = pd.concat(frames, ignore_index=True)
    gens = [c for c in out.columns if c.startswith("gen_")]
    return out.fillna({c: 0.0 for c in gens})


def proliferation_features(table: pd.DataFrame) -> pd.DataFrame:
    """Summarise the dye-dilution read-outs per sample (see :data:`TUBE_FEATURES`).

    Parameters
    ----------
    table
        :func:`proliferation_readouts` output.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``sample_id``: the ``dye_*`` columns of :data:`TUBE_FEATURES` (division index per arm, untreated
        percent divided, proliferation index and median divisions, and the drug arms' % arrest of the division
        index against untreated).
    """
    cols = [c for c in TUBE_FEATURES if c.startswith("dye_")]
    if table.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="sample_id"))
    di = table.pivot(index="sample_id", columns="condition", values="division_index")
    f = pd.DataFrame(index=di.index)
    for arm, k in _ARMS.items():
        f[f"dye_division_index_{k}"] = di[arm] if arm in di else np.nan
    un = table[table["condition"] == "untreated"].set_index("sample_id")
    f["dye_percent_divided_untreated"] = un["percent_divided"]
    f["dye_proliferation_index_untreated"] = un["proliferation_index"]
    f["dye_median_divisions_untreated"] = un["median_divisions"]
    base = f["dye_division_index_untreated"].where(f["dye_division_index_untreated"] > 0)
    for arm, k in _ARMS.items():
        if arm != "untreated":
            f[f"dye_prolif_arrest_{k}"] = 100 * (1 - f[f"dye_division_index_{k}"] / base)
    return f[cols]


def _control_events(path: str, strategy: Strategy, markers: list[str], gate: str | None = None) -> pd.DataFrame:
    data = compensate_for(strategy, read_fcs(path))
    if gate is None:
        return pd.DataFrame({m: data.events[:, data.column(m)] for m in markers})
    outcome, _ = apply_strategy(data, strategy, compensated=True)
    m = outcome.membership[gate]
    return pd.DataFrame({k: data.events[m, data.column(k)] for k in markers})


def batch_normalised_mfi(mfi: pd.DataFrame, sheet: pd.DataFrame, controls: pd.DataFrame, *,
                         markers: tuple[str, ...] = ("BCL2", "BCL-xL", "MCL1"), panel: str = "PHENO",
                         strategy: str | Path | Strategy = "aml_functional",
                         cofactor: float = 150.0) -> tuple[pd.DataFrame, QuantileNormaliser]:  # fmt: skip
    """Normalise the MFIs of ``markers`` in ``panel`` tubes by the reference sample acquired in every batch.

    Parameters
    ----------
    mfi
        The MFI table of :func:`helpers.cytometry.process_files` (``tube_id``, ``panel``, ``marker``, ``median``).
    sheet
        The sample sheet with its ``batch`` column.
    controls
        :func:`load_reference_controls`; its ``batch_control`` rows of ``panel`` are the reference sample.
    markers
        Markers normalised (their MFIs in every gate of ``panel``).
    panel
        Panel of the tubes and of the reference controls.
    strategy
        Gating strategy (or its name / YAML path) whose compensation the controls get.
    cofactor
        arcsinh cofactor of the scale the quantile maps work on.

    Returns
    -------
    (mfi, normaliser)
        The MFI table with ``batch`` and ``median_normalised`` (equal to ``median`` for rows not normalised; NaN for
        a normalised marker whose tube has no batch with a control), and the fitted normaliser.

    Raises
    ------
    DataContractError
        No ``batch`` column in the sheet, or fewer than two batches with a control.
    """
    if "batch" not in sheet.columns:
        raise DataContractError("sample_sheet.csv", "intensity standardisation needs a 'batch' column", column="batch")
    strat = strategy if not isinstance(strategy, str | Path) else load_strategy(strategy)
    ctrl = controls[(controls["role"] == "batch_control") & (controls["panel"] == panel)]
    norm = QuantileNormaliser(cofactor=cofactor).fit(
        {r.batch: _control_events(r.path, strat, list(markers)) for r in ctrl.itertuples(index=False)})
    batch_of = dict(zip((tube_id(s, p, c) for s, p, c in zip(sheet["sample_id"], sheet["panel"], sheet["condition"],
                                                               strict=True)), sheet["batch"].astype(str), strict=True))  # fmt: skip
    out = mfi.copy()
    out["batch"] = out["tube_id"].map(batch_of)
    out["median_normalised"] = out["median"].astype(float)
    sel = (out["panel"] == panel) & out["marker"].isin(markers)
    for (b, m), idx in out[sel].groupby(["batch", "marker"]).groups.items():
        if b not in norm.maps_:
            out.loc[idx, "median_normalised"] = np.nan
            continue
        v = out.loc[idx, "median"].to_numpy(np.float64)
        out.loc[idx, "median_normalised"] = np.sinh(norm.maps_[b][m](np.arcsinh(v / cofactor))) * cofactor
    missing = sel & ~out["batch"].isin(list(norm.maps_))
    out.loc[missing, "median_normalised"] = np.nan
    return out, norm


def normalised_features(mfi_norm: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    """Build ``lsc_*_mfi_norm`` and ``bcl2_family_score_norm`` per sample from :func:`batch_normalised_mfi` output.

    Parameters
    ----------
    mfi_norm
        The MFI table of :func:`batch_normalised_mfi` (``median_normalised`` column).
    ids
        Sample ids of the rows (samples without an untreated PHENO tube get NaN).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``ids``: batch-normalised LSC MFIs of BCL2, BCL-xL and MCL1 (linear) and their log2 family score.
    """
    from .readouts import bcl2_family_score

    sel = mfi_norm[(mfi_norm["panel"] == "PHENO") & (mfi_norm["condition"] == "untreated") & (mfi_norm["gate"] == "lsc")]
    wide = sel.pivot_table(index="sample_id", columns="marker", values="median_normalised", aggfunc="first")
    f = pd.DataFrame(index=ids)
    for m, col in (("BCL2", "lsc_bcl2_mfi_norm"), ("BCL-xL", "lsc_bclxl_mfi_norm"), ("MCL1", "lsc_mcl1_mfi_norm")):
        f[col] = wide[m].reindex(ids) if m in wide else np.nan
    f["bcl2_family_score_norm"] = bcl2_family_score(f["lsc_bcl2_mfi_norm"], f["lsc_bclxl_mfi_norm"],
                                                    f["lsc_mcl1_mfi_norm"])  # fmt: skip
    return f


def mrd_readouts(sheet: pd.DataFrame, controls: pd.DataFrame, samples: pd.DataFrame, *,
                 strategy: str | Path | Strategy = "mrd_progenitors", limits: dict | None = None,
                 seed: int = 0) -> pd.DataFrame:  # fmt: skip
    """Measure flow MRD in every remission MRD tube (the patient's diagnosis MRD tube gives the LAIP).

    Parameters
    ----------
    sheet
        The sample sheet (``MRD`` tubes with conditions ``diagnosis`` and ``remission``).
    controls
        :func:`load_reference_controls` with one ``normal_reference`` MRD tube.
    samples
        samples.csv (``sample_id -> patient_id``).
    strategy
        Gating strategy with ``cd45pos`` and ``progenitors`` gates (or its name / YAML path).
    limits
        Overrides of :data:`helpers.cytometry.mrd.ELN_LIMITS` (LOD and LLOQ events, minimum CD45+ events, threshold).
    seed
        Random state of the robust covariance of the different-from-normal analysis.

    Returns
    -------
    pandas.DataFrame
        One row per remission tube: ``sample_id, patient_id, laip`` (markers and direction, empty: none found, DfN
        used), ``laip_events, dfn_events, progenitor_events`` and the :func:`mrd_call` columns prefixed ``mrd_flow_``
        (``mrd_flow_pct, mrd_flow_events, mrd_flow_cd45_events, mrd_flow_status, mrd_flow_lod_pct``).

    Raises
    ------
    DataContractError
        No ``normal_reference`` tube of panel MRD among the controls, or an unreadable tube.
    """
    strat = strategy if not isinstance(strategy, str | Path) else load_strategy(strategy)
    lim = {**ELN_LIMITS, **(limits or {})}
    markers = ["CD34", "CD117", "CD45", "CD33", "CD13", "CD56", "CD7", "HLA-DR"]
    ref = controls[(controls["role"] == "normal_reference") & (controls["panel"] == "MRD")]
    if ref.empty:
        raise DataContractError("reference_controls.csv", "MRD needs a normal_reference tube of panel MRD", column="role")
    asinh = lambda df: np.arcsinh(df / strat.cofactor)  # noqa: E731
    normal = asinh(_control_events(ref["path"].iloc[0], strat, markers, gate="progenitors"))
    mrd = sheet[sheet["panel"] == "MRD"].merge(samples[["sample_id", "patient_id"]], on="sample_id", how="left")
    rows = []
    for pid, grp in mrd.groupby("patient_id", sort=True):
        by = grp.set_index("condition")
        if "remission" not in by.index:
            continue
        laip = pd.DataFrame(columns=["marker", "direction", "threshold", "fraction_aberrant"])
        if "diagnosis" in by.index:
            dx = asinh(_control_events(by.at["diagnosis", "path"], strat, markers, gate="progenitors"))
            laip = laip_profile(dx, normal)
        data = compensate_for(strat, read_fcs(by.at["remission", "path"]))
        outcome, _ = apply_strategy(data, strat, compensated=True)
        prog = outcome.membership["progenitors"]
        ev = asinh(pd.DataFrame({m: data.events[prog, data.column(m)] for m in markers}))
        n_laip = int(laip_events(ev, laip).sum())
        n_dfn = int(dfn_events(ev, normal, seed=seed).sum()) if len(ev) else 0
        n_ab = n_laip if not laip.empty else n_dfn
        call = mrd_call(n_ab, int(outcome.membership["cd45pos"].sum()), limits=lim)
        rows.append({"sample_id": by.at["remission", "sample_id"], "patient_id": pid,
                     "laip": ";".join(f"{r.marker}{'+' if r.direction == 'over' else '-'}" for r in laip.itertuples()),
                     "laip_events": n_laip, "dfn_events": n_dfn, "progenitor_events": int(prog.sum()),
                     **{f"mrd_flow_{k.removeprefix('mrd_')}": v for k, v in call.items()}})  # fmt: skip
    cols = ["sample_id", "patient_id", "laip", "laip_events", "dfn_events", "progenitor_events", "mrd_flow_pct",
            "mrd_flow_events", "mrd_flow_cd45_events", "mrd_flow_status", "mrd_flow_lod_pct"]
    return pd.DataFrame(rows, columns=cols)
