"""``python -m helpers.scrna annotate`` on one file: an .h5ad of raw counts in, an annotated .h5ad out.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_scrna_cli.py``.
"""

from __future__ import annotations

import anndata as ad

from helpers.scrna.__main__ import main


def test_annotate_h5ad_writes_the_calls(public_data, one_sample, tmp_path, capsys):
    sid, a, t = one_sample
    a.write_h5ad(tmp_path / "in.h5ad")
    rc = main(["annotate", "--input", str(tmp_path / "in.h5ad"), "--out", str(tmp_path / "out.h5ad"), "--no-umap"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "reference" in printed and "evidence" in printed
    b = ad.read_h5ad(tmp_path / "out.h5ad")
    assert b.n_obs == a.n_obs and "counts" in b.layers and "X_pca" in b.obsm
    for col in ("malignant_call", "malignant_score", "malignant_evidence", "cell_type", "hierarchy_state"):
        assert col in b.obs, col
    assert set(b.obs["malignant_call"].astype(str)) <= {"malignant", "normal", "uncertain"}
    assert (b.obs.loc[b.obs["malignant_call"] != "malignant", "hierarchy_state"].astype(str) == "").all()
    assert b.obs["malignant_score"].between(0, 1).all()
    keep = t["doublet"].to_numpy() == 0
    right = (b.obs["malignant_call"].astype(str).to_numpy() == t["malignant"].map({1: "malignant", 0: "normal"})
             .to_numpy())[keep]
    assert right.mean() > 0.7  # one sample alone, ~250 cells


def test_a_sample_without_normal_reference_cells_is_a_clear_error(public_data, one_sample, tmp_path, capsys):
    sid, a, t = one_sample
    leuk = a[(t["malignant"] == 1).to_numpy()].copy()  # only the leukemic cells: no lymphocytes to compare with
    leuk.write_h5ad(tmp_path / "leuk.h5ad")
    rc = main(["annotate", "--input", str(tmp_path / "leuk.h5ad"), "--out", str(tmp_path / "o.h5ad"), "--no-umap"])
    assert rc == 2 and "no normal reference cells" in capsys.readouterr().err
    assert not (tmp_path / "o.h5ad").exists()
    # expression only is still possible, and says so
    assert main(["annotate", "--input", str(tmp_path / "leuk.h5ad"), "--out", str(tmp_path / "o.h5ad"), "--no-umap",
                 "--no-cnv"]) == 0
    assert set(ad.read_h5ad(tmp_path / "o.h5ad").obs["malignant_evidence"].astype(str)) == {"expression"}
