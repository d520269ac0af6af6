"""10x loaders and the scRNA sample sheet: real reader fixtures, an independent reader, and broken inputs.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_scrna_io.py``.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from test_scrna_io import _sheet  # shared with the unit part

from helpers.errors import DataContractError
from helpers.registry import dataset_path
from helpers.scrna import load_larry, load_samples_10x, read_10x, read_10x_h5, read_sample_sheet


@pytest.fixture()
def fixtures(public_data) -> Path:
    return dataset_path("tenx_reader_fixtures")


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


def test_mtx_feature_count_mismatch(fixtures, tmp_path):
    folder = tmp_path / "mtx"
    shutil.copytree(fixtures / "3.0.0" / "filtered_feature_bc_matrix", folder)
    with gzip.open(folder / "features.tsv.gz", "rt") as fh:
        lines = fh.readlines()
    with gzip.open(folder / "features.tsv.gz", "wt") as fh:
        fh.writelines(lines[:-1])
    with pytest.raises(DataContractError, match="507 rows but features.tsv.gz lists 506"):
        read_10x(folder)


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
