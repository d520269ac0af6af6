"""The single-cell axis's features for the integration: one row per sample and their dictionary.

Composition of the leukemic hierarchy (Zeng 2022 states), LSC17 and LinClass-7 on the leukemic pseudobulk, BCL2-family
expression and programme scores of the leukemic cells. The dictionary follows the contract of every axis
(``helpers/data/feature_dictionary.yaml``); the monocytic fraction, LSC17 and the BCL2 index stand for three of the
study's biomarkers (the integration prefers the cytometry read-out of the first and the second where both exist).
"""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd

from ..axes import dictionary_spec
from .annotate import match_genes
from .genesets import HIERARCHY_STATES, LSPC_STATES, MONOCYTIC_STATES, linclass7_weights, lsc17_weights
from .scores import BCL2_GENES, linclass7_score, lsc17_score, pseudobulk

__all__ = ["FEATURES", "feature_dictionary", "sample_features"]

# name, unit, definition, role, biomarker, direction (for the response to AZA/VEN; empty when not pre-specified).
FEATURES = [
    ("n_cells_qc", "cells", "cells passing QC", "qc", "", ""),
    ("leukemic_frac", "fraction", "cells called malignant (copy number or expression, see malignant_evidence) among "
     "QC-passed cells", "malignancy", "", ""),
    *[(f"frac_{s.lower().replace('-', '_')}", "fraction", f"{s} cells among the sample's leukemic cells (Zeng 2022)",
       "composition", "", "")
      for s in HIERARCHY_STATES],
    ("monocytic_frac", "fraction", "ProMono-like + Mono-like cells among leukemic cells", "composition",
     "monocytic fraction", "resistant"),
    ("lspc_frac", "fraction", "LSPC-Quiescent + LSPC-Primed + LSPC-Cycle cells among leukemic cells", "composition", "",
     ""),
    ("lsc17_score", "weighted log2 CPM", "LSC17 (Ng 2016 weights) on the log2(1 + CPM) pseudobulk of leukemic cells",
     "score", "LSC17", "resistant"),
    ("lsc17_n_genes", "genes", "LSC17 genes measured by the assay (of 17) and used in lsc17_score", "coverage", "", ""),
    ("bcl2_log2cpm", "log2(1 + CPM)", "BCL2 in the leukemic pseudobulk", "expression", "", "sensitive"),
    ("mcl1_log2cpm", "log2(1 + CPM)", "MCL1 in the leukemic pseudobulk", "expression", "", "resistant"),
    ("bcl2l1_log2cpm", "log2(1 + CPM)", "BCL2L1 (BCL-xL) in the leukemic pseudobulk", "expression", "", "resistant"),
    ("bcl2a1_log2cpm", "log2(1 + CPM)", "BCL2A1 in the leukemic pseudobulk", "expression", "", "resistant"),
    ("bcl2_index", "log2 ratio", "log2 BCL2 - mean(log2 MCL1, log2 BCL2A1) in the leukemic pseudobulk", "expression",
     "BCL2-family score", "sensitive"),
    ("oxphos_score", "mean z-score", "Hallmark OXPHOS gene-set score averaged over leukemic cells", "score", "", ""),
    ("monocytic_score", "mean z-score", "Zeng Mono-like programme score averaged over leukemic cells", "score", "",
     "resistant"),
    ("uncertain_frac", "fraction", "cells neither malignant nor normal by the evidence available, among QC cells",
     "malignancy", "", ""),
    ("n_leukemic_cells", "cells", "cells called malignant", "malignancy", "", ""),
    ("cnv_detected", "0/1", "1 when the patient's leukemia carries a copy-number change detected by infercnvpy",
     "malignancy", "", ""),
    ("malignant_evidence", "text", "evidence of most of the sample's calls: cnv, cnv+expression or expression",
     "malignancy", "", ""),
    ("linclass7_score", "weighted log1p CPM", "LinClass-7 (Zeng 2022 weights) on the log1p CPM pseudobulk of "
     "leukemic cells", "score", "", ""),
    ("linclass7_n_genes", "genes", "LinClass-7 genes measured by the assay (of 7) and used in linclass7_score",
     "coverage", "", ""),
]  # fmt: skip
_NAMES = [f[0] for f in FEATURES]
_SOURCE = "scRNA-seq (notebook 03_scrna)"


def feature_dictionary(*, source: str = _SOURCE) -> pd.DataFrame:
    """Describe the columns of :func:`sample_features` (``features_dictionary.csv`` of the single-cell notebook).

    Parameters
    ----------
    source
        The ``source`` column: the notebook that wrote the features.

    Returns
    -------
    pandas.DataFrame
        The id columns then one row per feature, in the columns of the feature-dictionary contract.
    """
    ids = [("sample_id", "", "sample identifier (samples.csv)", "id", "", ""),
           ("patient_id", "", "patient identifier", "id", "", ""),
           ("timepoint", "", "diagnosis, remission or relapse", "id", "", "")]  # fmt: skip
    rows = [(n, u, source, d, role, bm, direction) for n, u, d, role, bm, direction in [*ids, *FEATURES]]
    return pd.DataFrame(rows, columns=list(dictionary_spec().columns))


def sample_features(adata: ad.AnnData, *, min_leukemic_cells: int = 20, sample_key: str = "sample_id") -> pd.DataFrame:
    """One row per sample: composition of the leukemic hierarchy and programme scores of the leukemic cells.

    Needs ``obs`` columns ``cell_type``, ``compartment``, ``patient_id``, ``timepoint`` (annotation), the per-cell
    programme scores (:func:`cell_programme_scores`) and raw counts in ``layers['counts']``. Samples with fewer than
    ``min_leukemic_cells`` leukemic cells (e.g. in remission) get NaN for every leukemic feature: fractions and scores
    from a handful of cells would be noise. Columns are described by :func:`feature_dictionary`.

    Parameters
    ----------
    adata
        Annotated cells of the cohort (:func:`helpers.scrna.build_atlas`).
    min_leukemic_cells
        Fewer leukemic cells than this make a sample's leukemic features missing.
    sample_key
        ``obs`` column of the sample.

    Returns
    -------
    pandas.DataFrame
        ``sample_id, patient_id, timepoint`` and the features of :func:`feature_dictionary`.
    """
    obs = adata.obs
    meta = obs.groupby(sample_key, observed=True)[["patient_id", "timepoint"]].first()
    meta["timepoint"] = meta["timepoint"].astype(str)
    out = meta.copy()
    out["n_cells_qc"] = obs.groupby(sample_key, observed=True).size()
    leuk = obs["compartment"] == "leukemic"
    out["leukemic_frac"] = leuk.groupby(obs[sample_key], observed=True).mean()
    ct = pd.crosstab(obs.loc[leuk, sample_key], obs.loc[leuk, "cell_type"]).reindex(index=out.index, fill_value=0)
    ct = ct.reindex(columns=list(HIERARCHY_STATES), fill_value=0)
    n_leuk = ct.sum(axis=1)
    frac = ct.div(n_leuk.replace(0, np.nan), axis=0)
    for s in HIERARCHY_STATES:
        out[f"frac_{s.lower().replace('-', '_')}"] = frac[s]
    out["monocytic_frac"] = frac[list(MONOCYTIC_STATES)].sum(axis=1, min_count=1)
    out["lspc_frac"] = frac[list(LSPC_STATES)].sum(axis=1, min_count=1)
    sub = adata[leuk.to_numpy()]
    genes = match_genes(list(lsc17_weights()) + BCL2_GENES, adata.var_names)
    pb, _ = pseudobulk(sub, sample_key)
    lib = pb.sum(axis=1)
    log2cpm = np.log2(1 + pb[genes].div(lib, axis=0) * 1e6)
    out["lsc17_score"], found = lsc17_score(log2cpm)
    out["lsc17_n_genes"] = len(found)
    for g in ["BCL2", "MCL1", "BCL2L1", "BCL2A1"]:
        out[f"{g.lower()}_log2cpm"] = log2cpm[g] if g in log2cpm else np.nan
    out["bcl2_index"] = out["bcl2_log2cpm"] - out[["mcl1_log2cpm", "bcl2a1_log2cpm"]].mean(axis=1)
    means = sub.obs.groupby(sample_key, observed=True)[["oxphos", "monocytic"]].mean()
    out["oxphos_score"] = means["oxphos"]
    out["monocytic_score"] = means["monocytic"]
    cpm = pb.div(lib, axis=0) * 1e6
    l7_genes = match_genes(list(linclass7_weights()), adata.var_names)
    out["linclass7_score"], found7 = linclass7_score(np.log1p(cpm[l7_genes]))
    out["linclass7_n_genes"] = len(found7)
    comp = obs["compartment"].astype(str)
    out["uncertain_frac"] = (comp == "uncertain").groupby(obs[sample_key], observed=True).mean()
    out["n_leukemic_cells"] = n_leuk.reindex(out.index).fillna(0).astype(int)
    if "malignant_evidence" in obs:
        ev = obs.loc[leuk, "malignant_evidence"].astype(str).groupby(obs.loc[leuk, sample_key], observed=True)
        out["malignant_evidence"] = ev.agg(lambda e: e.value_counts().index[0]).reindex(out.index).fillna("")
        cnv_pat = obs.groupby(sample_key, observed=True)["cnv_score"].apply(lambda v: float(v.notna().any()))
        out["cnv_detected"] = cnv_pat.reindex(out.index).astype(int)
    else:
        out["malignant_evidence"] = "expression"
        out["cnv_detected"] = 0
    keep_cols = ("n_cells_qc", "leukemic_frac", "uncertain_frac", "n_leukemic_cells", "cnv_detected",
                 "malignant_evidence")
    leuk_cols = [c for c in _NAMES if c not in keep_cols]
    out.loc[n_leuk.reindex(out.index).fillna(0) < min_leukemic_cells, leuk_cols] = np.nan
    out.index.name = "sample_id"
    return out.reset_index()[["sample_id", "patient_id", "timepoint", *_NAMES]]
