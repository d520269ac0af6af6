"""``python -m helpers.scrna annotate`` on one file: an .h5ad of raw counts in, an annotated .h5ad out.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_scrna_cli_public_data.py``.
"""

from __future__ import annotations

from helpers.scrna.__main__ import main


def test_an_h5ad_without_counts_is_a_clear_error(one_sample, tmp_path, capsys):
    import numpy as np
    import scipy.sparse as sp

    _, a, _ = one_sample
    b = a.copy()
    b.X = sp.csr_matrix(np.log1p(b.X.toarray() / 2.5))
    b.write_h5ad(tmp_path / "norm.h5ad")
    assert main(["annotate", "--input", str(tmp_path / "norm.h5ad"), "--out", str(tmp_path / "o.h5ad")]) == 2
    assert "no raw counts" in capsys.readouterr().err
