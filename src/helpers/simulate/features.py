"""Axis feature tables simulated from a cohort's truth, to study the integration on its own.

They stand in for the axis notebooks' features.csv: each latent quantity of truth/samples.csv plus measurement noise,
written in the data contract of CONTRIBUTING.md (features.csv + features_dictionary.csv per axis). The noise levels
are of the order of the assays' own (CellTiter-Glo CV 5-10 %, flow percentages a few points). Running the four axis
notebooks on a cohort takes minutes; these tables take a fraction of a second, which is what the integration tests
and the power analysis of the study design (:mod:`helpers.simulate.power`) need for cohorts of any size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..assays import has_assay
from ..axes import assay_tokens, axes, dictionary_spec
from ..io import write_table

__all__ = ["simulate_feature_tables"]

def _write(folder: Path, table: pd.DataFrame, dictionary: list[tuple[str, ...]], axis: str) -> None:
    # (name, unit, definition, role, biomarker, direction): the feature-dictionary contract of every axis.
    folder.mkdir(parents=True, exist_ok=True)
    write_table(table, folder / "features.csv")
    dic = pd.DataFrame([(n, u, axis, d, *rest) for n, u, d, *rest in dictionary], columns=list(dictionary_spec().columns))
    write_table(dic, folder / "features_dictionary.csv")


def simulate_feature_tables(cohort_dir: str | Path, out_root: str | Path, *, seed: int = 7) -> dict[str, str]:
    """Write per-axis feature tables derived from ``<cohort_dir>/truth`` under ``out_root``, as the notebooks would.

    Each axis gets ``<out_root>/<notebook>/features.csv`` and ``features_dictionary.csv``, with noise around the
    planted truth and a missing value or two, so that the integration runs without the axis notebooks.

    Parameters
    ----------
    cohort_dir
        A simulated cohort (``samples.csv`` and ``truth/samples.csv``).
    out_root
        Folder for the per-notebook output folders.
    seed
        Seed of the noise.

    Returns
    -------
    dict of str to str
        ``upstream_dirs`` of the integration: ``{notebook: output folder}`` per axis.

    Raises
    ------
    ValueError
        The cohort has no samples.
    """
    cohort_dir, out_root = Path(cohort_dir), Path(out_root)
    rng = np.random.default_rng(seed)
    truth = pd.read_csv(cohort_dir / "truth" / "samples.csv", dtype={"sample_id": str, "patient_id": str})
    samples = pd.read_csv(cohort_dir / "samples.csv", dtype=str, keep_default_na=False)
    t = truth.merge(samples[["sample_id", "assays"]], on="sample_id")
    has = {a: has_assay(t["assays"], a) for a in assay_tokens()}
    ids = ["sample_id", "patient_id", "timepoint"]
    n = len(t)

    dst = t.loc[has["dst"], ids].copy()
    v = t.loc[has["dst"], "ven_log10_ic50_um"].to_numpy()
    m = len(dst)
    # Probit-like AUC on 0.1 nM - 10 uM: higher AUC = more resistant; IC50 clamped to the tested range.
    dst["ven_auc"] = np.clip(150 + 55 * v + rng.normal(0, 8, m), 0, 300)
    dst["ven_ic50_um"] = 10 ** np.clip(v + rng.normal(0, 0.15, m), -4, 1)
    dst["aza_auc"] = 180 + 40 * t.loc[has["dst"], "aza_log10_ic50_um"].to_numpy() + rng.normal(0, 10, m)
    dst.loc[dst.index[:2], "ven_auc"] = np.nan  # a failed plate: the value is missing, the sample is not
    _write(
        out_root / "01_dst",
        dst,
        [
            ("ven_auc", "% x log10(uM)", "Venetoclax probit AUC", "auc", "ex vivo VEN sensitivity", "resistant"),
            ("ven_ic50_um", "uM", "Venetoclax IC50", "ic50", "", "resistant"),
            ("aza_auc", "% x log10(uM)", "Azacitidine probit AUC", "auc", "", "resistant"),
        ],
        "dst",
    )

    cyt = t.loc[has["cytometry"], ids].copy()
    sub = t.loc[has["cytometry"]]
    m = len(cyt)
    cyt["pct_monocytic"] = np.clip(100 * sub["mono_frac"].to_numpy() + rng.normal(0, 3, m), 0, 100)
    cyt["bcl2_family_score"] = sub["bcl2_dependence"].to_numpy() + rng.normal(0, 0.4, m)
    cyt["tnk_activation"] = sub["immune_activation"].to_numpy() + rng.normal(0, 0.3, m)
    cyt["pct_blasts"] = np.clip(sub["blast_pct"].to_numpy() + rng.normal(0, 4, m), 0, 100)
    _write(
        out_root / "02_cytometry",
        cyt,
        [
            ("pct_monocytic", "% of leukemic cells", "CD14/CD64+ monocytic cells", "composition", "monocytic fraction",
             "resistant"),
            ("bcl2_family_score", "z", "BCL2 vs MCL1/BCL-xL in LSCs", "bcl2_family", "BCL2-family score", "sensitive"),
            ("tnk_activation", "z", "CD69/HLA-DR on T and NK cells", "immune", "T/NK activation", ""),
            ("pct_blasts", "% of live cells", "CD45dim SSC-low blasts", "composition", "", ""),
        ],
        "cytometry",
    )

    sc = t.loc[has["scrna"] & t["timepoint"].isin(["diagnosis", "relapse"]), ids].copy()
    sub = t.loc[sc.index]
    m = len(sc)
    sc["frac_mono_like"] = np.clip(sub["mono_frac"].to_numpy() + rng.normal(0, 0.05, m), 0, 1)
    sc["lsc17"] = 0.5 * np.log(sub["lsc_frac"].to_numpy()) + rng.normal(0, 0.2, m)
    sc["bcl2_family_score"] = sub["bcl2_dependence"].to_numpy() + rng.normal(0, 0.5, m)
    _write(
        out_root / "03_scrna",
        sc,
        [
            ("frac_mono_like", "fraction", "Mono-like leukemic cells (Zeng 2022)", "composition", "monocytic fraction",
             "resistant"),
            ("lsc17", "score", "LSC17 score", "score", "LSC17", "resistant"),
            ("bcl2_family_score", "z", "BCL2 minus MCL1/BCL2A1 expression", "expression", "BCL2-family score",
             "sensitive"),
        ],
        "scrna",
    )

    bc = t.loc[has["barcoding"], ids]
    reps = bc.loc[bc.index.repeat(3)].reset_index(drop=True)
    reps["pdx_id"] = [f"{s}-M{k % 3 + 1}" for k, s in enumerate(reps["sample_id"])]
    reps["shannon_ratio"] = rng.normal(0.5, 0.1, len(reps))
    reps["n_dominant_clones"] = rng.integers(1, 6, len(reps))
    _write(
        out_root / "04_barcodes",
        reps,
        [
            ("shannon_ratio", "ratio", "Shannon diversity treated / vehicle", "diversity", "", ""),
            ("n_dominant_clones", "count", "clones above 2 %", "dominance", "", ""),
        ],
        "barcoding",
    )
    if n == 0:
        raise ValueError(f"{cohort_dir / 'truth' / 'samples.csv'}: no samples to derive features from")
    return {a.notebook: str(out_root / a.notebook) for a in axes()}
