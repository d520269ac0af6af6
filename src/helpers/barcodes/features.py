"""Per-PDX features of the barcoding axis for the integration table, and their data dictionary."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..axes import dictionary_spec
from .diversity import diversity_table
from .dynamics import DOMINANT_THRESHOLD, dominant_clones
from .resistance import ResistanceResult

__all__ = ["pdx_features", "FEATURE_DICTIONARY", "feature_dictionary"]

_SRC = "barcoding (PDX)"
_BASE = pd.DataFrame(
    [
        ("sample_id", "", _SRC, "patient sample the xenograft was derived from (diagnosis)"),
        ("patient_id", "", _SRC, "patient"),
        ("timepoint", "", _SRC, "timepoint of the source sample"),
        ("pdx_id", "", _SRC, "patient-derived xenograft"),
        ("bc_n_mice_treated", "mice", _SRC, "AZA/VEN mice with pre- and post-treatment samples"),
        ("bc_n_mice_vehicle", "mice", _SRC, "vehicle mice with pre- and post-treatment samples"),
        ("bc_pre_richness", "clones", _SRC, "detected barcodes before treatment, mean over mice (Hill q=0)"),
        ("bc_pre_shannon", "nats", _SRC, "Shannon entropy of clone frequencies before treatment, mean over mice"),
        ("bc_pre_simpson", "1", _SRC, "Gini-Simpson index 1 - sum p^2 before treatment, mean over mice"),
        ("bc_pre_hill_1", "clones", _SRC, "Hill number q=1 (exp Shannon) before treatment, mean over mice"),
        ("bc_pre_hill_2", "clones", _SRC, "Hill number q=2 (inverse Simpson) before treatment, mean over mice"),
        ("bc_post_hill_2_treated", "clones", _SRC, "Hill number q=2 after AZA/VEN, mean over treated mice"),
        ("bc_post_hill_2_vehicle", "clones", _SRC, "Hill number q=2 after vehicle, mean over vehicle mice"),
        ("bc_dominant_post_treated", "clones", _SRC,
         f"clones over {DOMINANT_THRESHOLD:.0%} of a sample after AZA/VEN, mean over treated mice"),
        ("bc_dominant_post_vehicle", "clones", _SRC,
         f"clones over {DOMINANT_THRESHOLD:.0%} of a sample after vehicle, mean over vehicle mice"),
        ("bc_n_resistant_clones", "clones", _SRC,
         "pre-existing barcodes called heritably resistant: expansion under treatment beyond the control arm "
         "(edgeR quasi-likelihood NB GLM, one-sided BH q <= 0.05) in all but one treated mouse"),
        ("bc_resistant_clone_fraction", "1", _SRC, "called resistant clones / barcodes tested"),
        ("bc_resistant_pre_share", "1", _SRC, "summed pre-treatment frequency of the called clones, mean over mice"),
        ("bc_resistant_post_share_treated", "1", _SRC,
         "summed post-treatment frequency of the called clones, mean over treated mice"),
        ("bc_resistance_p", "1", _SRC,
         "PDX-level p-value of pre-existing resistance: permutation of arm labels among the mice (null = the control "
         "arm); its smallest attainable value is bc_resistance_min_p"),
        ("bc_resistance_score", "-log10 p", _SRC, "-log10 of bc_resistance_p"),
        ("bc_resistance_p_simes", "1", _SRC,
         "Simes combination of the clones' one-sided expansion p-values (model-based PDX-level p)"),
        ("bc_resistance_min_p", "1", _SRC, "smallest p the permutation test can give: 1 / number of arm assignments"),
        ("bc_n_candidate_clones", "clones", _SRC,
         "clones that pass the GLM alone (one-sided BH q <= 0.05, reproducible) without the permutation bound: "
         "candidates, not calls (the GLM alone is anti-conservative on real pseudo-arms)"),
    ],
    columns=["name", "unit", "source", "definition"],
)  # fmt: skip
# Group of each feature (the role column of the dictionary contract), by name.
_ROLES = {
    **dict.fromkeys(["sample_id", "patient_id", "timepoint", "pdx_id"], "id"),
    **dict.fromkeys(["bc_n_mice_treated", "bc_n_mice_vehicle"], "design"),
    **dict.fromkeys(["bc_pre_richness", "bc_pre_shannon", "bc_pre_simpson", "bc_pre_hill_1", "bc_pre_hill_2",
                     "bc_post_hill_2_treated", "bc_post_hill_2_vehicle"], "diversity"),
    **dict.fromkeys(["bc_dominant_post_treated", "bc_dominant_post_vehicle"], "dominance"),
}
# More evidence of heritable, pre-existing resistant clones is expected in leukemias that resist AZA/VEN.
_RESISTANT = ("bc_n_resistant_clones", "bc_resistant_clone_fraction", "bc_resistant_pre_share",
              "bc_resistant_post_share_treated", "bc_resistance_score")  # fmt: skip


def feature_dictionary() -> pd.DataFrame:
    """Build the dictionary of :func:`pdx_features` (``features_dictionary.csv`` of the barcoding notebook).

    Returns
    -------
    pandas.DataFrame
        One row per column, in the columns of the feature-dictionary contract (``helpers/data/feature_dictionary.yaml``);
        no barcoding feature stands for one of the study's pre-specified biomarkers.
    """
    d = _BASE.copy()
    d["role"] = [_ROLES.get(n, "resistance") for n in d["name"]]
    d["biomarker"] = ""
    d["direction"] = ["resistant" if n in _RESISTANT else "" for n in d["name"]]
    return d[list(dictionary_spec().columns)]


FEATURE_DICTIONARY = feature_dictionary()


def pdx_features(samples: pd.DataFrame, result: ResistanceResult, sheet: pd.DataFrame, *,
                 pre: str = "pre_treatment", post: str = "post_treatment", treated_arm: str = "aza_ven",
                 control_arm: str = "vehicle") -> pd.DataFrame:  # fmt: skip
    """Tabulate per PDX the diversity before treatment, dominance after it, the resistant clones and the p-value.

    Parameters
    ----------
    samples
        Long per-sample counts with ``pdx_id, mouse_id, arm, timepoint, sample_key, barcode, count, detected,
        frequency``: :func:`helpers.barcodes.sample_counts` or :func:`helpers.barcodes.samples_from_units` (a shared
        baseline is then the ``pre`` sample of every mouse). Diversity uses the detected barcodes only.
    result
        The resistance calls: :func:`helpers.barcodes.resistance_calls` (or the older ``resistance_test``), with
        ``barcodes`` (``pdx_id, barcode, resistant``) and ``pdx`` (``pdx_id, p_value, n_barcodes, n_treated,
        n_vehicle`` and, when present, ``p_simes``, ``min_attainable_p``, ``n_resistant_glm_only``).
    sheet
        The sample sheet: ``pdx_id`` with the ``sample_id`` and ``patient_id`` of the source sample.
    pre, post
        Timepoints before and after treatment.
    treated_arm, control_arm
        Arms of the treated and the control mice.

    Returns
    -------
    pandas.DataFrame
        One row per PDX of ``sheet`` (sorted by ``pdx_id``), in the columns and order of :data:`FEATURE_DICTIONARY`
        (``sample_id, patient_id, timepoint, pdx_id``, then the ``bc_*`` features; units in the dictionary: clones,
        nats, shares 0-1, p-values); NaN where a PDX lacks the samples or the test.
    """
    det = samples[samples["detected"]]
    div = {}
    for key, sub in det.groupby("sample_key"):
        m = sub.set_index("barcode")[["count"]]
        div[key] = diversity_table(m).iloc[0]
    div = pd.DataFrame(div).T
    meta = det.drop_duplicates("sample_key").set_index("sample_key")[["pdx_id", "mouse_id", "arm", "timepoint"]]
    div = div.join(meta)
    dom = dominant_clones(samples)
    src = sheet.drop_duplicates("pdx_id").set_index("pdx_id")
    called = result.barcodes[result.barcodes["resistant"]] if len(result.barcodes) else pd.DataFrame(
        columns=["pdx_id", "barcode"])  # fmt: skip
    rows = []
    for pdx in sorted(src.index):
        d = div[div["pdx_id"] == pdx]
        pre_d = d[d["timepoint"] == pre]
        post_t = d[(d["timepoint"] == post) & (d["arm"] == treated_arm)]
        post_v = d[(d["timepoint"] == post) & (d["arm"] == control_arm)]
        dm = dom[(dom["pdx_id"] == pdx) & (dom["timepoint"] == post)]
        res = result.pdx.set_index("pdx_id").loc[pdx] if pdx in set(result.pdx.get("pdx_id", [])) else None
        cl = set(called.loc[called["pdx_id"] == pdx, "barcode"])
        s = det[det["pdx_id"] == pdx]
        share = s[s["barcode"].isin(cl)].groupby(["sample_key", "timepoint", "arm"])["frequency"].sum()
        all_keys = s.drop_duplicates("sample_key").set_index("sample_key")[["timepoint", "arm"]]
        share = share.droplevel([1, 2]).reindex(all_keys.index, fill_value=0.0)
        pre_share = share[all_keys["timepoint"] == pre].mean()
        post_share = share[(all_keys["timepoint"] == post) & (all_keys["arm"] == treated_arm)].mean()
        p = float(res["p_value"]) if res is not None else np.nan
        n_tested = int(res["n_barcodes"]) if res is not None else 0
        rows.append({
            "sample_id": src.loc[pdx, "sample_id"], "patient_id": src.loc[pdx, "patient_id"],
            "timepoint": "diagnosis", "pdx_id": pdx,
            "bc_n_mice_treated": int(res["n_treated"]) if res is not None else 0,
            "bc_n_mice_vehicle": int(res["n_vehicle"]) if res is not None else 0,
            "bc_pre_richness": pre_d["richness"].mean(), "bc_pre_shannon": pre_d["shannon"].mean(),
            "bc_pre_simpson": pre_d["simpson"].mean(), "bc_pre_hill_1": pre_d["hill_1"].mean(),
            "bc_pre_hill_2": pre_d["hill_2"].mean(),
            "bc_post_hill_2_treated": post_t["hill_2"].mean(), "bc_post_hill_2_vehicle": post_v["hill_2"].mean(),
            "bc_dominant_post_treated": dm.loc[dm["arm"] == treated_arm, "n_dominant"].mean(),
            "bc_dominant_post_vehicle": dm.loc[dm["arm"] == control_arm, "n_dominant"].mean(),
            "bc_n_resistant_clones": len(cl),
            "bc_resistant_clone_fraction": len(cl) / n_tested if n_tested else np.nan,
            "bc_resistant_pre_share": pre_share, "bc_resistant_post_share_treated": post_share,
            "bc_resistance_p": p, "bc_resistance_score": -np.log10(p) if p == p else np.nan,
            "bc_resistance_p_simes": float(res["p_simes"]) if res is not None and "p_simes" in res else np.nan,
            "bc_resistance_min_p": float(res["min_attainable_p"]) if res is not None and "min_attainable_p" in res
            else np.nan,
            "bc_n_candidate_clones": int(res["n_resistant_glm_only"]) if res is not None and "n_resistant_glm_only"
            in res else np.nan,
        })  # fmt: skip
    out = pd.DataFrame(rows, columns=FEATURE_DICTIONARY["name"])
    return out
