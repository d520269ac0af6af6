"""Simulated functional flow cytometry: real FCS 3.1 files, one per sample, panel and condition.

Three tubes per bone-marrow sample with cytometry (diagnosis and relapse):

- ``FUNC`` (apoptosis and proliferation): cells cultured untreated or with venetoclax (VEN, 100 nM), azacitidine
  (AZA, 1 uM) or both (AZA+VEN), then stained for the AML phenotype (CD45, CD34, CD117, CD38, CD33, CD14, CD11b),
  Annexin V, 7-AAD and Ki-67.
- ``PHENO`` (untreated, fixed and permeabilised): phenotype plus CD64, the intracellular BCL2, BCL-xL and MCL1 read in
  leukemic stem cells, and T/NK cells (CD3, CD56) with their activation markers CD69, HLA-DR and PD-1.
- ``SCENITH`` (Arguello et al. 2020): puromycin incorporation under Co (control), DG (2-deoxyglucose), O (oligomycin)
  and DGO (both), with a short phenotype.

Events are drawn per cell population (debris, doublets, leukemic stem cells, CD34+ blasts, monocytic leukemic cells,
lymphocytes, NK cells, granulocytes, monocytes, erythroid cells) with log-normal marker intensities, then mixed by a
spillover matrix that is also embedded in each file (``$SPILLOVER``), as a cytometer records them. Read-outs are tied to
the per-sample latent biology (``tables.sample_truth``): leukemic fraction (``blast_pct``), monocytic fraction,
leukemic stem cell fraction, BCL2 dependence (BCL2 high, MCL1 low), OXPHOS dependence (SCENITH), ex vivo VEN / AZA
sensitivity (drug-induced apoptosis) and T/NK activation. A few files carry a planted acquisition problem (a clog: a
gap in the time channel followed by a fluorescence shift) and saturated margin events. The raw files carry
identifying keywords ($OP, $DATE, $SRC with a made-up patient name, ...) that the analysis must never write out.

Three more kinds of tube, each drawn from a sub-stream of its own (``default_rng([seed, 2, k])``) so that the tubes
above keep their events: ``PROLIF`` (CFSE dye dilution of a subset of diagnosis samples: a day-0 reference, an
unstained control and the four arms, the drugs dividing less in proportion to their effect on the sample), ``MRD``
(the ELN 2021 core markers on a diagnosis and a remission marrow of responders chosen across the range of their
planted MRD, plus one normal regenerating marrow as the reference, with a patient-specific LAIP), and acquisition
batches: the samples are stained and acquired in consecutive batches (``batch`` column of the sheet), each batch with
its own staining intensity of the intracellular BCL2, BCL-xL and MCL1 stains (a fixation / antibody-lot effect), and
an aliquot of one control marrow run in every batch (``reference_controls.csv``) from which the batch effect can be
undone.

Planted truth: ``truth/cytometry_samples.csv`` (per sample), ``truth/cytometry_files.csv`` (per file) and
``truth/cytometry_identifiers.csv`` (the identifying strings written into the raw files) and
``truth/cytometry_event_labels.csv`` (the true population, doublet and apoptosis state of every event in the files of
the first three samples); ``truth/cytometry_proliferation.csv``, ``truth/cytometry_mrd.csv`` and
``truth/cytometry_batches.csv`` for the tubes above.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import flowio
import numpy as np
import pandas as pd

from ..assays import ASSAY_SEPARATOR, has_assay
from ..io import atomic_path, write_table
from .cohort import CohortTables

__all__ = [
    "simulate_cytometry",
    "PANELS",
    "CONDITIONS",
    "DRUG_CONCENTRATIONS_UM",
    "SPILLOVER",
    "EVENTS",
    "POPULATIONS",
]

DEPENDS_ON = ["io.py", "cytometry/strategies/aml_functional.yaml", "cytometry/proliferation.py"]

STREAM = 2
SCATTER = ["FSC-A", "FSC-H", "SSC-A"]
# Marker -> detector (fluorochrome) of the DREAM panels; a marker keeps its detector in every tube.
DETECTORS = {
    "CD45": "BV510-A",
    "CD34": "APC-A",
    "CD117": "PE-A",
    "CD38": "PE-Cy7-A",
    "CD33": "BV711-A",
    "CD14": "BV421-A",
    "CD11b": "BV605-A",
    "CD64": "BV650-A",
    "AnnexinV": "FITC-A",
    "7-AAD": "PerCP-Cy5.5-A",
    "Ki-67": "APC-R700-A",
    "BCL2": "FITC-A",
    "BCL-xL": "PE-CF594-A",
    "MCL1": "APC-R700-A",
    "CD3": "BUV395-A",
    "CD56": "BUV737-A",
    "CD69": "BV786-A",
    "HLA-DR": "APC-Cy7-A",
    "PD-1": "PE-Cy5-A",
    "Puromycin": "FITC-A",
    "CD13": "PerCP-Cy5.5-A",
    "CD7": "FITC-A",
    "CFSE": "FITC-A",
}
PANELS = {
    "FUNC": ["CD45", "CD34", "CD117", "CD38", "CD33", "CD14", "CD11b", "AnnexinV", "7-AAD", "Ki-67"],
    "PHENO": [
        "CD45", "CD34", "CD117", "CD38", "CD33", "CD14", "CD11b", "CD64",
        "BCL2", "BCL-xL", "MCL1", "CD3", "CD56", "CD69", "HLA-DR", "PD-1",
    ],
    "SCENITH": ["CD45", "CD34", "CD117", "CD33", "CD14", "Puromycin", "7-AAD"],
    "PROLIF": ["CFSE"],
    "MRD": ["CD45", "CD34", "CD117", "CD33", "CD13", "CD56", "CD7", "HLA-DR"],
}  # fmt: skip
CONDITIONS = {"FUNC": ["untreated", "VEN", "AZA", "AZA+VEN"], "PHENO": ["untreated"], "SCENITH": ["Co", "DG", "O", "DGO"]}
DRUG_CONCENTRATIONS_UM = {"untreated": (0.0, 0.0), "VEN": (0.1, 0.0), "AZA": (0.0, 1.0), "AZA+VEN": (0.1, 1.0)}
# Events per file: (FUNC untreated, FUNC treated, PHENO, SCENITH). The CI scale stays under ~20 MB for the cohort.
EVENTS = {"ci": (300, 180, 600, 100), "full": (5000, 2500, 6000, 1500)}

# Spillover between detectors (fraction of the signal of the row's dye seen in the column's detector), a typical
# 5-laser configuration: violet dyes spill into their red-shifted neighbours, PE into its tandems, APC into its tandems.
_SPILL_PAIRS = {
    ("FITC-A", "PE-A"): 0.21, ("FITC-A", "PerCP-Cy5.5-A"): 0.03, ("PE-A", "PE-CF594-A"): 0.32,
    ("PE-A", "PerCP-Cy5.5-A"): 0.11, ("PE-A", "PE-Cy5-A"): 0.06, ("PE-A", "PE-Cy7-A"): 0.02,
    ("PE-CF594-A", "PE-Cy5-A"): 0.18, ("PE-CF594-A", "PE-Cy7-A"): 0.04, ("PE-Cy5-A", "PerCP-Cy5.5-A"): 0.35,
    ("PE-Cy5-A", "APC-A"): 0.08, ("PerCP-Cy5.5-A", "PE-Cy7-A"): 0.09, ("PerCP-Cy5.5-A", "PE-Cy5-A"): 0.12,
    ("APC-A", "APC-R700-A"): 0.14, ("APC-A", "APC-Cy7-A"): 0.03, ("APC-A", "PE-Cy5-A"): 0.05,
    ("APC-R700-A", "APC-Cy7-A"): 0.11, ("BV421-A", "BV510-A"): 0.12, ("BV510-A", "BV605-A"): 0.05,
    ("BV605-A", "BV650-A"): 0.24, ("BV650-A", "BV711-A"): 0.19, ("BV711-A", "BV786-A"): 0.12,
    ("BV650-A", "APC-A"): 0.04, ("BV711-A", "APC-R700-A"): 0.05, ("BUV395-A", "BV421-A"): 0.02,
    ("BUV737-A", "APC-R700-A"): 0.06, ("BUV737-A", "BV711-A"): 0.03, ("PE-Cy7-A", "APC-Cy7-A"): 0.04,
}  # fmt: skip
_ALL_DETECTORS = sorted(set(DETECTORS.values()))
SPILLOVER = pd.DataFrame(np.eye(len(_ALL_DETECTORS)), index=_ALL_DETECTORS, columns=_ALL_DETECTORS)
for (_src, _dst), _v in _SPILL_PAIRS.items():
    SPILLOVER.loc[_src, _dst] = _v

# Cell populations and their marker levels: (mean log10 intensity, sd) for positive markers; absent = negative.
POPULATIONS = [
    "debris", "lsc", "cd34_blast", "cd117_blast", "mono_leuk", "t_cell", "nk_cell", "b_cell",
    "granulocyte", "monocyte", "erythroid",
]  # fmt: skip
_SCATTER = {  # (FSC-A mean, sd, SSC-A mean, sd) in instrument units (range 262144)
    "debris": (18000, 8000, 12000, 7000),
    "lsc": (78000, 9000, 30000, 7000),
    "cd34_blast": (82000, 10000, 34000, 8000),
    "cd117_blast": (85000, 10000, 38000, 8000),
    "mono_leuk": (98000, 12000, 62000, 12000),
    "t_cell": (62000, 7000, 22000, 5000),
    "nk_cell": (66000, 7000, 27000, 6000),
    "b_cell": (60000, 7000, 20000, 5000),
    "granulocyte": (105000, 13000, 150000, 22000),
    "monocyte": (100000, 12000, 75000, 12000),
    "erythroid": (55000, 8000, 15000, 4000),
}
_PHENOTYPE = {
    "lsc": {
        "CD45": (2.9, 0.15), "CD34": (3.8, 0.2), "CD117": (3.4, 0.25), "CD38": (1.9, 0.25), "CD33": (3.2, 0.3),
        "HLA-DR": (3.3, 0.25),
    },
    "cd34_blast": {
        "CD45": (2.95, 0.15), "CD34": (3.7, 0.25), "CD117": (3.4, 0.25), "CD38": (3.5, 0.2), "CD33": (3.3, 0.3),
        "HLA-DR": (3.3, 0.25),
    },
    "cd117_blast": {"CD45": (3.0, 0.15), "CD117": (3.5, 0.25), "CD38": (3.4, 0.2), "CD33": (3.5, 0.3)},
    "mono_leuk": {
        "CD45": (3.3, 0.12), "CD33": (3.9, 0.2), "CD14": (3.4, 0.35), "CD11b": (3.6, 0.25), "CD64": (3.6, 0.2),
        "CD38": (3.2, 0.25), "HLA-DR": (3.4, 0.25),
    },
    "t_cell": {"CD45": (3.95, 0.1), "CD3": (3.7, 0.15)},
    "nk_cell": {"CD45": (3.9, 0.1), "CD56": (3.5, 0.2), "CD11b": (3.0, 0.3)},
    "b_cell": {"CD45": (3.85, 0.1), "HLA-DR": (3.8, 0.15), "CD38": (2.8, 0.3)},
    "granulocyte": {"CD45": (3.45, 0.1), "CD33": (2.9, 0.2), "CD11b": (3.7, 0.2), "CD64": (2.6, 0.3)},
    "monocyte": {
        "CD45": (3.85, 0.1), "CD33": (4.0, 0.15), "CD14": (4.0, 0.15), "CD11b": (3.8, 0.15), "CD64": (3.8, 0.15),
        "HLA-DR": (3.6, 0.2), "CD38": (3.0, 0.2),
    },
    "erythroid": {"CD38": (2.5, 0.3)},
}  # fmt: skip
_LEUKEMIC = ("lsc", "cd34_blast", "cd117_blast", "mono_leuk")
# Composition of the normal (non-leukemic) nucleated bone-marrow cells.
_NORMAL_MIX = {"t_cell": 0.22, "nk_cell": 0.05, "b_cell": 0.05, "granulocyte": 0.45, "monocyte": 0.08, "erythroid": 0.15}
_SCENITH_NORMAL = (55.0, 70.0)  # mitochondrial, glucose dependence (%) of normal cells
_FIRST = ["Anna", "Bernd", "Carla", "Dieter", "Elke", "Frank", "Greta", "Hans", "Ines", "Jonas", "Karin", "Lukas"]
_LAST = ["Maier", "Schulz", "Becker", "Hoffmann", "Wagner", "Koch", "Richter", "Wolf", "Neumann", "Krause"]
_OPERATORS = ["M. Jung", "S. Vogel", "T. Brandt"]
MAX_RANGE = 262143.0
N_LABELLED_SAMPLES = 3  # the true population of every event is written for the files of the first samples
AUTOFLUOR = (30.0, 70.0)  # mean, sd of the unstained (negative) signal, instrument units


def _logistic(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))


def _sample_biology(truth: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Per-sample planted read-outs derived from the latent biology (one row per cytometry sample)."""
    n = len(truth)
    t = truth.reset_index(drop=True)
    b2 = t["bcl2_dependence"].to_numpy()
    mono = t["mono_frac"].to_numpy()
    # Drug-induced killing of leukemic cells (48 h): Hill curves at the tested concentrations, slope 1.
    ven_c, aza_c = DRUG_CONCENTRATIONS_UM["VEN"][0], DRUG_CONCENTRATIONS_UM["AZA"][1]
    kill_ven = _logistic(np.log(10) * (np.log10(ven_c) - t["ven_log10_ic50_um"].to_numpy()))
    kill_aza = 0.7 * _logistic(np.log(10) * (np.log10(aza_c) - t["aza_log10_ic50_um"].to_numpy()))
    # The combination: Bliss independence plus a modest synergy, larger in BCL2-dependent leukemias.
    bliss = 1 - (1 - kill_ven) * (1 - kill_aza)
    kill_combo = np.clip(bliss + 0.25 * bliss * (1 - bliss) * (1 + 0.3 * b2), 0, 0.99)
    mito = t["oxphos_dependence"].to_numpy()
    gluc = np.clip(75 - 0.3 * (mito - 55) + rng.normal(0, 10, n), 5, 95)
    act = t["immune_activation"].to_numpy()
    leuk_frac = t["blast_pct"].to_numpy() / 100
    lsc_of_leuk = np.minimum(t["lsc_frac"].to_numpy(), 0.9 * (1 - mono))
    ki67 = np.clip(rng.beta(4, 5, n), 0.1, 0.8)
    return pd.DataFrame(
        {
            "sample_id": t["sample_id"],
            "patient_id": t["patient_id"],
            "timepoint": t["timepoint"],
            "leukemic_pct_of_cd45": 100 * leuk_frac,
            "monocytic_pct_of_leukemic": 100 * mono,
            "lsc_pct_of_leukemic": 100 * lsc_of_leuk,
            "spontaneous_apoptosis_pct": 100 * np.clip(rng.beta(2.5, 12, n), 0.03, 0.5),
            "specific_apoptosis_VEN": 100 * kill_ven,
            "specific_apoptosis_AZA": 100 * kill_aza,
            "specific_apoptosis_AZA+VEN": 100 * kill_combo,
            "ki67_pct_untreated": 100 * ki67,
            # AZA arrests proliferation in proportion to its killing; VEN barely changes cycling.
            "ki67_pct_VEN": 100 * ki67 * (1 - 0.1 * kill_ven),
            "ki67_pct_AZA": 100 * ki67 * (1 - 0.8 * kill_aza),
            "ki67_pct_AZA+VEN": 100 * ki67 * (1 - 0.8 * kill_aza) * (1 - 0.1 * kill_ven),
            "scenith_mito_dependence": mito,
            "scenith_glucose_dependence": gluc,
            "puromycin_co_mfi": 10 ** rng.normal(3.9, 0.12, n),
            # BCL2 family in LSCs (log10 MFI): BCL2 up, MCL1 down with BCL2 dependence; MCL1 up in monocytic AML.
            "lsc_bcl2_log10": 3.55 + 0.22 * b2 + rng.normal(0, 0.05, n),
            "lsc_mcl1_log10": 3.25 - 0.12 * b2 + 0.3 * mono + rng.normal(0, 0.06, n),
            "lsc_bclxl_log10": 3.0 - 0.06 * b2 + rng.normal(0, 0.08, n),
            "t_activated_pct": 100 * _logistic(-1.4 + 0.9 * act),
            "nk_activated_pct": 100 * _logistic(-1.0 + 0.8 * act),
        }
    )


def _draw_events(
    rng: np.random.Generator,
    markers: list[str],
    n: int,
    bio: pd.Series,
    panel: str,
    condition: str,
) -> tuple[np.ndarray, dict, pd.DataFrame]:
    """Draw the true (unspilled) intensities of ``n`` events (scatter, then the panel's markers), counts and labels."""
    leuk = bio["leukemic_pct_of_cd45"] / 100
    mono = bio["monocytic_pct_of_leukemic"] / 100
    lsc = bio["lsc_pct_of_leukemic"] / 100
    imm = 1 - mono - lsc
    cell_p = {"lsc": leuk * lsc, "cd34_blast": leuk * imm * 0.75, "cd117_blast": leuk * imm * 0.25,
              "mono_leuk": leuk * mono}  # fmt: skip
    for pop, share in _NORMAL_MIX.items():
        cell_p[pop] = (1 - leuk) * share
    p_debris, p_doublet = 0.06, 0.03
    cell_w = np.array([cell_p[p] for p in POPULATIONS[1:]])
    cell_w = cell_w / cell_w.sum()
    probs = np.concatenate([[p_debris], (1 - p_debris - p_doublet) * cell_w, [p_doublet]])
    pop_idx = rng.choice(len(POPULATIONS) + 1, size=n, p=probs)
    doublet = pop_idx == len(POPULATIONS)
    # A doublet is two cells stuck together: its first cell comes from the cell mix (its partner is added below).
    pop_idx[doublet] = 1 + rng.choice(len(POPULATIONS) - 1, size=int(doublet.sum()), p=cell_w)
    is_leuk = np.isin(pop_idx, [POPULATIONS.index(p) for p in _LEUKEMIC])

    # Apoptosis state: 0 live, 1 early (Annexin V+), 2 late (Annexin V+ 7-AAD+).
    base = bio["spontaneous_apoptosis_pct"] / 100
    p_apo = np.where(is_leuk, base, 0.6 * base)
    if panel == "FUNC" and condition != "untreated":
        kill = bio[f"specific_apoptosis_{condition}"] / 100
        # Normal lymphocytes are venetoclax-sensitive too; other normal cells hardly respond in 48 h.
        lymph = np.isin(pop_idx, [POPULATIONS.index(p) for p in ("t_cell", "nk_cell", "b_cell")])
        k_norm = np.where(lymph & ("VEN" in condition), 0.25, 0.05)
        p_apo = p_apo + (1 - p_apo) * np.where(is_leuk, kill, k_norm)
    if panel == "PHENO":
        p_apo = p_apo * 0.5  # the fixed tube is run on freshly thawed cells, not after 48 h of culture
    apo = np.where(rng.random(n) < p_apo, np.where(rng.random(n) < 0.55, 1, 2), 0)
    debris = pop_idx == 0
    apo[debris] = np.where(rng.random(int(debris.sum())) < 0.7, 2, 0)

    sc = np.array([_SCATTER[p] for p in POPULATIONS])
    fsc = rng.normal(sc[pop_idx, 0], sc[pop_idx, 1])
    ssc = rng.normal(sc[pop_idx, 2], sc[pop_idx, 3])
    shrink = np.where(apo == 2, 0.7, np.where(apo == 1, 0.85, 1.0))  # apoptotic cells shrink
    fsc, ssc = np.abs(fsc * shrink) + 500, np.abs(ssc) + 300
    fsc_h = fsc * rng.normal(0.82, 0.03, n)
    if doublet.any():
        partner = rng.normal(sc[pop_idx[doublet], 0], sc[pop_idx[doublet], 1])
        fsc[doublet] += np.abs(partner)
        fsc_h[doublet] *= rng.normal(1.1, 0.04, int(doublet.sum()))
        ssc[doublet] *= 1.8

    out = np.empty((n, 3 + len(markers)), dtype=np.float64)
    out[:, 0], out[:, 1], out[:, 2] = fsc, fsc_h, ssc
    mu = np.zeros(len(POPULATIONS))
    sd = np.ones(len(POPULATIONS))
    pos = np.zeros(len(POPULATIONS), dtype=bool)
    lsc_i = POPULATIONS.index("lsc")
    for j, m in enumerate(markers):
        mu[:], sd[:], pos[:] = 0.0, 0.2, False
        for i, p in enumerate(POPULATIONS):
            if p in _PHENOTYPE and m in _PHENOTYPE[p]:
                mu[i], sd[i] = _PHENOTYPE[p][m]
                pos[i] = True
        if m in ("BCL2", "MCL1", "BCL-xL"):
            key = {"BCL2": "lsc_bcl2_log10", "MCL1": "lsc_mcl1_log10", "BCL-xL": "lsc_bclxl_log10"}[m]
            lv = bio[key]
            for p in _LEUKEMIC:
                i = POPULATIONS.index(p)
                # Blasts share the LSC level; monocytic cells have less BCL2 and more MCL1.
                shift = {"BCL2": -0.35, "MCL1": 0.25, "BCL-xL": 0.05}[m] if p == "mono_leuk" else 0.0
                mu[i], sd[i], pos[i] = lv + shift + (0.05 if i != lsc_i else 0.0), 0.18, True
            for p in ("t_cell", "nk_cell", "b_cell", "granulocyte", "monocyte", "erythroid"):
                i = POPULATIONS.index(p)
                mu[i], sd[i], pos[i] = {"BCL2": 3.5, "MCL1": 3.2, "BCL-xL": 2.9}[m], 0.2, True
        if m == "Ki-67":
            mu[:], sd[:], pos[:] = 3.4, 0.2, True
        if m == "Puromycin":
            for i in range(len(POPULATIONS)):
                mu[i], sd[i], pos[i] = 0.0, 0.13, True  # log10 fold on the sample's control level, set below
        vals = np.where(pos[pop_idx], 10 ** rng.normal(mu[pop_idx], sd[pop_idx]), 0.0)
        if m == "Ki-67":
            p_ki = np.where(is_leuk, bio[f"ki67_pct_{condition}"] / 100 if panel == "FUNC" else 0.3, 0.08)
            vals = np.where(rng.random(n) < p_ki, vals, 0.0)
        if m == "Puromycin":
            level = _scenith_levels(bio, condition)
            vals = vals * np.where(is_leuk, level[0], level[1])
        if m in ("CD69", "HLA-DR", "PD-1"):
            act_p = np.select(
                [pop_idx == POPULATIONS.index("t_cell"), pop_idx == POPULATIONS.index("nk_cell")],
                [bio["t_activated_pct"] / 100, bio["nk_activated_pct"] / 100],
                0.0,
            )
            activated = rng.random(n) < act_p
            lvl = {"CD69": 3.4, "HLA-DR": 3.3, "PD-1": 3.2}[m]
            vals = np.where(activated & ~pos[pop_idx], 10 ** rng.normal(lvl, 0.2, n), vals)
        if m == "AnnexinV":
            vals = np.where(apo >= 1, 10 ** rng.normal(3.7, 0.25, n), 10 ** rng.normal(1.6, 0.3, n))
        if m == "7-AAD":
            vals = np.where(apo == 2, 10 ** rng.normal(3.8, 0.2, n), 0.0)
        if m == "CD45":
            vals = vals * np.where(apo >= 1, 0.8, 1.0)
        out[:, 3 + j] = vals + rng.normal(*AUTOFLUOR, n)
    counts = {"n_debris": int(debris.sum()), "n_doublets": int(doublet.sum())}
    labels = pd.DataFrame({"population": np.asarray(POPULATIONS)[pop_idx], "doublet": doublet.astype(int),
                           "apoptosis": np.asarray(["live", "early", "late"])[apo]})  # fmt: skip
    return out, counts, labels


def _scenith_levels(bio: pd.Series, condition: str) -> tuple[float, float]:
    """Median puromycin MFI of leukemic and of normal cells under a SCENITH condition."""
    co = float(bio["puromycin_co_mfi"])
    dgo_frac = 0.12  # translation left when both glycolysis and OXPHOS are blocked
    res = []
    for mito, gluc in ((bio["scenith_mito_dependence"], bio["scenith_glucose_dependence"]), _SCENITH_NORMAL):
        delta = co * (1 - dgo_frac)
        level = {"Co": co, "DG": co - gluc / 100 * delta, "O": co - mito / 100 * delta, "DGO": co - delta}[condition]
        res.append(float(level))
    return res[0], res[1]


def _spill_string(detectors: list[str]) -> str:
    sub = SPILLOVER.loc[detectors, detectors].to_numpy()
    return ",".join([str(len(detectors)), *detectors, *(f"{v:g}" for v in sub.ravel())])


def _fake_name(rng: np.random.Generator) -> str:
    return f"{_FIRST[rng.integers(len(_FIRST))]} {_LAST[rng.integers(len(_LAST))]}"


def _write_fcs(path: Path, data: np.ndarray, channels: list[str], labels: list[str], meta: dict) -> None:
    buf = io.BytesIO()
    flowio.create_fcs(buf, data.astype(np.float32).ravel(), channels, opt_channel_names=labels, metadata_dict=meta)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue())


def simulate_cytometry(tables: CohortTables, out_dir: str | Path, *, scale: str = "ci", seed: int = 20261129) -> None:
    """Write the cytometry part of the simulated cohort in the data-contract layout.

    Parameters
    ----------
    tables
        The cohort (``samples`` says which samples have cytometry; ``sample_truth`` holds their latent biology).
    out_dir
        Cohort folder; writes ``cytometry/fcs/<sample_id>/<panel>_<condition>.fcs``, ``cytometry/sample_sheet.csv``
        (with the tubes' ``batch``), ``cytometry/panels.csv``, ``cytometry/gating.yaml``,
        ``cytometry/reference_controls.csv`` (with ``fcs/controls/``) and ``truth/cytometry_*.csv``; and
        ``samples.csv`` again, with ``cytometry`` added to the assays of the remission samples given an MRD tube.
    scale
        ``"ci"`` (a few hundred events per file) or ``"full"`` (thousands).
    seed
        Cohort seed; the stream is ``default_rng([seed, 2])``.
    """
    rng = np.random.default_rng([seed, STREAM])
    out = Path(out_dir)
    cyto = out / "cytometry"
    n_untreated, n_treated, n_pheno, n_scenith = EVENTS[scale]
    has = has_assay(tables.samples["assays"], "cytometry")
    samples = tables.samples[has].reset_index(drop=True)
    truth = tables.sample_truth.set_index("sample_id").loc[samples["sample_id"]].reset_index()
    bio = _sample_biology(truth, rng)
    names = {p: _fake_name(rng) for p in samples["patient_id"].unique()}
    batch_of, gains = _acquisition_batches(samples, np.random.default_rng([seed, STREAM, EXTRA_STREAMS["batch"]]),
                                           EXTRA_SCALE[scale]["batches"])  # fmt: skip
    # Planted acquisition problems: a clog in ~4 % of files (time gap + fluorescence shift).
    sheet, file_truth, ids, event_labels = [], [], [], []
    for i, srow in samples.iterrows():
        b = bio.iloc[i]
        date = pd.Timestamp(srow["collection_date"]) + pd.Timedelta(days=2)
        for panel, conds in CONDITIONS.items():
            markers = PANELS[panel]
            detectors = [DETECTORS[m] for m in markers]
            for cond in conds:
                n = {"FUNC": n_untreated if cond == "untreated" else n_treated, "PHENO": n_pheno}.get(panel, n_scenith)
                true, counts, ev_labels = _draw_events(rng, markers, n, b, panel, cond)
                if panel == "PHENO":
                    _stain_batch_effect(true, markers, gains[batch_of[srow["sample_id"]]])
                fluo = true[:, 3:] @ SPILLOVER.loc[detectors, detectors].to_numpy()
                # Acquisition order and time (units of 0.01 s): Poisson arrivals at ~300 events/s.
                time = np.cumsum(rng.exponential(1 / 3.0, n))
                clog = rng.random() < 0.04
                if clog:
                    k = int(n * rng.uniform(0.4, 0.7))
                    time[k:] += 400.0
                    fluo[k:] *= 1.6  # pressure change after the clog: brighter fluorescence
                data = np.column_stack([true[:, :3], fluo, time])
                # Saturated events pile up at the top of the range (margin events).
                n_margin = int(rng.binomial(n, 0.004))
                if n_margin:
                    idx = rng.choice(n, n_margin, replace=False)
                    data[idx, 2] = MAX_RANGE
                data[:, :3] = np.clip(data[:, :3], 0, MAX_RANGE)
                data[:, 3:-1] = np.minimum(data[:, 3:-1], MAX_RANGE)
                channels = [*SCATTER, *detectors, "Time"]
                labels = [*SCATTER, *markers, "Time"]
                cname = cond.replace("+", "-")
                rel = f"fcs/{srow['sample_id']}/{panel}_{cname}.fcs"
                meta = {
                    "$CYT": "LSRFortessa",
                    "$DATE": date.strftime("%d-%b-%Y").upper(),
                    "$BTIM": "09:14:02",
                    "$ETIM": "09:16:47",
                    "$OP": _OPERATORS[i % len(_OPERATORS)],
                    "$SRC": f"{names[srow['patient_id']]} BM",
                    "$FIL": f"{names[srow['patient_id']].replace(' ', '_')}_{panel}_{cname}.fcs",
                    "$INST": "University Hospital Haematology Lab",
                    "$COM": f"patient {names[srow['patient_id']]}, born 1949",
                    "$TIMESTEP": "0.01",
                    "$SPILLOVER": _spill_string(detectors),
                    "$VOL": "100",
                    "TUBE NAME": f"{panel} {cond}",
                    "EXPORT USER NAME": _OPERATORS[i % len(_OPERATORS)].replace(". ", ""),
                    "PATIENT ID": names[srow["patient_id"]],
                }
                ranges = {f"$P{k + 1}R": "262144" for k in range(len(channels) - 1)}
                ranges[f"$P{len(channels)}R"] = str(int(np.ceil(time[-1])) + 1)
                meta.update(ranges)
                _write_fcs(cyto / rel, data, channels, labels, meta)
                ven, aza = DRUG_CONCENTRATIONS_UM.get(cond, (0.0, 0.0))
                sheet.append({"file": rel, "sample_id": srow["sample_id"], "panel": panel, "condition": cond,
                              "ven_um": ven, "aza_um": aza, "batch": batch_of[srow["sample_id"]]})  # fmt: skip
                if i < N_LABELLED_SAMPLES:
                    event_labels.append(ev_labels.assign(file=rel, event=np.arange(n)))
                file_truth.append({"file": rel, "sample_id": srow["sample_id"], "panel": panel, "condition": cond,
                                   "n_events": n, "clog": int(clog), "n_margin": n_margin, **counts})  # fmt: skip
        ids.append({"patient_id": srow["patient_id"], "identifier": names[srow["patient_id"]]})
    sheet += _cohort_prolif_tubes(samples, bio, batch_of, cyto, out, scale=scale, seed=seed)
    mrd = _cohort_mrd_tubes(tables, samples, bio, batch_of, cyto, out, scale=scale, seed=seed)
    sheet += mrd
    _list_mrd_samples(tables.samples, {r["sample_id"] for r in mrd if r["condition"] == "remission"}, out)
    _reference_controls(gains, bio, cyto, out, scale=scale, seed=seed)
    write_table(pd.DataFrame(sheet), cyto / "sample_sheet.csv")
    panels = pd.DataFrame(
        [{"panel": p, "marker": m, "channel": DETECTORS[m]} for p, ms in PANELS.items() for m in ms]
    )
    write_table(panels, cyto / "panels.csv")
    strategy = Path(__file__).resolve().parents[1] / "cytometry" / "strategies" / "aml_functional.yaml"
    shutil.copyfile(strategy, cyto / "gating.yaml")
    write_table(bio, out / "truth" / "cytometry_samples.csv")
    write_table(pd.DataFrame([{"sample_id": k, "batch": v} for k, v in batch_of.items()]),
                out / "truth" / "cytometry_batches.csv")  # fmt: skip
    write_table(pd.DataFrame([{"batch": b, "marker": m, "stain_gain": g} for b, gm in gains.items() for m, g in gm.items()]),
                out / "truth" / "cytometry_batch_effects.csv")  # fmt: skip
    write_table(pd.DataFrame(file_truth), out / "truth" / "cytometry_files.csv")
    cols = ["file", "event", "population", "doublet", "apoptosis"]
    write_table(pd.concat(event_labels, ignore_index=True)[cols], out / "truth" / "cytometry_event_labels.csv")
    ident = pd.DataFrame(ids).drop_duplicates().reset_index(drop=True)
    ident = pd.concat([ident, pd.DataFrame({"patient_id": "", "identifier": _OPERATORS})], ignore_index=True)
    write_table(ident, out / "truth" / "cytometry_identifiers.csv")


def _list_mrd_samples(samples: pd.DataFrame, remission_ids: set[str], out: Path) -> None:
    """samples.csv with ``cytometry`` among the assays of the remission samples that got an MRD tube.

    The patients' tables plan cytometry at diagnosis and relapse only; which remission marrows get an MRD tube is
    decided here (it depends on the scale), so this simulator writes the corrected samples.csv (moved over the
    cohort's by the cohort builder with the axis' other outputs). The in-memory tables are left as they are, so no
    other axis' draws move.
    """
    add = samples["sample_id"].isin(remission_ids) & ~has_assay(samples["assays"], "cytometry")
    if not add.any():
        return
    fixed = samples.copy()
    fixed.loc[add, "assays"] = [ASSAY_SEPARATOR.join([*(t for t in (v if isinstance(v, str) else "").split(ASSAY_SEPARATOR) if t.strip()),
                                                      "cytometry"]) for v in fixed.loc[add, "assays"]]  # fmt: skip
    write_table(fixed, out / "samples.csv")


# ----------------------------------------------------------------------------------------------------------------------
# Dye-dilution proliferation tubes (PROLIF): a separate stream, so the cohort's other files do not move.

PROLIF_STREAM = 21
# Per arm: fraction of the precursors that divide at least once, and the mean number of further divisions of those
# that do (drug-treated arms divide less: AZA arrests the cycle, VEN kills cycling blasts).
PROLIF_ARMS = {"untreated": (0.75, 2.2), "VEN": (0.55, 1.6), "AZA": (0.35, 0.9), "AZA+VEN": (0.2, 0.6)}
PROLIF_DYE = {"marker": "CFSE", "detector": "FITC-A", "day0_log2": 15.0, "width_log2": 0.22, "dye_loss_log2": -0.25}


def _precursor_fractions(responding: float, extra: float, n_gen: int) -> np.ndarray:
    """Precursor distribution over generations 0..n_gen-1: undivided, else 1 + Poisson(extra) divisions (truncated)."""
    from scipy.stats import poisson

    k = np.arange(n_gen - 1)
    pk = poisson.pmf(k, extra)
    pk[-1] += 1 - pk.sum()  # cells that would divide more pile up in the last generation resolved
    return np.concatenate([[1 - responding], responding * pk])


def _dye_truth(rel: str, sid: str, arm: str, cells: np.ndarray) -> dict:
    from ..cytometry.proliferation import proliferation_indices

    row = {"file": rel, "sample_id": sid, "condition": arm, **proliferation_indices(cells)}
    row.update({f"gen_{g}_pct": 100 * float(c) for g, c in enumerate(cells)})
    return row


def _write_dye_tubes(rng: np.random.Generator, root: Path, folder: str, arms: dict[str, tuple[float, float]],
                     n_events: int, n_generations: int) -> list[tuple[str, str, np.ndarray]]:  # fmt: skip
    """Write one sample's PROLIF tubes: day-0 reference, unstained control, then ``arms``.

    ``arms``: name -> (fraction of the precursors that divide, mean further divisions). Returns (arm, relative path,
    planted fraction of the cells per generation) per tube.
    """
    dye = PROLIF_DYE
    written = []
    for arm in ("day0", "unstained", *arms):
        prec = _precursor_fractions(*arms[arm], n_generations) if arm in arms else np.eye(n_generations)[0]
        cells = prec * 2.0 ** np.arange(n_generations)
        cells = cells / cells.sum()
        n_debris = int(rng.binomial(n_events, 0.08))
        n_cells = n_events - n_debris
        gen = rng.choice(n_generations, size=n_cells, p=cells)
        loss = dye["dye_loss_log2"] if arm in arms else 0.0
        log2v = dye["day0_log2"] - gen + loss + rng.normal(0, dye["width_log2"], n_cells)
        signal = 2.0**log2v if arm != "unstained" else np.zeros(n_cells)
        deb = 2.0 ** rng.uniform(6, dye["day0_log2"] - 3, n_debris) if arm != "unstained" else np.zeros(n_debris)
        fl = np.concatenate([signal, deb]) + rng.normal(*AUTOFLUOR, n_events)
        fsc = np.concatenate([rng.normal(70000, 9000, n_cells), rng.normal(15000, 6000, n_debris)])
        ssc = np.concatenate([rng.normal(25000, 6000, n_cells), rng.normal(10000, 5000, n_debris)])
        order = rng.permutation(n_events)
        time = np.cumsum(rng.exponential(1 / 3.0, n_events))
        data = np.column_stack([np.clip(fsc[order], 0, MAX_RANGE), np.clip(ssc[order], 0, MAX_RANGE),
                                np.minimum(fl[order], MAX_RANGE), time])  # fmt: skip
        rel = f"{folder}/PROLIF_{arm.replace('+', '-')}.fcs"
        meta = {"$CYT": "LSRFortessa", "$TIMESTEP": "0.01", "$P1R": "262144", "$P2R": "262144", "$P3R": "262144",
                "$P4R": str(int(np.ceil(time[-1])) + 1)}  # fmt: skip
        _write_fcs(root / rel, data, ["FSC-A", "SSC-A", dye["detector"], "Time"],
                   ["FSC-A", "SSC-A", dye["marker"], "Time"], meta)  # fmt: skip
        written.append((arm, rel, cells))
    return written


def simulate_dye_dilution(out_dir: str | Path, *, seed: int = 20261129, n_events: int = 3000,
                          n_samples: int = 2, n_generations: int = 8) -> pd.DataFrame:  # fmt: skip
    """Write PROLIF tubes (CFSE dye dilution) with a planted generation structure, and their sample sheet and truth.

    Per sample: a day-0 reference (undivided, stained), an unstained control and four cultured arms (untreated, VEN,
    AZA, AZA+VEN) in which the precursors divide per :data:`PROLIF_ARMS`, scaled per sample by a random factor (the
    patients differ). Cells: generation ``g`` holds ``P_g 2^g`` cells (no death), intensity ``2^(day0 - g + loss)`` with
    a log-normal peak width, plus autofluorescence; 8 % of events are debris and dead cells with low, spread dye.

    Parameters
    ----------
    out_dir
        Folder; writes ``fcs/<sample>/PROLIF_<arm>.fcs``, ``sample_sheet.csv`` (panel PROLIF) and
        ``truth_proliferation.csv`` (per file: planted indices from :func:`helpers.cytometry.proliferation_indices`
        and the planted fraction of cells per generation).
    seed, n_events, n_samples, n_generations
        Stream ``default_rng([seed, 21])``; events per file; samples; generations 0..n-1.

    Returns
    -------
    pandas.DataFrame
        The planted truth table.
    """
    rng = np.random.default_rng([seed, PROLIF_STREAM])
    out = Path(out_dir)
    sheet, truth = [], []
    for s in range(n_samples):
        sid = f"PROLIF{s + 1:02d}"
        vigour = rng.uniform(0.8, 1.2)
        arms = {arm: (min(0.95, resp * vigour), extra * vigour) for arm, (resp, extra) in PROLIF_ARMS.items()}
        for arm, rel, cells in _write_dye_tubes(rng, out, f"fcs/{sid}", arms, n_events, n_generations):
            sheet.append({"file": rel, "sample_id": sid, "panel": "PROLIF", "condition": arm, "ven_um": 0.0,
                          "aza_um": 0.0})  # fmt: skip
            if arm in PROLIF_ARMS:
                ven, aza = DRUG_CONCENTRATIONS_UM[arm]
                sheet[-1].update(ven_um=ven, aza_um=aza)
                truth.append(_dye_truth(rel, sid, arm, cells))
    write_table(pd.DataFrame(sheet), out / "sample_sheet.csv")
    truth_df = pd.DataFrame(truth)
    write_table(truth_df, out / "truth_proliferation.csv")
    return truth_df


# ----------------------------------------------------------------------------------------------------------------------
# Batch shifts (intensity standardisation), cluster counts (differential tests) and remission MRD: event tables drawn
# from their own streams, for the methods that need a planted truth the cohort's files do not carry.

BATCH_STREAM, COUNTS_STREAM, MRD_STREAM = 22, 23, 24


def simulate_batch_shifts(*, seed: int = 20261129, n_batches: int = 4, samples_per_batch: int = 6,
                          n_events: int = 3000, shifted: bool = True) -> dict:  # fmt: skip
    """Simulate samples acquired on different days, each day with an aliquot of one reference sample.

    Planted batch effects per day and detector: a gain, a non-linearity and an offset, applied to the linear
    intensities of ``CD45, CD34, CD33, BCL2`` (70 % of the events positive for every marker).

    Parameters
    ----------
    seed
        Seed of the run; the batch study draws from its own stream of it.
    n_batches
        Acquisition days, each with one reference aliquot.
    samples_per_batch
        Patient samples acquired per day.
    n_events
        Events per tube (reference aliquots and samples).
    shifted
        False acquires every day without batch effects (the null of a normalisation test).

    Returns
    -------
    dict
        ``controls`` (batch -> DataFrame of the reference aliquot's events), ``samples`` (list of (batch, sample_id,
        DataFrame)), ``truth`` (sample_id, batch and the true median of each channel without batch effect),
        ``channels``.
    """
    rng = np.random.default_rng([seed, BATCH_STREAM])
    channels = ["CD45", "CD34", "CD33", "BCL2"]
    base = {"CD45": (3.1, 0.15), "CD34": (3.5, 0.25), "CD33": (3.3, 0.3), "BCL2": (3.4, 0.2)}

    def draw(levels: dict[str, float], n: int) -> pd.DataFrame:
        pos = rng.random(n) < 0.7  # 30 % of events negative for every marker (normal cells)
        cols = {}
        for c in channels:
            mu, sd = base[c]
            cols[c] = np.where(pos, 10 ** rng.normal(mu + levels[c], sd, n), 10 ** rng.normal(1.3, 0.3, n))
        return pd.DataFrame(cols)

    def batch_effect(df: pd.DataFrame, fx: dict) -> pd.DataFrame:
        out = df.copy()
        for c in channels:
            g, gamma, off = fx[c]
            out[c] = g * df[c] ** gamma + off + rng.normal(*AUTOFLUOR, len(df))
        return out

    controls, samples, truth = {}, [], []
    ref_levels = dict.fromkeys(channels, 0.0)
    for b in range(n_batches):
        bid = f"day{b + 1}"
        fx = {c: ((10 ** rng.normal(0, 0.25), rng.uniform(0.92, 1.08), rng.uniform(0, 80)) if shifted else (1.0, 1.0, 0.0))
              for c in channels}  # fmt: skip
        # gamma rescaled around a typical intensity so a non-linearity does not also act as a huge gain
        fx = {c: (g * 3000 ** (1 - gm), gm, off) for c, (g, gm, off) in fx.items()}
        controls[bid] = batch_effect(draw(ref_levels, n_events), fx)
        for s in range(samples_per_batch):
            sid = f"B{b + 1}S{s + 1}"
            lv = {c: float(rng.normal(0, 0.2)) for c in channels}
            true = draw(lv, n_events)
            samples.append((bid, sid, batch_effect(true, fx)))
            mfi = {c: float(np.median(v[v >= np.quantile(v, 0.4)])) for c, v in true[channels].items()}
            truth.append({"sample_id": sid, "batch": bid, **mfi})
    return {"controls": controls, "samples": samples, "truth": pd.DataFrame(truth), "channels": channels}


def simulate_cluster_counts(*, seed: int = 20261129, n_patients: int = 20, n_clusters: int = 12,
                            cells_per_sample: int = 3000, effect: dict[int, float] | None = None,
                            concentration: float = 60.0, total_spread: float = 0.0,
                            concentration_spread: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Cells per sample and metacluster for paired diagnosis / relapse samples (Dirichlet-multinomial).

    Each patient has its own composition (between-patient differences); each sample draws its proportions around it
    with the Dirichlet ``concentration`` (overdispersion between samples of a patient); ``effect`` multiplies the
    relapse proportion of some clusters (log fold change), everything else is null.

    Parameters
    ----------
    seed
        Seeds the draws.
    n_patients, n_clusters
        Design size: two samples (diagnosis, relapse) per patient.
    cells_per_sample
        Cells per sample (the geometric mean when ``total_spread`` > 0).
    effect
        ``{cluster: log fold change}`` of the relapse proportion; the other clusters are null.
    concentration
        Dirichlet concentration of a sample around its patient's composition (smaller = more overdispersed).
    total_spread
        Standard deviation of log cells per sample (0: every sample has ``cells_per_sample``). Unequal totals are
        what breaks a test that weights samples by their cell counts.
    concentration_spread
        Standard deviation of the log concentration across clusters (0: one concentration): some clusters then vary
        between samples much more than others, as rare and activation-dependent populations do.

    Returns
    -------
    (counts, meta)
        Samples x clusters counts; ``meta`` with ``patient_id``, ``timepoint`` (diagnosis / relapse), indexed by
        sample.
    """
    rng = np.random.default_rng([seed, COUNTS_STREAM])
    # The adversarial options draw from their own stream: with both at 0 the counts are those of earlier versions.
    extra = np.random.default_rng([seed, COUNTS_STREAM, 1])
    effect = effect or {}
    base = rng.dirichlet(np.full(n_clusters, 2.0))
    conc = concentration * np.exp(extra.normal(0, concentration_spread, n_clusters)) if concentration_spread else None
    rows, meta = [], []
    for p in range(n_patients):
        pat = rng.dirichlet(base * 80)
        for tp in ("diagnosis", "relapse"):
            prop = pat.copy()
            if tp == "relapse":
                for k, lfc in effect.items():
                    prop[k] *= np.exp(lfc)
                prop /= prop.sum()
            if conc is None:
                q = rng.dirichlet(prop * concentration + 1e-3)
            else:
                # Cluster-wise overdispersion: independent gamma draws per cluster (a Dirichlet with per-cluster
                # concentration is not defined), renormalised to proportions.
                g = rng.gamma(prop * conc + 1e-3) / conc
                q = g / g.sum()
            n = cells_per_sample if not total_spread else max(50, int(round(cells_per_sample
                                                                            * np.exp(extra.normal(0, total_spread)))))
            rows.append(rng.multinomial(n, q))
            meta.append({"sample_id": f"P{p + 1:02d}-{tp[:3].upper()}", "patient_id": f"P{p + 1:02d}", "timepoint": tp})
    meta = pd.DataFrame(meta).set_index("sample_id")
    return pd.DataFrame(rows, index=meta.index, columns=range(n_clusters)), meta


def simulate_mrd(*, seed: int = 20261129, n_cd45: int = 500_000, mrd_fraction: float = 1e-3,
                 progenitor_fraction: float = 0.015, n_normal_reference: int = 5000) -> dict:  # fmt: skip
    """Simulate progenitor-gate events of a diagnosis and a remission marrow, and of a normal (regenerating) marrow.

    Markers (arcsinh scale): CD34, CD117, CD45, CD33, CD13, CD56, CD7, HLA-DR (the ELN core MRD markers). Normal
    progenitors form two overlapping populations (CD34+ myeloid and CD34- CD117+ promyelocyte-like, with a
    regenerating shift of CD13/CD33); the leukemia carries a LAIP (CD7+ CD56+, CD45 lower) with its own spread. The
    remission sample holds ``mrd_fraction`` of its ``n_cd45`` CD45+ cells as leukemic cells, among normal progenitors
    (``progenitor_fraction`` of CD45+).

    Parameters
    ----------
    seed
        Seed of the run; the MRD study draws from its own stream of it.
    n_cd45
        CD45+ events acquired in the remission tube (ELN asks for at least 500 000 for a negative call).
    mrd_fraction
        Expected leukemic cells per CD45+ event of the remission marrow (1e-3 = 0.1 % MRD); the count is binomial.
    progenitor_fraction
        Expected normal progenitors per CD45+ event (the progenitor gate keeps these and the leukemic cells).
    n_normal_reference
        Events of the normal regenerating marrow that serves as the reference.

    Returns
    -------
    dict
        ``markers``, ``normal`` (reference events), ``diagnosis`` (leukemic progenitor-gate events),
        ``remission`` (events), ``is_leukemic`` (truth per remission event), ``n_cd45``, ``n_leukemic``.
    """
    rng = np.random.default_rng([seed, MRD_STREAM])
    markers = ["CD34", "CD117", "CD45", "CD33", "CD13", "CD56", "CD7", "HLA-DR"]
    normal_mu = np.array([[3.6, 3.0, 2.6, 2.8, 2.6, 0.4, 0.5, 3.2], [0.8, 3.2, 2.9, 3.3, 3.4, 0.4, 0.4, 1.0]])
    leuk_mu = np.array([3.8, 3.1, 2.1, 3.0, 2.4, 2.6, 2.9, 3.3])

    def normal_cells(n: int, regen: float) -> np.ndarray:
        k = rng.random(n) < 0.6
        mu = np.where(k[:, None], normal_mu[0], normal_mu[1]) + regen * np.array([0, 0, 0, 0.3, 0.3, 0.15, 0, 0])
        return mu + rng.normal(0, 0.35, (n, len(markers)))

    def leukemic(n: int) -> np.ndarray:
        return leuk_mu + rng.normal(0, 0.4, (n, len(markers)))

    n_leuk = int(rng.binomial(n_cd45, mrd_fraction))
    n_prog = int(rng.binomial(n_cd45, progenitor_fraction))
    rem = np.vstack([normal_cells(n_prog, regen=1.0), leukemic(n_leuk)])
    lab = np.r_[np.zeros(n_prog, bool), np.ones(n_leuk, bool)]
    order = rng.permutation(len(lab))
    return {
        "markers": markers,
        "normal": pd.DataFrame(normal_cells(n_normal_reference, regen=rng.uniform(0, 1, (n_normal_reference, 1))),
                               columns=markers),  # fmt: skip
        "diagnosis": pd.DataFrame(leukemic(3000), columns=markers),
        "remission": pd.DataFrame(rem[order], columns=markers),
        "is_leukemic": lab[order],
        "n_cd45": n_cd45,
        "n_leukemic": n_leuk,
    }


# ----------------------------------------------------------------------------------------------------------------------
# The cohort's PROLIF and MRD tubes and acquisition batches: sub-streams of the cytometry stream (the tubes drawn
# from the main stream above keep their events).

EXTRA_STREAMS = {"prolif": 1, "mrd": 2, "batch": 3}
# ci: a subset of samples and small MRD tubes (the cohort stays small); full: every diagnosis sample with dye
# dilution and MRD tubes of 500 000 events (ELN 2021's minimum for a negative call).
EXTRA_SCALE = {
    "ci": {"prolif_samples": 16, "prolif_events": 1500, "mrd_patients": 6, "mrd_events": (3000, 15000, 25000),
           "batches": 4, "control_events": 2000},
    "full": {"prolif_samples": None, "prolif_events": 5000, "mrd_patients": 12, "mrd_events": (20000, 500000, 500000),
             "batches": 8, "control_events": 6000},
}  # fmt: skip
BATCH_STAINS = ("BCL2", "BCL-xL", "MCL1")
BATCH_GAIN_LOG10_SD = 0.2  # per batch and stain: about +-60 % in staining intensity (fixation, antibody lot)
# Dye dilution per arm from the sample's biology: (fraction of precursors dividing, further divisions) shrink with the
# drug's effect on the sample (AZA arrests the cycle, VEN kills cycling blasts).
_PROLIF_DRUG_EFFECT = {"VEN": (0.35, 0.2), "AZA": (0.8, 0.5)}


def _acquisition_batches(samples: pd.DataFrame, rng: np.random.Generator, n_batches: int) -> tuple[dict, dict]:
    """Assign samples to consecutive batches by collection date; draw per batch a gain of each intracellular stain."""
    order = samples.sort_values(["collection_date", "sample_id"])["sample_id"].tolist()
    batch_of = {sid: f"batch{1 + (k * n_batches) // len(order)}" for k, sid in enumerate(order)}
    gains = {f"batch{b + 1}": {m: float(10 ** rng.normal(0, BATCH_GAIN_LOG10_SD)) for m in BATCH_STAINS}
             for b in range(n_batches)}  # fmt: skip
    return batch_of, gains


def _stain_batch_effect(true: np.ndarray, markers: list[str], gain: dict[str, float]) -> None:
    for m, g in gain.items():
        if m in markers:
            true[:, 3 + markers.index(m)] *= g


def _write_tube(path: Path, true: np.ndarray, markers: list[str], rng: np.random.Generator, meta: dict) -> None:
    """Spill, add acquisition time, clip to the range and write (scatter FSC-A, FSC-H, SSC-A first in ``true``)."""
    detectors = [DETECTORS[m] for m in markers]
    n = true.shape[0]
    fluo = true[:, 3:] @ SPILLOVER.loc[detectors, detectors].to_numpy()
    time = np.cumsum(rng.exponential(1 / 3.0, n))
    data = np.column_stack([np.clip(true[:, :3], 0, MAX_RANGE), np.minimum(fluo, MAX_RANGE), time])
    ranges = {f"$P{k + 1}R": "262144" for k in range(3 + len(markers))}
    ranges[f"$P{4 + len(markers)}R"] = str(int(np.ceil(time[-1])) + 1)
    meta = {"$CYT": "LSRFortessa", "$TIMESTEP": "0.01", "$SPILLOVER": _spill_string(detectors), **ranges, **meta}
    _write_fcs(path, data, [*SCATTER, *detectors, "Time"], [*SCATTER, *markers, "Time"], meta)


def _reference_controls(gains: dict, bio: pd.DataFrame, cyto: Path, out: Path, *, scale: str, seed: int) -> None:
    """One control marrow, stained in every batch (PHENO tube), listed in ``reference_controls.csv``."""
    rng = np.random.default_rng([seed, STREAM, EXTRA_STREAMS["batch"], 1])
    ctrl = bio.median(numeric_only=True)
    ctrl["leukemic_pct_of_cd45"] = 3.0  # a remission-like marrow: few blasts, the normal cells carry the stains
    rows = []
    for b, gain in gains.items():
        true, _, _ = _draw_events(rng, PANELS["PHENO"], EXTRA_SCALE[scale]["control_events"], ctrl, "PHENO", "untreated")
        _stain_batch_effect(true, PANELS["PHENO"], gain)
        rel = f"fcs/controls/CTRL_{b}_PHENO.fcs"
        _write_tube(cyto / rel, true, PANELS["PHENO"], rng, {"TUBE NAME": f"control marrow PHENO {b}"})
        rows.append({"file": rel, "batch": b, "panel": "PHENO", "role": "batch_control"})
    ne = EXTRA_SCALE[scale]["mrd_events"][2]
    true, _, _ = _mrd_events(rng, ne, leukemic_fraction=0.0, laip={}, regenerating=True)
    _write_tube(cyto / "fcs/controls/NORMAL_MRD.fcs", true, PANELS["MRD"], rng, {"TUBE NAME": "normal marrow MRD"})
    rows.append({"file": "fcs/controls/NORMAL_MRD.fcs", "batch": "", "panel": "MRD", "role": "normal_reference"})
    write_table(pd.DataFrame(rows), cyto / "reference_controls.csv")


def _cohort_prolif_tubes(samples: pd.DataFrame, bio: pd.DataFrame, batch_of: dict, cyto: Path, out: Path, *,
                         scale: str, seed: int) -> list[dict]:  # fmt: skip
    rng = np.random.default_rng([seed, STREAM, EXTRA_STREAMS["prolif"]])
    cfg = EXTRA_SCALE[scale]
    dx = [i for i, t in enumerate(samples["timepoint"]) if t == "diagnosis"][: cfg["prolif_samples"]]
    sheet, truth = [], []
    for i in dx:
        b, sid = bio.iloc[i], samples.at[i, "sample_id"]
        ki = float(b["ki67_pct_untreated"]) / 100
        resp, extra = float(np.clip(0.3 + 0.8 * ki, 0.2, 0.92)), 0.6 + 2.5 * ki
        kill = {"VEN": float(b["specific_apoptosis_VEN"]) / 100, "AZA": float(b["specific_apoptosis_AZA"]) / 100}
        arms = {"untreated": (resp, extra)}
        for arm in ("VEN", "AZA", "AZA+VEN"):
            r, e = resp, extra
            for drug in arm.split("+"):
                fr, fe = _PROLIF_DRUG_EFFECT[drug]
                r, e = r * (1 - fr * kill[drug]), e * (1 - fe * kill[drug])
            arms[arm] = (r, e)
        for arm, rel, cells in _write_dye_tubes(rng, cyto, f"fcs/{sid}", arms, cfg["prolif_events"], 8):
            ven, aza = DRUG_CONCENTRATIONS_UM.get(arm, (0.0, 0.0))
            sheet.append({"file": rel, "sample_id": sid, "panel": "PROLIF", "condition": arm, "ven_um": ven,
                          "aza_um": aza, "batch": batch_of[sid]})  # fmt: skip
            if arm in arms:
                truth.append(_dye_truth(rel, sid, arm, cells))
    write_table(pd.DataFrame(truth), out / "truth" / "cytometry_proliferation.csv")
    return sheet


# Progenitor-gate and other marrow populations of the MRD tube, on the arcsinh(x / 150) scale, in the order of
# PANELS["MRD"]: CD45, CD34, CD117, CD33, CD13, CD56, CD7, HLA-DR (0.4 = unstained). Normal progenitors as in
# simulate_mrd (CD34+ myeloid, CD34- CD117+ promyelocyte-like); the regenerating marrow shifts CD33/CD13/CD56 up.
_MRD_POPS = {  # name: (share of CD45+ cells or of all events for erythroid, FSC-A, SSC-A, levels)
    "lymphocyte": (0.27, 62000, 22000, [4.6, 0.4, 0.4, 0.4, 0.4, 0.4, 3.3, 0.4]),
    "granulocyte": (0.52, 105000, 150000, [3.6, 0.4, 0.4, 2.9, 3.6, 0.4, 0.4, 0.4]),
    "monocyte": (0.09, 100000, 75000, [4.2, 0.4, 0.4, 4.2, 3.6, 0.4, 0.4, 3.5]),
    "progenitor_cd34": (0.009, 80000, 32000, [2.6, 3.6, 3.0, 2.8, 2.6, 0.4, 0.5, 3.2]),
    "progenitor_cd117": (0.006, 85000, 40000, [2.9, 0.8, 3.2, 3.3, 3.4, 0.4, 0.4, 1.0]),
    "erythroid": (0.12, 55000, 15000, [0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]),
}
_LEUKEMIC_MRD = [2.1, 3.8, 3.1, 3.0, 2.6, 0.4, 0.4, 3.3]  # CD45 dimmer than normal progenitors
# Patient LAIPs (marker -> arcsinh level): asynchronous or cross-lineage expression, or loss of a marker.
_LAIPS = [{"CD7": 2.9, "CD56": 2.6}, {"CD7": 2.9, "HLA-DR": 0.8}, {"CD56": 2.7, "CD13": 0.7}, {"CD7": 3.0, "CD13": 0.8}]


def _mrd_events(rng: np.random.Generator, n: int, *, leukemic_fraction: float, laip: dict,
                regenerating: bool) -> tuple[np.ndarray, int, int]:  # fmt: skip
    """Draw the true intensities of an MRD tube (scatter, then the MRD markers); return events, CD45+ and leukemic."""
    names = list(_MRD_POPS)
    ery = _MRD_POPS["erythroid"][0]
    cd45_share = np.array([_MRD_POPS[p][0] for p in names[:-1]])
    cd45_share = (1 - leukemic_fraction) * cd45_share / cd45_share.sum()
    probs = np.concatenate([(1 - ery) * cd45_share, [ery], [(1 - ery) * leukemic_fraction]])
    pop = rng.choice(len(names) + 1, size=n, p=probs / probs.sum())
    markers = PANELS["MRD"]
    lv = np.array([_MRD_POPS[p][3] for p in names] + [_LEUKEMIC_MRD], dtype=float)
    for m, v in laip.items():
        lv[-1, markers.index(m)] = v
    if regenerating:
        for j, m in enumerate(markers):
            lv[3:5, j] += {"CD33": 0.3, "CD13": 0.3, "CD56": 0.15}.get(m, 0.0)
    sd = np.where(pop == len(names), 0.4, 0.35)[:, None]
    level = lv[pop] + rng.normal(0, 1, (n, len(markers))) * sd
    fsc_m = np.array([_MRD_POPS[p][1] for p in names] + [80000.0])
    ssc_m = np.array([_MRD_POPS[p][2] for p in names] + [30000.0])
    fsc = np.abs(rng.normal(fsc_m[pop], 0.12 * fsc_m[pop])) + 500
    ssc = np.abs(rng.normal(ssc_m[pop], 0.2 * ssc_m[pop])) + 300
    fluo = np.maximum(150 * np.sinh(level), 0) + rng.normal(*AUTOFLUOR, (n, len(markers)))
    out = np.column_stack([fsc, fsc * rng.normal(0.82, 0.03, n), ssc, fluo])
    return out, int((pop != names.index("erythroid")).sum()), int((pop == len(names)).sum())


def _cohort_mrd_tubes(tables: CohortTables, samples: pd.DataFrame, bio: pd.DataFrame, batch_of: dict, cyto: Path,
                      out: Path, *, scale: str, seed: int) -> list[dict]:  # fmt: skip
    """MRD tubes of responders chosen across the range of their planted MRD (diagnosis and remission marrow)."""
    rng = np.random.default_rng([seed, STREAM, EXTRA_STREAMS["mrd"]])
    cfg = EXTRA_SCALE[scale]
    n_dx, n_rem, _ = cfg["mrd_events"]
    clin = tables.clinical.set_index("patient_id")
    rem = tables.samples[tables.samples["timepoint"] == "remission"]
    dx = samples[samples["timepoint"] == "diagnosis"].set_index("patient_id")
    cand = rem[rem["patient_id"].isin(dx.index) & rem["patient_id"].map(clin["mrd_pct"]).notna()].copy()
    cand["mrd_pct"] = cand["patient_id"].map(clin["mrd_pct"]).astype(float)
    cand = cand.sort_values(["mrd_pct", "patient_id"]).reset_index(drop=True)
    k = min(cfg["mrd_patients"], len(cand))
    pick = cand.iloc[np.unique(np.round(np.linspace(0, len(cand) - 1, k)).astype(int))] if k else cand.iloc[:0]
    bio_of = dict(zip(samples["sample_id"], range(len(samples)), strict=True))
    sheet, truth = [], []
    for r in pick.sort_values("patient_id").itertuples(index=False):
        laip = _LAIPS[int(rng.integers(len(_LAIPS)))]
        dx_sid = dx.at[r.patient_id, "sample_id"]
        blasts = float(bio.iloc[bio_of[dx_sid]]["leukemic_pct_of_cd45"]) / 100
        for sid, cond, n, frac in ((dx_sid, "diagnosis", n_dx, blasts), (r.sample_id, "remission", n_rem, r.mrd_pct / 100)):
            true, n_cd45, n_leuk = _mrd_events(rng, n, leukemic_fraction=frac, laip=laip, regenerating=cond == "remission")
            rel = f"fcs/{sid}/MRD_{cond}.fcs"
            _write_tube(cyto / rel, true, PANELS["MRD"], rng, {"TUBE NAME": f"MRD {cond}"})
            sheet.append({"file": rel, "sample_id": sid, "panel": "MRD", "condition": cond, "ven_um": 0.0,
                          "aza_um": 0.0, "batch": batch_of.get(sid, batch_of[dx_sid])})  # fmt: skip
            truth.append({"file": rel, "sample_id": sid, "patient_id": r.patient_id, "condition": cond, "n_events": n,
                          "n_cd45": n_cd45, "n_leukemic": n_leuk, "planted_mrd_pct": 100 * n_leuk / n_cd45,
                          "clinical_mrd_pct": r.mrd_pct, "laip": ";".join(sorted(laip))})  # fmt: skip
    write_table(pd.DataFrame(truth), out / "truth" / "cytometry_mrd.csv")
    return sheet
