"""The scRNA simulator: the data contract, determinism, and planted signals read straight from the raw files.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_scrna_sim_public_data.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.scrna import load_cohort_scrna, read_sample_sheet


def test_ci_cohort_follows_contract_and_scanpy_reads_it(ci_cohort):
    import scanpy as sc

    sheet = read_sample_sheet(ci_cohort / "scrna" / "sample_sheet.csv")
    samples = pd.read_csv(ci_cohort / "samples.csv")
    expected = samples.loc[samples["assays"].fillna("").str.contains("scrna"), "sample_id"]
    assert sorted(sheet["sample_id"]) == sorted(expected)
    a = sc.read_10x_h5(sheet["path"].iloc[0])
    assert a.n_obs > 50 and {"CD34", "CD14", "HBB", "MT-CO1"} <= set(a.var_names)
    size = sum(p.stat().st_size for p in (ci_cohort / "scrna").rglob("*") if p.is_file())
    assert size < 15e6
    truth = pd.read_csv(ci_cohort / "truth" / "scrna_cells.csv.gz")
    assert {"sample_id", "barcode", "cell_type", "doublet", "damaged"} <= set(truth.columns)
    first = truth[truth["sample_id"] == sheet["sample_id"].iloc[0]]
    assert sorted(first["barcode"]) == sorted(a.obs_names)


def test_planted_copy_number_changes_in_raw_counts(ci_cohort):
    """Leukemic cells of a patient with a planted +8 / del(7q) carry it; normal cells and CNV-free patients do not."""
    from helpers.scrna.cnv import gene_positions

    adata = load_cohort_scrna(ci_cohort)
    planted = pd.read_csv(ci_cohort / "truth" / "scrna_samples.csv", keep_default_na=False)
    per_patient = planted.groupby("patient_id")["cnv_events"].first()
    clinical = pd.read_csv(ci_cohort / "clinical.csv").set_index("patient_id")
    assert (per_patient[clinical.loc[per_patient.index, "karyotype"] == "normal"] == "").all()
    assert (per_patient != "").sum() >= 6 and (per_patient == "").sum() >= 6
    cells = pd.read_csv(ci_cohort / "truth" / "scrna_cells.csv.gz")
    cells.index = cells["sample_id"] + "_" + cells["barcode"]
    c = cells.loc[adata.obs_names]
    assert ((c["malignant"] == 1) == (c["compartment"] == "leukemic")).all()
    pos = gene_positions(adata.var_names)
    x = adata.X.tocsr()
    lib = np.asarray(x.sum(axis=1)).ravel()
    chr8 = np.asarray(x[:, (pos["chromosome"] == "chr8").to_numpy()].sum(axis=1)).ravel() / lib
    pid = adata.obs["patient_id"].astype(str).to_numpy()
    leuk = (c["malignant"] == 1).to_numpy()
    share = pd.DataFrame({"chr8": chr8, "pid": pid, "leuk": leuk})
    by = share[share["leuk"]].groupby("pid")["chr8"].mean()
    gain = per_patient.str.contains(r"\+8")
    # a 1.5-fold gain of chr8 moves its share of the library in the leukemic cells of every +8 patient above the
    # CNV-free patients' median
    assert (by[gain[gain].index] > by[per_patient[per_patient == ""].index].median()).all()
