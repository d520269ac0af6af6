"""Malignant versus normal, per cell, with the evidence it rests on; the hierarchy among malignant cells only.

A marrow after AZA/VEN mixes leukemic and regenerating normal cells, and normal monocytes or progenitors look like
their leukemic counterparts. Two kinds of evidence are combined, per patient:

- **copy number** (:mod:`.cnv`, infercnvpy against the patient's own normal lymphocytes): where the leukemia carries a
  detectable change (+8, -7, del(5q), ... about half of AML), each cell's projection on the patient's consensus change
  decides: ``cnv_score >= cnv_high`` malignant, ``<= cnv_low`` normal, in between the expression decides;
- **expression** (the fallback where no change is detected, and for cells the CNV leaves undecided): every cell is
  scored for the seven Zeng 2022 leukemic states and for the normal classes (HSC/MPP, GMP, monocytes, DC, T, B, NK,
  erythroid, neutrophils, megakaryocytes, mast cells / basophils, cycling cells). When other patients of the run have
  CNV-decided cells, a logistic regression on these scores is trained on them (probability >= 0.7 malignant, <= 0.3
  normal); otherwise (one sample, or no CNV anywhere) the margin of the best leukemic state over the best normal
  class, ``expr_margin``, gives ``malignant`` above ``+margin``, ``normal`` below ``-margin``, else ``uncertain``.
  The margin (0.5 mean z-score) is conservative on purpose: expression alone does not tell a normal monocyte or
  progenitor from its leukemic look-alike.

The result states per cell ``malignant_call`` (malignant / normal / uncertain), ``malignant_score`` (0-1) and
``malignant_evidence`` (``cnv``, ``cnv+expression`` where the CNV was undecided, ``expression`` where the patient has
no detectable change or no reference), and per patient what was found. Among malignant cells only, the hierarchy
state is the best of the seven Zeng states (``hierarchy_state``; empty for other cells).
"""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd

from ..errors import DataContractError
from .annotate import annotate_cells
from .cnv import annotate_positions, choose_reference, infer_cnv_patient
from .genesets import HIERARCHY_STATES, NORMAL_TYPES, REFERENCE_TYPES, hierarchy_gene_sets

__all__ = ["call_malignant", "MALIGNANT_CALLS", "EVIDENCE"]

MALIGNANT_CALLS = ("malignant", "normal", "uncertain")
EVIDENCE = ("cnv", "cnv+expression", "expression")
# Normal classes whose cells can be leukemic look-alikes: the CNV consensus is built from them and the leukemic states.
_MYELOID_CANDIDATES = ("HSC/MPP", "GMP", "Monocyte", "DC", "Myeloid", "Cycling")


def call_malignant(
    adata: ad.AnnData,
    *,
    patient_key: str = "patient_id",
    cnv: bool = True,
    species: str = "human",
    margin: float = 0.5,
    cnv_high: float = 0.6,
    cnv_low: float = 0.3,
    min_reference: int = 20,
    on_missing_reference: str = "pool",
    min_training: int = 50,
    smooth: bool = True,
) -> pd.DataFrame:
    """Call every cell malignant, normal or uncertain, and place malignant cells on the Zeng 2022 hierarchy.

    Parameters
    ----------
    adata
        Log-normalised ``X`` (natural log of 1 + counts per 10,000); with ``smooth``, a kNN graph; ``obs[patient_key]``.
    patient_key
        Copy-number changes are clonal within a patient: profiles and references are per patient.
    cnv
        Infer copy number (needs gene positions: symbols of ``species``); ``False`` = expression only.
    species
        ``"human"`` or ``"mouse"`` (mouse symbols are matched to the human gene sets by case).
    margin
        Expression margin (mean z-score units) between the best leukemic state and the best normal class.
    cnv_high, cnv_low
        CNV score limits of a malignant and of a normal call.
    min_reference
        Fewest normal reference cells for a patient's own reference.
    on_missing_reference
        A patient with fewer reference cells: ``"pool"`` (the reference cells of the whole run), ``"expression"``
        (no CNV for that patient) or ``"error"``.
    min_training
        Fewest CNV-called malignant and normal cells to train the expression classifier on.
    smooth
        Average the expression scores over kNN neighbours (see :func:`~helpers.scrna.annotate.annotate_cells`).

    Returns
    -------
    DataFrame
        One row per patient: ``reference`` (what was used), ``cnv_detected``, ``cnv_changes``, ``window_size``,
        ``evidence`` (the main evidence of that patient's calls), ``n_cells``, ``n_malignant``, ``n_normal``,
        ``n_uncertain``. ``obs`` gets ``malignant_call``, ``malignant_score``, ``malignant_evidence``, ``cnv_score``,
        ``expr_margin``, ``normal_class``, ``hierarchy_state``, ``cell_type`` and ``compartment``
        (leukemic / normal / uncertain).

    Raises
    ------
    DataContractError
        Gene symbols that match none of the gene sets; with ``cnv``, no normal reference cells at all (or for a
        patient with ``on_missing_reference="error"``).
    """
    if on_missing_reference not in ("pool", "expression", "error"):
        raise ValueError(f"on_missing_reference must be 'pool', 'expression' or 'error', got {on_missing_reference!r}")
    sets = hierarchy_gene_sets(top=100)
    upper = pd.Index(adata.var_names.astype(str).str.upper())
    n_found = len(set(upper) & {g for gs in sets.values() for g in gs})
    if n_found < 50:
        raise DataContractError("var_names", f"only {n_found} gene symbols match the hierarchy and normal gene sets "
                                "(need 50): gene symbols (not Ensembl ids) of human or mouse genes are expected",
                                column="var_names")
    work = adata
    if species == "mouse":
        # mouse symbols (and any case variant) meet the human gene sets by case; duplicates keep the first
        keep = ~upper.duplicated()
        work = adata[:, keep].copy() if not keep.all() else adata.copy()
        work.var_names = upper[keep]
    # Malignant-versus-normal scores: the leukemic states against every normal class, genes shared between any two
    # sets dropped (so that lineage genes common to a state and its normal counterpart decide nothing).
    ann = annotate_cells(work, gene_sets=sets, smooth=smooth)
    scores = ann[[c for c in ann.columns if c.startswith("score_")]].rename(columns=lambda c: c.removeprefix("score_"))
    states = [s for s in HIERARCHY_STATES if s in scores]
    normals = [s for s in NORMAL_TYPES if s in scores]
    leuk_best = scores[states].to_numpy().max(axis=1)
    norm_best = scores[normals].to_numpy().max(axis=1)
    normal_class = np.asarray(normals, dtype=object)[scores[normals].to_numpy().argmax(axis=1)]
    # Hierarchy state: the seven Zeng sets among themselves only (a normal set no longer takes their genes away).
    hier = annotate_cells(work, gene_sets={k: sets[k] for k in HIERARCHY_STATES}, smooth=smooth)
    state = hier["cell_type"].astype(str).to_numpy()
    d = leuk_best - norm_best
    expr_call = np.where(d > margin, "malignant", np.where(d < -margin, "normal", "uncertain")).astype(object)
    expr_score = 1 / (1 + np.exp(-d / max(margin, 1e-6)))  # logistic in units of the margin: 0.5 at d = 0

    call = expr_call.copy()
    score = expr_score.copy()
    evidence = np.full(adata.n_obs, "expression", dtype=object)
    cnv_score = np.full(adata.n_obs, np.nan)
    pats = adata.obs[patient_key].astype(str).to_numpy() if patient_key in adata.obs else np.full(adata.n_obs, "all")
    # reference candidates: cells whose expression class is a reference class and that expression calls normal
    ref_class = np.where(expr_call == "normal", normal_class, "").astype(object)
    rows = []
    no_cnv_reason = ""
    if cnv and species == "mouse":
        cnv, no_cnv_reason = False, "no mouse gene positions shipped: expression only"
    if cnv:
        annotate_positions(work, species=species)
        try:
            pooled, _ = choose_reference(pd.Series(ref_class), min_cells=min_reference)
        except DataContractError:
            raise DataContractError("sample", f"no normal reference cells in the data: fewer than {min_reference} "
                                    f"cells called {', '.join(REFERENCE_TYPES)} or another mature normal class; give "
                                    "cnv=False (expression only) or add a normal sample") from None
    for p in dict.fromkeys(pats):
        m = pats == p
        row = {"patient": p, "n_cells": int(m.sum()), "reference": no_cnv_reason, "cnv_detected": False,
               "cnv_changes": "",
               "window_size": np.nan}
        if cnv:
            try:
                ref_local, row["reference"] = choose_reference(pd.Series(ref_class[m]), min_cells=min_reference)
                sub = work[m]
                ref = ref_local
                groups = ref_class[m]
            except DataContractError:
                if on_missing_reference == "error":
                    raise DataContractError("sample", f"patient {p!r}: no normal reference cells (fewer than "
                                            f"{min_reference} lymphocytes or other mature normal cells)") from None
                ref = None
                if on_missing_reference == "pool":
                    sel = m | pooled
                    sub = work[sel]
                    ref = (pooled & ~m)[sel]
                    groups = ref_class[sel]
                    row["reference"] = f"pooled: {int(ref.sum())} reference cells of other patients"
            if ref is not None:
                # candidates: cells that expression does not call normal (fewer normal cells dilute the consensus),
                # else every myeloid-looking cell
                cand = expr_call[m] != "normal"
                if cand.sum() < 30:
                    cand = np.isin(np.where(expr_call[m] == "normal", normal_class[m], "cand"),
                                   [*_MYELOID_CANDIDATES, "cand"])
                cand_full = np.zeros(sub.n_obs, bool)
                own = m[sel] if row["reference"].startswith("pooled") else np.ones(sub.n_obs, bool)
                cand_full[own] = cand
                res = infer_cnv_patient(sub, ref, candidates=cand_full, reference_groups=groups)
                row.update(cnv_detected=bool(res["detected"]), cnv_changes=res["changed_chromosomes"],
                           window_size=res["window_size"])
                if res["detected"]:
                    s = res["cnv_score"][own]
                    cnv_score[m] = s
                    c_call = np.where(s >= cnv_high, "malignant", np.where(s <= cnv_low, "normal", "")).astype(object)
                    decided = c_call != ""
                    idx = np.flatnonzero(m)
                    call[idx[decided]] = c_call[decided]
                    score[idx] = np.clip(s, 0, 1)
                    evidence[idx] = np.where(decided, "cnv", "cnv+expression")
                    # undecided by CNV: expression call; score halfway between the two kinds of evidence
                    score[idx[~decided]] = 0.5 * (np.clip(s[~decided], 0, 1) + expr_score[idx[~decided]])
        rows.append(row)

    # Where some patients' calls rest on copy number, their CNV-decided cells label an expression classifier (logistic
    # regression on the gene-set scores) that replaces the fixed margin for the other patients and for cells the CNV
    # left undecided: as van Galen et al. 2019 trained theirs on genotyped cells. Without such cells the margin stays.
    by_cnv = evidence == "cnv"
    y = call[by_cnv] == "malignant"
    trained = bool(by_cnv.any() and y.sum() >= min_training and (~y).sum() >= min_training)
    if trained:
        from sklearn.linear_model import LogisticRegression

        feats = scores[states + normals].to_numpy()
        mu, sd = feats[by_cnv].mean(axis=0), feats[by_cnv].std(axis=0) + 1e-9
        clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit((feats[by_cnv] - mu) / sd, y)
        prob = clf.predict_proba((feats - mu) / sd)[:, 1]
        rest = ~by_cnv & (expr_call != "normal")  # clearly normal by the margin (lymphoid, erythroid, ...) stays normal
        call[rest] = np.where(prob[rest] >= 0.7, "malignant", np.where(prob[rest] <= 0.3, "normal", "uncertain"))
        undecided = evidence == "cnv+expression"
        score[rest] = np.where(undecided[rest], 0.5 * (np.clip(np.nan_to_num(cnv_score[rest]), 0, 1) + prob[rest]),
                               prob[rest])
    malignant = call == "malignant"
    hier = np.where(malignant, state, "").astype(object)
    cell_type = np.where(malignant, state, normal_class).astype(object)
    obs = adata.obs
    obs["malignant_call"] = pd.Categorical(call, categories=list(MALIGNANT_CALLS))
    obs["malignant_score"] = score
    obs["malignant_evidence"] = pd.Categorical(evidence, categories=list(EVIDENCE))
    obs["cnv_score"] = cnv_score
    obs["expr_margin"] = d
    obs["normal_class"] = pd.Categorical(normal_class, categories=normals)
    obs["hierarchy_state"] = pd.Categorical(hier, categories=["", *states])
    obs["cell_type"] = pd.Categorical(cell_type, categories=[*states, *normals])
    obs["compartment"] = pd.Categorical(np.where(malignant, "leukemic", np.where(call == "normal", "normal",
                                                                                   "uncertain")),
                                        categories=["leukemic", "normal", "uncertain"])
    table = pd.DataFrame(rows).set_index("patient")
    ev = pd.Series(evidence).groupby(pats).agg(lambda e: e.value_counts().index[0])
    table["evidence"] = ev.reindex(table.index).to_numpy()
    for k in MALIGNANT_CALLS:
        table[f"n_{k}"] = pd.Series(call == k).groupby(pats).sum().reindex(table.index).astype(int).to_numpy()
    table.attrs["expression_rule"] = ("classifier trained on CNV-called cells" if trained else
                                      f"margin {margin:g} between leukemic states and normal classes")
    return table
