"""The cohort's single-cell contrasts and their tests.

Responders against primary-resistant patients at diagnosis, and diagnosis against relapse in the same patient; their
composition tests and pseudobulk differential expression (the patient as the unit).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import anndata as ad
import numpy as np
import pandas as pd

from .compare import clr, compare_groups, pseudobulk_de, state_counts

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "RESPONSE_GROUPS",
    "ResponseComparison",
    "compare_by_response",
    "de_by_response",
    "de_relapse_vs_diagnosis",
    "paired_samples",
    "response_labels",
]

#: The two groups compared at diagnosis (reference first).
RESPONSE_GROUPS = ("responder", "primary_resistant")
_COMPARED_FEATURES = ["monocytic_frac", "lsc17_score", "bcl2_index", "oxphos_score", "monocytic_score"]


def response_labels(clinical: pd.DataFrame, patient_ids: Iterable[str]) -> pd.Categorical:
    """Label each patient id with its response group: ``primary_resistant``, else ``responder``.

    Parameters
    ----------
    clinical
        The validated clinical table (:func:`helpers.clinical.load_clinical`).
    patient_ids
        Patient ids, one per cell or sample.

    Returns
    -------
    Categorical
        With categories :data:`RESPONSE_GROUPS`, in the order of ``patient_ids``.
    """
    from ..clinical import clinical_endpoints

    response = clinical_endpoints(clinical).set_index("patient_id")["response_group"]
    resistant = response.reindex(np.asarray(patient_ids)).to_numpy() == "primary_resistant"
    return pd.Categorical(np.where(resistant, *RESPONSE_GROUPS[::-1]), categories=list(RESPONSE_GROUPS))


@dataclasses.dataclass(frozen=True)
class ResponseComparison:
    """Diagnosis samples compared between responders and primary-resistant patients.

    Attributes
    ----------
    groups
        Response group of every compared diagnosis sample (index = sample id).
    table
        Per hierarchy state (centred log-ratio, ``clr_<state>``) and per score: medians, Mann-Whitney p and BH FDR
        (:func:`~helpers.scrna.compare.compare_groups`).
    diagnosis
        The compared samples' features with their ``response`` (one row per sample, for plotting).
    """

    groups: pd.Series
    table: pd.DataFrame
    diagnosis: pd.DataFrame


def compare_by_response(adata: ad.AnnData, features: pd.DataFrame, clinical: pd.DataFrame) -> ResponseComparison:
    """Composition and scores of the leukemic cells at diagnosis, responders against primary-resistant patients.

    One diagnosis sample per patient, those with leukemic features; states compared on centred log-ratios
    (compositional data), scores as they are; two-sided Mann-Whitney tests with Benjamini-Hochberg FDR.

    Parameters
    ----------
    adata
        Annotated cells (:func:`~helpers.scrna.atlas.build_atlas`).
    features
        Per-sample features (:func:`~helpers.scrna.features.sample_features`) with ``patient_id`` and ``timepoint``.
    clinical
        The validated clinical table.

    Returns
    -------
    ResponseComparison
        The groups, the test table and the compared samples.
    """
    dx = features[features["timepoint"] == "diagnosis"].dropna(subset=["monocytic_frac"]).set_index("sample_id")
    counts = state_counts(adata).loc[dx.index]
    values = clr(counts).add_prefix("clr_").join(dx[_COMPARED_FEATURES])
    groups = pd.Series(np.asarray(response_labels(clinical, dx["patient_id"])), index=dx.index)
    table = compare_groups(values, groups, a=RESPONSE_GROUPS[0], b=RESPONSE_GROUPS[1])
    return ResponseComparison(groups=groups, table=table,
                              diagnosis=dx.reset_index().assign(response=groups.to_numpy()))  # fmt: skip


def paired_samples(features: pd.DataFrame, adata: ad.AnnData) -> pd.DataFrame:
    """Patients with both a diagnosis and a relapse sample that kept cells after QC.

    Parameters
    ----------
    features
        Per-sample features with ``sample_id``, ``patient_id`` and ``timepoint``.
    adata
        The cells QC kept (``obs['sample_id']``).

    Returns
    -------
    DataFrame
        Indexed by patient: ``before`` (diagnosis sample id) and ``after`` (relapse sample id); no row when no
        patient has both.
    """
    smp = features.set_index("sample_id")
    has = adata.obs.groupby("sample_id", observed=True).size()
    dx = smp[smp["timepoint"] == "diagnosis"].reset_index().set_index("patient_id")["sample_id"]
    rel = smp[smp["timepoint"] == "relapse"].reset_index().set_index("patient_id")["sample_id"]
    both = dx.index.intersection(rel.index)
    paired = pd.DataFrame({"before": dx.loc[both], "after": rel.loc[both]})
    return paired[paired["before"].isin(has.index) & paired["after"].isin(has.index)]


def de_by_response(adata: ad.AnnData, groups: pd.Series, *, min_cells: int = 20) -> pd.DataFrame | None:
    """Pseudobulk DESeq2 of the leukemic cells at diagnosis: primary-resistant against responders (``~ group``).

    Parameters
    ----------
    adata
        Annotated cells with raw counts in ``layers['counts']``.
    groups
        Response group per diagnosis sample (:attr:`ResponseComparison.groups`).
    min_cells
        Samples with fewer leukemic cells are left out.

    Returns
    -------
    DataFrame or None
        pydeseq2's results indexed by gene; ``None`` when a group has fewer than two samples.
    """
    meta = pd.DataFrame({"group": groups}, index=groups.index)
    if meta["group"].value_counts().min() < 2:
        return None
    return pseudobulk_de(adata, samples=meta, design="~group", contrast=["group", "primary_resistant", "responder"],
                         min_cells=min_cells)  # fmt: skip


def de_relapse_vs_diagnosis(adata: ad.AnnData, paired: pd.DataFrame, *, min_cells: int = 20) -> pd.DataFrame | None:
    """Pseudobulk DESeq2 of the leukemic cells, relapse against diagnosis paired by patient.

    The design ``~ patient_id + timepoint`` compares each patient's relapse with their own diagnosis.

    Parameters
    ----------
    adata
        Annotated cells with raw counts in ``layers['counts']``.
    paired
        Diagnosis and relapse samples per patient (:func:`paired_samples`).
    min_cells
        Samples with fewer leukemic cells are left out.

    Returns
    -------
    DataFrame or None
        pydeseq2's results indexed by gene; ``None`` with fewer than two pairs.
    """
    if len(paired) < 2:
        return None
    meta = pd.DataFrame({"patient_id": list(paired.index) * 2,
                         "timepoint": ["diagnosis"] * len(paired) + ["relapse"] * len(paired)},
                        index=list(paired["before"]) + list(paired["after"]))  # fmt: skip
    return pseudobulk_de(adata, samples=meta, design="~patient_id + timepoint",
                         contrast=["timepoint", "relapse", "diagnosis"], min_cells=min_cells)  # fmt: skip
