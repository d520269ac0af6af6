"""The pre-existing-resistance test on real data: the SPLINTR experiment of bartools (6 vehicle, 6 low-dose, 6
high-dose mice, two PCR replicates each, a shared pre-transplant baseline).

This file holds the tests that execute notebooks (the pipeline tier); the tests that read the public data mirror are in
``tests/public_data/test_barcodes_splintr.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pandas as pd
import pytest

from helpers.paths import repo_root
from helpers.registry import dataset_path
from helpers.workflow import load_cohort


def test_run_all_on_a_count_table_folder(splintr, tmp_path):
    """run_all.py --cohort FOLDER --only 04_barcodes on the SPLINTR counts laid out by the data contract."""
    _, design, _, _ = splintr
    folder = tmp_path / "splintr"
    (folder / "barcodes").mkdir(parents=True)
    shutil.copy(dataset_path("bartools_splintr", "counts_bm.tsv"), folder / "barcodes" / "counts.tsv")
    cols = ["sample", "mouse", "arm", "tissue", "timepoint", "pcr_replicate", "baseline", "control"]
    design[cols].to_csv(folder / "barcodes" / "sample_sheet.csv", index=False)
    (folder / "clinical.csv").write_text("patient_id\n")
    (folder / "samples.csv").write_text("sample_id,patient_id,timepoint,tissue,collection_date,assays\n")
    res_root, fig_root = tmp_path / "results", tmp_path / "figures"
    cmd = [sys.executable, "run_all.py", "--cohort", str(folder), "--only", "04_barcodes", "--results-root",
           str(res_root), "--figures-root", str(fig_root), "-p", "04_barcodes.calibration=false",
           "-p", "04_barcodes.larry_dataset=''", "-p", "04_barcodes.treated_arms=[high_dose]"]  # fmt: skip
    out = subprocess.run(cmd, cwd=repo_root(), capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    key = load_cohort(str(folder)).name  # a lab folder's results are keyed by its name and a digest of its path
    nb = res_root / key / "04_barcodes"
    pdx = pd.read_csv(nb / "resistance_pdx.csv")
    assert pdx.loc[0, "treated_arm"] == "high_dose" and pdx.loc[0, "n_treated"] == 6
    feats = pd.read_csv(nb / "features.csv")
    dic = pd.read_csv(nb / "features_dictionary.csv")
    assert list(feats.columns) == list(dic["name"]) and len(feats) == 1
    assert feats.loc[0, "bc_resistance_p"] == pytest.approx(pdx.loc[0, "p_value"])
    assert key.startswith("splintr-")
    assert (fig_root / key / "04_barcodes" / "volcano_ma.png").is_file()
