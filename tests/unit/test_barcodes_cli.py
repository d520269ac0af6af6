"""Command line: python -m helpers.barcodes count / diversity.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_barcodes_cli_public_data.py``.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers.barcodes.__main__ import main
from helpers.paths import repo_root


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
