"""Functional read-outs: from gated files to per-sample features.

Per file (:func:`process_file`): read, QC, compensate, drop the shorter side of a flow interruption, gate, and record
counts per gate and median intensities (MFI, compensated linear scale) of the functional markers in the gates where
they are read. Per sample (:func:`sample_features`): population frequencies pooled over the untreated tubes,
drug-induced and specific apoptosis, proliferation arrest, SCENITH indices, BCL2-family levels in leukemic stem cells
and their ratio score, T/NK activation.

Formulas
--------
- specific apoptosis (%) = 100 (A_treated - A_untreated) / (100 - A_untreated), A = % apoptotic (Annexin V+ and/or
  7-AAD+) leukemic cells.
- SCENITH (Arguello et al. 2020), puromycin MFI of live leukemic cells: glucose dependence = 100 (Co - DG) / (Co - DGO);
  FAO/AAO capacity = 100 - glucose dependence; mitochondrial dependence = 100 (Co - O) / (Co - DGO); glycolytic
  capacity = 100 - mitochondrial dependence; each clipped to [0, 100].
- BCL2-family score, *not* the published MAC-Score (Waclawiczek et al. 2023, Cancer Discov 13:1408-1427). Published,
  from the paper's abstract (the only part available to the project): a flow-cytometric score linking the ratio of
  BCL2, BCL-xL and MCL1 protein in LSCs, positive predictive value > 97 % for initial response. The project's
  choices, since the paper's methods could not be read: the formula log2(BCL2 / sqrt(BCL-xL x MCL1)) on MFIs, the LSC
  gate CD34+ CD38- (CD34- AML gets no score without 5 such events), the normalisations below and a cut-off derived
  in the cohort (:func:`derive_cutoff`), not the paper's; hence no function named ``mac_score``. BCL2, BCL-xL and
  MCL1 sit on different detectors, so the plain ratio moves with each detector's gain; ``bcl2_family_score_tnorm``
  divides each MFI by the same protein's MFI in the tube's own T cells first (an internal reference cell type, as
  flow laboratories normalise intracellular stains), which cancels every detector gain.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Executor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve
from threadpoolctl import threadpool_limits

from ..errors import DataContractError
from .fcs import read_fcs
from .gating import Strategy, apply_strategy, compensate_for, load_strategy
from .panel import enforce_panel, marker_profile, swap_warnings
from .privacy import tube_id
from .qc import qc_file
from .results import CytometryResult
from .transforms import fluorescence_columns

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "GATED_PANELS",
    "MFI_READOUTS",
    "process_file",
    "process_files",
    "specific_apoptosis",
    "scenith_indices",
    "bcl2_family_score",
    "sample_features",
    "derive_cutoff",
]

# (gate, marker) pairs whose median intensity is recorded.
MFI_READOUTS = [
    ("lsc", "BCL2"), ("lsc", "BCL-xL"), ("lsc", "MCL1"), ("blasts", "BCL2"), ("blasts", "MCL1"),
    ("blasts", "BCL-xL"), ("live_blasts", "Puromycin"), ("lsc", "CD34"), ("blasts", "CD33"),
    ("t_cells", "BCL2"), ("t_cells", "BCL-xL"), ("t_cells", "MCL1"),
]  # fmt: skip
_MIN_EVENTS_MFI = 5  # a median of fewer events is not reported
# Panels gated with the functional strategy; PROLIF and MRD tubes have their own analyses (helpers.cytometry.tubes).
GATED_PANELS = ("FUNC", "PHENO", "SCENITH")


def process_file(path: str | Path, strategy: Strategy, *, spillover: pd.DataFrame | None = None,
                 cofactor: float | None = None, panel: dict[str, str] | None = None,
                 panel_name: str = "") -> tuple[pd.DataFrame, pd.DataFrame, dict]:  # fmt: skip
    """Gate one file and measure it.

    Parameters
    ----------
    path
        FCS file.
    strategy
        Gating strategy.
    spillover
        Spillover matrix overriding the file's own.
    cofactor
        arcsinh cofactor for QC (default: the strategy's).
    panel, panel_name
        The tube's panel (marker -> detector, from ``panels.csv``): enforced with
        :func:`helpers.cytometry.panel.enforce_panel` (stains renamed to the panel's markers through the synonym
        table; an unknown, contradicting or duplicated stain is a :class:`DataContractError`).

    Returns
    -------
    (stats, mfi, qc)
        ``stats``: file, gate, parent, count, percent_parent. ``mfi``: file, gate, marker, n, median (linear,
        compensated). ``qc``: the :func:`helpers.cytometry.qc.qc_file` metrics plus ``events_kept`` and
        ``_profile`` (the marker distributions over the leukemic cells, :func:`helpers.cytometry.panel.marker_profile`).
    """
    data = read_fcs(path)
    if panel is not None:
        enforce_panel(data, panel, panel_name=panel_name)
    qc = qc_file(data, cofactor=cofactor or strategy.cofactor)
    if qc["qc_flow_anomaly"]:
        # Keep the events acquired before the interruption: after a clog the flow runs under other conditions (the
        # fluorescence shift that flagged it). Only when that leaves under a quarter of the file, keep the rest.
        t = data.events[:, [c.upper() for c in data.channels].index("TIME")]
        k = int(np.argmax(np.diff(t))) + 1
        keep = slice(0, k) if k >= data.n_events // 4 else slice(k, None)
        data.events = data.events[keep]
    qc["events_kept"] = data.n_events
    data = compensate_for(strategy, data, spillover)
    outcome, _ = apply_strategy(data, strategy, compensated=True)
    stats = outcome.stats()
    ref = outcome.membership.get("blasts", outcome.membership.get("cd45pos"))
    fluo = [data.markers[i] for i in fluorescence_columns(data)]
    qc["_profile"] = marker_profile(data, ref, fluo, cofactor=strategy.cofactor)
    rows = []
    for gate, marker in MFI_READOUTS:
        if gate not in outcome.membership or marker not in data.markers:
            continue
        m = outcome.membership[gate]
        vals = data.events[m, data.column(marker)]
        med = float(np.median(vals)) if vals.size >= _MIN_EVENTS_MFI else np.nan
        rows.append({"file": outcome.file, "gate": gate, "marker": marker, "n": int(vals.size), "median": med})
    mfi = pd.DataFrame(rows, columns=["file", "gate", "marker", "n", "median"])
    return stats, mfi, qc


def process_files(sheet: pd.DataFrame, strategy: Strategy | str | Path = "aml_functional", *,
                  spillover: pd.DataFrame | None = None,
                  panels: dict[str, dict[str, str]] | None = None,
                  executor: Executor | None = None) -> CytometryResult:  # fmt: skip
    """Process every file of a sample sheet, one file at a time (memory stays flat), or one task per file.

    Parameters
    ----------
    sheet
        Validated sample sheet (:func:`helpers.cytometry.contract.load_sample_sheet`), with its ``path`` column; only
        the tubes of :data:`GATED_PANELS` are processed (PROLIF and MRD tubes: :mod:`helpers.cytometry.tubes`).
    strategy
        Gating strategy or its YAML.
    spillover
        Spillover matrix overriding the files' own.
    panels
        ``{panel: {marker: detector}}`` (:func:`helpers.cytometry.contract.load_panels`): every file is checked
        against its tube's panel (see :func:`helpers.cytometry.panel.enforce_panel`). The cohort pipeline always
        passes it; None skips the check (for files without a panel definition).
    executor
        A :class:`concurrent.futures.Executor` (a process pool, or a dask.distributed ``Client.get_executor()`` as
        ``run_all.py --scheduler/--local-cluster`` uses; see :func:`helpers.workflow.open_executor`): each file becomes
        one task, so a worker holds one file at a time. Results are gathered in sheet order: the same tables, byte
        for byte, as the serial run. The workers must see the files at the same paths (a shared file system).

    Returns
    -------
    CytometryResult
        ``stats``, ``mfi``, ``qc`` and ``profiles`` tables, each with ``tube_id, sample_id, panel, condition``
        columns: tubes are named by the sheet's ids, never by the instrument's file name
        (:mod:`helpers.cytometry.privacy`). The QC table carries ``panel_warning``: channels that look swapped against
        the sample's other tubes (:func:`helpers.cytometry.panel.swap_warnings`), empty when none.
    """
    strat = strategy if isinstance(strategy, Strategy) else load_strategy(strategy)
    sheet = sheet[sheet["panel"].isin(GATED_PANELS)]
    stats, mfis, qcs, profs = [], [], [], []
    keys = ["tube_id", "sample_id", "panel", "condition"]
    tubes = list(sheet.itertuples(index=False))
    args = [(r.path, strat, spillover, None if panels is None else panels[r.panel], r.panel) for r in tubes]
    if executor is None:
        results = [_process_one(*a) for a in args]
    else:
        futures = [executor.submit(_process_one, *a) for a in args]
        results = [f.result() for f in futures]  # in submission order, whatever order they finish in
    for r, (s, m, q) in zip(tubes, results, strict=True):
        meta = {"tube_id": tube_id(r.sample_id, r.panel, r.condition), "sample_id": r.sample_id, "panel": r.panel,
                "condition": r.condition}
        stats.append(s.drop(columns="file").assign(**meta))
        mfis.append(m.drop(columns="file").assign(**meta))
        profs.append(q.pop("_profile").drop(columns="file", errors="ignore").assign(**meta))
        qcs.append({**meta, **q})
    order = lambda df, cols: df[keys + [c for c in cols if c not in keys]]  # noqa: E731
    qc = pd.DataFrame(qcs)
    profiles = pd.concat(profs, ignore_index=True)
    # swap_warnings compares the tubes of a sample by their key column, here the tube id
    qc["panel_warning"] = qc["tube_id"].map(swap_warnings(profiles.rename(columns={"tube_id": "file"}))).fillna("")
    return CytometryResult(
        profiles=order(profiles, [c for c in profiles.columns if c not in keys]),
        stats=order(pd.concat(stats, ignore_index=True), ["gate", "parent", "count", "percent_parent"]),
        mfi=order(pd.concat(mfis, ignore_index=True), ["gate", "marker", "n", "median"]),
        qc=qc,
    )


def _process_one(path, strategy, spillover, panel, panel_name):
    """One file as one task (module level, so that process pools and dask workers can unpickle it)."""
    with threadpool_limits(1):  # the 10 x 10 compensation product is slower with BLAS threads fighting over cores
        return process_file(path, strategy, spillover=spillover, panel=panel, panel_name=panel_name)


def specific_apoptosis(treated: np.ndarray | float, untreated: np.ndarray | float) -> np.ndarray:
    """Compute specific apoptosis (%) = 100 (treated - untreated) / (100 - untreated), from % apoptotic cells.

    Negative values (fewer apoptotic cells than untreated) are kept: they are noise around zero, and clipping them
    would bias the mean upwards. NaN where the untreated well is entirely apoptotic.

    Parameters
    ----------
    treated
        % apoptotic (Annexin V+) blasts in the drug-exposed tube(s).
    untreated
        % apoptotic blasts in the untreated tube of the same sample (broadcast against ``treated``).

    Returns
    -------
    numpy.ndarray
        Specific apoptosis in %, shape of the broadcast inputs (0-d for scalars).
    """
    t, u = np.asarray(treated, dtype=float), np.asarray(untreated, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(u < 100, 100.0 * (t - u) / (100.0 - u), np.nan)


def scenith_indices(co: ArrayLike, dg: ArrayLike, o: ArrayLike, dgo: ArrayLike) -> dict[str, np.ndarray]:
    """Compute SCENITH indices (%) from puromycin MFIs (Arguello et al. 2020), clipped to [0, 100].

    Parameters
    ----------
    co
        Anti-puromycin MFI of the control tube (no inhibitor), linear.
    dg
        The same under 2-deoxy-D-glucose (glycolysis blocked).
    o
        The same under oligomycin (mitochondrial ATP synthase blocked).
    dgo
        The same under both (the translation floor).

    Returns
    -------
    dict
        ``glucose_dependence``, ``fao_aao_capacity``, ``mitochondrial_dependence``, ``glycolytic_capacity``; NaN where
        Co - DGO is not positive (no translation signal to apportion).
    """
    co, dg, o, dgo = (np.asarray(v, dtype=float) for v in (co, dg, o, dgo))
    span = co - dgo
    with np.errstate(divide="ignore", invalid="ignore"):
        gd = np.where(span > 0, np.clip(100 * (co - dg) / span, 0, 100), np.nan)
        md = np.where(span > 0, np.clip(100 * (co - o) / span, 0, 100), np.nan)
    return {"glucose_dependence": gd, "fao_aao_capacity": 100 - gd, "mitochondrial_dependence": md,
            "glycolytic_capacity": 100 - md}  # fmt: skip


def bcl2_family_score(bcl2: ArrayLike, bclxl: ArrayLike, mcl1: ArrayLike) -> np.ndarray:
    """Score BCL-2 dependence as log2(BCL2 / sqrt(BCL-xL x MCL1)) from MFIs.

    Parameters
    ----------
    bcl2, bclxl, mcl1
        MFIs (linear, e.g. of the leukemic stem cells) of BCL2, BCL-xL and MCL1, broadcast together.

    Returns
    -------
    numpy.ndarray
        The score (log2 units; higher = more BCL2 against BCL-xL and MCL1, the venetoclax-sensitive direction; its
        zero depends on the detectors' gains); NaN where any MFI is not positive.
    """
    b, x, m = (np.asarray(v, dtype=float) for v in (bcl2, bclxl, mcl1))
    ok = (b > 0) & (x > 0) & (m > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, np.log2(np.where(ok, b, 1)) - 0.5 * np.log2(np.where(ok, x * m, 1)), np.nan)


def _pct(stats: pd.DataFrame, panels: Iterable[str], conditions: Iterable[str], gate: str, parent: str) -> pd.Series:
    """100 x count(gate) / count(parent) per sample, pooling the events of the given tubes."""
    sel = stats[stats["panel"].isin(list(panels)) & stats["condition"].isin(list(conditions))]
    c = sel.pivot_table(index="sample_id", columns="gate", values="count", aggfunc="sum")
    if gate not in c or parent not in c:
        return pd.Series(np.nan, index=c.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100.0 * c[gate] / c[parent].where(c[parent] > 0)


def _mfi(mfi: pd.DataFrame, panel: str, condition: str, gate: str, marker: str) -> pd.Series:
    sel = mfi[(mfi["panel"] == panel) & (mfi["condition"] == condition) & (mfi["gate"] == gate)
              & (mfi["marker"] == marker)]  # fmt: skip
    return sel.set_index("sample_id")["median"]


FEATURES = {
    # name: (unit, definition)
    "pct_blasts": ("% of CD45+ singlets", "leukemic cells (CD45dim/SSC-low gate), untreated FUNC + PHENO tubes pooled"),
    "pct_monocytic": ("% of leukemic cells", "CD11b+ monocytic leukemic cells, untreated tubes pooled"),
    "pct_cd14": ("% of leukemic cells", "CD11b+ CD14+ leukemic cells, untreated tubes pooled"),
    "pct_cd34": ("% of leukemic cells", "CD34+ leukemic cells, untreated tubes pooled"),
    "pct_lsc": ("% of leukemic cells", "CD34+ CD38- leukemic stem cells, untreated tubes pooled"),
    "apoptosis_untreated": ("% of leukemic cells", "Annexin V+ and/or 7-AAD+ leukemic cells after 48 h untreated"),
    "apoptosis_ven": ("% of leukemic cells", "Annexin V+ and/or 7-AAD+ leukemic cells after 48 h venetoclax"),
    "apoptosis_aza": ("% of leukemic cells", "Annexin V+ and/or 7-AAD+ leukemic cells after 48 h azacitidine"),
    "apoptosis_azaven": ("% of leukemic cells", "Annexin V+ and/or 7-AAD+ leukemic cells after 48 h AZA+VEN"),
    "spec_apoptosis_ven": ("%", "specific apoptosis to venetoclax: 100 (VEN - untreated) / (100 - untreated)"),
    "spec_apoptosis_aza": ("%", "specific apoptosis to azacitidine"),
    "spec_apoptosis_azaven": ("%", "specific apoptosis to azacitidine + venetoclax"),
    "ki67_untreated": ("% of viable leukemic cells", "Ki-67+ cycling viable leukemic cells, untreated"),
    "prolif_arrest_aza": ("%", "100 (1 - Ki-67+ % under AZA / Ki-67+ % untreated)"),
    "prolif_arrest_azaven": ("%", "100 (1 - Ki-67+ % under AZA+VEN / Ki-67+ % untreated)"),
    "scenith_glucose_dependence": ("%", "SCENITH 100 (Co - DG) / (Co - DGO), puromycin MFI of live leukemic cells"),
    "scenith_fao_aao_capacity": ("%", "SCENITH 100 - glucose dependence"),
    "scenith_mito_dependence": ("%", "SCENITH 100 (Co - O) / (Co - DGO)"),
    "scenith_glycolytic_capacity": ("%", "SCENITH 100 - mitochondrial dependence"),
    "lsc_bcl2_mfi": ("MFI (compensated)", "median BCL2 in CD34+ CD38- LSCs (PHENO tube)"),
    "lsc_bclxl_mfi": ("MFI (compensated)", "median BCL-xL in LSCs"),
    "lsc_mcl1_mfi": ("MFI (compensated)", "median MCL1 in LSCs"),
    "bcl2_family_score": ("log2 ratio", "log2(BCL2 / sqrt(BCL-xL x MCL1)) MFIs in LSCs (a BCL2-family ratio, not the "
                                        "published MAC-Score)"),
    "bcl2_family_score_tnorm": ("log2 ratio", "bcl2_family_score with each MFI divided by the same protein's MFI in "
                                              "the tube's T cells (detector gains cancel)"),  # fmt: skip
    "t_cd69_pct": ("% of T cells", "CD69+ of CD3+ lymphocytes"),
    "t_hladr_pct": ("% of T cells", "HLA-DR+ of CD3+ lymphocytes"),
    "t_pd1_pct": ("% of T cells", "PD-1+ of CD3+ lymphocytes"),
    "nk_cd69_pct": ("% of NK cells", "CD69+ of CD3- CD56+ lymphocytes"),
    "nk_hladr_pct": ("% of NK cells", "HLA-DR+ of CD3- CD56+ lymphocytes"),
    "immune_activation_score": ("z-score", "mean of the cohort z-scores of the five T/NK activation percentages"),
    "cyto_files_failed_qc": ("count", "files of the sample flagged by QC (flow interruption, margin, doublets, few)"),
}


def sample_features(res: dict[str, pd.DataFrame], sheet: pd.DataFrame, samples: pd.DataFrame | None = None,
                    *, scores: bool = True) -> pd.DataFrame:  # fmt: skip
    """Build the per-sample feature table from :func:`process_files` output.

    Parameters
    ----------
    res
        ``stats``, ``mfi``, ``qc`` tables.
    sheet
        The sample sheet.
    samples
        The cohort's samples.csv (adds ``patient_id`` and ``timepoint``).
    scores
        Add the cohort-relative ``immune_activation_score``.

    Returns
    -------
    pandas.DataFrame
        One row per ``sample_id`` with tubes of :data:`GATED_PANELS`; columns as in :data:`FEATURES` (see
        :func:`helpers.cytometry.features.feature_dictionary`).

    Raises
    ------
    DataContractError
        A sample of the sheet that ``samples`` does not list.
    """
    st, mf, qc = res["stats"], res["mfi"], res["qc"]
    ids = pd.Index(sorted(sheet.loc[sheet["panel"].isin(GATED_PANELS), "sample_id"].unique()), name="sample_id")
    f = pd.DataFrame(index=ids)
    untreated = (["FUNC", "PHENO"], ["untreated"])
    f["pct_blasts"] = _pct(st, *untreated, "blasts", "cd45pos")
    f["pct_monocytic"] = _pct(st, *untreated, "monocytic", "blasts")
    f["pct_cd14"] = _pct(st, *untreated, "cd14pos", "blasts")
    f["pct_cd34"] = _pct(st, *untreated, "cd34pos", "blasts")
    f["pct_lsc"] = _pct(st, *untreated, "lsc", "blasts")
    for cond, key in (("untreated", "untreated"), ("VEN", "ven"), ("AZA", "aza"), ("AZA+VEN", "azaven")):
        f[f"apoptosis_{key}"] = _pct(st, ["FUNC"], [cond], "apoptotic", "blasts")
    for key in ("ven", "aza", "azaven"):
        f[f"spec_apoptosis_{key}"] = specific_apoptosis(f[f"apoptosis_{key}"], f["apoptosis_untreated"])
    f["ki67_untreated"] = _pct(st, ["FUNC"], ["untreated"], "ki67pos", "viable")
    for cond, key in (("AZA", "aza"), ("AZA+VEN", "azaven")):
        k = _pct(st, ["FUNC"], [cond], "ki67pos", "viable")
        f[f"prolif_arrest_{key}"] = 100 * (1 - k / f["ki67_untreated"].where(f["ki67_untreated"] > 0))
    pur = {c: _mfi(mf, "SCENITH", c, "live_blasts", "Puromycin").reindex(ids) for c in ("Co", "DG", "O", "DGO")}
    sc = scenith_indices(pur["Co"], pur["DG"], pur["O"], pur["DGO"])
    f["scenith_glucose_dependence"] = sc["glucose_dependence"]
    f["scenith_fao_aao_capacity"] = sc["fao_aao_capacity"]
    f["scenith_mito_dependence"] = sc["mitochondrial_dependence"]
    f["scenith_glycolytic_capacity"] = sc["glycolytic_capacity"]
    for marker, col in (("BCL2", "lsc_bcl2_mfi"), ("BCL-xL", "lsc_bclxl_mfi"), ("MCL1", "lsc_mcl1_mfi")):
        f[col] = _mfi(mf, "PHENO", "untreated", "lsc", marker).reindex(ids)
    f["bcl2_family_score"] = bcl2_family_score(f["lsc_bcl2_mfi"], f["lsc_bclxl_mfi"], f["lsc_mcl1_mfi"])
    tref = {m: _mfi(mf, "PHENO", "untreated", "t_cells", m).reindex(ids) for m in ("BCL2", "BCL-xL", "MCL1")}
    with np.errstate(divide="ignore", invalid="ignore"):
        f["bcl2_family_score_tnorm"] = bcl2_family_score(f["lsc_bcl2_mfi"] / tref["BCL2"].where(tref["BCL2"] > 0),
                                                         f["lsc_bclxl_mfi"] / tref["BCL-xL"].where(tref["BCL-xL"] > 0),
                                                         f["lsc_mcl1_mfi"] / tref["MCL1"].where(tref["MCL1"] > 0))  # fmt: skip
    for gate, parent, col in (("t_cd69", "t_cells", "t_cd69_pct"), ("t_hladr", "t_cells", "t_hladr_pct"),
                              ("t_pd1", "t_cells", "t_pd1_pct"), ("nk_cd69", "nk_cells", "nk_cd69_pct"),
                              ("nk_hladr", "nk_cells", "nk_hladr_pct")):  # fmt: skip
        f[col] = _pct(st, ["PHENO"], ["untreated"], gate, parent)
    act = ["t_cd69_pct", "t_hladr_pct", "t_pd1_pct", "nk_cd69_pct", "nk_hladr_pct"]
    if scores:
        z = (f[act] - f[act].mean()) / f[act].std(ddof=0).replace(0, np.nan)
        f["immune_activation_score"] = z.mean(axis=1)
    failed = qc.set_index("sample_id")["qc_status"].eq("fail") if "qc_status" in qc else ~qc.set_index("sample_id")["qc_pass"].astype(bool)
    f["cyto_files_failed_qc"] = failed.groupby(level=0).sum()
    f["cyto_files_failed_qc"] = f["cyto_files_failed_qc"].reindex(ids).fillna(0).astype(int)
    f = f.reset_index()
    if samples is not None:
        missing = sorted(set(f["sample_id"]) - set(samples["sample_id"]))
        if missing:
            raise DataContractError("samples.csv", f"sample '{missing[0]}' of the cytometry sheet is not listed",
                                    column="sample_id")  # fmt: skip
        f = samples[["sample_id", "patient_id", "timepoint"]].merge(f, on="sample_id", how="right")
    return f


def derive_cutoff(score: np.ndarray, outcome: np.ndarray, *, higher_is_positive: bool = True, n_splits: int = 5,
                  n_repeats: int = 20, n_boot: int = 500, seed: int = 0) -> dict:  # fmt: skip
    """Derive a cut-off of a score for a binary outcome in the cohort and validate it out of sample.

    The cut-off maximises Youden's J (sensitivity + specificity - 1) on the ROC curve. Its honest performance is
    estimated by repeated stratified cross-validation: the cut-off is re-derived on the training folds and applied to
    the held-out fold, so the reported sensitivity, specificity, PPV and NPV are not inflated by choosing the cut-off
    on the same patients. A bootstrap gives a 95 % interval for the cut-off itself.

    Parameters
    ----------
    score
        Score per patient (NaN rows are dropped).
    outcome
        1 = positive class (e.g. response), 0 = negative.
    higher_is_positive
        Whether high scores predict the positive class.
    n_splits, n_repeats
        Cross-validation design.
    n_boot
        Bootstrap resamples for the cut-off interval.
    seed
        Random seed.

    Returns
    -------
    dict
        ``cutoff``, ``cutoff_ci`` (2.5 and 97.5 percentiles), ``auc`` (apparent), ``n``, and the cross-validated
        ``cv_sensitivity``, ``cv_specificity``, ``cv_ppv``, ``cv_npv``, ``cv_accuracy``.

    Raises
    ------
    ValueError
        When the patients with a score do not include both outcome classes.
    """
    s = np.asarray(score, dtype=float)
    y = np.asarray(outcome, dtype=int)
    ok = np.isfinite(s)
    s, y = s[ok], y[ok]
    if len(np.unique(y)) < 2:
        raise ValueError("derive_cutoff needs both outcome classes")
    sign = 1.0 if higher_is_positive else -1.0

    def youden(ss, yy):
        fpr, tpr, thr = roc_curve(yy, sign * ss)
        j = np.argmax(tpr - fpr)
        return sign * min(thr[j], np.max(sign * ss))  # roc_curve's first threshold is +inf

    cut = youden(s, y)
    rng = np.random.default_rng(seed)
    tp = fp = tn = fn = 0
    for _ in range(n_repeats):
        folds = np.empty(len(y), dtype=int)
        for cls in (0, 1):  # stratified assignment of folds
            idx = rng.permutation(np.flatnonzero(y == cls))
            folds[idx] = np.arange(idx.size) % n_splits
        for k in range(n_splits):
            tr, te = folds != k, folds == k
            if len(np.unique(y[tr])) < 2:
                continue
            c = youden(s[tr], y[tr])
            pred = sign * s[te] >= sign * c
            tp += int((pred & (y[te] == 1)).sum())
            fp += int((pred & (y[te] == 0)).sum())
            tn += int((~pred & (y[te] == 0)).sum())
            fn += int((~pred & (y[te] == 1)).sum())
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        if len(np.unique(y[idx])) == 2:
            boots.append(youden(s[idx], y[idx]))
    div = lambda a, b: a / b if b else np.nan  # noqa: E731
    return {
        "cutoff": float(cut),
        "cutoff_ci": (float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))),
        "auc": float(roc_auc_score(y, sign * s)),
        "n": int(len(y)),
        "cv_sensitivity": div(tp, tp + fn),
        "cv_specificity": div(tn, tn + fp),
        "cv_ppv": div(tp, tp + fp),
        "cv_npv": div(tn, tn + fn),
        "cv_accuracy": div(tp + tn, tp + tn + fp + fn),
    }
