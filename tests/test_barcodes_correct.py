"""Error correction: genBaRcode toy cases, starcode message passing, UMI-tools directional, neighbour search."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rapidfuzz.distance import Hamming, Levenshtein

from helpers.barcodes import cluster_barcodes, correct_counts, neighbour_pairs
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


def test_message_passing_ratio_blocks_merging():
    counts = pd.Series({"AAAAAA": 10, "AAAAAT": 3})
    assert correct_counts(counts, method="message_passing", distance=1, ratio=3).to_dict() == {"AAAAAA": 13}
    assert correct_counts(counts, method="message_passing", distance=1, ratio=4).to_dict() == {"AAAAAA": 10, "AAAAAT": 3}


def test_umi_tools_directional_toy():
    counts = pd.Series({"AAAA": 10, "AAAT": 5, "AATT": 3, "CCCC": 7})
    got = correct_counts(counts, method="directional", distance=1, metric="hamming")
    assert got.to_dict() == {"AAAA": 18, "CCCC": 7}


def test_results_do_not_depend_on_input_order(toy):
    counts, _ = toy
    a = cluster_barcodes(counts, method="message_passing", distance=2, ratio=1.5, metric="hamming")
    b = cluster_barcodes(counts.iloc[::-1], method="message_passing", distance=2, ratio=1.5, metric="hamming")
    pd.testing.assert_series_equal(a, b)


@pytest.mark.parametrize("metric", ["hamming", "levenshtein"])
def test_neighbour_pairs_equal_brute_force(metric):
    rng = np.random.default_rng(3)
    parents = ["".join(rng.choice(list("ACGT"), 12)) for _ in range(40)]
    seqs = set(parents)
    for p in parents:  # variants with substitutions and indels
        for _ in range(4):
            s = list(p)
            for _ in range(rng.integers(1, 3)):
                k = rng.integers(0, len(s))
                op = rng.integers(0, 3) if metric == "levenshtein" else 0
                if op == 0:
                    s[k] = rng.choice(list("ACGT"))
                elif op == 1:
                    del s[k]
                else:
                    s.insert(k, rng.choice(list("ACGT")))
            seqs.add("".join(s))
    seqs = sorted(seqs)
    got = neighbour_pairs(seqs, 2, metric=metric)
    dist = Levenshtein.distance if metric == "levenshtein" else Hamming.distance
    want = {(i, j) for i in range(len(seqs)) for j in range(i + 1, len(seqs))
            if (metric == "levenshtein" or len(seqs[i]) == len(seqs[j])) and dist(seqs[i], seqs[j]) <= 2}  # fmt: skip
    assert set(zip(got["i"], got["j"], strict=True)) == want
    assert len(want) > 50
