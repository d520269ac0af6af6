"""Barcode extraction from FASTQ: real genBaRcode and pycashier data, read fates, broken inputs.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_barcodes_extract.py``.
"""

from __future__ import annotations

import pandas as pd

from helpers.barcodes import BC32_GFP, PYCASHIER_DEFAULT, correct_counts, extract_barcodes
from helpers.registry import dataset_path


def test_genbarcode_bc32_reproduces_published_extraction(public_data):
    res = extract_barcodes(dataset_path("genbarcode", "test_data.fastq.gz"), BC32_GFP, min_mean_quality=30,
                           max_mismatches=0)  # fmt: skip
    c = res.counts[res.counts > 2]
    assert len(c) == 81
    assert (c.min(), round(c.mean(), 2), c.median(), c.max()) == (3, 110.36, 4, 2405)
    exp = pd.read_csv(dataset_path("genbarcode", "derived", "test_data_BC32GFP_mm0_q30_minreads2_extracted.tsv"),
                      sep="\t").set_index("barcode")["read_count"]  # fmt: skip
    pd.testing.assert_series_equal(c.reindex(exp.index), exp, check_names=False, check_dtype=False)
    assert res.n_reads == 40319
    assert res.n_matched + sum(res.rejected.values()) == res.n_reads  # every read has one fate


def test_genbarcode_error_correction_hamming4(public_data):
    res = extract_barcodes(dataset_path("genbarcode", "test_data.fastq.gz"), BC32_GFP, min_mean_quality=30)
    c = res.counts[res.counts > 2]
    ec = correct_counts(c, method="closest_abundant", distance=4, metric="hamming")
    exp = pd.read_csv(dataset_path("genbarcode", "derived", "test_data_EC_hamming4_expected.tsv"), sep="\t")
    assert list(ec.to_numpy()) == [2503, 1555, 1353, 1352, 1138, 1011, 19, 5, 3]
    assert list(ec.index) == list(exp["barcode"])


def test_pycashier_defaults_reproduce_published_output(public_data):
    res = extract_barcodes(dataset_path("pycashier", "rawfastqgzs", "test.fastq.gz"), PYCASHIER_DEFAULT,
                           min_mean_quality=None, min_base_quality=30, max_low_quality_fraction=0.2,
                           max_mismatches=2)  # fmt: skip
    assert res.rejected["low_quality"] == 11
    ec = correct_counts(res.counts, method="message_passing", distance=1, ratio=3, metric="levenshtein")
    ec = ec[abs(ec.index.str.len() - 20) <= 1]
    exp = pd.read_csv(dataset_path("pycashier", "outs", "test.q30.barcodes.r3d1.min0_off1.tsv"), sep="\t")
    assert (len(ec), int(ec.sum())) == (85, 239)
    pd.testing.assert_series_equal(ec.sort_index(), exp.set_index("barcode")["count"].sort_index(),
                                   check_names=False, check_dtype=False)  # fmt: skip


def test_indel_in_flank_needs_the_tolerant_path(public_data):
    # three reads of the pycashier test set need indels: a deletion in the upstream flank, 19- and 21-nt barcodes
    f = dataset_path("pycashier", "rawfastqgzs", "test.fastq.gz")
    kw = dict(min_mean_quality=None, min_base_quality=30, max_mismatches=2)
    assert extract_barcodes(f, PYCASHIER_DEFAULT, indels=False, **kw).n_matched == 236
    assert extract_barcodes(f, PYCASHIER_DEFAULT, indels=True, **kw).n_matched == 239
