"""Command line: python -m helpers.barcodes count / diversity.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_barcodes_cli.py``.
"""

from __future__ import annotations

import pandas as pd

from helpers.barcodes.__main__ import main
from helpers.registry import dataset_path


def test_count_pycashier_with_clustering(public_data, tmp_path):
    out = tmp_path / "counts.tsv"
    rc = main(["count", "--fastq", str(dataset_path("pycashier", "rawfastqgzs", "test.fastq.gz")),
               "--pattern", "GTGGAAAGGACGAAACACCG...GTTTTAGAGCTAGAAATAGC", "--min-mean-quality", "none",
               "--min-base-quality", "30", "--max-mismatches", "2", "--cluster", "message_passing",
               "--distance", "1", "--ratio", "3", "--out", str(out), "--report", str(tmp_path / "r.tsv")])  # fmt: skip
    assert rc == 0
    df = pd.read_csv(out, sep="\t")
    assert list(df.columns) == ["barcode", "sample", "count"]
    assert (len(df), df["count"].sum(), df["sample"].unique().tolist()) == (85, 239, ["test"])
    rep = pd.read_csv(tmp_path / "r.tsv", sep="\t")
    assert rep.loc[0, "rejected_low_quality"] == 11


def test_count_genbarcode_uncorrected_then_diversity(public_data, tmp_path):
    out = tmp_path / "counts.csv"
    backbone = "ACTNNCGANNCTTNNCGANNCTTNNGGANNCTANNACTNNCGANNCTTNNCGANNCTTNNGGANNCTANNACTNNCGANN"
    assert main(["count", "--fastq", str(dataset_path("genbarcode", "test_data.fastq.gz")), "--pattern", backbone,
                 "--min-mean-quality", "30", "--max-mismatches", "0", "--min-count", "3", "--sample", "bc32",
                 "--out", str(out)]) == 0  # fmt: skip
    df = pd.read_csv(out)
    assert len(df) == 81 and df["count"].max() == 2405
    div = tmp_path / "div.tsv"
    assert main(["diversity", "--counts", str(out), "--out", str(div)]) == 0
    d = pd.read_csv(div, sep="\t")
    assert d.loc[0, "sample"] == "bc32" and d.loc[0, "richness"] == 81 and d.loc[0, "reads"] == 8939
