"""Error correction: genBaRcode toy cases, starcode message passing, UMI-tools directional, neighbour search.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_barcodes_correct.py``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.barcodes import cluster_barcodes, correct_counts
from helpers.registry import dataset_path


@pytest.fixture(scope="module")
def toy(public_data):
    t = pd.read_csv(dataset_path("genbarcode", "derived", "toy_errorcorrection_input.tsv"), sep="\t")
    exp = pd.read_csv(dataset_path("genbarcode", "derived", "toy_errorcorrection_expected_hamming2.tsv"), sep="\t")
    return pd.Series(t["read_count"].to_numpy(), index=t["barcode"].to_numpy()), exp


@pytest.mark.parametrize(("method", "published"), [("closest_abundant", "standard(variation)"), ("sphere", "clustering")])
def test_genbarcode_toy_cases(toy, method, published):
    counts, exp = toy
    got = correct_counts(counts, method=method, distance=2, metric="hamming")
    want = exp[exp["method"] == published]
    assert list(got.to_numpy()) == list(want["read_count"])
    assert list(got.index) == list(want["barcode"])


def test_starcode_message_passing_table(public_data):
    reads = dataset_path("starcode", "test_file.txt").read_text().split()
    exp = pd.read_csv(dataset_path("starcode", "test_file_txt_expected_canonical_mp_d2_r5.tsv"), sep="\t")
    centroid = cluster_barcodes(pd.Series(1, index=reads), method="message_passing", distance=2, ratio=5)
    assert list(centroid.reindex(exp["read"])) == list(exp["canonical_mp_d2_r5"])


def test_results_do_not_depend_on_input_order(toy):
    counts, _ = toy
    a = cluster_barcodes(counts, method="message_passing", distance=2, ratio=1.5, metric="hamming")
    b = cluster_barcodes(counts.iloc[::-1], method="message_passing", distance=2, ratio=1.5, metric="hamming")
    pd.testing.assert_series_equal(a, b)
