"""Error correction: genBaRcode toy cases, starcode message passing, UMI-tools directional, neighbour search.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_barcodes_correct_public_data.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rapidfuzz.distance import Hamming, Levenshtein

from helpers.barcodes import correct_counts, neighbour_pairs


def test_message_passing_ratio_blocks_merging():
    counts = pd.Series({"AAAAAA": 10, "AAAAAT": 3})
    assert correct_counts(counts, method="message_passing", distance=1, ratio=3).to_dict() == {"AAAAAA": 13}
    assert correct_counts(counts, method="message_passing", distance=1, ratio=4).to_dict() == {"AAAAAA": 10, "AAAAAT": 3}


def test_umi_tools_directional_toy():
    counts = pd.Series({"AAAA": 10, "AAAT": 5, "AATT": 3, "CCCC": 7})
    got = correct_counts(counts, method="directional", distance=1, metric="hamming")
    assert got.to_dict() == {"AAAA": 18, "CCCC": 7}


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
