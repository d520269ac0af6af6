"""Recovery of the simulated cohort's planted effects, and the power of the study design to detect them.

:func:`planted_effect_tests` fits the three models in which the simulator plants effects (univariable and
multivariable logistic for primary resistance, multivariable Cox for relapse among responders) and sets each
estimate beside the planted effect. :func:`planted_effect_power` repeats this over many simulated cohorts of a given
size (patients from :func:`helpers.simulate.simulate_patients`, axis features from
:func:`helpers.simulate.features.simulate_feature_tables`) and reports how often each planted predictor is detected
with its planted sign, and how often the planted null is called: the power of a DREAM-sized study, and the size at
which "every planted predictor is significant" becomes a dependable check rather than a coin flip.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..clinical import load_cohort_tables
from ..integration.stats import fit_logistic, univariable_logistic
from ..integration.survival import fit_cox
from ..integration.tables import (
    assemble_patient_table,
    collect_features,
    combined_dictionary,
    log_transform_concentrations,
)

__all__ = ["PLANTED_TERMS", "planted_effect_tests", "planted_effect_power", "simulated_patient_table"]

# Measured feature -> (model, key in PLANTED_EFFECTS, sign of the feature relative to the latent variable).
# Ex vivo VEN AUC rises as sensitivity falls, so its expected sign is the opposite of the planted sensitivity effect.
PLANTED_TERMS = {
    "primary_resistance": {
        "ven_auc": ("ven_sensitivity_z", -1),
        "TP53": ("TP53", 1),
        "signalling": ("signalling", 1),
        "npm1_or_idh": ("NPM1_or_IDH", 1),
        "tnk_activation": ("immune_activation", 1),
    },
    "relapse": {
        "ven_auc": ("ven_sensitivity_z", -1),
        "pct_monocytic": ("mono_frac", 1),
        "TP53": ("TP53", 1),
        "signalling": ("signalling", 1),
        "log10_mrd": ("log10_mrd", 1),  # flow MRD at remission: in the model, or TP53 and VEN absorb its effect
        "tnk_activation": ("immune_activation", 1),
    },
}


def _rows(table: pd.DataFrame, model: str, outcome: str, effect: str, planted: dict, terms: dict, p_col: str):
    t = table.set_index("term")
    for term, (key, sign) in terms.items():
        if term not in t.index:
            continue
        est = float(np.log(t.loc[term, effect]))
        expected = float(np.sign(sign * planted[key]))
        yield {
            "model": model,
            "outcome": outcome,
            "term": term,
            "planted_key": key,
            "planted_effect": planted[key],
            "expected_sign": int(expected),
            "log_effect_per_sd": est,
            "ci_low": float(np.log(t.loc[term, "ci_low"])),
            "ci_high": float(np.log(t.loc[term, "ci_high"])),
            "p": float(t.loc[term, p_col]),
        }


def planted_effect_tests(
    patients: pd.DataFrame, planted: dict, *, features: dict[str, str] | None = None, alpha: float = 0.05
) -> pd.DataFrame:
    """Estimate the planted effects in one cohort's patient table.

    Parameters
    ----------
    patients
        The integration's patient table (:func:`helpers.integration.assemble_patient_table`) with ``ven_auc``,
        ``pct_monocytic``, ``tnk_activation``, the genetic groups and the endpoints.
    planted
        The simulator's planted effects (:data:`helpers.simulate.PLANTED_EFFECTS`).
    features
        Column of ``patients`` standing for each measured term of :data:`PLANTED_TERMS` when it is named otherwise
        (e.g. ``{"tnk_activation": "immune_activation_score"}``, as matched by
        :func:`helpers.integration.find_markers`).
    alpha
        Significance level of ``detected``.

    Returns
    -------
    pandas.DataFrame
        One row per model and term: planted effect and expected sign, estimated log odds ratio / log hazard ratio per
        SD (per unit for 0/1 terms) with 95 % CI and p (q, Benjamini-Hochberg, for the univariable screen), and
        ``detected``: significant with the expected sign (for the planted null, significant at all).
    """
    pr, rl = PLANTED_TERMS["primary_resistance"], PLANTED_TERMS["relapse"]
    rename = {col: term for term, col in (features or {}).items() if col != term}
    missing = sorted({*pr, *rl} - set(patients.columns) - set(rename.values()))
    if missing or set(rename) - set(patients.columns):
        raise ValueError(f"patient table lacks the columns of the planted terms: {missing or sorted(rename)}")
    patients = patients.drop(columns=[t for t in rename.values() if t in patients.columns]).rename(columns=rename)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # separation / convergence chatter is reported through the p-values
        uni = univariable_logistic(patients, "primary_resistant", list(pr))
        multi = fit_logistic(patients, "primary_resistant", list(pr)).table
        resp = patients[patients["responder"] == 1]
        cox = fit_cox(resp, "relapse_months", "relapse_event", list(rl)).table
    rows = [
        *_rows(uni, "univariable logistic", "primary resistance", "odds_ratio", planted["primary_resistance"], pr, "q"),
        *_rows(
            multi, "multivariable logistic", "primary resistance", "odds_ratio", planted["primary_resistance"], pr, "p"
        ),
        *_rows(cox, "multivariable Cox", "relapse", "hazard_ratio", planted["relapse"], rl, "p"),
    ]
    out = pd.DataFrame(rows)
    sig = out["p"] < alpha
    null = out["expected_sign"] == 0
    out["detected"] = np.where(null, sig, sig & (np.sign(out["log_effect_per_sd"]) == out["expected_sign"]))
    return out


def simulated_patient_table(folder: str | Path, *, n_patients: int, seed: int, feature_seed: int | None = None
                            ) -> pd.DataFrame:  # fmt: skip
    """Build the integration's patient table of a simulated cohort whose axis features are drawn from its truth.

    Patients from :func:`helpers.simulate.ensure_cohort` (clinical part only) and features from
    :func:`helpers.simulate.features.simulate_feature_tables` (seed ``feature_seed``, default ``seed``), both
    written under ``folder``, then assembled as the notebook does for measured features.

    Parameters
    ----------
    folder
        Working folder (``cohort/`` and ``features/`` are written there).
    n_patients
        Patients in the cohort.
    seed
        Seed of the cohort.
    feature_seed
        Seed of the features' noise (default ``seed``).

    Returns
    -------
    pandas.DataFrame
        One row per patient: clinical endpoints and features, with ``log10_`` columns of the concentration
        features.
    """
    from . import ensure_cohort
    from .features import simulate_feature_tables

    folder = Path(folder)
    cohort = ensure_cohort(folder / "cohort", scale="ci", seed=seed, n_patients=n_patients, axes=())
    upstream = simulate_feature_tables(cohort, folder / "features", seed=seed if feature_seed is None else feature_seed)
    clinical, samples = load_cohort_tables(cohort)
    feats, _ = collect_features(upstream)
    patients = assemble_patient_table(clinical, samples, feats)
    return log_transform_concentrations(patients, combined_dictionary(feats))[0]


def planted_effect_power(
    n_patients: int,
    *,
    n_cohorts: int = 20,
    first_seed: int = 1000,
    alpha: float = 0.05,
    progress: bool = False,
) -> pd.DataFrame:
    """Estimate the detection rate of each planted effect over simulated cohorts of ``n_patients``.

    Parameters
    ----------
    n_patients
        Patients per simulated cohort.
    n_cohorts
        Number of cohorts, seeds ``first_seed`` to ``first_seed + n_cohorts - 1``.
    first_seed
        Seed of the first cohort (kept apart from the study's default seed).
    alpha
        Significance level.
    progress
        Print one line per cohort.

    Returns
    -------
    pandas.DataFrame
        Per model and term: planted effect, expected sign, median estimate and ``detection_rate`` (power for a planted
        predictor, false-positive rate for the planted null), with the number of patients and cohorts.
    """
    from . import PLANTED_EFFECTS

    if n_patients < 20 or n_cohorts < 1:
        raise ValueError(f"need at least 20 patients and one cohort, got {n_patients} patients, {n_cohorts} cohorts")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(n_cohorts):
            seed = first_seed + k
            patients = simulated_patient_table(Path(tmp) / f"cohort_{seed}", n_patients=n_patients, seed=seed)
            runs.append(planted_effect_tests(patients, PLANTED_EFFECTS, alpha=alpha).assign(seed=seed))
            if progress:
                print(f"power at n = {n_patients}: cohort {k + 1}/{n_cohorts}", flush=True)
    allruns = pd.concat(runs, ignore_index=True)
    keys = ["model", "outcome", "term", "planted_key", "planted_effect", "expected_sign"]
    out = (
        allruns.groupby(keys, sort=False)
        .agg(median_log_effect=("log_effect_per_sd", "median"), detection_rate=("detected", "mean"))
        .reset_index()
    )
    return out.assign(n_patients=n_patients, n_cohorts=n_cohorts)
