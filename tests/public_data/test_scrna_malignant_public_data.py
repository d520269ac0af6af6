"""Malignant versus normal: copy number on infercnvpy's real tumour data set, LARRY as a normal negative control,
LinClass-7, AnnData in and out, the command line, and bad input.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_scrna_malignant.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from test_scrna_malignant import _counts_adata  # shared with the unit part

from helpers.errors import DataContractError
from helpers.scrna import linclass7_score, load_larry
from helpers.scrna.genesets import linclass7_weights
from helpers.scrna.malignant import call_malignant

LARRY_MAX_LEUKEMIC = 0.10


def test_larry_normal_haematopoiesis_is_called_mostly_normal(public_data):
    import scanpy as sc

    a = load_larry()
    sc.pp.log1p(a)  # X holds normalised counts; the kNN graph is the published one
    a.obs["patient_id"] = "LARRY"
    table = call_malignant(a, species="mouse")
    frac = (a.obs["malignant_call"] == "malignant").mean()
    assert frac <= LARRY_MAX_LEUKEMIC, frac
    assert table.loc["LARRY", "evidence"] == "expression"  # no mouse positions: stated, not hidden
    mono = a.obs["state_info"] == "Monocyte"
    assert (a.obs.loc[mono, "malignant_call"] == "malignant").mean() < 0.2
    assert (a.obs.loc[a.obs["malignant_call"] != "malignant", "hierarchy_state"] == "").all()


def test_linclass7_on_a_bulk_table(public_data):
    w = linclass7_weights()
    assert len(w) == 7 and "ADGRG1" in w and "BEX3" in w  # GPR56 / NGFRAP1 under their current symbols
    bulk = pd.DataFrame(np.arange(14, dtype=float).reshape(2, 7), columns=list(w), index=["s1", "s2"])
    bulk = bulk.rename(columns={"ADGRG1": "GPR56"})  # old symbol in the table: still matched
    score, found = linclass7_score(bulk)
    assert len(found) == 7
    expected = bulk.to_numpy() @ np.array(list(w.values()))
    assert np.allclose(score.to_numpy(), expected)
    _, found = linclass7_score(bulk.drop(columns=["CD34"]))
    assert "CD34" not in found and len(found) == 6


def test_gene_symbols_that_match_nothing_are_rejected(public_data):
    a = _counts_adata(genes=tuple(f"ENSG{i:011d}" for i in range(300)))
    a.X = sp.csr_matrix(np.log1p(a.X.toarray()))
    with pytest.raises(DataContractError, match="gene symbols match"):
        call_malignant(a, smooth=False)
