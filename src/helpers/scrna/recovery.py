"""How well QC, the malignant call, the annotation and the features recover labels known by other means.

Used with a simulated cohort's planted truth (read by :mod:`helpers.truth` in the notebook's validation
section, never here: this module only compares tables it is given) or with any labelled data set.
"""

from __future__ import annotations

import dataclasses

import anndata as ad
import numpy as np
import pandas as pd

from .annotate import evaluate_annotation

__all__ = ["FEATURE_TRUTH_PAIRS", "CellRecovery", "feature_recovery", "recover_cell_labels"]

#: Sample feature -> the planted per-sample quantity it estimates (truth/scrna_samples.csv).
FEATURE_TRUTH_PAIRS = {"monocytic_frac": "mono_frac", "frac_lspc_quiescent": "leukfrac_LSPC-Quiescent",
                       "bcl2_index": "bcl2_dependence", "oxphos_score": "oxphos_dependence"}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class CellRecovery:
    """Per-cell calls against known labels.

    Attributes
    ----------
    qc
        Planted doublets and damaged cells in the input and among the cells QC kept (``planted``, ``kept``,
        ``removed``), indexed by ``doublet`` and ``damaged``.
    accuracy
        Malignant-versus-normal accuracy over the kept singlets.
    false_malignant_rate
        Share of the planted normal cells called malignant.
    accuracy_by_patient
        ``patient_id, accuracy``.
    ari
        Adjusted Rand index of all cell types against the labels.
    hierarchy_ari
        Adjusted Rand index of the hierarchy state among cells both labelled and called malignant.
    hierarchy
        Per hierarchy state among those cells: precision, recall, F1 and counts
        (:func:`~helpers.scrna.annotate.evaluate_annotation`).
    labels
        The label of every kept singlet (for a confusion plot).
    """

    qc: pd.DataFrame
    accuracy: float
    false_malignant_rate: float
    accuracy_by_patient: pd.DataFrame
    ari: float
    hierarchy_ari: float
    hierarchy: pd.DataFrame
    labels: pd.Series


def recover_cell_labels(adata: ad.AnnData, cells: pd.DataFrame) -> CellRecovery:
    """Compare QC, the malignant call and the annotation of an atlas with per-cell labels.

    Parameters
    ----------
    adata
        The annotated cells QC kept (``obs_names`` = ``<sample_id>_<barcode>``, ``malignant_call``, ``cell_type``,
        ``hierarchy_state``, ``patient_id``).
    cells
        One row per input cell: ``sample_id``, ``barcode``, ``cell_type``, ``malignant`` (0/1), ``doublet`` (0/1),
        ``damaged`` (0/1), as the simulator's ``truth/scrna_cells.csv.gz``.

    Returns
    -------
    CellRecovery
        QC recovery, malignant-call accuracy (overall and per patient) and annotation agreement.
    """
    truth = cells.copy()
    truth.index = truth["sample_id"] + "_" + truth["barcode"]
    kept = truth.loc[truth.index.intersection(adata.obs_names)]
    qc = pd.DataFrame({"planted": [int(truth["doublet"].sum()), int(truth["damaged"].sum())],
                       "kept": [int(kept["doublet"].sum()), int(kept["damaged"].sum())]},
                      index=pd.Index(["doublet", "damaged"], name="planted_as"))  # fmt: skip
    qc["removed"] = qc["planted"] - qc["kept"]
    planted_malignant = kept.loc[kept["doublet"] == 0, "malignant"]
    labels = kept[kept["doublet"] == 0]["cell_type"]
    call = adata.obs.loc[labels.index, "malignant_call"].astype(str)
    right = call.to_numpy() == np.where(planted_malignant == 1, "malignant", "normal")
    by_patient = pd.Series(right).groupby(adata.obs.loc[labels.index, "patient_id"].to_numpy()).mean()
    ari, _ = evaluate_annotation(adata.obs["cell_type"], labels)
    both = (planted_malignant == 1).to_numpy() & (call == "malignant").to_numpy()
    ari_h, hierarchy = evaluate_annotation(adata.obs.loc[labels.index[both], "hierarchy_state"], labels[both])
    return CellRecovery(
        qc=qc, accuracy=float(right.mean()),
        false_malignant_rate=float((call[planted_malignant == 0] == "malignant").mean()),
        accuracy_by_patient=by_patient.rename("accuracy").rename_axis("patient_id").reset_index(),
        ari=float(ari), hierarchy_ari=float(ari_h), hierarchy=hierarchy, labels=labels,
    )  # fmt: skip


def feature_recovery(features: pd.DataFrame, samples: pd.DataFrame) -> pd.DataFrame:
    """Spearman correlation of each sample feature with the per-sample quantity it estimates.

    Parameters
    ----------
    features
        Per-sample features (``sample_id`` and the keys of :data:`FEATURE_TRUTH_PAIRS`).
    samples
        Per-sample known values (``sample_id`` and the values of :data:`FEATURE_TRUTH_PAIRS`), as the simulator's
        ``truth/scrna_samples.csv``.

    Returns
    -------
    DataFrame
        ``feature, planted, spearman_rho`` over the samples with leukemic features.
    """
    f = features.set_index("sample_id").join(samples.set_index("sample_id"), rsuffix="_planted")
    f = f.dropna(subset=["monocytic_frac"])
    return pd.DataFrame([{"feature": a, "planted": b, "spearman_rho": f[a].corr(f[b], method="spearman")}
                         for a, b in FEATURE_TRUTH_PAIRS.items()])  # fmt: skip
