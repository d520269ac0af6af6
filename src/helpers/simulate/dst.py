"""Simulated ex vivo drug sensitivity testing (DST): 384-well plates as a plate reader and a liquid handler deliver them.

For every sample whose ``assays`` include ``dst`` the simulator writes one 384-well plate (two replicate plates at
``scale="full"``) in the data-contract layout (``docs/dst.md``):

- ``dst/plates.csv``: the plate manifest (plate id, sample, reader export, plate map, read date);
- ``dst/reader/<plate>.csv``: the reader export, a 16 x 24 grid of raw luminescence (RLU) under a short header;
  saturated wells are written as ``OVER`` as readers do;
- ``dst/maps/<plate>_map.csv``: the plate map (well, role, drug, concentration with its unit, second drug of the
  AZA+VEN dose matrix);
- ``dst/viability_long.csv``: the same single-drug wells already normalised by the lab (sample, drug, conc_uM,
  viability_pct), the long format in which public cohorts ship their data.

Biology: viability follows a 4-parameter log-logistic curve per sample and drug. Venetoclax potency is the sample's
``ven_log10_ic50_um`` and azacitidine's ``aza_log10_ic50_um`` (``truth/samples.csv``); the other drugs of the panel
follow the latent biology where the literature says they should (navitoclax with venetoclax, the MCL1 inhibitor with
low BCL2 dependence, MEK inhibition with monocytic differentiation, MDM2 inhibition with TP53 wild type). The AZA+VEN
dose matrix sits on its own plate region (rows I-P, columns 15-22); azacitidine increases venetoclax potency by a
planted, per-sample factor (a potency shift, so Bliss excess is positive where the shift is large).

Artefacts: plate-to-plate signal level, evaporation at the outer ring, a column gradient, multiplicative reader noise
(about 6 % CV), a few failed wells (no signal or saturated) and exactly one failed plate in the cohort (the killing
control was not dispensed, so Z' is negative). Everything planted is in ``truth/dst_*.csv``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..assays import has_assay
from ..io import write_table, write_text

if TYPE_CHECKING:
    from pathlib import Path

    from .cohort import CohortTables

__all__ = ["simulate_dst", "PANEL", "VEN_MATRIX_UM", "AZA_MATRIX_UM"]

DEPENDS_ON = ("io.py",)

ROWS = "ABCDEFGHIJKLMNOP"
N_ROWS, N_COLS = 16, 24
# Tested concentrations (uM). Venetoclax spans 0.1 nM to 10 uM (DOMAIN.md); the rest use BeatAML's 7-point range.
VEN_CONC_UM = np.round(np.logspace(-4, 1, 7), 8)
STD_CONC_UM = np.array([0.0137, 0.0412, 0.123, 0.37, 1.11, 3.33, 10.0])
AZA_MATRIX_UM = np.concatenate([[0.0], np.round(0.01 * 3.0 ** np.arange(7), 6)])  # rows I-P
VEN_MATRIX_UM = np.concatenate([[0.0], np.round(1e-4 * 4.0 ** np.arange(7), 8)])  # columns 15-22

# name -> (mean log10 IC50 in uM, the latent driver and its coefficient, hill slope, residual viability range).
PANEL = {
    "Venetoclax": ("ven", None, 0.0, (0.9, 1.5), (0.02, 0.15)),
    "Azacitidine": ("aza", None, 0.0, (1.2, 2.0), (0.15, 0.40)),
    "Navitoclax": (0.2, "ven", 0.8, (0.8, 1.4), (0.02, 0.15)),
    "S63845": (-0.8, "bcl2_dependence", 0.45, (1.0, 2.0), (0.02, 0.10)),
    "Trametinib": (0.6, "mono_frac", -2.0, (0.7, 1.2), (0.20, 0.45)),
    "Idasanutlin": (-0.4, "TP53", 1.6, (1.0, 2.0), (0.05, 0.25)),
    "Cytarabine": (-0.2, None, 0.0, (0.8, 1.5), (0.05, 0.30)),
    "Daunorubicin": (-1.1, None, 0.0, (1.0, 2.0), (0.02, 0.15)),
    "Decitabine": ("aza", None, 0.15, (1.0, 1.8), (0.20, 0.45)),
    "Gilteritinib": (0.4, "FLT3_ITD", -1.5, (0.8, 1.5), (0.15, 0.40)),
    "Selinexor": (-0.6, None, 0.0, (1.0, 2.0), (0.05, 0.20)),
    "Panobinostat": (-1.8, None, 0.0, (1.5, 2.5), (0.02, 0.10)),
    # Drugs added at full scale.
    "Sorafenib": (0.5, "FLT3_ITD", -1.2, (0.8, 1.5), (0.20, 0.45)),
    "Dasatinib": (0.6, None, 0.0, (0.6, 1.2), (0.25, 0.50)),
    "Ruxolitinib": (0.8, None, 0.0, (0.6, 1.2), (0.30, 0.55)),
    "Bortezomib": (-1.9, None, 0.0, (1.5, 3.0), (0.02, 0.10)),
    "Quizartinib": (0.2, "FLT3_ITD", -1.8, (0.8, 1.6), (0.15, 0.40)),
    "Ibrutinib": (0.7, None, 0.0, (0.6, 1.2), (0.30, 0.55)),
}
N_DRUGS = {"ci": 12, "full": 18}
N_PLATES_PER_SAMPLE = {"ci": 1, "full": 2}
POS_CONTROL = ("Benzethonium chloride", 100.0)  # killing control, uM


def _well(r: int, c: int) -> str:
    return f"{ROWS[r]}{c + 1:02d}"


def _layout(drugs: list[str]) -> pd.DataFrame:
    """Lay out the plate shared by every plate: controls on columns 1-2 and 23-24, curves in duplicate, the matrix.

    Negative (DMSO) controls fill columns 1 and 24 and every unused interior well (so that edge and interior DMSO can
    be compared); positive controls fill columns 2 and 23. Single drugs occupy rows A-P, columns 3-22 outside the
    matrix region, seven concentrations in two replicates each.
    """
    recs = []
    matrix = {(r, c) for r in range(8, 16) for c in range(14, 22)}
    free = [(r, c) for c in range(2, 22) for r in range(16) if (r, c) not in matrix]
    slot = 0
    for d in drugs:
        conc = VEN_CONC_UM if d == "Venetoclax" else STD_CONC_UM
        for rep in (1, 2):
            for k, x in enumerate(conc):
                r, c = free[slot]
                slot += 1
                recs.append((r, c, "sample", d, x, "", np.nan, rep, "single", k))
    for r, c in free[slot:]:
        recs.append((r, c, "neg_control", "DMSO", np.nan, "", np.nan, 0, "control", -1))
    for i, a in enumerate(AZA_MATRIX_UM):
        for j, v in enumerate(VEN_MATRIX_UM):
            recs.append((8 + i, 14 + j, "sample", "Azacitidine", a, "Venetoclax", v, 1, "combination", -1))
    for r in range(16):
        recs.append((r, 0, "neg_control", "DMSO", np.nan, "", np.nan, 0, "control", -1))
        recs.append((r, 23, "neg_control", "DMSO", np.nan, "", np.nan, 0, "control", -1))
        recs.append((r, 1, "pos_control", POS_CONTROL[0], POS_CONTROL[1], "", np.nan, 0, "control", -1))
        recs.append((r, 22, "pos_control", POS_CONTROL[0], POS_CONTROL[1], "", np.nan, 0, "control", -1))
    lay = pd.DataFrame(
        recs, columns=["r", "c", "role", "drug", "conc_um", "drug2", "conc2_um", "replicate", "region", "level"]
    )
    lay["well"] = [_well(r, c) for r, c in zip(lay["r"], lay["c"], strict=True)]
    assert lay["well"].is_unique and len(lay) == N_ROWS * N_COLS
    return lay.sort_values(["r", "c"]).reset_index(drop=True)


def _ll4_viability(conc: np.ndarray, log_ic50: np.ndarray, hill: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """Fraction viable: bottom + (1 - bottom) / (1 + (c / IC50)^h); 1 at zero concentration."""
    with np.errstate(divide="ignore"):
        x = np.where(conc > 0, np.log10(np.maximum(conc, 1e-300)), -np.inf)
    return bottom + (1 - bottom) / (1 + 10.0 ** (hill * (x - log_ic50)))


def _curve_truth(tables: CohortTables, dst_samples: pd.DataFrame, drugs: list[str], rng: np.random.Generator
                 ) -> pd.DataFrame:  # fmt: skip
    """Draw the true curve parameters per sample and drug from the latent biology."""
    st = tables.sample_truth.set_index("sample_id").loc[dst_samples["sample_id"]]
    clin = tables.clinical.set_index("patient_id").loc[st["patient_id"]]
    n = len(st)
    drivers = {
        "ven": st["ven_log10_ic50_um"].to_numpy(),
        "aza": st["aza_log10_ic50_um"].to_numpy(),
        "bcl2_dependence": st["bcl2_dependence"].to_numpy(),
        "mono_frac": st["mono_frac"].to_numpy(),
        "TP53": clin["TP53"].to_numpy().astype(float),
        "FLT3_ITD": clin["FLT3_ITD"].to_numpy().astype(float),
    }
    out = []
    for d in drugs:
        mean, driver, coef, hill_rng, bottom_rng = PANEL[d]
        if isinstance(mean, str):  # potency given by the truth itself (plus a small offset for decitabine)
            log_ic50 = drivers[mean] + coef + (rng.normal(0, 0.15, n) if coef else 0.0)
        else:
            log_ic50 = mean + (coef * drivers[driver] if driver else 0.0) + rng.normal(0, 0.35, n)
        out.append(
            pd.DataFrame(
                {
                    "sample_id": st.index.to_numpy(),
                    "drug": d,
                    "log10_ic50_um": log_ic50,
                    "hill": rng.uniform(*hill_rng, n),
                    "bottom_viability": rng.uniform(*bottom_rng, n),
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def _reader_export(plate_id: str, read_date: str, signal: np.ndarray) -> str:
    """Text of a reader export: header lines, then the 16 x 24 grid with row letters and column numbers."""
    lines = [
        "Plate reader export",
        f"Plate ID,{plate_id}",
        f"Read date,{read_date}",
        "Measurement,Luminescence (RLU)",
        "Integration time,0.5 s",
        "",
        "," + ",".join(str(c + 1) for c in range(N_COLS)),
    ]
    grid = signal.reshape(N_ROWS, N_COLS)
    for r in range(N_ROWS):
        cells = ["OVER" if not np.isfinite(v) else str(int(round(v))) for v in grid[r]]
        lines.append(ROWS[r] + "," + ",".join(cells))
    return "\n".join(lines) + "\n"


def simulate_dst(tables: CohortTables, out_dir: str | Path, *, scale: str = "ci", seed: int = 20261129) -> None:
    """Write the DST plates of every sample with ``dst`` among its assays, and the planted truth.

    Parameters
    ----------
    tables
        The cohort (:class:`helpers.simulate.CohortTables`): ``samples`` says which samples have DST,
        ``sample_truth`` / ``patient_truth`` hold the latent biology.
    out_dir
        Cohort folder; writes ``dst/`` and ``truth/dst_*.csv``.
    scale
        ``"ci"``: one plate per sample and 12 drugs; ``"full"``: two replicate plates per sample and 18 drugs.
    seed
        Cohort seed; the DST stream is ``np.random.default_rng([seed, 1])``.
    """
    from pathlib import Path

    rng = np.random.default_rng([seed, 1])
    out = Path(out_dir)
    dst_dir = out / "dst"
    samples = tables.samples
    has_dst = has_assay(samples["assays"], "dst")
    dst_samples = samples.loc[has_dst].reset_index(drop=True)
    drugs = list(PANEL)[: N_DRUGS[scale]]
    layout = _layout(drugs)
    truth = _curve_truth(tables, dst_samples, drugs, rng)
    tix = truth.set_index(["sample_id", "drug"])
    # Planted AZA -> VEN potency shift: VEN IC50 is divided by (1 + s * AZA inhibition); larger in BCL2-dependent cells.
    st = tables.sample_truth.set_index("sample_id").loc[dst_samples["sample_id"]]
    shift = np.exp(rng.normal(np.log(3.0) + 0.35 * st["bcl2_dependence"].to_numpy(), 0.4))
    synergy_truth = pd.DataFrame({"sample_id": dst_samples["sample_id"], "azaven_potency_shift": shift})

    n_rep = N_PLATES_PER_SAMPLE[scale]
    plates = [(s, rep) for s in dst_samples["sample_id"] for rep in range(1, n_rep + 1)]
    failed_plate = int(rng.integers(len(plates)))
    is_edge = (layout["r"].isin([0, 15]) | layout["c"].isin([0, 23])).to_numpy()
    col_pos = (layout["c"].to_numpy() - 11.5) / 11.5
    sample_wells = np.flatnonzero((layout["role"] == "sample").to_numpy())

    manifest, plate_truth, failed_wells, long_rows = [], [], [], []
    date_of = dict(zip(samples["sample_id"], samples["collection_date"], strict=True))
    for p, (sid, rep) in enumerate(plates):
        plate_id = f"DSTP{p + 1:04d}"
        # Viability per well from the true curves.
        via = np.ones(len(layout))
        for d in drugs:
            m = ((layout["drug"] == d) & (layout["region"] == "single")).to_numpy()
            t = tix.loc[(sid, d)]
            via[m] = _ll4_viability(layout.loc[m, "conc_um"].to_numpy(), t["log10_ic50_um"], t["hill"],
                                    t["bottom_viability"])
        m = (layout["region"] == "combination").to_numpy()
        ta, tv = tix.loc[(sid, "Azacitidine")], tix.loc[(sid, "Venetoclax")]
        a, v = layout.loc[m, "conc_um"].to_numpy(), layout.loc[m, "conc2_um"].to_numpy()
        va = _ll4_viability(a, ta["log10_ic50_um"], ta["hill"], ta["bottom_viability"])
        s = shift[dst_samples.index[dst_samples["sample_id"] == sid][0]]
        ven_shift = np.log10(1 + s * (1 - va) / (1 - ta["bottom_viability"]))
        via[m] = va * _ll4_viability(v, tv["log10_ic50_um"] - ven_shift, tv["hill"], tv["bottom_viability"])
        via[(layout["role"] == "pos_control").to_numpy()] = 0.0

        # Signal: plate level, background, evaporation at the edge, column gradient, multiplicative noise.
        level = rng.lognormal(np.log(42000), 0.25)
        background = level * rng.uniform(0.02, 0.05)
        edge_loss = rng.uniform(0.0, 0.10)
        gradient = rng.uniform(-0.04, 0.04)
        cv = rng.uniform(0.05, 0.08)
        effect = (1 - edge_loss * is_edge) * (1 + gradient * col_pos)
        failure = ""
        if p == failed_plate:  # the killing control was not dispensed: positive wells read like DMSO
            via[(layout["role"] == "pos_control").to_numpy()] = rng.uniform(0.8, 1.0)
            failure = "positive_control_not_dispensed"
        signal = (background + (level - background) * via * effect) * rng.lognormal(0, cv, len(layout))
        # A few failed wells: no cells/reagent dispensed (reads dark counts) or a bubble saturating the detector.
        n_fail = rng.choice([0] * 17 + [1, 1, 2])
        for w in rng.choice(sample_wells, size=n_fail, replace=False):
            kind = "no_signal" if rng.random() < 0.7 else "saturated"
            signal[w] = rng.uniform(20, 150) if kind == "no_signal" else np.inf
            failed_wells.append({"plate_id": plate_id, "sample_id": sid, "well": layout["well"].iat[w],
                                 "drug": layout["drug"].iat[w], "failure": kind})

        read_date = date_of[sid]
        write_text(_reader_export(plate_id, read_date, signal), dst_dir / "reader" / f"{plate_id}.csv")
        pmap = pd.DataFrame(
            {
                "well": layout["well"],
                "role": layout["role"],
                "drug": layout["drug"],
                # The liquid handler's worklist is in nM; the loader converts to uM.
                "conc": np.round(layout["conc_um"] * 1000, 6),
                "conc_unit": np.where(layout["conc_um"].notna(), "nM", ""),
                "drug2": layout["drug2"],
                "conc2": np.round(layout["conc2_um"] * 1000, 6),
                "conc2_unit": np.where(layout["conc2_um"].notna(), "nM", ""),
                "replicate": layout["replicate"],
            }
        )
        write_table(pmap, dst_dir / "maps" / f"{plate_id}_map.csv", float_format="%.10g")
        manifest.append({"plate_id": plate_id, "sample_id": sid, "plate_replicate": rep,
                         "reader_file": f"reader/{plate_id}.csv", "map_file": f"maps/{plate_id}_map.csv",
                         "read_date": read_date})
        plate_truth.append({"plate_id": plate_id, "sample_id": sid, "plate_replicate": rep, "failed": int(bool(failure)),
                            "failure": failure, "signal_level": level, "background": background,
                            "edge_loss": edge_loss, "column_gradient": gradient, "noise_cv": cv})
        # The lab's own normalisation (mean of controls, no QC) for the long-format table.
        finite = np.where(np.isfinite(signal), signal, np.nan)
        neg = np.nanmean(finite[(layout["role"] == "neg_control").to_numpy()])
        pos = np.nanmean(finite[(layout["role"] == "pos_control").to_numpy()])
        single = (layout["region"] == "single").to_numpy()
        long_rows.append(pd.DataFrame({
            "sample_id": sid, "plate_id": plate_id, "drug": layout.loc[single, "drug"].to_numpy(),
            "conc_uM": layout.loc[single, "conc_um"].to_numpy(),
            "viability_pct": np.round(100 * (finite[single] - pos) / (neg - pos), 2),
            "replicate": layout.loc[single, "replicate"].to_numpy(),
        }))

    write_table(pd.DataFrame(manifest), dst_dir / "plates.csv")
    long = pd.concat(long_rows, ignore_index=True).dropna(subset=["viability_pct"])
    write_table(long, dst_dir / "viability_long.csv", float_format="%.8g")
    write_table(truth, out / "truth" / "dst_curves.csv")
    write_table(pd.DataFrame(plate_truth), out / "truth" / "dst_plates.csv")
    write_table(pd.DataFrame(failed_wells, columns=["plate_id", "sample_id", "well", "drug", "failure"]),
                out / "truth" / "dst_failed_wells.csv")
    write_table(synergy_truth, out / "truth" / "dst_synergy.csv")
