"""The one reader of the planted truth: tables of a simulated cohort, None for a lab folder, and the barcoding null."""

from __future__ import annotations

import dataclasses
import gzip

import pandas as pd
import pytest

from helpers import truth
from helpers.truth import barcodes as barcode_truth
from helpers.truth import integration as planted_validation


def _simulated(tmp_path):
    (tmp_path / "truth").mkdir()
    (tmp_path / "truth" / "scrna_samples.csv").write_text("sample_id,mono_frac\nP001-DX,0.25\n")
    with gzip.open(tmp_path / "truth" / "scrna_cells.csv.gz", "wt") as f:
        f.write("sample_id,barcode,malignant\nP001-DX,AAAC-1,1\nP001-DX,AAAG-1,0\n")
    (tmp_path / "COHORT").write_text("simulated DREAM cohort\nscale: ci\nseed: 7\npatients: 30\n")
    return tmp_path


def test_a_lab_folder_has_no_planted_truth(tmp_path):
    (tmp_path / "scrna").mkdir()
    assert not truth.is_simulated(tmp_path)
    assert truth.planted_truth(tmp_path, "scrna_cells") is None
    assert truth.cohort_settings(tmp_path) is None
    assert barcode_truth.barcode_null_calibration(tmp_path) is None  # nothing to re-simulate


def test_planted_tables_are_read_compressed_or_not(tmp_path):
    folder = _simulated(tmp_path)
    assert truth.is_simulated(folder)
    cells = truth.planted_truth(folder, "scrna_cells")
    assert cells["malignant"].tolist() == [1, 0] and list(cells.columns) == ["sample_id", "barcode", "malignant"]
    samples = truth.planted_truth(folder, "scrna_samples")
    assert samples.loc[0, "mono_frac"] == pytest.approx(0.25)


def test_a_missing_table_of_a_simulated_cohort_is_an_error_naming_what_exists(tmp_path):
    folder = _simulated(tmp_path)
    with pytest.raises(FileNotFoundError, match="scrna_cell'.*scrna_cells, scrna_samples"):
        truth.planted_truth(folder, "scrna_cell")


def test_cohort_settings_come_from_the_cohort_file(tmp_path):
    assert truth.cohort_settings(_simulated(tmp_path)) == {"scale": "ci", "seed": 7, "patients": 30}


def test_a_scale_the_barcoding_simulator_lacks_gives_no_null(tmp_path):
    folder = _simulated(tmp_path)
    (folder / "COHORT").write_text("simulated DREAM cohort\nscale: dream\nseed: 7\npatients: 30\n")
    assert barcode_truth.barcode_null_calibration(folder) is None


def test_planted_effects_are_the_simulators():
    from helpers.simulate.cohort import PLANTED_EFFECTS

    assert planted_validation.planted_effects() is PLANTED_EFFECTS and "primary_resistance" in PLANTED_EFFECTS


@pytest.mark.slow
def test_the_barcoding_null_calls_nothing(ci_cohort_with):
    null = barcode_truth.barcode_null_calibration(ci_cohort_with("barcodes"), max_perm=200, seed=1, max_mismatches=1)
    assert isinstance(null, barcode_truth.NullCalibration)
    with pytest.raises(dataclasses.FrozenInstanceError):
        null.summary = pd.DataFrame()
    row = null.summary.iloc[0]
    assert row["pdx"] == 6 and row["barcodes_tested"] == len(null.p_expansion) > 100
    assert row["false_calls"] == 0  # nothing was planted: every call would be false
    assert 0.0 <= row["share_p_expansion_below_0.05"] <= 0.1  # the one-sided p is not anti-conservative
