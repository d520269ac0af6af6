"""Patients of the simulated DREAM cohort: genetics, latent biology, clinical course, samples and the planted truth.

The latent biology is what drives everything else (every axis simulator reads it from the per-sample truth table):

- ``mono_frac``: fraction of the leukemic cells in monocytic states (FAB M4/M5 leukemias are high).
- ``bcl2_dependence``: z-score of BCL2 versus MCL1/BCL2A1 dependence (high = BCL2-dependent = venetoclax sensitive).
- ``oxphos_dependence``: mitochondrial (OXPHOS) dependence in % (SCENITH), higher in BCL2-dependent LSCs.
- ``ven_log10_ic50_um`` / ``aza_log10_ic50_um``: true ex vivo sensitivities, from the above plus noise.
- ``immune_activation``: T/NK activation z-score, a *planted null*: it has no effect on response or relapse.

Primary resistance and relapse are drawn from logistic / Weibull models of these (plus genetics and noise), so that no
single marker is perfect. Calibration targets come from DOMAIN.md (VIALE-A, ELN 2024 less-intensive cohort of 159).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..axes import axes as registered_axes
from ..clinical import MRD_THRESHOLD_PCT, eln2024_less_intensive
from ..io import write_table, write_text
from ..units import DAYS_PER_MONTH

__all__ = [
    "GENES",
    "PLANTED_EFFECTS",
    "RELAPSE_CALIBRATION",
    "CohortTables",
    "simulate_patients",
]

GENES = ["NPM1", "IDH1", "IDH2", "FLT3_ITD", "NRAS", "KRAS", "TP53", "RUNX1", "ASXL1", "PTPN11", "DDX41"]
# Marginal mutation frequencies in older / unfit AML (TP53 enriched, as in HMA+VEN cohorts).
_MUT_FREQ = {
    "NPM1": 0.24, "IDH1": 0.09, "IDH2": 0.13, "FLT3_ITD": 0.10, "NRAS": 0.13, "KRAS": 0.06,
    "TP53": 0.27, "RUNX1": 0.15, "ASXL1": 0.20, "PTPN11": 0.06, "DDX41": 0.04,
}  # fmt: skip

# The planted truth, in the units of the latent variables (documented for tests and the integration notebook).
# Primary resistance is calibrated to the ELN 2024 less-intensive classes of an HMA + VEN cohort (Dohner et al., Blood
# 2024; DOMAIN.md): CR/CRi 86 / 54 / 59 % (favorable / intermediate / adverse), about 29 % primary resistance overall.
# Over 20,000 simulated patients these effects give 85 / 55 / 54 % and 28 %.
PLANTED_EFFECTS = {
    "primary_resistance": {  # log-odds per unit
        "intercept": -2.1,
        "ven_sensitivity_z": -1.1,  # higher ex vivo VEN sensitivity -> fewer resistant
        "TP53": 1.1,
        "signalling": 2.0,  # FLT3-ITD, NRAS, KRAS or PTPN11
        "NPM1_or_IDH": -0.6,
        "immune_activation": 0.0,  # planted null
        "noise_sd": 0.6,
    },
    # Relapse among responders: cause-specific log-hazard per unit (Weibull), death in remission competing at a
    # constant hazard (median 48 x ln 2 months). Calibrated to the 2-year cumulative incidence of relapse by ELN 2024
    # class under HMA + VEN, 35 / 70 / 60 % (DOMAIN.md); see RELAPSE_CALIBRATION for what it gives.
    "relapse": {
        "baseline_median_months": 25.0,
        "weibull_shape": 1.3,
        "ven_sensitivity_z": -0.55,
        "mono_frac": 1.4,
        "TP53": 0.45,
        "signalling": 1.7,  # FLT3-ITD, NRAS, KRAS or PTPN11
        "log10_mrd": 0.6,  # per log10 of flow MRD % at remission
        "immune_activation": 0.0,  # planted null
    },
    "response": {"crh_fraction_of_cr": 0.25},
    # Flow MRD at remission, log10 % of leukocytes; missing (not evaluable) in a fraction of responders.
    "mrd": {"intercept": -1.3, "ven_sensitivity_z": -0.45, "TP53": 0.6, "noise_sd": 0.8, "missing_fraction": 0.1},
    "relapse_shift": {"mono_frac_increase": 0.25, "bcl2_dependence_decrease": 0.9},
}
# What the relapse model gives over 20,000 simulated patients (seed 11; 14,261 responders): 2-year cumulative
# incidence of relapse, death in remission competing, by ELN 2024 less-intensive class (AZA + VEN rules), against the
# published 35 / 70 / 60 %; and composite CR (CR + CRh + CRi) against 86 / 54 / 59 %; early death 6.3 % of patients.
RELAPSE_CALIBRATION = {
    "cir_24m": {"favorable": 0.351, "intermediate": 0.710, "adverse": 0.601},
    "composite_cr": {"favorable": 0.858, "intermediate": 0.570, "adverse": 0.533},
    "early_death": 0.063,
}


@dataclass
class CohortTables:
    """The simulated patients: what a lab would deliver (clinical, samples) and the truth behind it."""

    clinical: pd.DataFrame
    samples: pd.DataFrame
    patient_truth: pd.DataFrame
    sample_truth: pd.DataFrame

    def write(self, out_dir: str | Path) -> None:
        """Write clinical.csv, samples.csv and truth/{patients,samples}.csv, plus truth/planted_effects.json.

        Parameters
        ----------
        out_dir
            The cohort folder.
        """
        out = Path(out_dir)
        write_table(self.clinical, out / "clinical.csv")
        write_table(self.samples, out / "samples.csv")
        write_table(self.patient_truth, out / "truth" / "patients.csv")
        write_table(self.sample_truth, out / "truth" / "samples.csv")
        write_text(json.dumps(PLANTED_EFFECTS, indent=2, sort_keys=True) + "\n", out / "truth" / "planted_effects.json")


def _zscore(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std()


def simulate_patients(n_patients: int = 120, *, seed: int = 20261129, n_scrna: int = 24, n_pdx: int = 6) -> CohortTables:
    """Draw the cohort's patients, their latent biology, clinical course and samples.

    Parameters
    ----------
    n_patients
        Number of patients (DREAM: 120).
    seed
        Seed of the cohort; every axis simulator derives its own stream from it.
    n_scrna
        Patients with single-cell RNA-seq at diagnosis and at relapse (or remission).
    n_pdx
        Patients whose cells are barcoded and grown as patient-derived xenografts.

    Returns
    -------
    CohortTables
        The delivered tables and the truth behind them.
    """
    rng = np.random.default_rng([seed, 0])
    n = n_patients
    pid = [f"DRM{i + 1:03d}" for i in range(n)]

    # Genetics: TP53 first (rarely co-mutated with NPM1 / IDH), then the rest.
    mut = pd.DataFrame(index=pid)
    tp53 = rng.random(n) < _MUT_FREQ["TP53"]
    mut["TP53"] = tp53
    for g in GENES:
        if g == "TP53":
            continue
        p = np.full(n, _MUT_FREQ[g])
        if g in ("NPM1", "IDH1", "IDH2", "FLT3_ITD", "DDX41"):
            p = np.where(tp53, p * 0.2, p / (1 - _MUT_FREQ["TP53"] * 0.8))
        mut[g] = rng.random(n) < np.clip(p, 0, 0.9)
    signalling = (mut["FLT3_ITD"] | mut["NRAS"] | mut["KRAS"] | mut["PTPN11"]).to_numpy()
    npm1_idh = (mut["NPM1"] | mut["IDH1"] | mut["IDH2"]).to_numpy()

    # Monocytic differentiation: NPM1 and RAS-pathway leukemias are more often FAB M4/M5.
    ras = (mut["KRAS"] | mut["NRAS"] | mut["PTPN11"]).to_numpy()
    p_mono = 0.18 + 0.22 * mut["NPM1"].to_numpy() + 0.25 * ras - 0.08 * tp53
    monocytic = rng.random(n) < np.clip(p_mono, 0.05, 0.8)
    mono_frac = np.where(monocytic, rng.beta(6, 4, n), rng.beta(1.5, 11, n))
    fab = np.where(
        monocytic,
        rng.choice(["M4", "M5"], n, p=[0.6, 0.4]),
        rng.choice(["M0", "M1", "M2", "M6"], n, p=[0.15, 0.35, 0.45, 0.05]),
    )
    karyotype = np.where(
        tp53 & (rng.random(n) < 0.7),
        "complex",
        rng.choice(["normal", "intermediate_other", "complex"], n, p=[0.55, 0.38, 0.07]),
    )

    # BCL2 versus MCL1/BCL2A1 dependence: lower in monocytic cells, higher with IDH / NPM1 mutations.
    bcl2 = 0.9 * npm1_idh - 1.6 * mono_frac - 0.4 * tp53 + rng.normal(0, 0.7, n)
    bcl2 = _zscore(bcl2)
    oxphos = np.clip(55 + 12 * bcl2 + rng.normal(0, 8, n), 5, 95)
    # True ex vivo VEN sensitivity (log10 IC50 in uM): sensitive leukemias near 0.01 uM, resistant above 1 uM.
    ven_log_ic50 = -0.9 - 0.85 * bcl2 + 1.1 * mono_frac + rng.normal(0, 0.35, n)
    ven_sens_z = -_zscore(ven_log_ic50)
    aza_log_ic50 = 0.3 + 0.25 * tp53 + 0.2 * _zscore(ven_log_ic50) + rng.normal(0, 0.3, n)
    immune = rng.normal(0, 1, n)
    blast_pct = np.clip(rng.normal(45, 18, n) + 8 * monocytic, 21, 95)
    lsc_frac = np.clip(rng.lognormal(np.log(0.05), 0.6, n) * (1 + 0.5 * tp53), 0.005, 0.4)

    # Primary resistance.
    eff = PLANTED_EFFECTS["primary_resistance"]
    lin = (
        eff["intercept"]
        + eff["ven_sensitivity_z"] * ven_sens_z
        + eff["TP53"] * tp53
        + eff["signalling"] * signalling
        + eff["NPM1_or_IDH"] * npm1_idh
        + eff["immune_activation"] * immune
        + rng.normal(0, eff["noise_sd"], n)
    )
    p_res = 1 / (1 + np.exp(-lin))
    resistant = rng.random(n) < p_res
    best_response = np.where(
        resistant,
        rng.choice(["refractory", "PR", "MLFS"], n, p=[0.6, 0.25, 0.15]),
        rng.choice(["CR", "CRi"], n, p=[0.6, 0.4]),
    )

    # Dates: diagnosis 2022-2024, response after 1-2 cycles, relapse from Weibull hazards, censoring at data cut-off.
    # The stream-0 draws below keep their order and sizes (other axes read the latent biology drawn from it); what the
    # ELN 2022 outcomes add (CRh, MRD) comes from stream [seed, 0, 1].
    day0 = np.datetime64("2022-01-03")
    diag = day0 + rng.integers(0, 3 * 365, n).astype("timedelta64[D]")
    cutoff = np.datetime64("2026-06-30")
    resp_days = rng.integers(28, 70, n)
    u_relapse = rng.random(n)
    dropout_m = rng.exponential(60, n)
    e_dead_resistant, e_dead_after_relapse, e_dead_in_remission = (rng.exponential(m, n) for m in (6, 7, 48))
    rng_out = np.random.default_rng([seed, 0, 1])
    u_crh = rng_out.random(n)
    mrd_noise = rng_out.normal(0, 1, n)
    u_mrd_missing = rng_out.random(n)

    # CR is split into CR and CRh (ELN 2022); early death: death before the response assessment, without remission.
    best_response = np.where((best_response == "CR") & (u_crh < PLANTED_EFFECTS["response"]["crh_fraction_of_cr"]),
                             "CRh", best_response)  # fmt: skip
    # Flow MRD at remission (log10 % of leukocytes): deeper in VEN-sensitive, shallower in TP53-mutated leukemias.
    meff = PLANTED_EFFECTS["mrd"]
    # Clipped to what a remission marrow can show: 0.001 % (flow sensitivity) to 4.9 % (CR needs < 5 % blasts).
    log10_mrd = np.clip(meff["intercept"] + meff["ven_sensitivity_z"] * ven_sens_z + meff["TP53"] * tp53
                        + meff["noise_sd"] * mrd_noise, -3.0, np.log10(4.9))  # fmt: skip

    reff = PLANTED_EFFECTS["relapse"]
    shape = reff["weibull_shape"]
    scale_m = reff["baseline_median_months"] / np.log(2) ** (1 / shape)
    log_hr = (
        reff["ven_sensitivity_z"] * ven_sens_z
        + reff["mono_frac"] * (mono_frac - 0.3)
        + reff["TP53"] * tp53
        + reff["signalling"] * signalling
        + reff["immune_activation"] * immune
        + reff["log10_mrd"] * (log10_mrd - meff["intercept"])
    )
    t_relapse_m = scale_m * (-np.log(u_relapse) / np.exp(log_hr)) ** (1 / shape)
    death_in_remission_m = e_dead_in_remission  # from CR/CRh/CRi: the competing event of relapse
    follow_m = np.minimum((cutoff - diag).astype(int) / DAYS_PER_MONTH - resp_days / DAYS_PER_MONTH, dropout_m)
    relapsed = ~resistant & (t_relapse_m < follow_m) & (t_relapse_m < death_in_remission_m)
    response_date = np.where(~resistant, diag + resp_days.astype("timedelta64[D]"), np.datetime64("NaT"))
    relapse_days = np.round(t_relapse_m * DAYS_PER_MONTH).astype(int)
    relapse_date = np.where(relapsed, response_date + relapse_days.astype("timedelta64[D]"), np.datetime64("NaT"))
    # Survival from diagnosis: resistant ~6 months, relapsed ~7 months after relapse, others die in remission at the
    # competing-event time.
    death_after_m = np.where(
        resistant,
        e_dead_resistant,
        resp_days / DAYS_PER_MONTH + np.where(relapsed, t_relapse_m + e_dead_after_relapse, death_in_remission_m),
    )
    total_follow_m = (cutoff - diag).astype(int) / DAYS_PER_MONTH
    dead = death_after_m < np.minimum(total_follow_m, dropout_m + resp_days / DAYS_PER_MONTH)
    last_fu_m = np.where(dead, death_after_m, np.minimum(total_follow_m, dropout_m + resp_days / DAYS_PER_MONTH))
    last_fu_m = np.maximum(last_fu_m, np.where(relapsed, relapse_days / DAYS_PER_MONTH + resp_days / DAYS_PER_MONTH + 0.5, 0.5))
    # A responder is seen alive on the day of the response: follow-up never ends before it (date-order rule).
    last_fu_m = np.maximum(last_fu_m, np.where(~resistant, resp_days / DAYS_PER_MONTH, 0.0))
    last_fu = diag + np.round(last_fu_m * DAYS_PER_MONTH).astype(int).astype("timedelta64[D]")
    early_death = resistant & dead & ((last_fu - diag).astype(int) < resp_days)
    best_response = np.where(early_death, "early_death", best_response)
    mrd_pct = np.where(~resistant & (u_mrd_missing >= meff["missing_fraction"]), 10.0**log10_mrd, np.nan)

    def iso(d):
        return pd.Series(d).dt.strftime("%Y-%m-%d").fillna("").to_numpy()

    clinical = pd.DataFrame(
        {
            "patient_id": pid,
            "age": np.clip(np.round(rng.normal(74, 6, n)), 60, 92).astype(int),
            "sex": rng.choice(["F", "M"], n, p=[0.42, 0.58]),
        }
    )
    for g in GENES:
        clinical[g] = mut[g].to_numpy().astype(int)
    clinical["karyotype"] = karyotype
    clinical["fab"] = fab
    clinical["monocytic"] = monocytic.astype(int)
    clinical["bm_blast_pct"] = np.round(blast_pct, 0).astype(int)
    clinical["diagnosis_date"] = iso(diag)
    clinical["best_response"] = best_response
    clinical["response_date"] = iso(response_date)
    clinical["relapse"] = relapsed.astype(int)
    clinical["relapse_date"] = iso(relapse_date)
    clinical["last_followup_date"] = iso(last_fu)
    clinical["vital_status"] = np.where(dead, "dead", "alive")
    clinical["death_date"] = np.where(dead, clinical["last_followup_date"], "")
    clinical["mrd_pct"] = np.round(mrd_pct, 4)
    clinical["mrd_positive"] = pd.array(np.where(np.isnan(mrd_pct), None, np.round(mrd_pct, 4) >= MRD_THRESHOLD_PCT),
                                        dtype="Int64")

    # Samples: diagnosis for all; remission for responders; relapse where there is one.
    scrna_pat = set(rng.choice(pid, size=min(n_scrna, n), replace=False))
    # PDX: engraftment favours high-blast leukemias; pick among patients with both arms meaningful.
    pdx_pat = set(rng.choice(pid, size=min(n_pdx, n), replace=False))
    rows, truth_rows = [], []
    sh = PLANTED_EFFECTS["relapse_shift"]
    planned_axes = [a for a in registered_axes() if a.simulated_timepoints]  # no draws: the other axes do not move
    for i, p in enumerate(pid):
        timepoints = ["diagnosis"] + (["remission"] if not resistant[i] else []) + (["relapse"] if relapsed[i] else [])
        for tp in timepoints:
            sid = f"{p}-{ {'diagnosis': 'DX', 'remission': 'REM', 'relapse': 'REL'}[tp] }".replace(" ", "")
            assays = []
            if tp in ("diagnosis", "relapse"):
                assays += ["dst", "cytometry"]
            if p in scrna_pat and (tp in ("diagnosis", "relapse") or (tp == "remission" and not relapsed[i])):
                assays.append("scrna")
            if p in pdx_pat and tp == "diagnosis":
                assays.append("barcoding")
            assays += [a.assay for a in planned_axes if tp in a.simulated_timepoints]  # axes added to the registry
            date = {"diagnosis": diag[i], "remission": response_date[i], "relapse": relapse_date[i]}[tp]
            rows.append(
                {
                    "sample_id": sid,
                    "patient_id": p,
                    "timepoint": tp,
                    "tissue": "bone_marrow",
                    "collection_date": pd.Timestamp(date).strftime("%Y-%m-%d"),
                    "assays": ";".join(assays),
                }
            )
            mf, b2 = mono_frac[i], bcl2[i]
            bl, ls = blast_pct[i], lsc_frac[i]
            if tp == "relapse":
                mf = min(0.95, mf + sh["mono_frac_increase"] * (1 - mf) / 0.7 * rng.uniform(0.6, 1.2))
                b2 = b2 - sh["bcl2_dependence_decrease"] * rng.uniform(0.6, 1.4)
                bl = float(np.clip(bl * rng.uniform(0.6, 1.1), 21, 95))
            if tp == "remission":
                bl = float(rng.uniform(0.5, 4.5))
            vl = ven_log_ic50[i] + (-0.85 * (b2 - bcl2[i]) + 1.1 * (mf - mono_frac[i]))
            truth_rows.append(
                {
                    "sample_id": sid,
                    "patient_id": p,
                    "timepoint": tp,
                    "mono_frac": mf,
                    "bcl2_dependence": b2,
                    "oxphos_dependence": float(np.clip(55 + 12 * b2, 5, 95)) if tp != "diagnosis" else oxphos[i],
                    "ven_log10_ic50_um": vl,
                    "aza_log10_ic50_um": aza_log_ic50[i],
                    "immune_activation": immune[i],
                    "blast_pct": bl,
                    "lsc_frac": ls,
                }
            )
    samples = pd.DataFrame(rows)
    sample_truth = pd.DataFrame(truth_rows)
    patient_truth = pd.DataFrame(
        {
            "patient_id": pid,
            "primary_resistant": resistant.astype(int),
            "p_primary_resistance": p_res,
            "relapsed": relapsed.astype(int),
            "relapse_months_true": t_relapse_m,
            "death_in_remission_months_true": np.where(resistant, np.nan, death_in_remission_m),
            "early_death": early_death.astype(int),
            "log10_mrd_true": np.where(resistant, np.nan, log10_mrd),
            "eln2024": eln2024_less_intensive(mut).astype(str).to_numpy(),
            "monocytic": monocytic.astype(int),
            "mono_frac": mono_frac,
            "bcl2_dependence": bcl2,
            "oxphos_dependence": oxphos,
            "ven_log10_ic50_um": ven_log_ic50,
            "ven_sensitivity_z": ven_sens_z,
            "aza_log10_ic50_um": aza_log_ic50,
            "immune_activation": immune,
            "blast_pct": blast_pct,
            "lsc_frac": lsc_frac,
            "signalling": signalling.astype(int),
            "scrna": [int(p in scrna_pat) for p in pid],
            "pdx": [int(p in pdx_pat) for p in pid],
        }
    )
    return CohortTables(clinical, samples, patient_truth, sample_truth)
