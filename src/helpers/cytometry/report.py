"""The cohort-level steps of the cytometry notebook, each one tested function: checks, batch effects, tests by outcome.

What the cytometry notebook computes beyond the per-file chain (:func:`helpers.cytometry.readouts.process_files`) and
the per-sample features: the cross-check of the project's gating against FlowKit on Gating-ML 2.0, the share of
intensity variance between acquisition batches before and after normalisation, the read-outs by clinical response,
the diagnosis-to-relapse shift, and the differential tests of the FlowSOM metaclusters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from .differential import differential_abundance, differential_state
from .gating import Strategy, compile_gatingml, gate_file
from .privacy import tube_id

__all__ = [
    "BATCH_READOUTS",
    "RESPONSE_READOUTS",
    "abundance_by_response",
    "add_mrd_features",
    "batch_variance_share",
    "cutoff_table",
    "diagnosis_table",
    "gatingml_crosscheck",
    "metacluster_abundance",
    "metacluster_medians",
    "metacluster_tests",
    "readouts_by_response",
    "relapse_shift",
    "sample_batches",
]

#: Intensity read-outs whose batch effect is shown before and after normalisation (each has a ``<name>_norm`` twin).
BATCH_READOUTS = ("lsc_bcl2_mfi", "lsc_bclxl_mfi", "lsc_mcl1_mfi", "bcl2_family_score")

#: Read-outs compared between responders and primary-resistant patients at diagnosis.
RESPONSE_READOUTS = (
    "pct_blasts", "pct_monocytic", "pct_lsc", "spec_apoptosis_ven", "spec_apoptosis_aza", "spec_apoptosis_azaven",
    "prolif_arrest_aza", "scenith_glucose_dependence", "scenith_mito_dependence", "lsc_bcl2_mfi", "lsc_mcl1_mfi",
    "bcl2_family_score", "bcl2_family_score_norm", "dye_division_index_untreated", "dye_prolif_arrest_aza",
    "immune_activation_score",
)  # fmt: skip

_SCATTER = ("FSC-A", "FSC-H", "SSC-A", "Time")


def gatingml_crosscheck(sheet: pd.DataFrame, strategy: Strategy, panels: Mapping[str, Mapping[str, str]],
                        out_dir: str | Path, *, skip: Iterable[str] = ("PROLIF", "MRD")) -> pd.DataFrame:  # fmt: skip
    """Compile the strategy to one Gating-ML 2.0 file per panel and check FlowKit gives the same membership.

    For each panel, the gates whose markers the panel has are written to ``<out_dir>/gating_<panel>.xml``; the first
    tube of the panel is gated by the project's vectorised gating and by FlowKit on that file.

    Parameters
    ----------
    sheet
        The sample sheet (``sample_id, panel, condition, path``).
    strategy
        The gating strategy (:func:`helpers.cytometry.gating.load_strategy`).
    panels
        ``{panel: {marker: detector}}`` (:func:`helpers.cytometry.contract.load_panels`).
    out_dir
        Folder of the Gating-ML files.
    skip
        Panels analysed otherwise (dye dilution, MRD).

    Returns
    -------
    pandas.DataFrame
        One row per panel (sorted): ``panel, gates, tube_id, identical_to_flowkit``.
    """
    skip = set(skip)
    rows = []
    for panel, channels in sorted(panels.items()):
        if panel in skip:
            continue
        scatter = {c: c for c in _SCATTER}
        panel_strategy = strategy.for_panel(set(channels) | set(scatter))
        xml = Path(out_dir) / f"gating_{panel}.xml"
        compile_gatingml(panel_strategy, {**channels, **scatter}, out=xml)
        first = sheet[sheet["panel"] == panel].iloc[0]
        fast, ref = gate_file(first["path"], strategy), gate_file(first["path"], xml)
        same = all(np.array_equal(fast.membership[g], ref.membership[g]) for g in fast.membership)
        rows.append({"panel": panel, "gates": len(panel_strategy.gates),
                     "tube_id": tube_id(first["sample_id"], panel, first["condition"]), "identical_to_flowkit": same})
    return pd.DataFrame(rows, columns=["panel", "gates", "tube_id", "identical_to_flowkit"])


def sample_batches(sheet: pd.DataFrame, sample_ids: pd.Series) -> pd.Series:
    """Look up each sample's acquisition batch (the sheet's ``batch`` of its first tube), aligned with ``sample_ids``.

    Parameters
    ----------
    sheet
        The sample sheet, with ``sample_id`` and ``batch``.
    sample_ids
        The samples, e.g. the ``sample_id`` column of the feature table.

    Returns
    -------
    pandas.Series
        The batch per entry of ``sample_ids`` (same index).
    """
    return sample_ids.map(sheet.drop_duplicates("sample_id").set_index("sample_id")["batch"])


def batch_variance_share(features: pd.DataFrame, batch: pd.Series, *,
                         readouts: Iterable[str] = BATCH_READOUTS) -> pd.DataFrame:  # fmt: skip
    """Share (%) of a read-out's variance that lies between acquisition batches, raw and batch-normalised.

    The between-batch variance is the variance of the batch means assigned to each sample; intensities (MFIs) are
    compared on the log scale, scores (``*score*``, already log ratios) as they are. Samples without the read-out are
    left out of its two rows.

    Parameters
    ----------
    features
        Per-sample features with each read-out and its ``<read-out>_norm`` twin.
    batch
        Batch per row of ``features`` (:func:`sample_batches`).
    readouts
        Raw read-out columns.

    Returns
    -------
    pandas.DataFrame
        Two rows per read-out (``raw``, ``normalised``): ``read_out, scale, between_batch_variance_pct, n``.
    """
    rows = []
    for raw_col in readouts:
        for kind, col in (("raw", raw_col), ("normalised", f"{raw_col}_norm")):
            v = features[col] if "score" in col else np.log(features[col])
            ok = v.notna()
            share = 100 * v[ok].groupby(batch[ok]).transform("mean").var() / v[ok].var()
            rows.append({"read_out": raw_col, "scale": kind, "between_batch_variance_pct": share, "n": int(ok.sum())})
    return pd.DataFrame(rows, columns=["read_out", "scale", "between_batch_variance_pct", "n"])


def add_mrd_features(features: pd.DataFrame, samples: pd.DataFrame, mrd: pd.DataFrame) -> pd.DataFrame:
    """Add to the feature table one row per remission sample holding its flow MRD (the integration reads it there).

    Parameters
    ----------
    features
        Per-sample features of the diagnosis and relapse samples.
    samples
        samples.csv table (``sample_id, patient_id, timepoint``).
    mrd
        :func:`helpers.cytometry.tubes.mrd_readouts` (``sample_id`` and the ``mrd_flow_*`` columns).

    Returns
    -------
    pandas.DataFrame
        ``features`` followed by the MRD rows (``sample_id, patient_id, timepoint``, ``mrd_flow_pct``,
        ``mrd_flow_events``, ``mrd_flow_cd45_events``, ``mrd_flow_lod_pct``), on a fresh index.
    """
    rows = mrd[["sample_id", "mrd_flow_pct", "mrd_flow_events", "mrd_flow_cd45_events", "mrd_flow_lod_pct"]]
    return pd.concat([features, samples[["sample_id", "patient_id", "timepoint"]].merge(rows, on="sample_id")],
                     ignore_index=True)  # fmt: skip


def diagnosis_table(features: pd.DataFrame, endpoints: pd.DataFrame) -> pd.DataFrame:
    """Select the diagnosis samples with their patient's response (``responder`` 0/1, ``response_group``, ``response``).

    Parameters
    ----------
    features
        Per-sample features (``sample_id, patient_id, timepoint``, ...).
    endpoints
        :func:`helpers.clinical.clinical_endpoints` (``patient_id, responder, response_group``).

    Returns
    -------
    pandas.DataFrame
        One row per diagnosis sample of a patient with endpoints; ``response`` is ``responder`` or
        ``primary_resistant``.
    """
    dx = features[features["timepoint"] == "diagnosis"].merge(
        endpoints[["patient_id", "responder", "response_group"]], on="patient_id")
    dx["response"] = np.where(dx["responder"] == 1, "responder", "primary_resistant")
    return dx


def readouts_by_response(dx: pd.DataFrame, readouts: Iterable[str] = RESPONSE_READOUTS, *,
                         min_samples: int = 5) -> pd.DataFrame:  # fmt: skip
    """Medians in responders and primary-resistant patients and the ROC AUC of each read-out for response.

    Parameters
    ----------
    dx
        :func:`diagnosis_table`.
    readouts
        Feature columns to compare.
    min_samples
        Read-outs measured in fewer samples, or in one response group only, are left out.

    Returns
    -------
    pandas.DataFrame
        ``read_out, median_responder, median_primary_resistant, auc_response, n``: the AUC is the probability that a
        random responder has a higher value than a random primary-resistant patient (0.5 = no information).
    """
    rows = []
    for c in readouts:
        ok = dx[c].notna()
        if ok.sum() < min_samples or dx.loc[ok, "responder"].nunique() < 2:
            continue
        rows.append({
            "read_out": c,
            "median_responder": dx.loc[ok & (dx["responder"] == 1), c].median(),
            "median_primary_resistant": dx.loc[ok & (dx["responder"] == 0), c].median(),
            "auc_response": roc_auc_score(dx.loc[ok, "responder"], dx.loc[ok, c]),
            "n": int(ok.sum()),
        })
    return pd.DataFrame(rows, columns=["read_out", "median_responder", "median_primary_resistant", "auc_response", "n"])


def cutoff_table(cut: Mapping) -> pd.DataFrame:
    """Tabulate the result of :func:`helpers.cytometry.readouts.derive_cutoff` as one row.

    Parameters
    ----------
    cut
        The dict of :func:`~helpers.cytometry.readouts.derive_cutoff`, with its ``cutoff_ci`` pair.

    Returns
    -------
    pandas.DataFrame
        One row: every scalar entry, then ``cutoff_ci_low`` and ``cutoff_ci_high``.
    """
    scalars = {k: v for k, v in cut.items() if k != "cutoff_ci"}
    return pd.DataFrame([scalars | {"cutoff_ci_low": cut["cutoff_ci"][0], "cutoff_ci_high": cut["cutoff_ci"][1]}])


def relapse_shift(features: pd.DataFrame, readouts: Iterable[str]) -> pd.DataFrame:
    """Change of each read-out from diagnosis to relapse in the patients with both samples.

    Parameters
    ----------
    features
        Per-sample features (``patient_id, timepoint`` and the read-outs).
    readouts
        The read-outs; the pairs are the patients whose relapse sample has the first one.

    Returns
    -------
    pandas.DataFrame
        Indexed by read-out: ``pairs``, ``mean_change``, ``median_change`` (relapse - diagnosis).
    """
    readouts = list(readouts)
    paired = features.pivot_table(index="patient_id", columns="timepoint", values=readouts)
    paired = paired.dropna(subset=[(readouts[0], "relapse")])
    shift = pd.DataFrame({c: (paired[(c, "relapse")] - paired[(c, "diagnosis")]).describe()[["count", "mean", "50%"]]
                          for c in readouts}).T  # fmt: skip
    shift.columns = ["pairs", "mean_change", "median_change"]
    return shift


def metacluster_abundance(sample_ids: pd.Series | np.ndarray, metaclusters: np.ndarray) -> pd.DataFrame:
    """Percent of each sample's cells in each metacluster, columns named ``som_mc<k>_pct``.

    Parameters
    ----------
    sample_ids
        Sample of each cell.
    metaclusters
        Metacluster of each cell (:func:`helpers.cytometry.clustering.run_flowsom`).

    Returns
    -------
    pandas.DataFrame
        Samples x metaclusters (:func:`helpers.cytometry.clustering.cluster_abundance`), renamed.
    """
    from .clustering import cluster_abundance

    abund = cluster_abundance(sample_ids, metaclusters)
    abund.columns = [f"som_mc{c}_pct" for c in abund.columns]
    return abund


def abundance_by_response(abund: pd.DataFrame, dx: pd.DataFrame) -> pd.DataFrame:
    """Mean metacluster abundance in responders and primary-resistant patients at diagnosis, with the ROC AUC.

    Parameters
    ----------
    abund
        :func:`metacluster_abundance` (indexed by ``sample_id``).
    dx
        :func:`diagnosis_table` (``sample_id, responder``).

    Returns
    -------
    pandas.DataFrame
        Indexed by metacluster column: ``mean_pct_responder, mean_pct_primary_resistant, auc_response``.
    """
    ab_dx = abund.reset_index().merge(dx[["sample_id", "responder"]], on="sample_id")
    return pd.DataFrame({
        "mean_pct_responder": ab_dx[ab_dx["responder"] == 1][abund.columns].mean(),
        "mean_pct_primary_resistant": ab_dx[ab_dx["responder"] == 0][abund.columns].mean(),
        "auc_response": [roc_auc_score(ab_dx["responder"], ab_dx[c]) for c in abund.columns],
    })


def metacluster_medians(sample_ids: pd.Series, metaclusters: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    """Median of one marker per sample and metacluster (the input of a differential-state test).

    Parameters
    ----------
    sample_ids
        Sample of each cell.
    metaclusters
        Metacluster of each cell.
    values
        The marker's (transformed) intensity of each cell.

    Returns
    -------
    pandas.DataFrame
        Samples x metaclusters; NaN where a sample has no cell in a metacluster.
    """
    cells = pd.DataFrame({"sample_id": np.asarray(sample_ids), "metacluster": metaclusters, "v": values})
    return cells.groupby(["sample_id", "metacluster"])["v"].median().unstack()


def metacluster_tests(counts: pd.DataFrame, design: pd.DataFrame, response: pd.Series, medians: pd.DataFrame, *,
                      marker: str) -> pd.DataFrame:  # fmt: skip
    """Run the three differential tests of the metaclusters, in one table with a ``test`` column.

    ``relapse_vs_diagnosis``: abundance, paired by patient (each patient its own control);
    ``responder_vs_primary_resistant``: abundance at diagnosis, unpaired; ``<marker> relapse_vs_diagnosis``: the
    marker's median per sample and metacluster in the patients with both samples (mixed model, patient intercept).

    Parameters
    ----------
    counts
        Cells per sample and metacluster (:func:`helpers.cytometry.differential.cluster_counts`).
    design
        Indexed like ``counts``: ``patient_id, timepoint``.
    response
        ``responder`` / ``primary_resistant`` by ``sample_id`` of the diagnosis samples.
    medians
        :func:`metacluster_medians` of ``marker``.
    marker
        Name of the marker of ``medians`` (in the ``test`` label).

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`~helpers.cytometry.differential.differential_abundance` and
        :func:`~helpers.cytometry.differential.differential_state`, each with its ``test``.
    """
    da_relapse = differential_abundance(counts, design, group="timepoint", paired=True).assign(
        test="relapse_vs_diagnosis")
    dx_ids = design.index[design["timepoint"] == "diagnosis"]
    resp_design = design.loc[dx_ids].join(response.rename("response")).dropna(subset=["response"])
    da_response = differential_abundance(counts.loc[resp_design.index], resp_design, group="response").assign(
        test="responder_vs_primary_resistant")
    paired_ids = design.index[design.groupby("patient_id")["timepoint"].transform("nunique") == 2]
    ds_relapse = differential_state(medians.loc[paired_ids], design.loc[paired_ids], group="timepoint").assign(
        test=f"{marker} relapse_vs_diagnosis")
    return pd.concat([da_relapse, da_response, ds_relapse], ignore_index=True)
