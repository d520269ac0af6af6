"""10x loaders and the scRNA sample sheet: real reader fixtures, an independent reader, and broken inputs.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_scrna_io_public_data.py``.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from helpers.errors import DataContractError
from helpers.scrna import load_cohort_scrna, load_samples_10x, read_10x, read_10x_h5, read_sample_sheet, write_10x_h5


def _sheet(tmp_path: Path, rows: list[dict]) -> Path:
    p = tmp_path / "sample_sheet.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    return p


def _write_small(path: Path) -> None:
    counts = sp.csr_matrix(np.array([[1, 0, 2], [0, 3, 0]]))
    write_10x_h5(path, counts, ["AAAC-1", "AAAG-1"], ["G1", "G2", "G3"], ["A", "B", "C"], library_id="x")


def test_writer_round_trip_and_deterministic(tmp_path):
    _write_small(tmp_path / "a.h5")
    _write_small(tmp_path / "b.h5")
    assert (tmp_path / "a.h5").read_bytes() == (tmp_path / "b.h5").read_bytes()
    a = read_10x_h5(tmp_path / "a.h5")
    assert a.X.toarray().tolist() == [[1, 0, 2], [0, 3, 0]]


@pytest.mark.parametrize(
    "dataset, new, message",
    [
        ("matrix/barcodes", np.array([b"AAAC-1"]), "1 barcodes but the matrix has 2 columns"),
        ("matrix/indptr", np.array([0, 2], dtype=np.int64), "indptr has 2 entries"),
        ("matrix/features/name", np.array([b"A", b"B"]), "but the matrix has 3 rows"),
        ("matrix/indices", np.array([0, 2, 7], dtype=np.int64), "outside the 3 features"),
    ],
)
def test_mismatched_dimensions_are_named(tmp_path, dataset, new, message):
    path = tmp_path / "bad.h5"
    _write_small(path)
    with h5py.File(path, "a") as fh:
        del fh[dataset]
        fh[dataset] = new
    with pytest.raises(DataContractError, match=message) as err:
        read_10x(path)
    assert err.value.path == path


def test_not_hdf5_and_missing(tmp_path):
    (tmp_path / "x.h5").write_text("not hdf5")
    with pytest.raises(DataContractError, match="not a readable 10x HDF5"):
        read_10x(tmp_path / "x.h5")
    with pytest.raises(DataContractError, match="not found"):
        read_10x(tmp_path / "missing.h5")


def test_sample_sheet_errors(tmp_path):
    _write_small(tmp_path / "a.h5")
    with pytest.raises(DataContractError, match="missing required column") as err:
        read_sample_sheet(_sheet(tmp_path, [{"sample_id": "A", "file": "a.h5"}]))
    assert err.value.column == "path"
    with pytest.raises(DataContractError, match=r"duplicated value 'A' \(lines 2, 3\)"):
        read_sample_sheet(_sheet(tmp_path, [{"sample_id": "A", "path": "a.h5"}, {"sample_id": "A", "path": "a.h5"}]))
    with pytest.raises(DataContractError, match="'b.h5' not found") as err:
        read_sample_sheet(_sheet(tmp_path, [{"sample_id": "A", "path": "a.h5"}, {"sample_id": "B", "path": "b.h5"}]))
    assert err.value.row == 3


def test_samples_with_different_references(tmp_path):
    _write_small(tmp_path / "a.h5")
    write_10x_h5(tmp_path / "b.h5", sp.csr_matrix(np.ones((1, 2))), ["AAAA-1"], ["G1", "G9"], ["A", "Z"],
                 library_id="b")
    sheet = read_sample_sheet(_sheet(tmp_path, [{"sample_id": "A", "path": "a.h5"}, {"sample_id": "B", "path": "b.h5"}]))
    with pytest.raises(DataContractError, match="sample 'B' has 2 features"):
        load_samples_10x(sheet)
    inner = load_samples_10x(sheet, join="inner")
    assert list(inner.var_names) == ["A"]


def test_cohort_sheet_cross_checked_with_samples(tmp_path):
    (tmp_path / "scrna").mkdir()
    _write_small(tmp_path / "scrna" / "a.h5")
    samples = pd.DataFrame({"sample_id": ["S1", "S2"], "patient_id": ["P1", "P1"],
                            "timepoint": ["diagnosis", "relapse"], "assays": ["scrna", "scrna"]})
    _sheet(tmp_path / "scrna", [{"sample_id": "S1", "path": "a.h5"}])
    with pytest.raises(DataContractError, match=r"samples.csv lists scrna for \['S2'\]"):
        load_cohort_scrna(tmp_path, samples=samples)
    _sheet(tmp_path / "scrna", [{"sample_id": "S1", "path": "a.h5"}, {"sample_id": "S2", "path": "a.h5"}])
    adata = load_cohort_scrna(tmp_path, samples=samples)
    assert adata.obs.groupby("timepoint", observed=True).size().to_dict() == {"diagnosis": 2, "relapse": 2}
    samples.loc[1, "assays"] = "dst"
    with pytest.raises(DataContractError, match="has no 'scrna'") as err:
        load_cohort_scrna(tmp_path, samples=samples)
    assert err.value.row == 3


def test_command_line_check(tmp_path, capsys):
    from helpers.scrna.__main__ import main

    (tmp_path / "scrna").mkdir()
    _write_small(tmp_path / "scrna" / "a.h5")
    pd.DataFrame({"sample_id": ["S1"], "patient_id": ["P1"], "timepoint": ["diagnosis"], "tissue": ["bone_marrow"],
                  "collection_date": ["2024-01-02"], "assays": ["scrna"]}).to_csv(tmp_path / "samples.csv", index=False)
    _sheet(tmp_path / "scrna", [{"sample_id": "S1", "path": "a.h5"}])
    assert main(["check", str(tmp_path)]) == 0
    assert "ok: 1 samples, 2 cells x 3 genes" in capsys.readouterr().out
    _sheet(tmp_path / "scrna", [{"sample_id": "S1", "path": "gone.h5"}])
    assert main(["check", str(tmp_path)]) == 2
    assert "'gone.h5' not found" in capsys.readouterr().err
