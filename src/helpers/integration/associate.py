"""Feature x drug association screen: continuous per-sample features against ex vivo drug AUCs.

For every feature and drug: Pearson r and Spearman rho (scipy) on the samples with both values, their p-values, and
the Benjamini-Hochberg q over all feature x drug pairs. The screen's ``p_value`` is Spearman's (rank-based: robust to
the skewed fractions and AUC ceilings of drug screens); ``pearson_p`` is given beside it. With covariates, the partial
correlation (Pearson of the residuals of feature and AUC on the covariates, t test with n - 2 - k degrees of freedom)
is added.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataContractError
from ..validation import read_csv_checked
from .stats import bh_fdr

__all__ = ["association_screen", "check_association_inputs", "read_association_inputs", "dream_association_inputs",
           "MIN_SAMPLES"]

MIN_SAMPLES = 5


def check_association_inputs(features: pd.DataFrame, responses: pd.DataFrame, *,
                             features_path: str | Path = "features", responses_path: str | Path = "responses",
                             min_samples: int = MIN_SAMPLES) -> pd.DataFrame:  # fmt: skip
    """Check the two tables and return the responses as a sample x drug matrix of AUCs.

    Parameters
    ----------
    features
        ``sample_id`` and one numeric column per feature.
    responses
        ``sample_id, drug, auc``.
    features_path, responses_path
        The files they were read from, for error messages.
    min_samples
        Fewest samples with both a feature and an AUC per drug.

    Returns
    -------
    pandas.DataFrame
        AUCs, one row per sample and one column per drug.

    Raises
    ------
    DataContractError
        Missing ``sample_id`` / ``drug`` / ``auc`` columns, an empty or duplicated sample id (row numbers as in the
        file, header = 1), a duplicated sample x drug pair, a non-numeric feature or AUC, or a drug with fewer than
        ``min_samples`` samples that also have features.
    """
    for path, df, cols in ((features_path, features, ["sample_id"]), (responses_path, responses,
                                                                       ["sample_id", "drug", "auc"])):  # fmt: skip
        miss = [c for c in cols if c not in df.columns]
        if miss:
            raise DataContractError(path, f"missing required column(s): {', '.join(miss)}", column=miss[0])
    sid = features["sample_id"].astype("string")
    empty = np.flatnonzero(sid.isna().to_numpy() | (sid.str.strip() == "").fillna(True).to_numpy())
    if len(empty):
        raise DataContractError(features_path, "empty sample_id", row=int(empty[0]) + 2, column="sample_id")
    dup = np.flatnonzero(sid.duplicated(keep="first").to_numpy())
    if len(dup):
        first = int(np.flatnonzero((sid == sid.iloc[dup[0]]).to_numpy())[0])
        raise DataContractError(features_path, f"duplicated sample_id {sid.iloc[dup[0]]!r} (lines {first + 2}, "
                                f"{int(dup[0]) + 2})", row=int(dup[0]) + 2, column="sample_id")  # fmt: skip
    for c in features.columns.drop("sample_id"):
        bad = np.flatnonzero((pd.to_numeric(features[c], errors="coerce").isna() & features[c].notna()).to_numpy())
        if len(bad):
            raise DataContractError(features_path, f"feature value {features[c].iloc[bad[0]]!r} is not a number",
                                    row=int(bad[0]) + 2, column=str(c))  # fmt: skip
    auc = pd.to_numeric(responses["auc"], errors="coerce")
    bad = np.flatnonzero((auc.isna() & responses["auc"].notna()).to_numpy())
    if len(bad):
        raise DataContractError(responses_path, f"auc {responses['auc'].iloc[bad[0]]!r} is not a number",
                                row=int(bad[0]) + 2, column="auc")  # fmt: skip
    key = responses["sample_id"].astype(str) + "\x00" + responses["drug"].astype(str)
    dup = np.flatnonzero(key.duplicated().to_numpy())
    if len(dup):
        r = responses.iloc[dup[0]]
        raise DataContractError(responses_path, f"sample {r['sample_id']!r} has more than one AUC for {r['drug']!r}",
                                row=int(dup[0]) + 2, column="sample_id")  # fmt: skip
    mat = responses.assign(auc=auc, sample_id=responses["sample_id"].astype(str)).pivot(
        index="sample_id", columns="drug", values="auc")
    shared = mat.reindex(sid.astype(str)).notna().sum()
    few = shared[shared < min_samples]
    if len(few):
        raise DataContractError(responses_path, f"drug {few.index[0]!r} has {int(few.iloc[0])} samples with features "
                                f"(at least {min_samples} needed)", column="drug")  # fmt: skip
    return mat


def read_association_inputs(features: str | Path, responses: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the two CSV files of the screen (ids as text, ``NA`` / empty as missing).

    Parameters
    ----------
    features, responses
        The two CSV files.

    Returns
    -------
    features, responses
        The two tables.
    """
    out = []
    for p in (features, responses):
        out.append(read_csv_checked(p, dtype={"sample_id": str, "drug": str}, na_values=["", "NA", "NaN", "nan"]))
    return out[0], out[1]


def association_screen(features: pd.DataFrame, responses: pd.DataFrame, *, covariates: list[str] | None = None,
                       min_samples: int = MIN_SAMPLES, features_path: str | Path = "features",
                       responses_path: str | Path = "responses") -> pd.DataFrame:  # fmt: skip
    """Correlate every feature with every drug's AUC.

    Parameters
    ----------
    features
        ``sample_id`` and one numeric column per feature (and the covariates).
    responses
        Long table ``sample_id, drug, auc``.
    covariates
        Columns of ``features`` to adjust for (partial correlation); they are not screened themselves.
    min_samples
        Fewest samples with both values for a pair to be tested (pairs below are reported with ``n`` only).
    features_path, responses_path
        The files the tables were read from, named in error messages.

    Returns
    -------
    pandas.DataFrame
        ``feature, drug, n, pearson_r, pearson_p, spearman_rho, p_value, q_value`` (``p_value`` = Spearman p, BH
        over all pairs), plus ``partial_r, partial_p, partial_q`` with covariates; sorted by ``p_value``.

    Raises
    ------
    DataContractError
        Any problem :func:`check_association_inputs` finds, or a covariate that is not a column of ``features``.
    """
    mat = check_association_inputs(features, responses, features_path=features_path, responses_path=responses_path,
                                   min_samples=min_samples)  # fmt: skip
    covariates = list(covariates or [])
    miss = [c for c in covariates if c not in features.columns]
    if miss:
        raise DataContractError(features_path, f"covariate column {miss[0]!r} not found", column=miss[0])
    f = features.assign(sample_id=features["sample_id"].astype(str)).set_index("sample_id")
    f = f.apply(pd.to_numeric, errors="coerce")
    feats = [c for c in f.columns if c not in covariates]
    rows = []
    for feat in feats:
        for drug in mat.columns:
            cols = [feat, *covariates]
            d = pd.concat([f[cols], mat[drug].rename("_auc")], axis=1, join="inner").dropna()
            row = {"feature": feat, "drug": drug, "n": len(d)}
            x, y = d[feat].to_numpy(float), d["_auc"].to_numpy(float)
            if len(d) >= min_samples and np.ptp(x) > 0 and np.ptp(y) > 0:
                pr, sr = stats.pearsonr(x, y), stats.spearmanr(x, y)
                row.update(pearson_r=float(pr.statistic), pearson_p=float(pr.pvalue),
                           spearman_rho=float(sr.statistic), p_value=float(sr.pvalue))  # fmt: skip
                if covariates and len(d) > len(covariates) + 3:
                    Z = np.column_stack([np.ones(len(d)), d[covariates].to_numpy(float)])
                    rx = x - Z @ np.linalg.lstsq(Z, x, rcond=None)[0]
                    ry = y - Z @ np.linalg.lstsq(Z, y, rcond=None)[0]
                    r = float(np.corrcoef(rx, ry)[0, 1])
                    dof = len(d) - 2 - len(covariates)
                    t = r * np.sqrt(dof / max(1e-300, 1 - r**2))
                    row.update(partial_r=r, partial_p=float(2 * stats.t.sf(abs(t), dof)))
            rows.append(row)
    cols = ["feature", "drug", "n", "pearson_r", "pearson_p", "spearman_rho", "p_value", "q_value"]
    if covariates:
        cols += ["partial_r", "partial_p", "partial_q"]
    out = pd.DataFrame(rows).reindex(columns=[c for c in cols if not c.endswith("_q") and c != "q_value"])
    out["q_value"] = bh_fdr(out["p_value"])
    if covariates:
        out["partial_q"] = bh_fdr(out["partial_p"])
    return out[cols].sort_values(["p_value", "feature", "drug"], na_position="last", kind="stable").reset_index(drop=True)


def dream_association_inputs(sample_table: pd.DataFrame, features: dict, *, response_axis: str = "dst",
                             feature_axes: tuple[str, ...] = ("scrna", "cytometry")) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-sample inputs of the screen from the integration's sample table.

    Drug responses are the ``response_axis`` features whose dictionary role is ``auc`` (the area under the fitted
    dose-response curve). Features are the continuous, non-QC features of ``feature_axes`` (hierarchy fractions,
    scores).

    Parameters
    ----------
    sample_table
        The integration's sample table (:func:`helpers.integration.assemble_sample_table`).
    features
        Assay -> :class:`helpers.integration.FeatureTable`.
    response_axis
        Assay whose AUC features are the responses.
    feature_axes
        Assays whose features are screened.

    Returns
    -------
    features_table
        ``sample_id`` and one column per feature.
    responses
        ``sample_id, drug, auc`` (``drug`` = the response feature's name).
    """
    from .tables import biomarker_candidates

    if response_axis not in features:
        return pd.DataFrame(columns=["sample_id"]), pd.DataFrame(columns=["sample_id", "drug", "auc"])
    dic = features[response_axis].dictionary
    # The role, not the unit: units are written for readers ("% x log10(uM)") and never named the measure.
    resp_cols = list(dic.loc[dic["role"].astype(str) == "auc", "name"])
    resp_cols = [c for c in resp_cols if c in sample_table]
    feat_cols = []
    for ax in feature_axes:
        if ax in features and features[ax].level == "sample":
            cand = biomarker_candidates(features[ax].dictionary, features[ax].features)
            feat_cols += [c for c in cand if c in sample_table and pd.api.types.is_float_dtype(sample_table[c])]
    ft = sample_table[["sample_id", *dict.fromkeys(feat_cols)]]
    ft = ft[ft[feat_cols].notna().any(axis=1)] if feat_cols else ft.iloc[:0]
    long = sample_table[["sample_id", *resp_cols]].melt(id_vars="sample_id", var_name="drug", value_name="auc")
    return ft.reset_index(drop=True), long.dropna(subset=["auc"]).reset_index(drop=True)
