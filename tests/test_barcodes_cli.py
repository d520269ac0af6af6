"""Command line: python -m helpers.barcodes count / diversity."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from helpers.barcodes.__main__ import main
from helpers.paths import repo_root
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


def test_diversity_rejects_bad_counts(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("barcode,sample,count\nAAA,s1,3\nCCC,s1,-2\n")
    assert main(["diversity", "--counts", str(bad), "--out", str(tmp_path / "d.csv")]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "row 3" in err and "count" in err  # line 3 of the file (header = line 1)


@pytest.mark.parametrize("sub", [[], ["count"], ["diversity"]])
def test_help_documents_every_option(sub):
    r = subprocess.run([sys.executable, "-m", "helpers.barcodes", *sub, "--help"], capture_output=True, text=True,
                       cwd=repo_root())  # fmt: skip
    assert r.returncode == 0
    if sub == ["count"]:
        for opt in ("--fastq", "--pattern", "--min-mean-quality", "--max-mismatches", "--out", "--cluster", "--ratio"):
            assert opt in r.stdout
