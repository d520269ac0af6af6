"""10x loaders and the scRNA sample sheet: real reader fixtures, an independent reader, and broken inputs."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from helpers.errors import DataContractError
from helpers.registry import dataset_path
from helpers.scrna import (
    load_cohort_scrna,
    load_larry,
    load_samples_10x,
    read_10x,
    read_10x_h5,
    read_sample_sheet,
    write_10x_h5,
)


@pytest.fixture()
def fixtures(public_data) -> Path:
    return dataset_path("tenx_reader_fixtures")


def _sheet(tmp_path: Path, rows: list[dict]) -> Path:
    p = tmp_path / "sample_sheet.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    return p


def test_v3_h5_and_mtx_through_sample_sheet(fixtures, tmp_path):
    v3 = fixtures / "3.0.0"
    shutil.copy(v3 / "filtered_feature_bc_matrix.h5", tmp_path / "a.h5")
    shutil.copytree(v3 / "filtered_feature_bc_matrix", tmp_path / "b_mtx")
    sheet = read_sample_sheet(_sheet(tmp_path, [{"sample_id": "A", "path": "a.h5", "chemistry": "v3"},
                                                {"sample_id": "B", "path": "b_mtx", "chemistry": "v3"}]))
    adata = load_samples_10x(sheet)
    assert adata.shape == (2 * 1107, 507)
    per_sample = pd.Series(np.asarray(adata.X.sum(axis=1)).ravel()).groupby(adata.obs["sample_id"].to_numpy()).sum()
    assert per_sample.to_dict() == {"A": 41549, "B": 41549}
    assert (adata.obs["chemistry"] == "v3").all()
    assert adata.obs_names.is_unique and adata.obs_names[0].startswith("A_")


def test_h5_agrees_with_scanpy_reader(fixtures):
    import scanpy as sc

    ours = read_10x_h5(fixtures / "3.0.0" / "filtered_feature_bc_matrix.h5")
    theirs = sc.read_10x_h5(fixtures / "3.0.0" / "filtered_feature_bc_matrix.h5")
    assert list(ours.obs_names) == list(theirs.obs_names)
    assert list(ours.var["gene_ids"]) == list(theirs.var["gene_ids"])
    assert (abs(ours.X - theirs.X)).sum() == 0


def test_v2_layouts(fixtures):
    h5 = read_10x(fixtures / "1.2.0" / "filtered_gene_bc_matrices_h5.h5")
    mtx = read_10x(fixtures / "1.2.0" / "filtered_gene_bc_matrices" / "hg19_chr21")
    assert h5.shape == mtx.shape == (12, 343)
    assert h5.X.sum() == mtx.X.sum() == 12
    with pytest.raises(DataContractError, match="several genomes"):
        read_10x_h5(fixtures / "1.2.0" / "multiple_genomes.h5")


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


def test_mtx_feature_count_mismatch(fixtures, tmp_path):
    folder = tmp_path / "mtx"
    shutil.copytree(fixtures / "3.0.0" / "filtered_feature_bc_matrix", folder)
    with gzip.open(folder / "features.tsv.gz", "rt") as fh:
        lines = fh.readlines()
    with gzip.open(folder / "features.tsv.gz", "wt") as fh:
        fh.writelines(lines[:-1])
    with pytest.raises(DataContractError, match="507 rows but features.tsv.gz lists 506"):
        read_10x(folder)


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


def test_larry_clone_matrix(public_data):
    larry = load_larry()
    assert larry.shape == (781, 2481)
    clone = larry.obsm["X_clone"]
    assert clone.shape[1] == 339
    # every cell's clone size equals the column sum of its clone, and cells of a clone share its id
    sizes = np.asarray(sp.csr_matrix(clone).sum(axis=0)).ravel()
    has = larry.obs["clone_id"] >= 0
    assert (larry.obs.loc[has, "clone_size"].to_numpy() == sizes[larry.obs.loc[has, "clone_id"]]).all()
    assert larry.obs["clone_size"].max() == sizes.max() > 1


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
